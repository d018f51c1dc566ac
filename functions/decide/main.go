// Command decide serves the public decision links (GET confirms, POST
// commits) and resumes the waiting workflow.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/jitaccess/jit/shared/decision"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/secret"
	"github.com/jitaccess/jit/shared/slack"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

type config struct {
	Table, LogLevel string
	// SlackSigningSecret names the SSM SecureString parameter holding the
	// Slack app's signing secret; empty turns the Slack endpoint off.
	SlackSigningSecret string
	// SlackTeam is the Slack workspace id the app serves; clicks from
	// other workspaces are refused. Empty accepts any.
	SlackTeam string
}

func main() {
	env := lambdaenv.New()
	cfg := config{Table: env.Require("TABLE_NAME"), LogLevel: env.Optional("LOG_LEVEL", "INFO"),
		SlackSigningSecret: env.Optional("SLACK_SIGNING_SECRET_PARAMETER", ""), SlackTeam: env.Optional("SLACK_TEAM_ID", "")}
	log := lambdaenv.Logger(cfg.LogLevel)
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	awsCfg, err := lambdaenv.AWS(context.Background())
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	db := store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)
	h := &decision.Handler{
		Store: db,
		// Task tokens name their execution; no state machine ARN is needed.
		Workflow: workflow.New(sfn.NewFromConfig(awsCfg), ""),
		Logger:   log,
		Now:      time.Now,
	}
	if cfg.SlackSigningSecret != "" {
		param := &secret.SSM{API: ssm.NewFromConfig(awsCfg), Name: cfg.SlackSigningSecret, TTL: 5 * time.Minute}
		client := &slack.Client{}
		h.Slack = &decision.SlackApp{Secret: param.Get, Policies: db, Reply: client.PostWebhook, TeamID: cfg.SlackTeam}
	}
	lambda.Start(h.Handle)
}
