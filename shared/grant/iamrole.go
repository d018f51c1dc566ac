package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/target"
)

// Grant describes access to give or take away.
type Grant struct {
	RequestID string
	// Principal is the requester's ARN as the API verified it.
	Principal string
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

// Locker serializes edits of one role: its policies are read, changed and
// written whole, so two concurrent edits would lose one statement. The
// lease also keeps the statements the role must have (store.RolePolicies),
// because an IAM read may not show the last write yet.
type Locker interface {
	Lock(ctx context.Context, name string, ttl time.Duration) (*store.Lease, error)
}

// IAMRoleTrust grants by editing the target role's trust policy.
type IAMRoleTrust struct {
	IAM    IAM
	Locker Locker
	// MaxTrustPolicy is the trust policy size quota in characters (IAM's
	// default is 2048, raisable to 4096); zero means 2048.
	MaxTrustPolicy int
	// LeaseTTL is the shortest time a role lease lasts; it lasts at least
	// until the caller's deadline plus a margin. Zero means 30 seconds.
	LeaseTTL time.Duration
	Now      func() time.Time
}

// RevokedSessionsPolicy is the inline policy on a managed role that denies
// sessions issued before their grant was revoked.
const RevokedSessionsPolicy = "jit-revoked-sessions"

// RevokeMargin is how long after a revoke the sessions of the revoked
// grant are still denied. IAM is eventually consistent: the trust policy
// without the grant's statement takes a while to apply everywhere, and
// STS may issue sessions through the old one meanwhile (IAM User Guide,
// "Troubleshoot IAM": changes "can take time to become visible"; AWS
// gives no upper bound, and propagation is normally seconds). Five
// minutes is far past that, and costs other grants nothing: the deny
// matches only sessions whose source identity names a revoked request
// (or that have none).
const RevokeMargin = 5 * time.Minute

// inlinePolicyMax is IAM's quota on the aggregate size of a role's inline
// policies (IAM User Guide, "IAM and AWS STS quotas": role policy size,
// 10,240 characters); jit-revoked-sessions can never be larger.
const inlinePolicyMax = 10240

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

// RevokedSessionsLimitError is returned when the role's revoked-sessions
// policy cannot be written because the role's inline policies would
// exceed IAM's size quota. The revoke fails (revoke_failed, the alarm);
// the trust statement is removed all the same, and the reconciler retries
// the deny: statements expire as the sessions they deny do.
type RevokedSessionsLimitError struct {
	Role string
	Size int
}

func (e *RevokedSessionsLimitError) Error() string {
	return fmt.Sprintf("revoked-sessions policy of role %s (%d characters) does not fit the role's %d-character inline policy quota; remove other inline policies of the role", e.Role, e.Size, inlinePolicyMax)
}

// ErrPrincipal is returned for a requester principal a grant cannot be
// bound to: only an IAM user, an assumed-role session or a federated
// user. An account (its root, or a bare id) would trust every principal
// of that account.
var ErrPrincipal = errors.New("principal is not a single user or role session")

var principalPattern = regexp.MustCompile(`^arn:aws[a-z-]*:(?:iam::\d{12}:user/(?:[\w+=,.@-]+/)*[\w+=,.@-]+|sts::\d{12}:(?:assumed-role/[\w+=,.@-]+|federated-user)/[\w+=,.@-]+)$`)

// checkPrincipal refuses principals that name more than one person.
func checkPrincipal(principal string) error {
	if !principalPattern.MatchString(principal) {
		return fmt.Errorf("%w: %q", ErrPrincipal, principal)
	}
	return nil
}

// Apply adds (or refreshes) the request's statement in the role's trust
// policy: the requester may assume the role, with a session name bound to
// them and the request as source identity, until ExpiresAt. The time
// condition means access ends even if revocation never runs.
func (p *IAMRoleTrust) Apply(ctx context.Context, g Grant) error {
	return p.ApplyRecorded(ctx, g, nil)
}

// ApplyRecorded is Apply ending in record, made while the role's lease is
// held: the write recording the grant also gives the lease up.
func (p *IAMRoleTrust) ApplyRecorded(ctx context.Context, g Grant, record Record) error {
	if err := checkPrincipal(g.Principal); err != nil {
		return fmt.Errorf("request %s: %w", g.RequestID, err)
	}
	st := trustStatement(g)
	return p.edit(ctx, g.Target.Param(target.RoleARN), func(e *roleEdit) {
		e.grants.remove(statementID(g.RequestID))
		e.grants = append(e.grants, st)
	}, record)
}

// trustStatement is the statement a grant adds to the role's trust policy.
func trustStatement(g Grant) map[string]any {
	return map[string]any{
		"Sid":       statementID(g.RequestID),
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": g.Principal},
		// sts:SetSourceIdentity must be allowed for AssumeRole to set
		// one (IAM User Guide, "Monitor and control actions taken with
		// assumed roles").
		"Action": []any{"sts:AssumeRole", "sts:SetSourceIdentity"},
		"Condition": map[string]any{
			"DateLessThan": map[string]any{"aws:CurrentTime": g.ExpiresAt.UTC().Format(time.RFC3339)},
			"StringEquals": map[string]any{
				"sts:RoleSessionName": access.RoleSessionName(g.Principal),
				"sts:SourceIdentity":  access.GrantSourceIdentity(g.RequestID),
			},
		},
	}
}

// isGrantStatement tells this service's grant statements from the role's
// own: a Sid starting with Jit and an aws:CurrentTime limit.
func isGrantStatement(st map[string]any) bool {
	sid, _ := st["Sid"].(string)
	cond, _ := st["Condition"].(map[string]any)
	dlt, _ := cond["DateLessThan"].(map[string]any)
	_, timed := dlt["aws:CurrentTime"]
	return strings.HasPrefix(sid, "Jit") && timed
}

// Describe is what the granted event records: the exact statement added.
func (p *IAMRoleTrust) Describe(g Grant) map[string]string {
	b, _ := json.Marshal(trustStatement(g))
	return map[string]string{"statement": string(b)}
}

// Remove denies the requester's sessions of the role from this grant
// (those issued until RevokeMargin from now), then takes the request's
// statement out of the role's trust policy: removing trust alone would
// leave sessions already issued valid for up to the role's maximum
// session duration. The deny is written first, so a revoke that fails
// half way never leaves sessions undenied with the trust gone. Removing
// what is not there succeeds.
func (p *IAMRoleTrust) Remove(ctx context.Context, g Grant) error {
	return p.RemoveRecorded(ctx, g, nil)
}

// RemoveRecorded is Remove ending in record, as ApplyRecorded.
func (p *IAMRoleTrust) RemoveRecorded(ctx context.Context, g Grant, record Record) error {
	return p.edit(ctx, g.Target.Param(target.RoleARN), func(e *roleEdit) {
		e.grants.remove(statementID(g.RequestID))
		e.denySessions(g)
	}, record)
}

// Present reports whether the request's statement is in the role's trust
// policy (the reconciler asks this).
func (p *IAMRoleTrust) Present(ctx context.Context, g Grant) (bool, error) {
	name, err := roleName(g.Target.Param(target.RoleARN))
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

// roleEdit is what one edit may change: the grant statements of the
// trust policy, and the revoked-sessions policy.
type roleEdit struct {
	role   *types.Role
	now    time.Time
	grants statements
	denies *policyDocument
	denied bool // denySessions ran
}

// edit runs change on the role's policies under the role's lease, and
// writes what changed. It starts again (up to three times) when the lease
// was lost during the edit: another writer may have written meanwhile,
// so the edit is rebuilt from the stored state and written again.
//
// A non-nil record is called after the writes, with the lease still
// held: its write gives the lease up and is the check after the writes
// (ErrLeaseLost starts again, as a failed release does). If it fails
// otherwise, nothing was recorded: the lease is released and its error
// returned.
func (p *IAMRoleTrust) edit(ctx context.Context, roleARN string, change func(*roleEdit), record Record) error {
	name, err := roleName(roleARN)
	if err != nil {
		return err
	}
	if p.Locker == nil {
		return fmt.Errorf("role %s: no lease to edit it under", name)
	}
	ttl := p.LeaseTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	force := false
	for attempt := 0; ; attempt++ {
		lease, err := p.Locker.Lock(ctx, "role/"+name, ttl)
		if err != nil {
			return &TransientError{Err: fmt.Errorf("lock role %s: %w", name, err)}
		}
		err = p.editUnder(ctx, lease, name, change, force)
		if err == nil && record != nil {
			if err = record(ctx, lease); err == nil {
				return nil
			}
			// Not recorded: the lease is still held, unless it was lost.
			_ = lease.Release()
			if !errors.Is(err, store.ErrLeaseLost) {
				return err
			}
		} else if rerr := lease.Release(); err == nil && rerr != nil {
			// Giving the lease up is the check after the writes: it
			// fails if the lease was lost meanwhile.
			err = classifyStore(rerr)
		}
		if !errors.Is(err, store.ErrLeaseLost) {
			return err
		}
		if attempt == 2 {
			return &TransientError{Err: fmt.Errorf("role %s: %w", name, err)}
		}
		// Our write may have landed after the next holder's: write
		// even if a read seems to show the wanted document.
		force = true
	}
}

// editUnder is one edit, holding lease. Every IAM write is preceded by a
// check that the lease is still ours (the state's Save, a conditional
// write, is the first), and followed by one (the conditional release, in
// edit): ErrLeaseLost means start again.
//
// What remains: IAM has no conditional writes, so a holder that stalls
// between its check and its IAM write for longer than the rest of its
// lease can still write after the next holder; its check after the write
// then fails and it writes again, unless it died meanwhile. The lease
// outlives the function's timeout, which makes that a stall of the whole
// process, not a slow call.
func (p *IAMRoleTrust) editUnder(ctx context.Context, lease *store.Lease, name string, change func(*roleEdit), force bool) error {
	role, trust, err := p.read(ctx, name)
	if err != nil {
		return err
	}
	state := lease.Policies()
	e := &roleEdit{role: role, now: p.now()}
	if state.Known {
		// The stored state is the truth; the IAM read may be stale.
		if err := json.Unmarshal([]byte(state.Grants), &e.grants); err != nil {
			return fmt.Errorf("role %s stored grants: %w", name, err)
		}
		if e.denies, err = decodePolicy(state.Denies); err != nil {
			return fmt.Errorf("role %s stored revoked sessions: %w", name, err)
		}
	} else {
		// First edit since state was kept: start from what IAM shows.
		for _, st := range trust.Statement {
			if isGrantStatement(st) {
				e.grants = append(e.grants, st)
			}
		}
		if e.denies, err = p.readDenies(ctx, name); err != nil {
			return err
		}
	}
	had, _ := json.Marshal(e.denies)
	change(e)
	e.pruneDenies()

	next := &policyDocument{Version: trust.Version}
	for _, st := range trust.Statement {
		if !isGrantStatement(st) {
			next.Statement = append(next.Statement, st)
		}
	}
	next.Statement = append(next.Statement, e.grants...)
	before, _ := json.Marshal(trust)
	nextTrust, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("role %s trust policy: %w", name, err)
	}
	max := p.MaxTrustPolicy
	if max == 0 {
		max = 2048
	}
	if len(nextTrust) > max && len(nextTrust) > len(before) {
		return &QuotaError{Role: name, Size: len(nextTrust), Max: max}
	}
	grants, _ := json.Marshal(e.grants)
	if e.grants == nil {
		grants = []byte("[]")
	}
	denies, _ := json.Marshal(e.denies)
	if err := lease.Save(ctx, store.RolePolicies{Grants: string(grants), Denies: string(denies)}); err != nil {
		return classifyStore(err)
	}

	var denyErr error
	// A revoke always writes its deny: an earlier attempt may have saved
	// it here and failed to write it to IAM.
	denyWritten := force || e.denied || string(denies) != string(had)
	if denyWritten {
		denyErr = p.putDenies(ctx, name, denies, len(e.denies.Statement) == 0)
	}
	var trustErr error
	if force || string(before) != string(nextTrust) {
		// Taking trust away never widens access, so it is done even if
		// the deny failed; adding it waits for nothing. Save was the check
		// right before, unless the deny was written since.
		if denyWritten {
			if err := lease.Check(ctx); err != nil {
				return errors.Join(denyErr, classifyStore(err))
			}
		}
		trustErr = p.putTrust(ctx, name, nextTrust, max)
	}
	return errors.Join(denyErr, trustErr)
}

func (p *IAMRoleTrust) putTrust(ctx context.Context, name string, doc []byte, max int) error {
	_, err := p.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &name, PolicyDocument: aws.String(string(doc))})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "LimitExceeded" {
			return &QuotaError{Role: name, Size: len(doc), Max: max}
		}
		return classify(fmt.Errorf("update trust policy of %s: %w", name, err))
	}
	return nil
}

