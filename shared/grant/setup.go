package grant

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/target"
)

// Setup is what the grant, revoke and reconcile functions build the same
// way: logger, table and one provider per target kind.
type Setup struct {
	Logger    *slog.Logger
	Store     *store.Store
	Providers map[string]Provider
}

// Config is what the providers are built from.
type Config struct {
	Table string
	// TrustPolicyMaxLength is the account's trust policy size quota.
	TrustPolicyMaxLength int
	// IdentityCenterRegion is the home region of the IAM Identity Center
	// instance: its APIs (sso-admin, identitystore) answer only there
	// (IAM Identity Center User Guide, "IAM Identity Center Region
	// availability"). Empty means the function's own region.
	IdentityCenterRegion string
}

// Load reads TABLE_NAME, LOG_LEVEL, TRUST_POLICY_MAX_LENGTH and
// IDENTITY_CENTER_REGION from env and builds the providers. It exits the
// process on a configuration error, as a function cannot serve without
// it.
func Load(ctx context.Context, env *lambdaenv.Env) *Setup {
	c := Config{
		Table:                env.Require("TABLE_NAME"),
		TrustPolicyMaxLength: env.Int("TRUST_POLICY_MAX_LENGTH", 2048),
		IdentityCenterRegion: env.Optional("IDENTITY_CENTER_REGION", ""),
	}
	log := lambdaenv.Logger(env.Optional("LOG_LEVEL", "INFO"))
	if err := env.Err(); err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	cfg, err := lambdaenv.AWS(ctx)
	if err != nil {
		lambdaenv.Fatal(log, "configuration", err)
	}
	db, providers := NewProviders(cfg, c)
	return &Setup{Logger: log, Store: db, Providers: providers}
}

// NewProviders builds the table's store and one provider per target
// kind from one SDK configuration.
func NewProviders(cfg aws.Config, c Config) (*store.Store, map[string]Provider) {
	ddb := dynamodb.NewFromConfig(cfg)
	db := store.New(ddb, c.Table)
	ic := cfg.Copy()
	if c.IdentityCenterRegion != "" {
		ic.Region = c.IdentityCenterRegion
	}
	return db, map[string]Provider{
		target.IAMRoleTrust: &IAMRoleTrust{IAM: iam.NewFromConfig(cfg), Locker: db, MaxTrustPolicy: c.TrustPolicyMaxLength, Now: time.Now},
		target.IdentityCenter: &IdentityCenter{SSOAdmin: ssoadmin.NewFromConfig(ic), IdentityStore: identitystore.NewFromConfig(ic),
			Assignments: store.NewAssignments(ddb, c.Table)},
	}
}
