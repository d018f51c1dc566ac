package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
)

// These tests hold the product's two promises to IAM's rules as the edge
// enforces them (shared/local/edge/iam.go): a grant lets exactly the
// requester, with the bound session name, assume the role, exactly in the
// window; and ending a grant ends the sessions already issued. Each uses
// a role of its own (iam-window, iam-revoke in testdata/policies.yaml),
// since other tests grant and revoke alice's access to the sample roles.

// managedRole creates a jit-managed target role trusting only the account
// root, as the sample roles are.
func managedRole(t *testing.T, name string) string {
	t.Helper()
	if lc.IAM == nil {
		t.Fatal("IAM enforcement is off (JIT_LOCAL_IAM=off): these tests need it")
	}
	client := iam.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	out, err := client.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`),
		Tags:                     []iamtypes.Tag{{Key: aws.String("jit:managed"), Value: aws.String("true")}},
		MaxSessionDuration:       aws.Int32(3600),
	})
	if err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	return aws.ToString(out.Role.Arn)
}

// assumeAs takes role as the local identity who, with session name and
// the request id as source identity (as jit creds does: the grant's trust
// statement requires it).
func assumeAs(t *testing.T, who, role, session, request string) (aws.Credentials, error) {
	t.Helper()
	id := identity(t, who)
	client := sts.New(sts.Options{
		Region: cloud.Region, BaseEndpoint: aws.String(lc.EdgeURL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id.AccessKeyID, id.SecretAccessKey, ""),
	})
	out, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String(session), DurationSeconds: aws.Int32(900),
		SourceIdentity: aws.String(access.GrantSourceIdentity(request)),
	})
	if err != nil {
		return aws.Credentials{}, err
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}, nil
}

// useSession makes one ordinary call with the session (DynamoDB
// ListTables, then IAM GetRole of its own role).
func useSession(t *testing.T, c aws.Credentials, roleName string) error {
	t.Helper()
	creds := credentials.StaticCredentialsProvider{Value: c}
	ddb := dynamodb.New(dynamodb.Options{Region: cloud.Region, BaseEndpoint: aws.String(lc.EdgeURL), Credentials: creds, RetryMaxAttempts: 1})
	if _, err := ddb.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		return err
	}
	client := iam.New(iam.Options{Region: cloud.Region, BaseEndpoint: aws.String(lc.EdgeURL), Credentials: creds, RetryMaxAttempts: 1})
	_, err := client.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(roleName)})
	return err
}

// refused checks err is an authorization refusal as AWS answers it.
func refused(t *testing.T, what string, err error) {
	t.Helper()
	var api smithy.APIError
	var re *awshttp.ResponseError
	switch {
	case err == nil:
		t.Fatalf("%s: allowed, want AccessDenied", what)
	case !errors.As(err, &api) || (api.ErrorCode() != "AccessDenied" && api.ErrorCode() != "AccessDeniedException"):
		t.Fatalf("%s: %v, want AccessDenied", what, err)
	case !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden && re.HTTPStatusCode() != http.StatusBadRequest:
		t.Fatalf("%s: %v, want HTTP 403 (or 400 for DynamoDB)", what, err)
	}
}

func expiresAt(t *testing.T, id string) time.Time {
	t.Helper()
	_, got := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	at, err := time.Parse(time.RFC3339, got["expires_at"].(string))
	if err != nil {
		t.Fatalf("expires_at of %s: %v", id, err)
	}
	return at
}

func TestIAMEnforcedWindow(t *testing.T) {
	t.Parallel()
	role := managedRole(t, "jit-iam-window")
	const me = "alice@example.com"

	start := time.Now().Add(6 * time.Second).UTC().Truncate(time.Second)
	code, got := call(t, "alice", "POST", "/v1/requests", map[string]any{
		"resource": "iam-window", "duration": "20s", "reason": "enforcement test " + t.Name(), "start_at": start.Format(time.RFC3339),
	})
	if code != http.StatusCreated || got["status"] != "approved" {
		t.Fatalf("auto-approved create: %d %v", code, got)
	}
	id := got["id"].(string)

	_, err := assumeAs(t, "alice", role, me, id)
	refused(t, "alice before the scheduled start", err)

	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	first, err := assumeAs(t, "alice", role, me, id)
	if err != nil {
		t.Fatalf("alice in the window: %v", err)
	}
	if err := useSession(t, first, "jit-iam-window"); err != nil {
		t.Fatalf("alice's session in the window: %v", err)
	}
	_, err = assumeAs(t, "bob", role, me, id)
	refused(t, "bob, naming alice's session", err)
	_, err = assumeAs(t, "bob", role, "bob@example.com", id)
	refused(t, "bob as himself", err)
	_, err = assumeAs(t, "alice", role, "admin", id)
	refused(t, "alice with another session name", err)
	_, err = assumeAs(t, "alice", role, me, "01m8hj4xkc4btwcn31xh0mj6z5")
	refused(t, "alice naming another request as source identity", err)

	// A session taken in the last seconds of the window outlives it
	// (STS's minimum is 15 minutes); the expiry must end it anyway.
	end := expiresAt(t, id)
	time.Sleep(time.Until(end.Add(-4 * time.Second)))
	last, err := assumeAs(t, "alice", role, me, id)
	if err != nil {
		t.Fatalf("alice 4s before the end of the window: %v", err)
	}
	if err := useSession(t, last, "jit-iam-window"); err != nil {
		t.Fatalf("the last session, in the window: %v", err)
	}

	waitFor(t, id+" expired", 40*time.Second, func() bool { return status(t, id) == "expired" })
	refused(t, "the session issued in the last seconds, after the expiry", useSession(t, last, "jit-iam-window"))
	refused(t, "the first session, after the expiry", useSession(t, first, "jit-iam-window"))
	_, err = assumeAs(t, "alice", role, me, id)
	refused(t, "alice after the expiry", err)
}

func TestIAMEnforcedEarlyRevoke(t *testing.T) {
	t.Parallel()
	role := managedRole(t, "jit-iam-revoke")
	const me = "alice@example.com"
	activate := func() string {
		t.Helper()
		code, got := call(t, "alice", "POST", "/v1/requests", map[string]any{
			"resource": "iam-revoke", "duration": "2m", "reason": "enforcement test " + t.Name() + " " + time.Now().Format(time.RFC3339Nano),
		})
		if code != http.StatusCreated || got["status"] != "approved" {
			t.Fatalf("auto-approved create: %d %v", code, got)
		}
		id := got["id"].(string)
		waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
		return id
	}

	id := activate()
	before, err := assumeAs(t, "alice", role, me, id)
	if err != nil {
		t.Fatalf("alice while active: %v", err)
	}
	if err := useSession(t, before, "jit-iam-revoke"); err != nil {
		t.Fatalf("alice's session while active: %v", err)
	}

	if code, got := call(t, "alice", "POST", "/v1/requests/"+id+"/revoke", nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d %v", code, got)
	}
	waitFor(t, id+" revoked", 20*time.Second, func() bool { return status(t, id) == "revoked" })
	refused(t, "the session issued before the revoke", useSession(t, before, "jit-iam-revoke"))
	_, err = assumeAs(t, "alice", role, me, id)
	refused(t, "alice after the revoke", err)

	// The deny covers sessions issued until the revoke, not a later grant's.
	time.Sleep(time.Second) // the revoke's cut-off has a resolution of one second
	again := activate()
	after, err := assumeAs(t, "alice", role, me, again)
	if err != nil {
		t.Fatalf("alice under a new grant: %v", err)
	}
	if err := useSession(t, after, "jit-iam-revoke"); err != nil {
		t.Fatalf("the session of the new grant: %v", err)
	}
	refused(t, "the session of the revoked grant, under the new one", useSession(t, before, "jit-iam-revoke"))
}
