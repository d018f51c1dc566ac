package grant_test

// Integration tests of the identity_center provider against moto, over
// the real AWS APIs (sso-admin, identitystore, DynamoDB): no fakes. One
// moto serves TestIdentityCenter and its subtests (started in the test,
// not in a TestMain, so the package's unit tests need no emulator). The
// table is provisioned from template.yaml as the store tests do. Each
// subtest makes its own permission set and user, so their assignments
// never meet.
//
// What moto does not emulate, and how the tests live with it:
//   - Create/DeleteAccountAssignment answer SUCCEEDED at once and the
//     Describe*Status calls always say SUCCEEDED, so polling an
//     IN_PROGRESS operation is never exercised here.
//   - CreateAccountAssignment does not deduplicate: creating an existing
//     assignment adds a second copy (AWS keeps one). The tests count
//     copies, so a double create by the provider fails them.
//   - Deleting a missing assignment is ResourceNotFoundException, which
//     the provider treats as already deleted.
//   - GetUserId by emails.value fails with a 500 if any user of the store
//     has no email (moto iterates a missing list); every test user has one.
//   - CreatePermissionSet without SessionDuration answers the number 3600
//     where AWS answers "PT1H", which the SDK refuses; the tests pass it.
//
// The virtualenv is required: without it the test fails and says to run
// `make venv`.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/local/moto"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/template"
	"github.com/jitaccess/jit/shared/local/testenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/target"
)

const (
	region   = "us-east-1"
	account  = moto.AccountID
	repoRoot = "../.."
	tableID  = "AccessTable"
	// targetAccount is the account assignments give access to.
	targetAccount = "210987654321"
)

// icEnv is the emulator and the clients every subtest uses.
type icEnv struct {
	cfg         aws.Config
	sso         *ssoadmin.Client
	ids         *identitystore.Client
	assignments *store.Assignments
	instance    string
	storeID     string
}

func startEmulator(t *testing.T) *icEnv {
	t.Helper()
	srv := testenv.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl, err := template.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatalf("load template: %v", err)
	}
	cfg := provision.EmulatorConfig(throughEdge(t, srv.URL()), region)
	if err := provisionTable(ctx, cfg, tpl); err != nil {
		t.Fatalf("provision %s: %v\nmoto output:\n%s", tableID, err, srv.Output())
	}
	env := &icEnv{
		cfg:         cfg,
		sso:         ssoadmin.NewFromConfig(cfg),
		ids:         identitystore.NewFromConfig(cfg),
		assignments: store.NewAssignments(dynamodb.NewFromConfig(cfg), tableID),
	}
	// moto makes one instance per account and region.
	out, err := env.sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatalf("list instances: %v", err)
	}
	if len(out.Instances) == 0 {
		t.Fatal("moto has no Identity Center instance")
	}
	env.instance = aws.ToString(out.Instances[0].InstanceArn)
	env.storeID = aws.ToString(out.Instances[0].IdentityStoreId)
	return env
}

