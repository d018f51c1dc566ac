// Command api is the requester HTTP API (create, get, list requests),
// behind API Gateway's IAM authorizer, and the auditor page (GET /audit...).
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/jitaccess/jit/shared/api"
	"github.com/jitaccess/jit/shared/auditui"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

type config struct {
	Table, StateMachine, PublicBaseURL, LogLevel string
	Admins, Auditors                             []string
}

func main() {
	env := lambdaenv.New()
	cfg := config{
		Table:         env.Require("TABLE_NAME"),
		StateMachine:  env.Require("STATE_MACHINE_ARN"),
		PublicBaseURL: env.Optional("PUBLIC_BASE_URL", ""),
		LogLevel:      env.Optional("LOG_LEVEL", "INFO"),
		Admins:        env.List("ADMIN_PRINCIPALS"),
		Auditors:      env.List("AUDITOR_PRINCIPALS"),
	}
	log := lambdaenv.Logger(cfg.LogLevel)
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	awsCfg, err := lambdaenv.AWS(context.Background())
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	db := store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)
	h := &api.Handler{
		Store:         db,
		Workflow:      workflow.New(sfn.NewFromConfig(awsCfg), cfg.StateMachine),
		Logger:        log,
		Now:           time.Now,
		PublicBaseURL: cfg.PublicBaseURL,
		Admins:        cfg.Admins,
		Auditors:      cfg.Auditors,
	}
	pages := auditui.New(db, log, cfg.Admins, cfg.Auditors)
	pages.Directory = h.Directory
	pages.Policy = h.PolicyDocument
	h.Pages = pages
	lambda.Start(h.Handle)
}
