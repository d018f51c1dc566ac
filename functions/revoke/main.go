// Command revoke ends a request (expired, timed out, failed): it removes
// any access the request had, then records how it ended.
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
	// MaxTrustPolicy is the account's trust policy size quota.
	MaxTrustPolicy int
}

func main() {
	env := lambdaenv.New()
	cfg := config{Table: env.Require("TABLE_NAME"), LogLevel: env.Optional("LOG_LEVEL", "INFO"), MaxTrustPolicy: env.Int("TRUST_POLICY_MAX_LENGTH", 2048)}
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
	h := &grant.Handler{Store: db, Providers: providers, Logger: log, Now: time.Now}
	lambda.Start(h.End)
}
