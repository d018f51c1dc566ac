package access

import (
	"strings"

	"github.com/jitaccess/jit/shared/policy"
)

// Principal is who signed a call, as AWS verified it (API Gateway's IAM
// authorizer), and the person it speaks for, when that is known.
type Principal struct {
	// ARN is the caller's ARN: an IAM user, or an assumed-role session
	// "arn:aws:sts::123456789012:assumed-role/Role/session".
	ARN string
	// Person is the lower-case email of the person the principal is, or
	// empty when nothing AWS verified says who that is.
	Person string
}

// Directory says which principals are which person.
//
// A role session's name is chosen by whoever calls sts:AssumeRole unless
// the role's trust policy fixes it, so a session name alone proves
// nothing: a CI role's session can be named "carol@example.com". Only two
// things make a principal a person here:
//   - a session of a trusted identity role, whose session name AWS sets
//     to the signed-in person (IAM Identity Center's AWSReservedSSO_*
//     roles, or a federation role whose trust requires
//     sts:RoleSessionName = ${saml:sub}); the session name is the email;
//   - a principal bound to a person by ARN pattern (People).
//
// Every other principal is only its ARN.
type Directory struct {
	// TrustedRoles are IAM role ARN patterns. The role path is not part
	// of a session's ARN, so only the account and the role name are
	// compared.
	TrustedRoles []string
	// People binds principals to people by ARN pattern.
	People []Person
}

// Person is someone the policy names by email, with the principals that
// are theirs.
type Person struct {
	Email      string
	Principals []string
}

// DirectoryOf is a policy's identity model: its trusted roles and people,
// and every approver it binds to a principal.
func DirectoryOf(doc *policy.Document) Directory {
	var dir Directory
	if doc == nil {
		return dir
	}
	if ids := doc.Identities; ids != nil {
		dir.TrustedRoles = ids.TrustedRoles
		for _, p := range ids.People {
			dir.People = append(dir.People, Person{Email: p.Email, Principals: p.Principals})
		}
	}
	for _, r := range doc.Resources {
		for _, l := range r.Approval.Levels {
			for _, a := range append(append([]policy.Approver{}, l.Approvers...), l.EscalateTo...) {
				if a.Principal != "" {
					dir.People = append(dir.People, Person{Email: a.Email, Principals: []string{a.Principal}})
				}
			}
		}
	}
	return dir
}

// Identify returns the principal arn and the person it is, if any.
func (d Directory) Identify(arn string) Principal {
	p := Principal{ARN: arn}
	if role, session, ok := assumedRole(arn); ok {
		for _, pattern := range d.TrustedRoles {
			if trustedRoleMatch(pattern, role) && strings.Contains(session, "@") {
				p.Person = strings.ToLower(session)
				return p
			}
		}
	}
	for _, person := range d.People {
		for _, pattern := range person.Principals {
			if policy.Match(pattern, arn) {
				p.Person = strings.ToLower(strings.TrimSpace(person.Email))
				return p
			}
		}
	}
	return p
}

// assumedRole splits "arn:aws:sts::123:assumed-role/Role/session" into
// "arn:aws:iam::123:role/Role" and "session".
func assumedRole(arn string) (role, session string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "assumed-role/")
	if !found {
		return "", "", false
	}
	name, session, found := strings.Cut(rest, "/")
	if !found || name == "" || session == "" {
		return "", "", false
	}
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + name, session, true
}

// trustedRoleMatch compares a role ARN pattern with a role ARN without
// path: the pattern's path is dropped, its account and name compared.
func trustedRoleMatch(pattern, role string) bool {
	head, _, ok := strings.Cut(pattern, ":role/")
	if !ok {
		return false
	}
	return policy.Match(head+":role/"+policy.RoleName(pattern), role)
}

// Matches reports whether the principal matches pattern: an ARN pattern
// ("arn:...", "*" any run of characters) against its ARN, anything else
// (an email pattern such as "*@example.com") against the person it is.
// A principal that is no known person matches no email pattern, whatever
// its session is called.
func (p Principal) Matches(pattern string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "*" || strings.HasPrefix(pattern, "arn:") {
		return policy.Match(pattern, p.ARN)
	}
	return p.Person != "" && policy.Match(strings.ToLower(pattern), p.Person)
}

// MatchesAny reports whether the principal matches one of patterns.
func (p Principal) MatchesAny(patterns []string) bool {
	for _, pattern := range patterns {
		if p.Matches(pattern) {
			return true
		}
	}
	return false
}

// Is reports whether the principal is the person with this email.
func (p Principal) Is(email string) bool {
	return p.Person != "" && strings.EqualFold(strings.TrimSpace(email), p.Person)
}

// SessionName returns the session part of an assumed-role ARN, or the
// name after the last "/" of any other ARN.
func SessionName(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// SamePerson reports whether an approver (their email and, if the policy
// binds one, their principal pattern) may be the requester. It errs
// towards yes, since a yes only keeps someone from approving: the
// requester's person, their principal matching the approver's pattern,
// or a session name equal to the approver's email on any role (even one
// whose session names prove nothing) all count.
func SamePerson(email, principalPattern string, requester Principal) bool {
	email = strings.TrimSpace(email)
	if email != "" && (requester.Is(email) || strings.EqualFold(email, SessionName(requester.ARN))) {
		return true
	}
	return principalPattern != "" && policy.Match(principalPattern, requester.ARN)
}

// ValidRequester reports why a principal cannot be a requester: the
// account root (no "/" in its ARN) would make a trust statement trust the
// whole account.
func ValidRequester(arn string) error {
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, "/") {
		return Invalid("", "%s is not a user or role session; sign the request with a user's or a role session's credentials, not the account root's", arn)
	}
	return nil
}
