// Command reconcile runs on a schedule (and on demand): it removes access
// left behind by a revoke that failed, and records each removal.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/lambdaenv"
)

func main() {
	env := lambdaenv.New()
	grace := time.Duration(env.Int("RECONCILE_GRACE_SECONDS", 120)) * time.Second
	s := grant.Load(context.Background(), env)
	r := &grant.Reconciler{Store: s.Store, Providers: s.Providers, Logger: s.Logger, Now: time.Now, Grace: grace}
	lambda.Start(r.Run)
}
