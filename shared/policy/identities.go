package policy

import (
	"net/mail"
	"regexp"
	"strings"
)

// Identities says which principals speak for a person. A role session's
// name proves nothing unless AWS fixes it, so email patterns (requesters,
// admins, auditors, approvers) match only principals identified here.
type Identities struct {
	// TrustedRoles are IAM role ARN patterns whose session names AWS sets
	// to the signed-in person's email: IAM Identity Center's
	// "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*"
	// roles, or a federation role whose trust policy requires
	// sts:RoleSessionName = ${saml:sub}.
	TrustedRoles []string `yaml:"trusted_roles,omitempty" json:"trusted_roles,omitempty"`
	// People binds principals (ARN patterns) to a person's email, for
	// principals AWS does not name by email (IAM users, CI roles).
	People []PersonBinding `yaml:"people,omitempty" json:"people,omitempty"`
}

// PersonBinding is one person and the principals that are theirs.
type PersonBinding struct {
	Email      string   `yaml:"email" json:"email"`
	Principals []string `yaml:"principals" json:"principals"`
}

var trustedRolePattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}|\*):role/[\w+=,.@/*-]+$`)

// RoleName returns the role name part of a trusted role pattern, without
// its path: a session's ARN carries the role's name but not its path.
func RoleName(pattern string) string {
	_, name, _ := strings.Cut(pattern, ":role/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

func (v *validator) identities(ids *Identities) {
	if ids == nil {
		return
	}
	for i, p := range ids.TrustedRoles {
		path := v.at("trusted_roles", i)
		name := RoleName(p)
		switch {
		case !trustedRolePattern.MatchString(p):
			v.add(path, "%q must be an IAM role ARN pattern, e.g. \"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*\"", p)
		case strings.Trim(name, "*") == "":
			v.add(path, "%q trusts the session names of every role; name the roles whose session names AWS fixes", p)
		}
	}
	emails := map[string]bool{}
	for i, p := range ids.People {
		if _, err := mail.ParseAddress(p.Email); err != nil || strings.ContainsAny(p.Email, "<> ") {
			v.add(v.at("people", i, "email"), "%q is not an email address", p.Email)
		} else if emails[strings.ToLower(p.Email)] {
			v.add(v.at("people", i, "email"), "%s is listed twice", p.Email)
		}
		emails[strings.ToLower(p.Email)] = true
		if len(p.Principals) == 0 {
			v.add(v.at("people", i, "principals"), "at least one principal ARN pattern is required")
		}
		for j, pr := range p.Principals {
			switch {
			case !strings.HasPrefix(pr, "arn:"):
				v.add(v.at("people", i, "principals", j), "%q must be a principal ARN pattern starting with \"arn:\"", pr)
			case anyRole(pr):
				v.add(v.at("people", i, "principals", j), "%q matches sessions of any role; a person's principals must name their own user or role session", pr)
			}
		}
	}
}

// anyRole reports whether an ARN pattern matches sessions of any role (or
// any principal at all), so anyone able to assume some role matches it.
func anyRole(p string) bool {
	if p == "*" {
		return true
	}
	if !strings.HasPrefix(p, "arn:") {
		return false
	}
	rest, ok := strings.CutPrefix(p[strings.Index(p, ":"):], ":")
	if !ok {
		return false
	}
	// arn:*, arn:aws:sts::*:* and the like.
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) < 5 {
		return strings.Contains(rest, "*")
	}
	resource := parts[4]
	if strings.HasPrefix(resource, "*") {
		return true
	}
	if role, ok := strings.CutPrefix(resource, "assumed-role/"); ok {
		return strings.HasPrefix(role, "*")
	}
	return false
}

func hasEmailPattern(ps []string) bool {
	for _, p := range ps {
		if !strings.HasPrefix(p, "arn:") && p != "*" {
			return true
		}
	}
	return false
}
