package grant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/template"
	"github.com/jitaccess/jit/shared/local/testenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/target"
)

// trustEnv is moto with the table (for the role lease) and one managed
// role.
type trustEnv struct {
	iam      *iam.Client
	provider *grant.IAMRoleTrust
	roleARN  string
}

func newTrustEnv(t *testing.T, maxTrust int) *trustEnv {
	t.Helper()
	srv := testenv.StartMoto(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl, err := template.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tables := *tpl
	tables.StateMachines = nil
	res, err := tables.Resolver("us-east-1", "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := provision.EmulatorConfig(throughEdge(t, srv.URL()), "us-east-1")
	p := &provision.Provisioner{AWS: cfg, Template: &tables, Root: "../..", Resolver: res, Logger: quiet}
	if err := p.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	arn, err := p.EnsureRole(ctx, "jit-target", map[string]string{grant.ManagedTag: "true"}, 3600)
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg)
	return &trustEnv{
		iam:      client,
		roleARN:  arn,
		provider: &grant.IAMRoleTrust{IAM: client, Locker: store.New(dynamodb.NewFromConfig(cfg), "AccessTable"), MaxTrustPolicy: maxTrust},
	}
}

func (e *trustEnv) document(t *testing.T, policyName string) map[string]any {
	t.Helper()
	var raw string
	if policyName == "" {
		out, err := e.iam.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("jit-target")})
		if err != nil {
			t.Fatal(err)
		}
		raw = aws.ToString(out.Role.AssumeRolePolicyDocument)
	} else {
		out, err := e.iam.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String("jit-target"), PolicyName: aws.String(policyName)})
		if err != nil {
			t.Fatal(err)
		}
		raw = aws.ToString(out.PolicyDocument)
	}
	raw, _ = url.QueryUnescape(raw)
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func statements(doc map[string]any) []map[string]any {
	var out []map[string]any
	switch s := doc["Statement"].(type) {
	case []any:
		for _, st := range s {
			out = append(out, st.(map[string]any))
		}
	case map[string]any:
		out = append(out, s)
	}
	return out
}

func TestIAMRoleTrustGrantAndRevoke(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	alice := "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	expires := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	g := grant.Grant{RequestID: "01abc", Principal: alice, Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: expires}
	if err := e.provider.Apply(ctx, g); err != nil {
		t.Fatal(err)
	}
	sts := statements(e.document(t, ""))
	if len(sts) != 2 {
		t.Fatalf("trust statements = %v, want the baseline and the grant", sts)
	}
	got, _ := json.Marshal(sts[1])
	want := `{"Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Condition":{"DateLessThan":{"aws:CurrentTime":"2031-01-02T03:04:05Z"},"StringEquals":{"sts:RoleSessionName":"alice@example.com","sts:SourceIdentity":"jit-01abc"}},"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"},"Sid":"Jit01abc"}`
	if string(got) != want {
		t.Fatalf("grant statement\n got %s\nwant %s", got, want)
	}
	if present, err := e.provider.Present(ctx, g); err != nil || !present {
		t.Fatalf("Present = %v, %v", present, err)
	}
	// Applying again changes nothing.
	if err := e.provider.Apply(ctx, g); err != nil || len(statements(e.document(t, ""))) != 2 {
		t.Fatalf("re-apply: %v", err)
	}
	before := time.Now().UTC().Add(-time.Second)
	if err := e.provider.Remove(ctx, g); err != nil {
		t.Fatal(err)
	}
	if sts := statements(e.document(t, "")); len(sts) != 1 || sts[0]["Sid"] != nil {
		t.Fatalf("after revoke trust statements = %v, want the baseline only", sts)
	}
	deny := statements(e.document(t, grant.RevokedSessionsPolicy))
	if len(deny) != 1 || deny[0]["Effect"] != "Deny" || !strings.HasPrefix(deny[0]["Sid"].(string), "JitRevoked") {
		t.Fatalf("revoked sessions policy = %v", deny)
	}
	cond := deny[0]["Condition"].(map[string]any)
	userids := cond["StringLike"].(map[string]any)["aws:userid"].([]any)
	if len(userids) != 1 {
		t.Fatalf("aws:userid = %v, want alice's session only", userids)
	}
	userid := userids[0].(string)
	if userid != "*:alice@example.com" {
		t.Errorf("aws:userid = %q, want *:alice@example.com (any session of this role named alice@example.com)", userid)
	}
	issued, _ := time.Parse(time.RFC3339, cond["DateLessThan"].(map[string]any)["aws:TokenIssueTime"].(string))
	if issued.Before(before) {
		t.Errorf("TokenIssueTime %s is before the revoke", issued)
	}
	// Removing again is harmless and adds no second deny.
	if err := e.provider.Remove(ctx, g); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	again := statements(e.document(t, grant.RevokedSessionsPolicy))
	if b, _ := json.Marshal(again); len(again) != 1 || strings.Count(string(b), "jit-01abc") != 1 {
		t.Fatalf("after a second remove revoked sessions = %s", b)
	}
}

func TestIAMRoleTrustConcurrentGrants(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	const n = 10
	grants := make([]grant.Grant, n)
	for i := range grants {
		grants[i] = grant.Grant{RequestID: fmt.Sprintf("req%02d", i), Principal: fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/Engineer/user%d@example.com", i),
			Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}
	}
	run := func(do func(context.Context, grant.Grant) error) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, g := range grants {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A TransientError is retried by the workflow (the ASL's
				// Retry on TransientError); so it is here, a few times.
				var err error
				for attempt := 0; attempt < 3; attempt++ {
					var te *grant.TransientError
					if err = do(ctx, g); !errors.As(err, &te) {
						break
					}
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	run(e.provider.Apply)
	if got := len(statements(e.document(t, ""))); got != n+1 {
		t.Fatalf("after %d concurrent grants: %d statements, want %d (the baseline and one each)", n, got, n+1)
	}
	run(e.provider.Remove)
	if got := statements(e.document(t, "")); len(got) != 1 {
		t.Fatalf("after %d concurrent revokes: %v, want the baseline only", n, got)
	}
	// One statement gathers the revokes of its window, each person's
	// session and request.
	deny, _ := json.Marshal(statements(e.document(t, grant.RevokedSessionsPolicy)))
	for _, g := range grants {
		if !strings.Contains(string(deny), access.GrantSourceIdentity(g.RequestID)) || !strings.Contains(string(deny), ":"+access.RoleSessionName(g.Principal)) {
			t.Fatalf("revoked sessions lack %s: %s", g.RequestID, deny)
		}
	}
}

func TestIAMRoleTrustQuota(t *testing.T) {
	e := newTrustEnv(t, 600)
	ctx := context.Background()
	mk := func(i int) grant.Grant {
		return grant.Grant{RequestID: fmt.Sprintf("q%d", i), Principal: fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/Engineer/u%d@example.com", i), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}
	}
	if err := e.provider.Apply(ctx, mk(1)); err != nil {
		t.Fatal(err)
	}
	err := e.provider.Apply(ctx, mk(2))
	var qe *grant.QuotaError
	if !errors.As(err, &qe) || !strings.Contains(err.Error(), "over its 600 quota") {
		t.Fatalf("grant over the quota: %v, want *QuotaError", err)
	}
	if got := len(statements(e.document(t, ""))); got != 2 {
		t.Fatalf("a refused grant changed the trust policy: %d statements", got)
	}
}
