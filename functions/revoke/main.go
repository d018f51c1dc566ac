// Command revoke ends a request (expired, revoked, timed out, failed): it
// removes any access the request had, then records how it ended.
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
	lambda.Start(h.End)
}
