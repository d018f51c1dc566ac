package edge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/local/moto"
)

const (
	testAccount = "123456789012"
	aliceKey    = "AKIATESTALICE0000001"
	bobKey      = "AKIATESTBOB000000002"
	aliceARN    = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	bobARN      = "arn:aws:sts::123456789012:assumed-role/Engineer/bob@example.com"
)

// clock is a test clock that runs with real time plus an offset.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type iamEdge struct {
	url   string
	iam   *IAM
	clock *clock
}

// startIAMEdge runs moto and the edge with IAM enforcement in front of it.
func startIAMEdge(t *testing.T) *iamEdge {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "..", ".venv", "moto", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "moto_server")); err != nil {
		t.Skipf("moto virtualenv missing (%v): run `make venv` to run this test", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := moto.Start(ctx, moto.Options{Python: bin, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	backend, _ := url.Parse(srv.URL())
	clk := &clock{}
	enf := NewIAM(New(nil, backend, nil), IAMOptions{
		Backend: backend, AccountID: testAccount, Now: clk.now,
		Identities: map[string]string{aliceKey: aliceARN, bobKey: bobARN},
	})
	ts := httptest.NewServer(enf)
	t.Cleanup(ts.Close)
	return &iamEdge{url: ts.URL, iam: enf, clock: clk}
}

func (e *iamEdge) creds(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}

func (e *iamEdge) sts(key, secret, token string) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: e.creds(key, secret, token)})
}

func (e *iamEdge) iamClient(key, secret, token string) *iam.Client {
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: e.creds(key, secret, token)})
}

// admin is the local cloud's own principal: keys the edge does not know.
func (e *iamEdge) admin() *iam.Client { return e.iamClient("test", "test", "") }

func (e *iamEdge) assume(key, role, session string) (*sts.AssumeRoleOutput, error) {
	return e.sts(key, "secret", "").AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String(session), DurationSeconds: aws.Int32(900),
	})
}

func grantTrust(expires time.Time) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"},
			map[string]any{
				"Sid": "JitTest", "Effect": "Allow", "Principal": map[string]any{"AWS": aliceARN}, "Action": "sts:AssumeRole",
				"Condition": map[string]any{
					"DateLessThan": map[string]any{"aws:CurrentTime": expires.UTC().Format(time.RFC3339)},
					"StringEquals": map[string]any{"sts:RoleSessionName": "alice@example.com"},
				},
			},
		},
	})
	return string(b)
}

const rootOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

func createRole(t *testing.T, c *iam.Client, name, trust string) string {
	t.Helper()
	out, err := c.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Role.Arn)
}

// wantRefused checks err is AWS's refusal: the code, the HTTP status and
// the message as the SDK parsed them.
func wantRefused(t *testing.T, err error, code string, status int, message string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if api.ErrorCode() != code || api.ErrorMessage() != message {
		t.Fatalf("error = %s: %q, want %s: %q", api.ErrorCode(), api.ErrorMessage(), code, message)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("HTTP status of %v, want %d", err, status)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("refusal carries no request id")
	}
}

func TestAssumeRoleTrust(t *testing.T) {
	e := startIAMEdge(t)
	expires := e.clock.now().Add(time.Hour)
	role := createRole(t, e.admin(), "jit-target", grantTrust(expires))
	denied := func(who string) string {
		return "User: " + who + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}

	out, err := e.assume(aliceKey, role, "alice@example.com")
	if err != nil {
		t.Fatalf("alice in the window: %v", err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::123456789012:assumed-role/jit-target/alice@example.com" {
		t.Fatalf("assumed role ARN %s", got)
	}

	tests := []struct {
		name, key, session string
		later              time.Duration
		who                string
	}{
		{"another principal", bobKey, "alice@example.com", 0, bobARN},
		{"another session name", aliceKey, "admin", 0, aliceARN},
		{"after the expiry", aliceKey, "alice@example.com", time.Hour + time.Second, aliceARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.advance(tt.later)
			defer e.clock.advance(-tt.later)
			_, err := e.assume(tt.key, role, tt.session)
			wantRefused(t, err, "AccessDenied", http.StatusForbidden, denied(tt.who))
		})
	}

	t.Run("a role that does not exist", func(t *testing.T) {
		missing := "arn:aws:iam::123456789012:role/no-such-role"
		_, err := e.assume(aliceKey, missing, "alice@example.com")
		wantRefused(t, err, "AccessDenied", http.StatusForbidden, "User: "+aliceARN+" is not authorized to perform: sts:AssumeRole on resource: "+missing)
	})

	t.Run("longer than the role's maximum session", func(t *testing.T) {
		_, err := e.sts(aliceKey, "secret", "").AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("alice@example.com"), DurationSeconds: aws.Int32(7200),
		})
		wantRefused(t, err, "ValidationError", http.StatusBadRequest, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	})

	t.Run("explicit deny in the trust policy beats the allow", func(t *testing.T) {
		doc := strings.Replace(grantTrust(expires), `"Statement":[`, `"Statement":[{"Effect":"Deny","Principal":{"AWS":"`+aliceARN+`"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:SourceIdentity":"*"}}},`, 1)
		if _, err := e.admin().UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("jit-target"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.sts(aliceKey, "secret", "").AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("alice@example.com"), SourceIdentity: aws.String("alice"),
		})
		wantRefused(t, err, "AccessDenied", http.StatusForbidden, denied(aliceARN))
		if _, err := e.assume(aliceKey, role, "alice@example.com"); err != nil {
			t.Fatalf("without a source identity the deny does not apply: %v", err)
		}
	})
}

