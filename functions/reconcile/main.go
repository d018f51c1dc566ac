// Command reconcile runs on a schedule (and on demand): it removes access
// left behind by a revoke that failed, and records each removal.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
)

type config struct {
	Table, LogLevel string
	MaxTrustPolicy  int
	GraceSeconds    int
}

func main() {
	env := lambdaenv.New()
	cfg := config{
		Table: env.Require("TABLE_NAME"), LogLevel: env.Optional("LOG_LEVEL", "INFO"),
		MaxTrustPolicy: env.Int("TRUST_POLICY_MAX_LENGTH", 2048), GraceSeconds: env.Int("RECONCILE_GRACE_SECONDS", 120),
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
	providers := map[string]grant.Provider{
		policy.ProviderIAMRoleTrust:   &grant.IAMRoleTrust{IAM: iam.NewFromConfig(awsCfg), Locker: db, MaxTrustPolicy: cfg.MaxTrustPolicy, Now: time.Now},
		policy.ProviderIdentityCenter: &grant.IdentityCenter{SSOAdmin: ssoadmin.NewFromConfig(awsCfg), IdentityStore: identitystore.NewFromConfig(awsCfg), Assignments: store.NewAssignments(dynamodb.NewFromConfig(awsCfg), cfg.Table)},
	}
	r := &grant.Reconciler{Store: db, Providers: providers, Logger: log, Now: time.Now, Grace: time.Duration(cfg.GraceSeconds) * time.Second}
	lambda.Start(r.Run)
}