// provisionTable creates the template's AccessTable, exactly as the store
// tests do (only tables: the provider needs no state machine).
func provisionTable(ctx context.Context, cfg aws.Config, tpl *template.Template) error {
	tables := *tpl
	tables.StateMachines = nil
	r, err := tables.Resolver(region, account, nil)
	if err != nil {
		return err
	}
	if r.Physical[tableID].Name == "" {
		return fmt.Errorf("template.yaml declares no %s", tableID)
	}
	p := &provision.Provisioner{
		AWS: cfg, Template: &tables, Root: repoRoot, Resolver: r,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return p.Apply(ctx)
}

// provider returns a fresh provider (its own identity store cache).
func (e *icEnv) provider() *grant.IdentityCenter {
	return &grant.IdentityCenter{SSOAdmin: e.sso, IdentityStore: e.ids, Assignments: e.assignments}
}

// fixture is one subtest's permission set and user.
type fixture struct {
	env       *icEnv
	permSet   string
	userID    string
	principal string
}

// newFixture creates a permission set and a user named userName (with
// email, or a placeholder one) and returns them with an SSO session principal whose
// session name is session.
func (e *icEnv) newFixture(t *testing.T, userName, email, session string) *fixture {
	t.Helper()
	ctx := testContext(t)
	ps, err := e.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{
		InstanceArn: &e.instance, Name: aws.String(strings.ReplaceAll(t.Name(), "/", "-")),
		// Given explicitly: moto's default is the number 3600, which the
		// SDK refuses (AWS answers an ISO 8601 string).
		SessionDuration: aws.String("PT1H"),
	})
	if err != nil {
		t.Fatalf("create permission set: %v", err)
	}
	in := &identitystore.CreateUserInput{
		IdentityStoreId: &e.storeID, UserName: &userName, DisplayName: aws.String(userName),
		Name: &istypes.Name{GivenName: aws.String("Given"), FamilyName: aws.String("Family")},
	}
	if email == "" {
		// Every user gets an email: moto's GetUserId by emails.value fails
		// (500) if any user in the store has none.
		email = "other-" + userName
	}
	in.Emails = []istypes.Email{{Value: aws.String(email), Primary: true, Type: aws.String("work")}}
	u, err := e.ids.CreateUser(ctx, in)
	if err != nil {
		t.Fatalf("create user %s: %v", userName, err)
	}
	return &fixture{
		env: e, permSet: aws.ToString(ps.PermissionSet.PermissionSetArn), userID: aws.ToString(u.UserId),
		principal: "arn:aws:sts::" + account + ":assumed-role/AWSReservedSSO_Engineer_0123456789abcdef/" + session,
	}
}

func (f *fixture) grant(id string) grant.Grant {
	return grant.Grant{
		RequestID: id, Principal: f.principal, ExpiresAt: time.Now().Add(time.Hour),
		Target: target.New(target.IdentityCenter, target.InstanceARN, f.env.instance,
			target.PermissionSetARN, f.permSet, target.AccountID, targetAccount),
	}
}

func (f *fixture) key() store.AssignmentKey {
	return store.AssignmentKey{InstanceARN: f.env.instance, AccountID: targetAccount, PermissionSetARN: f.permSet, UserID: f.userID}
}

// copies counts the user's assignments of the permission set in the
// target account, as Identity Center lists them.
func (f *fixture) copies(t *testing.T) int {
	t.Helper()
	n, err := countCopies(testContext(t), f)
	if err != nil {
		t.Fatalf("list account assignments: %v", err)
	}
	return n
}

// wantAssigned checks the assignment exists exactly once, or not at all.
func (f *fixture) wantAssigned(t *testing.T, want bool) {
	t.Helper()
	n := f.copies(t)
	switch {
	case want && n != 1:
		t.Fatalf("assignment listed %d times, want once", n)
	case !want && n != 0:
		t.Fatalf("assignment listed %d times, want none", n)
	}
}

func (f *fixture) stored(t *testing.T) *store.Assignment {
	t.Helper()
	a, err := f.env.assignments.Get(testContext(t), f.key())
	if err != nil {
		t.Fatalf("get assignment: %v", err)
	}
	return a
}

