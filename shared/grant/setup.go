package grant

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
)

// Setup is what the grant, revoke and reconcile functions build the same
// way: logger, table and one provider per target kind.
type Setup struct {
	Logger    *slog.Logger
	Store     *store.Store
	Providers map[string]Provider
}

// Load reads TABLE_NAME, LOG_LEVEL and TRUST_POLICY_MAX_LENGTH from env
// and builds the providers. It exits the process on a configuration error,
// as a function cannot serve without it.
func Load(ctx context.Context, env *lambdaenv.Env) *Setup {
	table := env.Require("TABLE_NAME")
	maxTrust := env.Int("TRUST_POLICY_MAX_LENGTH", 2048)
	log := lambdaenv.Logger(env.Optional("LOG_LEVEL", "INFO"))
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	cfg, err := lambdaenv.AWS(ctx)
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	db := store.New(ddb, table)
	return &Setup{
		Logger: log,
		Store:  db,
		Providers: map[string]Provider{
			policy.ProviderIAMRoleTrust: &IAMRoleTrust{IAM: iam.NewFromConfig(cfg), Locker: db, MaxTrustPolicy: maxTrust, Now: time.Now},
			policy.ProviderIdentityCenter: &IdentityCenter{SSOAdmin: ssoadmin.NewFromConfig(cfg), IdentityStore: identitystore.NewFromConfig(cfg),
				Assignments: store.NewAssignments(ddb, table)},
		},
	}
}
