package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
)

// Grant describes access to give or take away.
type Grant struct {
	RequestID string
	// Principal is the requester's ARN as the API verified it.
	Principal string
	// RoleARN is the iam_role_trust target; Target has every provider's.
	RoleARN   string
	Target    access.Target
	ExpiresAt time.Time
}

// ManagedTag marks the roles this service may change.
const ManagedTag = "jit:managed"

// ErrNotManaged is returned for a role without jit:managed=true.
var ErrNotManaged = errors.New("role is not tagged " + ManagedTag + "=true")

// TransientError wraps a failure worth retrying (throttling, concurrent
// modification). Its type name is the errorType the state machine's Retry
// matches, so it must not be renamed.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IAM is the part of the IAM API the provider uses.
type IAM interface {
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// Locker serializes edits of one role: its trust policy is read, changed
// and written whole, so two concurrent edits would lose one statement.
type Locker interface {
	Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), err error)
}

// IAMRoleTrust grants by editing the target role's trust policy.
type IAMRoleTrust struct {
	IAM    IAM
	Locker Locker
	// MaxTrustPolicy is the trust policy size quota in characters (IAM's
	// default is 2048, raisable to 4096); zero means 2048.
	MaxTrustPolicy int
	Now            func() time.Time
}

// RevokedSessionsPolicy is the inline policy on a managed role that denies
// sessions issued before their grant was revoked.
const RevokedSessionsPolicy = "jit-revoked-sessions"

// QuotaError is returned when a grant would push the trust policy past its
// size quota. Not retryable: the role must be cleaned up or the quota
// raised.
type QuotaError struct {
	Role      string
	Size, Max int
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("trust policy of role %s would be %d characters, over its %d quota; end other grants on this role or raise the quota (Service Quotas: IAM role trust policy length)", e.Role, e.Size, e.Max)
}

// Apply adds (or refreshes) the request's statement in the role's trust
// policy: the requester may assume the role, with a session name bound to
// them, until ExpiresAt. The time condition means access ends even if
// revocation never runs.
func (p *IAMRoleTrust) Apply(ctx context.Context, g Grant) error {
	return p.edit(ctx, g.RoleARN, func(_ *types.Role, doc *policyDocument) {
		doc.remove(statementID(g.RequestID))
		doc.Statement = append(doc.Statement, trustStatement(g))
	}, nil)
}

// trustStatement is the statement a grant adds to the role's trust policy.
func trustStatement(g Grant) map[string]any {
	return map[string]any{
		"Sid":       statementID(g.RequestID),
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": g.Principal},
		"Action":    "sts:AssumeRole",
		"Condition": map[string]any{
			"DateLessThan": map[string]any{"aws:CurrentTime": g.ExpiresAt.UTC().Format(time.RFC3339)},
			"StringEquals": map[string]any{"sts:RoleSessionName": SessionName(g.Principal)},
		},
	}
}

// Describe is what the granted event records: the exact statement added.
func (p *IAMRoleTrust) Describe(g Grant) map[string]string {
	b, _ := json.Marshal(trustStatement(g))
	return map[string]string{"statement": string(b)}
}

// Remove takes the request's statement out of the role's trust policy and
// denies the requester's sessions of the role issued until now: removing
// trust alone would leave sessions already issued valid for up to the
// role's maximum session duration. Removing what is not there succeeds.
func (p *IAMRoleTrust) Remove(ctx context.Context, g Grant) error {
	return p.edit(ctx, g.RoleARN, func(_ *types.Role, doc *policyDocument) { doc.remove(statementID(g.RequestID)) },
		func(ctx context.Context, role *types.Role) error { return p.denySessions(ctx, role, g) })
}

// Present reports whether the request's statement is in the role's trust
// policy (the reconciler asks this).
func (p *IAMRoleTrust) Present(ctx context.Context, g Grant) (bool, error) {
	name, err := roleName(g.RoleARN)
	if err != nil {
		return false, err
	}
	_, doc, err := p.read(ctx, name)
	if err != nil {
		return false, err
	}
	for _, st := range doc.Statement {
		if st["Sid"] == statementID(g.RequestID) {
			return true, nil
		}
	}
	return false, nil
}

// edit serializes on the role, reads its trust policy, applies change,
// writes it back if it changed, then runs after (still holding the lock).
func (p *IAMRoleTrust) edit(ctx context.Context, roleARN string, change func(*types.Role, *policyDocument), after func(context.Context, *types.Role) error) error {
	name, err := roleName(roleARN)
	if err != nil {
		return err
	}
	if p.Locker != nil {
		unlock, err := p.Locker.Lock(ctx, "role/"+name, 30*time.Second)
		if err != nil {
			return &TransientError{Err: fmt.Errorf("lock role %s: %w", name, err)}
		}
		defer unlock()
	}
	role, doc, err := p.read(ctx, name)
	if err != nil {
		return err
	}
	before, _ := json.Marshal(doc)
	change(role, doc)
	next, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("role %s trust policy: %w", name, err)
	}
	if string(before) != string(next) {
		max := p.MaxTrustPolicy
		if max == 0 {
			max = 2048
		}
		if len(next) > max && len(next) > len(before) {
			return &QuotaError{Role: name, Size: len(next), Max: max}
		}
		_, err = p.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &name, PolicyDocument: aws.String(string(next))})
		if err != nil {
			var api smithy.APIError
			if errors.As(err, &api) && api.ErrorCode() == "LimitExceeded" {
				return &QuotaError{Role: name, Size: len(next), Max: max}
			}
			return classify(fmt.Errorf("update trust policy of %s: %w", name, err))
		}
	}
	if after != nil {
		return after(ctx, role)
	}
	return nil
}

