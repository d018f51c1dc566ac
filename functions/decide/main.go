// Command decide serves the public decision links (GET confirms, POST
// commits) and resumes the waiting workflow.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/jitaccess/jit/shared/decision"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

type config struct {
	Table, LogLevel string
}

func main() {
	env := lambdaenv.New()
	cfg := config{Table: env.Require("TABLE_NAME"), LogLevel: env.Optional("LOG_LEVEL", "INFO")}
	log := lambdaenv.Logger(cfg.LogLevel)
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	awsCfg, err := lambdaenv.AWS(context.Background())
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	h := &decision.Handler{
		Store: store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table),
		// Task tokens name their execution; no state machine ARN is needed.
		Workflow: workflow.New(sfn.NewFromConfig(awsCfg), ""),
		Logger:   log,
		Now:      time.Now,
	}
	lambda.Start(h.Handle)
}
