package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// writes are the IAM calls whose effect on STS and call evaluation is
// delayed by the propagation setting.
var writes = map[string]bool{
	"CreateRole": true, "UpdateAssumeRolePolicy": true, "PutRolePolicy": true,
	"DeleteRolePolicy": true, "DeleteRole": true,
}

// policyKey names one policy of a role: its trust policy (policy "") or
// one inline policy.
type policyKey struct{ role, policy string }

// version is a policy as it was from at on; absent means it did not exist
// (a deleted inline policy, a role not yet created).
type version struct {
	at      time.Time
	doc     string
	present bool
}

// maxVersions bounds the history kept per policy.
const maxVersions = 64

// policyReader reads roles and their policies from the emulator, as they
// were at a given moment: the edge records every policy write it passes
// (with the version before it, read from the emulator), and a moment
// before the newest write is answered from that record.
type policyReader struct {
	client *iam.Client
	now    func() time.Time

	writeMu sync.Mutex // one recorded write at a time
	mu      sync.Mutex
	history map[policyKey][]version
}

func newPolicyReader(backend *url.URL, now func() time.Time) *policyReader {
	pr := &policyReader{now: now, history: map[policyKey][]version{}}
	if backend != nil {
		pr.client = iam.New(iam.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(backend.String()),
			Credentials: credentials.NewStaticCredentialsProvider("local-edge", "local-edge", ""),
		})
	}
	return pr
}

// asOf returns the recorded version of key in effect at t; ok is false
// when nothing was recorded or t is after the newest write (the emulator
// then holds the answer).
func (pr *policyReader) asOf(key policyKey, t time.Time) (version, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	vs := pr.history[key]
	if len(vs) == 0 || !t.Before(vs[len(vs)-1].at) {
		return version{}, false
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if !vs[i].at.After(t) {
			return vs[i], true
		}
	}
	return version{}, false // nothing recorded that early: ask the emulator
}

// roleInfo is what AssumeRole needs of a role.
type roleInfo struct {
	arn, id, trust string
	maxSession     int
}

// role reads the role and its trust policy in effect at t; nil if it
// does not exist (yet).
func (pr *policyReader) role(ctx context.Context, name string, t time.Time) (*roleInfo, error) {
	if pr.client == nil {
		return nil, errors.New("no emulator to read roles from")
	}
	out, err := pr.client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get role %s: %w", name, err)
	}
	r := &roleInfo{
		arn: aws.ToString(out.Role.Arn), id: aws.ToString(out.Role.RoleId),
		trust: aws.ToString(out.Role.AssumeRolePolicyDocument), maxSession: int(aws.ToInt32(out.Role.MaxSessionDuration)),
	}
	if v, ok := pr.asOf(policyKey{role: name}, t); ok {
		if !v.present {
			return nil, nil
		}
		r.trust = v.doc
	}
	return r, nil
}

// inlinePolicies returns the role's inline policies in effect at t, by
// name; none for a role that does not exist.
func (pr *policyReader) inlinePolicies(ctx context.Context, role string, t time.Time) (map[string]string, error) {
	if pr.client == nil {
		return nil, errors.New("no emulator to read policies from")
	}
	names := map[string]bool{}
	var missing *iamtypes.NoSuchEntityException
	p := iam.NewListRolePoliciesPaginator(pr.client, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if errors.As(err, &missing) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list inline policies of %s: %w", role, err)
		}
		for _, n := range page.PolicyNames {
			names[n] = true
		}
	}
	pr.mu.Lock()
	for k := range pr.history {
		if k.role == role && k.policy != "" {
			names[k.policy] = true
		}
	}
	pr.mu.Unlock()
	docs := map[string]string{}
	for name := range names {
		if v, ok := pr.asOf(policyKey{role, name}, t); ok {
			if v.present {
				docs[name] = v.doc
			}
			continue
		}
		doc, present, err := pr.current(ctx, policyKey{role, name})
		if err != nil {
			return nil, err
		}
		if present {
			docs[name] = doc
		}
	}
	return docs, nil
}

// current reads key from the emulator as it is now.
func (pr *policyReader) current(ctx context.Context, key policyKey) (string, bool, error) {
	var missing *iamtypes.NoSuchEntityException
	if key.policy == "" {
		out, err := pr.client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(key.role)})
		if errors.As(err, &missing) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("get role %s: %w", key.role, err)
		}
		return aws.ToString(out.Role.AssumeRolePolicyDocument), true, nil
	}
	out, err := pr.client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(key.role), PolicyName: aws.String(key.policy)})
	if errors.As(err, &missing) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get policy %s of role %s: %w", key.policy, key.role, err)
	}
	return aws.ToString(out.PolicyDocument), true, nil
}

// recordWrite passes an IAM policy write on and, when the emulator took
// it, records the new version with the time it was made.
func (e *IAM) recordWrite(w http.ResponseWriter, r *http.Request, c call) {
	pr := e.read
	role := c.form.Get("RoleName")
	key, next := policyKey{role: role}, version{present: true}
	switch c.operation {
	case "CreateRole":
		next.doc = c.form.Get("AssumeRolePolicyDocument")
	case "UpdateAssumeRolePolicy":
		next.doc = c.form.Get("PolicyDocument")
	case "PutRolePolicy":
		key.policy, next.doc = c.form.Get("PolicyName"), c.form.Get("PolicyDocument")
	case "DeleteRolePolicy":
		key.policy, next.present = c.form.Get("PolicyName"), false
	case "DeleteRole":
		next.present = false
	}
	if role == "" || pr.client == nil {
		e.next.ServeHTTP(w, r)
		return
	}
	pr.writeMu.Lock()
	defer pr.writeMu.Unlock()
	pr.mu.Lock()
	known := len(pr.history[key]) > 0
	pr.mu.Unlock()
	if !known {
		// The version before this write has been in effect since before
		// the edge looked.
		doc, present, err := pr.current(r.Context(), key)
		if err != nil {
			e.log.Warn("could not read the policy before a write; the write takes effect at once", "role", role, "policy", key.policy, "error", err)
		} else {
			pr.append(key, version{doc: doc, present: present})
		}
	}
	buf := &bufferedResponse{header: http.Header{}}
	e.next.ServeHTTP(buf, r)
	if buf.status/100 == 2 {
		next.at = e.now()
		pr.append(key, next)
	}
	buf.copyTo(w)
}

func (pr *policyReader) append(key policyKey, v version) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	vs := append(pr.history[key], v)
	if len(vs) > maxVersions {
		vs = vs[len(vs)-maxVersions:]
	}
	pr.history[key] = vs
}

// bufferedResponse holds a small response (IAM and STS answers) so the
// edge can read it before passing it on.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// Flush is a no-op: the whole answer is passed on at once.
func (b *bufferedResponse) Flush() {}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