// wantSettledEmpty checks the stored item: no holders, nothing of ours,
// no lease left behind.
func (f *fixture) wantSettledEmpty(t *testing.T) {
	t.Helper()
	a := f.stored(t)
	if len(a.Holders) != 0 || a.State != store.AssignmentAbsent || a.OperationID != "" || a.LeaseOwner != "" {
		t.Fatalf("stored assignment = %+v, want no holders, absent, no operation, no lease", a)
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustApply(t *testing.T, p grant.Provider, g grant.Grant) {
	t.Helper()
	if err := p.Apply(testContext(t), g); err != nil {
		t.Fatalf("Apply(%s): %v", g.RequestID, err)
	}
}

func mustRemove(t *testing.T, p grant.Provider, g grant.Grant) {
	t.Helper()
	if err := p.Remove(testContext(t), g); err != nil {
		t.Fatalf("Remove(%s): %v", g.RequestID, err)
	}
}

func TestIdentityCenter(t *testing.T) {
	env := startEmulator(t)

	t.Run("apply assigns, remove unassigns", func(t *testing.T) {
		f := env.newFixture(t, "alice@example.com", "", "alice@example.com")
		p := env.provider()
		g := f.grant("req-a")
		mustApply(t, p, g)
		f.wantAssigned(t, true)
		if a := f.stored(t); a.State != store.AssignmentPresent || len(a.Holders) != 1 || a.Holders[0] != "req-a" || a.LeaseOwner != "" {
			t.Fatalf("stored after apply = %+v", a)
		}
		// Remove needs only the request id: the hold names the assignment.
		mustRemove(t, p, grant.Grant{RequestID: "req-a"})
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})

	t.Run("overlapping grants keep the assignment until the last ends", func(t *testing.T) {
		f := env.newFixture(t, "olive@example.com", "", "olive@example.com")
		p := env.provider()
		a, b := f.grant("req-A"), f.grant("req-B")
		mustApply(t, p, a)
		mustApply(t, p, b)
		f.wantAssigned(t, true)
		mustRemove(t, p, a)
		f.wantAssigned(t, true)
		if h := f.stored(t).Holders; len(h) != 1 || h[0] != "req-B" {
			t.Fatalf("holders after ending A = %v, want [req-B]", h)
		}
		mustRemove(t, p, b)
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
		// Ending B again changes nothing.
		mustRemove(t, p, b)
		f.wantAssigned(t, false)
	})

	t.Run("applying again is one hold", func(t *testing.T) {
		f := env.newFixture(t, "ida@example.com", "", "ida@example.com")
		p := env.provider()
		g := f.grant("req-1")
		mustApply(t, p, g)
		mustApply(t, p, g)
		mustApply(t, env.provider(), g) // another process, cold cache
		f.wantAssigned(t, true)
		if h := f.stored(t).Holders; len(h) != 1 {
			t.Fatalf("holders = %v, want one", h)
		}
		mustRemove(t, p, g)
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})

	t.Run("removing an unknown request is a no-op", func(t *testing.T) {
		f := env.newFixture(t, "una@example.com", "", "una@example.com")
		p := env.provider()
		mustRemove(t, p, f.grant("never-applied"))
		mustRemove(t, p, grant.Grant{RequestID: "never-applied-either"})
		held := f.grant("held")
		mustApply(t, p, held)
		mustRemove(t, p, f.grant("never-applied"))
		f.wantAssigned(t, true)
		mustRemove(t, p, held)
		f.wantAssigned(t, false)
	})

	t.Run("10 concurrent applies then 10 concurrent removes", func(t *testing.T) {
		f := env.newFixture(t, "connie@example.com", "", "connie@example.com")
		const n = 10
		run := func(op func(grant.Provider, grant.Grant) error) {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					// Each caller is its own process (its own provider).
					if err := op(env.provider(), f.grant(fmt.Sprintf("req-%02d", i))); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if t.Failed() {
				t.FailNow()
			}
		}
		ctx := testContext(t)
		run(func(p grant.Provider, g grant.Grant) error { return p.Apply(ctx, g) })
		f.wantAssigned(t, true)
		if a := f.stored(t); len(a.Holders) != n || a.State != store.AssignmentPresent || a.LeaseOwner != "" {
			t.Fatalf("stored after %d applies = %+v", n, a)
		}
		run(func(p grant.Provider, g grant.Grant) error { return p.Remove(ctx, g) })
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})

	t.Run("a held assignment is never deleted under churn", func(t *testing.T) {
		// Requests come and go on one assignment: a last holder deleting
		// races a new holder creating. Whenever a request's Apply has
		// returned and its Remove has not started, the assignment exists.
		f := env.newFixture(t, "chen@example.com", "", "chen@example.com")
		const workers, rounds = 8, 8
		ctx := testContext(t)
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		var listMu sync.Mutex // the check lists assignments; keep it one at a time
		for w := range workers {
			wg.Go(func() {
				p := env.provider()
				for r := range rounds {
					g := f.grant(fmt.Sprintf("churn-%d-%d", w, r))
					if err := p.Apply(ctx, g); err != nil {
						errs <- err
						return
					}
					listMu.Lock()
					n, err := countCopies(ctx, f)
					listMu.Unlock()
					if err != nil {
						errs <- err
						return
					}
					if n != 1 {
						errs <- fmt.Errorf("%s holds the assignment but it is listed %d times", g.RequestID, n)
					}
					if err := p.Remove(ctx, g); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})

	t.Run("the instance's home region, not the function's, is used", func(t *testing.T) {
		// The functions run in us-east-1; the instance lives in us-west-2.
		westCfg := env.cfg.Copy()
		westCfg.Region = "us-west-2"
		west := &icEnv{cfg: westCfg, sso: ssoadmin.NewFromConfig(westCfg), ids: identitystore.NewFromConfig(westCfg), assignments: env.assignments}
		out, err := west.sso.ListInstances(testContext(t), &ssoadmin.ListInstancesInput{})
		if err != nil || len(out.Instances) == 0 {
			t.Fatalf("list instances in us-west-2: %v", err)
		}
		west.instance, west.storeID = aws.ToString(out.Instances[0].InstanceArn), aws.ToString(out.Instances[0].IdentityStoreId)
		f := west.newFixture(t, "west@example.com", "", "west@example.com")
		_, here := grant.NewProviders(env.cfg, grant.Config{Table: tableID})
		if err := here[target.IdentityCenter].Apply(testContext(t), f.grant("req-west-0")); err == nil {
			t.Fatal("Apply through the function's region found the us-west-2 instance's user; the test shows nothing")
		}
		_, home := grant.NewProviders(env.cfg, grant.Config{Table: tableID, IdentityCenterRegion: "us-west-2"})
		p := home[target.IdentityCenter]
		mustApply(t, p, f.grant("req-west"))
		f.wantAssigned(t, true)
		mustRemove(t, p, f.grant("req-west"))
		f.wantAssigned(t, false)
	})

	t.Run("an account principal is refused", func(t *testing.T) {
		f := env.newFixture(t, "root", "", "root")
		g := f.grant("req-root")
		g.Principal = "arn:aws:iam::" + account + ":root"
		if err := env.provider().Apply(testContext(t), g); !errors.Is(err, grant.ErrPrincipal) {
			t.Fatalf("Apply for the account root = %v, want ErrPrincipal", err)
		}
		f.wantAssigned(t, false)
	})

	t.Run("unknown user is a clear, final error", func(t *testing.T) {
		f := env.newFixture(t, "known@example.com", "", "nobody@example.com")
		p := env.provider()
		err := p.Apply(testContext(t), f.grant("req-nobody"))
		if !errors.Is(err, grant.ErrUnknownUser) || !strings.Contains(err.Error(), `"nobody@example.com"`) {
			t.Fatalf("Apply = %v, want ErrUnknownUser naming nobody@example.com", err)
		}
		var te *grant.TransientError
		if errors.As(err, &te) {
			t.Fatalf("Apply = %v: an unknown user is not worth retrying", err)
		}
		if k, err := env.assignments.HeldBy(testContext(t), "req-nobody"); err != nil || k != nil {
			t.Fatalf("HeldBy = %v, %v: nothing should be held", k, err)
		}
		// Ending it is a no-op.
		mustRemove(t, p, f.grant("req-nobody"))
	})

	t.Run("session name found by email when it is not the user name", func(t *testing.T) {
		f := env.newFixture(t, "bob", "bob@example.com", "bob@example.com")
		p := env.provider()
		g := f.grant("req-bob")
		mustApply(t, p, g)
		f.wantAssigned(t, true)
		mustRemove(t, p, g)
		f.wantAssigned(t, false)
	})

	t.Run("a standing assignment made outside is never deleted", func(t *testing.T) {
		f := env.newFixture(t, "stan@example.com", "", "stan@example.com")
		k := f.key()
		_, err := env.sso.CreateAccountAssignment(testContext(t), &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: &k.InstanceARN, PermissionSetArn: &k.PermissionSetARN,
			TargetId: &k.AccountID, TargetType: ssotypes.TargetTypeAwsAccount,
			PrincipalId: &k.UserID, PrincipalType: ssotypes.PrincipalTypeUser,
		})
		if err != nil {
			t.Fatal(err)
		}
		p := env.provider()
		g := f.grant("req-stan")
		mustApply(t, p, g)
		f.wantAssigned(t, true)
		if s := f.stored(t).State; s != store.AssignmentExternal {
			t.Fatalf("state = %q, want external", s)
		}
		mustRemove(t, p, g)
		f.wantAssigned(t, true)
		f.wantSettledEmpty(t)
	})

	t.Run("an assignment removed behind our back is made again", func(t *testing.T) {
		f := env.newFixture(t, "rex@example.com", "", "rex@example.com")
		p := env.provider()
		a, b := f.grant("req-rex-a"), f.grant("req-rex-b")
		mustApply(t, p, a)
		k := f.key()
		if _, err := env.sso.DeleteAccountAssignment(testContext(t), &ssoadmin.DeleteAccountAssignmentInput{
			InstanceArn: &k.InstanceARN, PermissionSetArn: &k.PermissionSetARN,
			TargetId: &k.AccountID, TargetType: ssotypes.TargetTypeAwsAccount,
			PrincipalId: &k.UserID, PrincipalType: ssotypes.PrincipalTypeUser,
		}); err != nil {
			t.Fatal(err)
		}
		mustApply(t, p, b)
		f.wantAssigned(t, true)
		mustRemove(t, p, a)
		mustRemove(t, p, b)
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})

	t.Run("a live lease held elsewhere makes Apply transient at the top level", func(t *testing.T) {
		f := env.newFixture(t, "lee@example.com", "", "lee@example.com")
		k := f.key()
		ctx := testContext(t)
		// Another caller holds the assignment and is (supposedly) creating it.
		if _, _, err := env.assignments.Hold(ctx, k, "req-other", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := env.assignments.Lease(ctx, k, "other-caller", time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		defer cancel()
		p := env.provider()
		g := f.grant("req-lee")
		err := p.Apply(short, g)
		// The Lambda runtime reports only the outermost error type, which
		// the state machine's Retry matches.
		if _, ok := err.(*grant.TransientError); !ok {
			t.Fatalf("Apply = %T %v, want *grant.TransientError at the top", err, err)
		}
		f.wantAssigned(t, false)
		// The other caller goes away; the retry creates it.
		if err := env.assignments.Unlease(ctx, k, "other-caller"); err != nil {
			t.Fatal(err)
		}
		mustApply(t, p, g)
		f.wantAssigned(t, true)
		mustRemove(t, p, g)
		f.wantAssigned(t, true) // req-other still holds it
		if _, _, err := env.assignments.Release(ctx, "req-other", time.Now()); err != nil {
			t.Fatal(err)
		}
		mustRemove(t, p, grant.Grant{RequestID: "req-other"})
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})

	t.Run("work left by a caller that died is resumed", func(t *testing.T) {
		f := env.newFixture(t, "dee@example.com", "", "dee@example.com")
		k := f.key()
		ctx := testContext(t)
		p := env.provider()
		long := time.Now().Add(-time.Hour) // leases taken then have long expired

		// Died after recording "creating", before (or while) sending it.
		if _, _, err := env.assignments.Hold(ctx, k, "req-dead", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := env.assignments.Lease(ctx, k, "dead-caller", long, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := env.assignments.SetState(ctx, k, "dead-caller", store.AssignmentCreating, "", false, time.Now()); err != nil {
			t.Fatal(err)
		}
		g := f.grant("req-dee")
		mustApply(t, p, g)
		f.wantAssigned(t, true)
		if a := f.stored(t); a.State != store.AssignmentPresent || a.LeaseOwner != "" {
			t.Fatalf("stored after takeover = %+v", a)
		}

		// Died after recording "deleting", before sending it.
		for _, id := range []string{"req-dead", "req-dee"} {
			if _, _, err := env.assignments.Release(ctx, id, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := env.assignments.Lease(ctx, k, "dead-caller", long, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := env.assignments.SetState(ctx, k, "dead-caller", store.AssignmentDeleting, "", true, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.wantAssigned(t, true)
		// The workflow retries the end of req-dee: its hold is gone, the
		// deletion is finished for it.
		mustRemove(t, p, g)
		f.wantAssigned(t, false)
		f.wantSettledEmpty(t)
	})
}

// countCopies is copies for use off the test goroutine.
func countCopies(ctx context.Context, f *fixture) (int, error) {
	n := 0
	pages := ssoadmin.NewListAccountAssignmentsPaginator(f.env.sso, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: &f.env.instance, AccountId: aws.String(targetAccount), PermissionSetArn: &f.permSet,
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, a := range page.AccountAssignments {
			if a.PrincipalType == ssotypes.PrincipalTypeUser && aws.ToString(a.PrincipalId) == f.userID {
				n++
			}
		}
	}
	return n, nil
}