// putDenies writes the revoked-sessions policy. IAM refuses a policy
// without statements, so once every statement expired the policy is
// left as it was: what it still denies are sessions that expired.
func (p *IAMRoleTrust) putDenies(ctx context.Context, name string, doc []byte, empty bool) error {
	if empty {
		return nil
	}
	if len(doc) > inlinePolicyMax {
		return &RevokedSessionsLimitError{Role: name, Size: len(doc)}
	}
	_, err := p.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String(RevokedSessionsPolicy), PolicyDocument: aws.String(string(doc))})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "LimitExceeded" {
			return &RevokedSessionsLimitError{Role: name, Size: len(doc)}
		}
		return classify(fmt.Errorf("deny revoked sessions on %s: %w", name, err))
	}
	return nil
}

func (p *IAMRoleTrust) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
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

// readDenies fetches the role's revoked-sessions policy (empty if none).
func (p *IAMRoleTrust) readDenies(ctx context.Context, name string) (*policyDocument, error) {
	out, err := p.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: aws.String(RevokedSessionsPolicy)})
	var missing *types.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return &policyDocument{Version: "2012-10-17"}, nil
	case err != nil:
		return nil, classify(fmt.Errorf("read revoked sessions of %s: %w", name, err))
	}
	doc, err := decodePolicy(aws.ToString(out.PolicyDocument))
	if err != nil {
		return nil, fmt.Errorf("revoked sessions policy of %s: %w", name, err)
	}
	return doc, nil
}