// The account root in a trust policy admits a principal of the account
// only when its own identity policy allows sts:AssumeRole: here the
// inline policies of the caller's role (Engineer) in the emulator.
func TestAssumeRoleThroughAccountRoot(t *testing.T) {
	e := startIAMEdge(t)
	admin := e.admin()
	role := createRole(t, admin, "jit-root-only", rootOnly)
	_, err := e.assume(bobKey, role, "bob@example.com")
	wantRefused(t, err, "AccessDenied", http.StatusForbidden, "User: "+bobARN+" is not authorized to perform: sts:AssumeRole on resource: "+role)

	createRole(t, admin, "Engineer", rootOnly)
	put := func(doc string) {
		t.Helper()
		if _, err := admin.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("Engineer"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	put(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/jit-*"}]}`)
	if _, err := e.assume(bobKey, role, "bob@example.com"); err != nil {
		t.Fatalf("root trust with an identity policy that allows: %v", err)
	}
	put(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/jit-root-only"}]}`)
	_, err = e.assume(bobKey, role, "bob@example.com")
	wantRefused(t, err, "AccessDenied", http.StatusForbidden, "User: "+bobARN+" is not authorized to perform: sts:AssumeRole on resource: "+role)

	// The local cloud's own principals (unknown keys) are not limited by
	// identity policies: the root statement admits them.
	if _, err := e.assume("test", role, "provisioning"); err != nil {
		t.Fatalf("the local cloud's own principal through the root: %v", err)
	}
}

func TestSessionDenyAndExpiry(t *testing.T) {
	e := startIAMEdge(t)
	admin := e.admin()
	role := createRole(t, admin, "jit-target", grantTrust(e.clock.now().Add(time.Hour)))
	out, err := e.assume(aliceKey, role, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	key, secret, token := aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)
	sessionARN := aws.ToString(out.AssumedRoleUser.Arn)
	ctx := context.Background()
	asSession := e.iamClient(key, secret, token)
	ddb := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: e.creds(key, secret, token)})
	if _, err := asSession.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("jit-target")}); err != nil {
		t.Fatalf("session before any deny: %v", err)
	}

	got, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("jit-target")})
	if err != nil {
		t.Fatal(err)
	}
	cutoff := e.clock.now().Add(time.Second).UTC().Format(time.RFC3339)
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"JitRevokeTest","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"` +
		aws.ToString(got.Role.RoleId) + `:alice@example.com"},"DateLessThan":{"aws:TokenIssueTime":"` + cutoff + `"}}}]}`
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("jit-target"), PolicyName: aws.String("jit-revoked-sessions"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}

	_, err = asSession.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("jit-target")})
	wantRefused(t, err, "AccessDenied", http.StatusForbidden,
		"User: "+sessionARN+" is not authorized to perform: iam:GetRole on resource: "+role+" with an explicit deny in an identity-based policy")
	_, err = ddb.ListTables(ctx, &dynamodb.ListTablesInput{})
	wantRefused(t, err, "AccessDeniedException", http.StatusBadRequest,
		"User: "+sessionARN+" is not authorized to perform: dynamodb:ListTables on resource: * with an explicit deny in an identity-based policy")
	// GetCallerIdentity needs no permission: a Deny does not stop it.
	if _, err := e.sts(key, secret, token).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity of a denied session: %v", err)
	}

	// A session issued after the cut-off is not denied.
	e.clock.advance(2 * time.Second)
	later, err := e.assume(aliceKey, role, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	lc := later.Credentials
	if _, err := e.iamClient(aws.ToString(lc.AccessKeyId), aws.ToString(lc.SecretAccessKey), aws.ToString(lc.SessionToken)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("jit-target")}); err != nil {
		t.Fatalf("session issued after the revoke: %v", err)
	}

	// Past its expiration every call of the session is refused.
	e.clock.advance(16 * time.Minute)
	_, err = e.sts(aws.ToString(lc.AccessKeyId), aws.ToString(lc.SecretAccessKey), aws.ToString(lc.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantRefused(t, err, "ExpiredToken", http.StatusBadRequest, "The security token included in the request is expired")
	_, err = dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Credentials: e.creds(aws.ToString(lc.AccessKeyId), aws.ToString(lc.SecretAccessKey), aws.ToString(lc.SessionToken)),
		RetryMaxAttempts: 1}).ListTables(ctx, &dynamodb.ListTablesInput{})
	wantRefused(t, err, "ExpiredTokenException", http.StatusBadRequest, "The security token included in the request is expired")
}

