// Command notify runs the workflow's AwaitApproval task: it sends each
// approver a single-use decision link and records the task token.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/notify"
	"github.com/jitaccess/jit/shared/store"
)

type config struct {
	Table, Sender, LogLevel string
}

func main() {
	env := lambdaenv.New()
	cfg := config{Table: env.Require("TABLE_NAME"), Sender: env.Require("SENDER_EMAIL"), LogLevel: env.Optional("LOG_LEVEL", "INFO")}
	log := lambdaenv.Logger(cfg.LogLevel)
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	awsCfg, err := lambdaenv.AWS(context.Background())
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	h := &notify.Handler{
		Store:  store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table),
		Email:  &notify.SES{API: sesv2.NewFromConfig(awsCfg), From: cfg.Sender},
		Logger: log,
		Now:    time.Now,
	}
	lambda.Start(h.Handle)
}