// decodePolicy reads a policy document as IAM returns it (URL-encoded);
// an empty one is a document without statements.
func decodePolicy(raw string) (*policyDocument, error) {
	if dec, err := url.QueryUnescape(raw); err == nil {
		raw = dec
	}
	var doc policyDocument
	if strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			return nil, err
		}
	}
	if doc.Version == "" {
		doc.Version = "2012-10-17"
	}
	return &doc, nil
}

// maxSession is the longest a session of the role can last.
func (e *roleEdit) maxSession() time.Duration {
	if d := time.Duration(aws.ToInt32(e.role.MaxSessionDuration)) * time.Second; d > 0 {
		return d
	}
	return time.Hour
}

// denyWindow is the span of revokes one revoked-sessions statement
// gathers: a quarter of the role's maximum session duration, at least 15
// minutes, so a role holds a handful of them (each is dropped once no
// session it denies can still be valid).
func (e *roleEdit) denyWindow() time.Duration {
	return max(e.maxSession()/4, 15*time.Minute)
}

// denySessions adds the revoked grant to the revoked-sessions statement
// of the current window: Deny * to sessions of the role with the
// requester's session name, issued before the latest revoke in the window
// plus RevokeMargin, whose source identity names a revoked request (or
// that have none: sessions from before source identities were required).
// Sessions of the person's other, still active grants carry their own
// request's source identity and are not denied.
func (e *roleEdit) denySessions(g Grant) {
	e.denied = true
	// A role session's aws:userid is "<role id>:<session name>". The
	// policy applies to this role's sessions only, so the role id adds
	// nothing but length; session names cannot hold * or ?.
	userid := "*:" + access.RoleSessionName(g.Principal)
	cutoff := e.now.Add(RevokeMargin).Truncate(time.Second).Add(time.Second)
	sid := fmt.Sprintf("JitRevoked%d", e.now.Truncate(e.denyWindow()).Unix())
	for _, st := range e.denies.Statement {
		if st["Sid"] != sid {
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		like, _ := cond["StringLike"].(map[string]any)
		ifExists, _ := cond["StringEqualsIfExists"].(map[string]any)
		if like == nil || ifExists == nil {
			break
		}
		like["aws:userid"] = addValue(like["aws:userid"], userid)
		ifExists["aws:SourceIdentity"] = addValue(ifExists["aws:SourceIdentity"], access.GrantSourceIdentity(g.RequestID))
		if cutoff.After(revokedBefore(st)) {
			cond["DateLessThan"] = map[string]any{"aws:TokenIssueTime": cutoff.Format(time.RFC3339)}
		}
		return
	}
	e.denies.remove(sid)
	e.denies.Statement = append(e.denies.Statement, map[string]any{
		"Sid":      sid,
		"Effect":   "Deny",
		"Action":   "*",
		"Resource": "*",
		"Condition": map[string]any{
			"StringLike":           map[string]any{"aws:userid": []any{userid}},
			"StringEqualsIfExists": map[string]any{"aws:SourceIdentity": []any{access.GrantSourceIdentity(g.RequestID)}},
			"DateLessThan":         map[string]any{"aws:TokenIssueTime": cutoff.Format(time.RFC3339)},
		},
	})
}

// pruneDenies drops statements no session can outlive any more: every
// session they deny was issued before their cut-off, so it expired a
// maximum session duration later (plus RevokeMargin, for statements
// written before the cut-off carried it).
func (e *roleEdit) pruneDenies() {
	kept := e.denies.Statement[:0]
	for _, st := range e.denies.Statement {
		if revokedBefore(st).Add(e.maxSession() + RevokeMargin).Before(e.now) {
			continue
		}
		kept = append(kept, st)
	}
	e.denies.Statement = kept
}

// addValue adds v to a condition's value (a string or a list), keeping it
// sorted and without duplicates.
func addValue(cur any, v string) []any {
	var vals []string
	switch c := cur.(type) {
	case string:
		vals = append(vals, c)
	case []any:
		for _, x := range c {
			if s, ok := x.(string); ok {
				vals = append(vals, s)
			}
		}
	}
	if !slices.Contains(vals, v) {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	out := make([]any, len(vals))
	for i, s := range vals {
		out[i] = s
	}
	return out
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

// classifyStore marks a lost lease as itself (the edit starts again) and
// other table failures transient.
func classifyStore(err error) error {
	if errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	return &TransientError{Err: err}
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

func (d *policyDocument) remove(sid string) { d.Statement.remove(sid) }

func (s *statements) remove(sid string) {
	kept := (*s)[:0]
	for _, st := range *s {
		if st["Sid"] != sid {
			kept = append(kept, st)
		}
	}
	*s = kept
}