// read fetches a managed role and its trust policy.
func (p *IAMRoleTrust) read(ctx context.Context, name string) (*types.Role, *policyDocument, error) {
	out, err := p.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		// The functions' IAM policies allow GetRole only on roles tagged
		// jit:managed=true, so in AWS an untagged role answers AccessDenied.
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "AccessDeniedException") {
			return nil, nil, fmt.Errorf("role %s: %w (%s)", name, ErrNotManaged, api.ErrorMessage())
		}
		return nil, nil, classify(fmt.Errorf("get role %s: %w", name, err))
	}
	if !managed(out.Role.Tags) {
		return nil, nil, fmt.Errorf("role %s: %w", name, ErrNotManaged)
	}
	doc, err := decodePolicy(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, nil, fmt.Errorf("role %s trust policy: %w", name, err)
	}
	return out.Role, doc, nil
}

// decodePolicy reads a policy document as IAM returns it (URL-encoded).
func decodePolicy(raw string) (*policyDocument, error) {
	if dec, err := url.QueryUnescape(raw); err == nil {
		raw = dec
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return nil, err
	}
	if doc.Version == "" {
		doc.Version = "2012-10-17"
	}
	return &doc, nil
}

// denySessions adds (or refreshes) a statement to the role's
// jit-revoked-sessions inline policy that denies everything to the
// requester's sessions of this role issued before now, and drops
// statements no session can outlive any more (older than the role's
// maximum session duration).
func (p *IAMRoleTrust) denySessions(ctx context.Context, role *types.Role, g Grant) error {
	now := time.Now().UTC()
	if p.Now != nil {
		now = p.Now().UTC()
	}
	name := aws.ToString(role.RoleName)
	doc := &policyDocument{Version: "2012-10-17"}
	out, err := p.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: aws.String(RevokedSessionsPolicy)})
	var missing *types.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
	case err != nil:
		return classify(fmt.Errorf("read revoked sessions of %s: %w", name, err))
	default:
		if doc, err = decodePolicy(aws.ToString(out.PolicyDocument)); err != nil {
			return fmt.Errorf("revoked sessions policy of %s: %w", name, err)
		}
	}
	maxSession := time.Duration(aws.ToInt32(role.MaxSessionDuration)) * time.Second
	if maxSession == 0 {
		maxSession = time.Hour
	}
	sid := "JitRevoke" + strings.TrimPrefix(statementID(g.RequestID), "Jit")
	kept := doc.Statement[:0]
	for _, st := range doc.Statement {
		if st["Sid"] == sid || revokedBefore(st).Add(maxSession).Before(now) {
			continue
		}
		kept = append(kept, st)
	}
	doc.Statement = append(kept, map[string]any{
		"Sid":      sid,
		"Effect":   "Deny",
		"Action":   "*",
		"Resource": "*",
		"Condition": map[string]any{
			// A role session's aws:userid is "<role id>:<session name>".
			"StringLike":   map[string]any{"aws:userid": aws.ToString(role.RoleId) + ":" + SessionName(g.Principal)},
			"DateLessThan": map[string]any{"aws:TokenIssueTime": now.Format(time.RFC3339)},
		},
	})
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err := p.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String(RevokedSessionsPolicy), PolicyDocument: aws.String(string(body))}); err != nil {
		return classify(fmt.Errorf("deny revoked sessions on %s: %w", name, err))
	}
	return nil
}

// revokedBefore reads a revoked-sessions statement's cut-off time (zero if
// unreadable, so it is dropped as stale).
func revokedBefore(st map[string]any) time.Time {
	cond, _ := st["Condition"].(map[string]any)
	dlt, _ := cond["DateLessThan"].(map[string]any)
	s, _ := dlt["aws:TokenIssueTime"].(string)
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// classify marks throttling and concurrent-modification errors transient.
func classify(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "Throttling", "ThrottlingException", "ConcurrentModification", "ServiceFailure":
			return &TransientError{Err: err}
		}
	}
	return err
}

func managed(tags []types.Tag) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == ManagedTag && aws.ToString(t.Value) == "true" {
			return true
		}
	}
	return false
}

var roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)

func roleName(arn string) (string, error) {
	m := roleARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", fmt.Errorf("%q is not an IAM role ARN", arn)
	}
	return m[1], nil
}

// statementID names the request's statement so it can be found again.
// Sids allow only alphanumerics.
func statementID(requestID string) string {
	return "Jit" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, requestID)
}

var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName is the role session name a grant binds the requester to:
// the last part of their ARN (an assumed role's session name, e.g. an SSO
// user's email, or an IAM user's name), limited to what STS accepts.
func SessionName(principal string) string {
	name := principal[strings.LastIndex(principal, "/")+1:]
	name = sessionUnsafe.ReplaceAllString(name, "-")
	if len(name) > 64 {
		name = name[:64]
	}
	for len(name) < 2 {
		name += "-"
	}
	return name
}

// policyDocument is a trust policy. Statements are kept as raw maps so
// that statements this service did not write survive a rewrite unchanged.
type policyDocument struct {
	Version   string     `json:"Version"`
	Statement statements `json:"Statement"`
}

type statements []map[string]any

// UnmarshalJSON accepts IAM's single-object form as well as a list.
func (s *statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one map[string]any
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	var many []map[string]any
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func (d *policyDocument) remove(sid string) {
	kept := d.Statement[:0]
	for _, st := range d.Statement {
		if st["Sid"] != sid {
			kept = append(kept, st)
		}
	}
	d.Statement = kept
}
