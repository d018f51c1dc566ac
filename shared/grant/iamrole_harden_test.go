package grant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/grant"

	"github.com/jitaccess/jit/shared/target"
)

// recordingIAM is the real (emulated) IAM API with a log of the writes,
// and two faults moto cannot make: a stale read (IAM reads are eventually
// consistent, so a read may not show the last write yet) and a
// LimitExceeded on PutRolePolicy.
type recordingIAM struct {
	*iam.Client
	mu          sync.Mutex
	writes      []string
	staleTrust  string // returned by GetRole while set
	staleDenies string // returned by GetRolePolicy while set
	denyLimit   bool
	beforeTrust func() // runs before each UpdateAssumeRolePolicy
}

func (r *recordingIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	out, err := r.Client.GetRole(ctx, in, opts...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && r.staleTrust != "" {
		out.Role.AssumeRolePolicyDocument = aws.String(url.QueryEscape(r.staleTrust))
	}
	return out, err
}

func (r *recordingIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	out, err := r.Client.GetRolePolicy(ctx, in, opts...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && r.staleDenies != "" {
		out.PolicyDocument = aws.String(url.QueryEscape(r.staleDenies))
	}
	return out, err
}

func (r *recordingIAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, opts ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	r.mu.Lock()
	r.writes = append(r.writes, "UpdateAssumeRolePolicy")
	hook := r.beforeTrust
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	return r.Client.UpdateAssumeRolePolicy(ctx, in, opts...)
}

func (r *recordingIAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	r.mu.Lock()
	r.writes = append(r.writes, "PutRolePolicy")
	limit := r.denyLimit
	r.mu.Unlock()
	if limit {
		return nil, &smithy.GenericAPIError{Code: "LimitExceeded", Message: "Maximum policy size of 10240 bytes exceeded for role jit-target"}
	}
	return r.Client.PutRolePolicy(ctx, in, opts...)
}

// wrapped is the environment's provider over a recordingIAM, with clock.
func (e *trustEnv) wrapped(now func() time.Time) (*grant.IAMRoleTrust, *recordingIAM) {
	r := &recordingIAM{Client: e.iam}
	p := *e.provider
	p.IAM, p.Now = r, now
	return &p, r
}

// raw returns a policy document as JSON text.
func (e *trustEnv) raw(t *testing.T, policyName string) string {
	t.Helper()
	b, err := json.Marshal(e.document(t, policyName))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func person(i int) string {
	return fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/Engineer/person%03d@example.com", i)
}

// TestIAMRoleTrustRefusesAccounts: a principal naming an account (its
// root) would make the trust statement trust every principal of it.
func TestIAMRoleTrustRefusesAccounts(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	for _, principal := range []string{"arn:aws:iam::123456789012:root", "123456789012", "*", "arn:aws:iam::123456789012:role/Engineer"} {
		err := e.provider.Apply(ctx, grant.Grant{RequestID: "root1", Principal: principal, Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)})
		if err == nil {
			t.Errorf("grant to %q succeeded", principal)
		}
	}
	if sts := statements(e.document(t, "")); len(sts) != 1 {
		t.Fatalf("a refused grant changed the trust policy: %v", sts)
	}
}

// TestIAMRoleTrustSourceIdentityAndMargin: the grant's sessions must carry
// the request as source identity, and a revoke denies them up to a margin
// after the revoke (IAM takes time to apply the trust removal).
func TestIAMRoleTrustSourceIdentityAndMargin(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	at := time.Date(2031, 1, 2, 3, 0, 0, 0, time.UTC)
	p, _ := e.wrapped(func() time.Time { return at })
	g := grant.Grant{RequestID: "01margin", Principal: person(1), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: at.Add(time.Hour)}
	if err := p.Apply(ctx, g); err != nil {
		t.Fatal(err)
	}
	trust := e.raw(t, "")
	t.Logf("trust policy with one grant: %s", trust)
	for _, want := range []string{`"sts:SetSourceIdentity"`, `"sts:SourceIdentity":"jit-01margin"`, `"sts:RoleSessionName":"person001@example.com"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("trust policy lacks %s:\n%s", want, trust)
		}
	}
	if err := p.Remove(ctx, g); err != nil {
		t.Fatal(err)
	}
	deny := statements(e.document(t, grant.RevokedSessionsPolicy))
	if len(deny) != 1 {
		t.Fatalf("revoked sessions = %v", deny)
	}
	cond := deny[0]["Condition"].(map[string]any)
	cutoff, _ := time.Parse(time.RFC3339, cond["DateLessThan"].(map[string]any)["aws:TokenIssueTime"].(string))
	if cutoff.Before(at.Add(2 * time.Minute)) {
		t.Errorf("sessions denied if issued before %s, want at least 2 minutes after the revoke at %s", cutoff, at)
	}
	b, _ := json.Marshal(cond)
	if !strings.Contains(string(b), `"aws:SourceIdentity":["jit-01margin"]`) || !strings.Contains(string(b), ":person001@example.com") {
		t.Errorf("deny is not keyed on the session and the request: %s", b)
	}
}

// TestIAMRoleTrustManyRevokes: revokes on one role within its maximum
// session duration keep the revoked-sessions policy under IAM's inline
// policy quota, and every revoked session stays denied; statements no
// session can outlive are dropped.
func TestIAMRoleTrustManyRevokes(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	at := time.Date(2031, 1, 2, 3, 0, 0, 0, time.UTC)
	p, _ := e.wrapped(func() time.Time { return at })
	const n = 120
	for i := 0; i < n; i++ {
		// Request ids as long as real ones; the same people come
		// back: 80 of them, some twice.
		g := grant.Grant{RequestID: fmt.Sprintf("01jb2k3m4n5p6q7r8s9t0v%04d", i), Principal: person(i % 80), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: at.Add(time.Hour)}
		if err := p.Apply(ctx, g); err != nil {
			t.Fatalf("grant %d: %v", i, err)
		}
		if err := p.Remove(ctx, g); err != nil {
			t.Fatalf("revoke %d: %v", i, err)
		}
		at = at.Add(15 * time.Second) // 120 revokes in 30 minutes
	}
	doc := e.raw(t, grant.RevokedSessionsPolicy)
	t.Logf("after %d revokes the revoked-sessions policy is %d characters", n, len(doc))
	if len(doc) > 10240 {
		t.Fatalf("after %d revokes the revoked-sessions policy is %d characters, over the 10,240 inline quota", n, len(doc))
	}
	for i := 0; i < n; i++ {
		if !strings.Contains(doc, fmt.Sprintf(`"jit-01jb2k3m4n5p6q7r8s9t0v%04d"`, i)) || !strings.Contains(doc, fmt.Sprintf(":person%03d@example.com", i%80)) {
			t.Fatalf("revoke %d is not denied:\n%s", i, doc)
		}
	}
	// Past the maximum session duration (1 hour) and the margin, only
	// the newest revoke's statement is left.
	at = at.Add(2 * time.Hour)
	last := grant.Grant{RequestID: "01manylast", Principal: person(1), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: at.Add(time.Hour)}
	if err := p.Remove(ctx, last); err != nil {
		t.Fatal(err)
	}
	deny := statements(e.document(t, grant.RevokedSessionsPolicy))
	if b, _ := json.Marshal(deny); len(deny) != 1 || !strings.Contains(string(b), "jit-01manylast") || strings.Contains(string(b), "jit-01jb2k3m4n5p6q7r8s9t0v0000") {
		t.Fatalf("after the sessions expired, revoked sessions = %s", b)
	}
}

// TestIAMRoleTrustDenyBeforeTrust: a revoke writes the deny before it
// removes trust, and a deny that does not fit the inline policy quota
// fails the revoke (the alarm; the reconciler retries) while trust is
// still taken away.
func TestIAMRoleTrustDenyBeforeTrust(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	p, rec := e.wrapped(time.Now)
	g := grant.Grant{RequestID: "01order", Principal: person(1), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}
	if err := p.Apply(ctx, g); err != nil {
		t.Fatal(err)
	}
	rec.writes = nil
	if err := p.Remove(ctx, g); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.writes, " "); got != "PutRolePolicy UpdateAssumeRolePolicy" {
		t.Fatalf("revoke wrote %s, want the deny first", got)
	}

	g2 := grant.Grant{RequestID: "01limit", Principal: person(2), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}
	if err := p.Apply(ctx, g2); err != nil {
		t.Fatal(err)
	}
	rec.denyLimit = true
	err := p.Remove(ctx, g2)
	var le *grant.RevokedSessionsLimitError
	if !errors.As(err, &le) {
		t.Fatalf("revoke over the inline quota = %v, want *RevokedSessionsLimitError", err)
	}
	if strings.Contains(e.raw(t, ""), "Jit01limit") {
		t.Error("trust statement left in place after the deny failed")
	}
	// Retried (by the workflow or the reconciler) once it fits.
	rec.denyLimit = false
	if err := p.Remove(ctx, g2); err != nil {
		t.Fatal(err)
	}
	if doc := e.raw(t, grant.RevokedSessionsPolicy); !strings.Contains(doc, "jit-01limit") {
		t.Fatalf("retried revoke did not deny the sessions:\n%s", doc)
	}
}

// TestIAMRoleTrustStaleReads: an IAM read that does not show the last
// write yet neither drops a grant, nor brings a revoked one back, nor
// forgets a deny.
func TestIAMRoleTrustStaleReads(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background()
	p, rec := e.wrapped(time.Now)
	mk := func(id string, i int) grant.Grant {
		return grant.Grant{RequestID: id, Principal: person(i), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}
	}
	// Kept state starts with the first edit.
	if err := p.Apply(ctx, mk("01warm", 9)); err != nil {
		t.Fatal(err)
	}
	before := e.raw(t, "")
	if err := p.Apply(ctx, mk("01a", 1)); err != nil {
		t.Fatal(err)
	}
	rec.staleTrust = before // the read misses 01a
	if err := p.Apply(ctx, mk("01b", 2)); err != nil {
		t.Fatal(err)
	}
	rec.staleTrust = ""
	if trust := e.raw(t, ""); !strings.Contains(trust, "Jit01a") || !strings.Contains(trust, "Jit01b") {
		t.Fatalf("a stale read dropped a grant:\n%s", trust)
	}

	withA := e.raw(t, "")
	if err := p.Remove(ctx, mk("01a", 1)); err != nil {
		t.Fatal(err)
	}
	denies := e.raw(t, grant.RevokedSessionsPolicy)
	rec.staleTrust = withA // the read still shows 01a
	if err := p.Apply(ctx, mk("01c", 3)); err != nil {
		t.Fatal(err)
	}
	rec.staleTrust = ""
	if trust := e.raw(t, ""); strings.Contains(trust, "Jit01a") || !strings.Contains(trust, "Jit01c") {
		t.Fatalf("a stale read brought a revoked grant back:\n%s", trust)
	}

	if err := p.Remove(ctx, mk("01b", 2)); err != nil {
		t.Fatal(err)
	}
	rec.staleDenies = denies // the read misses 01b's deny
	if err := p.Remove(ctx, mk("01c", 3)); err != nil {
		t.Fatal(err)
	}
	rec.staleDenies = ""
	if doc := e.raw(t, grant.RevokedSessionsPolicy); !strings.Contains(doc, "jit-01a") || !strings.Contains(doc, "jit-01b") || !strings.Contains(doc, "jit-01c") {
		t.Fatalf("a stale read lost a deny:\n%s", doc)
	}
}

// TestIAMRoleTrustLeaseLostMidWrite: a writer that stalls past its lease
// before its IAM write lands after the next holder's; its check after the
// write finds the lease gone, and it writes again from the kept state, so
// neither grant is lost.
func TestIAMRoleTrustLeaseLostMidWrite(t *testing.T) {
	e := newTrustEnv(t, 8192)
	ctx := context.Background() // no deadline: leases last LeaseTTL
	slow, rec := e.wrapped(time.Now)
	slow.LeaseTTL = 300 * time.Millisecond
	fast, _ := e.wrapped(time.Now)
	var once sync.Once
	rec.beforeTrust = func() {
		once.Do(func() {
			time.Sleep(500 * time.Millisecond)
			if err := fast.Apply(ctx, grant.Grant{RequestID: "01fast", Principal: person(2), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Errorf("grant while the first writer stalled: %v", err)
			}
		})
	}
	if err := slow.Apply(ctx, grant.Grant{RequestID: "01slow", Principal: person(1), Target: target.New(target.IAMRoleTrust, target.RoleARN, e.roleARN), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if trust := e.raw(t, ""); !strings.Contains(trust, "Jit01slow") || !strings.Contains(trust, "Jit01fast") {
		t.Fatalf("a write after the lease ran out lost a grant:\n%s", trust)
	}
	if n := strings.Count(strings.Join(rec.writes, " "), "UpdateAssumeRolePolicy"); n != 2 {
		t.Errorf("the stalled writer wrote the trust policy %d times, want twice (again after losing the lease)", n)
	}
}
