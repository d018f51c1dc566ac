// Command notify runs the workflow's notify tasks: it sends each approver
// single-use decision links (email, and SMS or Slack where the policy says
// so), records the task token, handles level timeouts, announces
// break-glass access, and tells requesters the outcome of their request.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/notify"
	"github.com/jitaccess/jit/shared/secret"
	"github.com/jitaccess/jit/shared/slack"
	"github.com/jitaccess/jit/shared/store"
)

type config struct {
	Table, Sender, LogLevel string
	// SlackParameter names the SSM SecureString parameter holding the
	// Slack incoming-webhook URL or bot token; empty turns Slack off.
	SlackParameter string
	// SMS turns SMS (SNS Publish to a phone number) on or off.
	SMS bool
	// AuditEverySend records every message sent in the audit trail, not
	// only the ones that failed.
	AuditEverySend bool
}

func main() {
	env := lambdaenv.New()
	cfg := config{
		Table: env.Require("TABLE_NAME"), Sender: env.Require("SENDER_EMAIL"), LogLevel: env.Optional("LOG_LEVEL", "INFO"),
		SlackParameter: env.Optional("SLACK_SECRET_PARAMETER", ""),
		SMS:            env.Optional("SMS_ENABLED", "true") == "true",
		AuditEverySend: env.Optional("AUDIT_EVERY_SEND", "true") == "true",
	}
	log := lambdaenv.Logger(cfg.LogLevel)
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	awsCfg, err := lambdaenv.AWS(context.Background())
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	h := &notify.Handler{
		Store:          store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table),
		Senders:        map[string]notify.Sender{notify.ChannelEmail: &notify.SES{API: sesv2.NewFromConfig(awsCfg), From: cfg.Sender}},
		Logger:         log,
		Now:            time.Now,
		AuditEverySend: cfg.AuditEverySend,
	}
	if cfg.SMS {
		h.Senders[notify.ChannelSMS] = &notify.SNS{API: sns.NewFromConfig(awsCfg)}
	}
	if cfg.SlackParameter != "" {
		param := &secret.SSM{API: ssm.NewFromConfig(awsCfg), Name: cfg.SlackParameter, TTL: 5 * time.Minute}
		h.Senders[notify.ChannelSlack] = &notify.Slack{Client: &slack.Client{}, Secret: param.Get}
	}
	lambda.Start(h.Handle)
}
