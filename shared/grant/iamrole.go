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
)

// Grant describes access to give or take away.
type Grant struct {
	RequestID string
	// Principal is the requester's ARN as the API verified it.
	Principal string
	RoleARN   string
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
}

// IAMRoleTrust grants by editing the target role's trust policy.
type IAMRoleTrust struct {
	IAM IAM
}

// Apply adds (or refreshes) the request's statement in the role's trust
// policy: the requester may assume the role, with a session name bound to
// them, until ExpiresAt. The time condition means access ends even if
// revocation never runs.
func (p *IAMRoleTrust) Apply(ctx context.Context, g Grant) error {
	return p.edit(ctx, g.RoleARN, func(doc *policyDocument) {
		doc.remove(statementID(g.RequestID))
		doc.Statement = append(doc.Statement, map[string]any{
			"Sid":       statementID(g.RequestID),
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": g.Principal},
			"Action":    "sts:AssumeRole",
			"Condition": map[string]any{
				"DateLessThan": map[string]any{"aws:CurrentTime": g.ExpiresAt.UTC().Format(time.RFC3339)},
				"StringEquals": map[string]any{"sts:RoleSessionName": SessionName(g.Principal)},
			},
		})
	})
}

// Remove takes the request's statement out of the role's trust policy.
// Removing a statement that is not there succeeds.
func (p *IAMRoleTrust) Remove(ctx context.Context, g Grant) error {
	return p.edit(ctx, g.RoleARN, func(doc *policyDocument) { doc.remove(statementID(g.RequestID)) })
}

// edit reads the role's trust policy, applies change and writes it back if
// it changed.
func (p *IAMRoleTrust) edit(ctx context.Context, roleARN string, change func(*policyDocument)) error {
	name, err := roleName(roleARN)
	if err != nil {
		return err
	}
	out, err := p.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		// The functions' IAM policies allow GetRole only on roles tagged
		// jit:managed=true, so in AWS an untagged role answers AccessDenied.
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "AccessDeniedException") {
			return fmt.Errorf("role %s: %w (%s)", name, ErrNotManaged, api.ErrorMessage())
		}
		return classify(fmt.Errorf("get role %s: %w", name, err))
	}
	if !managed(out.Role.Tags) {
		return fmt.Errorf("role %s: %w", name, ErrNotManaged)
	}
	raw := aws.ToString(out.Role.AssumeRolePolicyDocument)
	// IAM returns the document URL-encoded.
	if dec, err := url.QueryUnescape(raw); err == nil {
		raw = dec
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return fmt.Errorf("role %s trust policy: %w", name, err)
	}
	before, _ := json.Marshal(doc)
	change(&doc)
	after, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("role %s trust policy: %w", name, err)
	}
	if string(before) == string(after) {
		return nil
	}
	_, err = p.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &name, PolicyDocument: aws.String(string(after))})
	if err != nil {
		return classify(fmt.Errorf("update trust policy of %s: %w", name, err))
	}
	return nil
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
