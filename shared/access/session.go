package access

import (
	"regexp"
	"strings"
)

// The names a grant's sessions carry, which the grant's trust and deny
// conditions, the CLI's AssumeRole and the notices all spell the same way.

// GrantSourceIdentity is the source identity a grant's sessions must carry:
// it names the request, so a revoke denies exactly the sessions of that
// grant, and CloudTrail records it on every call made with them.
func GrantSourceIdentity(requestID string) string {
	id := "jit-" + sessionUnsafe.ReplaceAllString(requestID, "-")
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// RoleSessionName is the role session name a grant binds the requester to:
// the last part of their ARN (an assumed role's session name, e.g. an SSO
// user's email, or an IAM user's name), limited to what STS accepts.
func RoleSessionName(principal string) string {
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
