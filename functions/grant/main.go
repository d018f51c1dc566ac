// Command grant runs the workflow's Grant, Hold and Regrant tasks: it
// applies an approved request's access on its target, records it active,
// and keeps the token revoke and extend signal.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/lambdaenv"
)

func main() {
	s := grant.Load(context.Background(), lambdaenv.New())
	h := &grant.Handler{Store: s.Store, Providers: s.Providers, Logger: s.Logger, Now: time.Now}
	lambda.Start(h.Handle)
}
