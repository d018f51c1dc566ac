package iampolicy

import (
	"regexp"
	"strings"
)

// Context holds a request's condition keys. Key names are
// case-insensitive, as in AWS; a key may have several values.
type Context map[string][]string

// Set gives key its values (none removes it).
func (c Context) Set(key string, values ...string) {
	if len(values) == 0 {
		delete(c, strings.ToLower(key))
		return
	}
	c[strings.ToLower(key)] = values
}

// Values returns key's values and whether it is present.
func (c Context) Values(key string) ([]string, bool) {
	v, ok := c[strings.ToLower(key)]
	return v, ok
}

// Principal is who makes a request, as resource policies name them.
type Principal struct {
	// ARN: an IAM user (arn:aws:iam::A:user/N), a role session
	// (arn:aws:sts::A:assumed-role/ROLE/SESSION), or a role.
	ARN string
	// Account is the principal's account ID.
	Account string
	// RoleARN is, for a role session, its role's ARN (with the role's
	// path): a Principal naming the role matches its sessions.
	RoleARN string
}

// Request is what a policy is evaluated against.
type Request struct {
	Principal Principal
	Action    string // service:Operation, e.g. sts:AssumeRole
	Resource  string // an ARN, or "*" when the caller cannot name it
	Context   Context
}

// Decision is the outcome of evaluating policies.
type Decision int

const (
	// NotAllowed: no statement applies (an implicit deny).
	NotAllowed Decision = iota
	// Allowed: a statement allows and none denies.
	Allowed
	// Denied: a statement explicitly denies; it beats any Allow.
	Denied
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case Denied:
		return "explicitly denied"
	default:
		return "not allowed"
	}
}

// Result is a decision with how it was reached.
type Result struct {
	Decision Decision
	// Sid is the statement that decided (the denying one, else the first
	// allowing one); empty for NotAllowed or a statement without a Sid.
	Sid string
	// ThroughAccount is true when every allowing statement named the
	// principal only through its account (arn:aws:iam::A:root, or A) or
	// its role: such a statement of a resource policy (a role's trust
	// policy) delegates to the principal's own identity policies, which
	// must allow the action too.
	ThroughAccount bool
}

// Evaluate applies the policy to the request: explicit Deny first, then
// Allow, else not allowed.
func (p *Policy) Evaluate(r Request) Result {
	res := Result{}
	direct := false
	for _, st := range p.Statements {
		match, how := st.applies(r)
		if !match {
			continue
		}
		if st.Effect == "Deny" {
			return Result{Decision: Denied, Sid: st.Sid}
		}
		if res.Decision != Allowed {
			res = Result{Decision: Allowed, Sid: st.Sid}
		}
		direct = direct || how == principalDirect
	}
	res.ThroughAccount = res.Decision == Allowed && !direct
	return res
}

// Evaluate applies several policies (a principal's identity policies) as
// one: a Deny in any beats an Allow in any.
func Evaluate(r Request, policies ...*Policy) Result {
	all := &Policy{}
	for _, p := range policies {
		all.Statements = append(all.Statements, p.Statements...)
	}
	return all.Evaluate(r)
}

type principalMatch int

const (
	principalNone principalMatch = iota
	principalDirect
	principalAccount
)

// applies reports whether the statement covers the request, and for a
// statement with a Principal how the principal was named.
func (st Statement) applies(r Request) (bool, principalMatch) {
	if st.Action != nil && !anyAction(st.Action, r.Action) || st.NotAction != nil && anyAction(st.NotAction, r.Action) {
		return false, principalNone
	}
	if st.Resource != nil && !anyResource(st.Resource, r) || st.NotResource != nil && anyResource(st.NotResource, r) {
		return false, principalNone
	}
	how := principalDirect
	switch {
	case st.Principal != nil:
		if how = matchPrincipal(st.Principal, r.Principal); how == principalNone {
			return false, principalNone
		}
	case st.NotPrincipal != nil:
		if matchPrincipal(st.NotPrincipal, r.Principal) != principalNone {
			return false, principalNone
		}
	}
	for _, c := range st.Conditions {
		if !c.holds(r.Context) {
			return false, principalNone
		}
	}
	return true, how
}

// anyAction: actions match case-insensitively, with wildcards.
func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if Glob(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, r Request) bool {
	for _, p := range patterns {
		if p == "*" {
			return true
		}
		if s, ok := substitute(p, r.Context); ok && Glob(s, r.Resource) {
			return true
		}
	}
	return false
}

var (
	accountID   = regexp.MustCompile(`^\d{12}$`)
	accountRoot = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):root$`)
)

// matchPrincipal compares the AWS principals a statement names with the
// caller. "*" and an exact user or role-session ARN name the caller
// directly; the account (ID or root ARN) and the caller's role name it
// through its account. Any other wildcard matches nothing: AWS does not
// allow partial wildcards in Principal.
func matchPrincipal(named map[string][]string, p Principal) principalMatch {
	if _, ok := named["*"]; ok {
		return principalDirect
	}
	best := principalNone
	for _, n := range named["AWS"] {
		switch {
		case n == "*":
			return principalDirect
		case strings.Contains(n, "*"):
		case n == p.ARN && !strings.Contains(p.ARN, ":role/"):
			return principalDirect
		case p.RoleARN != "" && n == p.RoleARN || n == p.ARN:
			best = principalAccount
		case accountID.MatchString(n) && n == p.Account:
			best = principalAccount
		default:
			if m := accountRoot.FindStringSubmatch(n); m != nil && m[1] == p.Account {
				best = principalAccount
			}
		}
	}
	return best
}