func TestPropagation(t *testing.T) {
	e := startIAMEdge(t)
	admin := e.admin()
	ctx := context.Background()
	e.iam.SetPropagation(10 * time.Second)

	// A role just created is not assumable yet.
	role := createRole(t, admin, "jit-new", grantTrust(e.clock.now().Add(time.Hour)))
	_, err := e.assume(aliceKey, role, "alice@example.com")
	wantRefused(t, err, "AccessDenied", http.StatusForbidden, "User: "+aliceARN+" is not authorized to perform: sts:AssumeRole on resource: "+role)
	e.clock.advance(11 * time.Second)
	if _, err := e.assume(aliceKey, role, "alice@example.com"); err != nil {
		t.Fatalf("10s after creation: %v", err)
	}

	// Removing the statement takes effect only after the delay, too.
	if _, err := admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("jit-new"), PolicyDocument: aws.String(rootOnly)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.assume(aliceKey, role, "alice@example.com"); err != nil {
		t.Fatalf("right after the trust was removed (not propagated yet): %v", err)
	}
	e.clock.advance(11 * time.Second)
	_, err = e.assume(aliceKey, role, "alice@example.com")
	wantRefused(t, err, "AccessDenied", http.StatusForbidden, "User: "+aliceARN+" is not authorized to perform: sts:AssumeRole on resource: "+role)

	// Off again: changes are in effect at once.
	e.iam.SetPropagation(0)
	if _, err := admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("jit-new"), PolicyDocument: aws.String(grantTrust(e.clock.now().Add(time.Hour)))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.assume(aliceKey, role, "alice@example.com"); err != nil {
		t.Fatalf("without propagation delay: %v", err)
	}
}

func TestIAMControl(t *testing.T) {
	enf := NewIAM(http.NotFoundHandler(), IAMOptions{AccountID: testAccount})
	tests := []struct {
		name, method, body string
		wantStatus         int
		wantBody           string
	}{
		{"read", "GET", "", http.StatusOK, `"propagation_seconds":0`},
		{"set", "POST", `{"propagation_seconds":10}`, http.StatusOK, `"propagation_seconds":10`},
		{"negative", "POST", `{"propagation_seconds":-1}`, http.StatusBadRequest, "with N"},
		{"missing", "POST", `{}`, http.StatusBadRequest, "propagation_seconds"},
		{"method", "DELETE", "", http.StatusMethodNotAllowed, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			enf.ServeHTTP(rec, httptest.NewRequest(tt.method, ControlPath, strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("%s %s: %d %s", tt.method, tt.body, rec.Code, rec.Body)
			}
		})
	}
	if enf.Propagation() != 10*time.Second {
		t.Fatalf("propagation = %s, want 10s", enf.Propagation())
	}
}

func TestRoleNameOf(t *testing.T) {
	tests := []struct {
		give, want string
		ok         bool
	}{
		{"arn:aws:iam::123456789012:role/jit-sandbox-admin", "jit-sandbox-admin", true},
		{"arn:aws:iam::123456789012:role/team/ops/deployer", "deployer", true},
		{"arn:aws:iam::111122223333:role/jit-sandbox-admin", "", false},
		{"arn:aws:iam::123456789012:user/alice", "", false},
		{"jit-sandbox-admin", "", false},
	}
	for _, tt := range tests {
		got, ok := roleNameOf(tt.give, testAccount)
		if got != tt.want || ok != tt.ok {
			t.Errorf("roleNameOf(%q) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.ok)
		}
	}
}
