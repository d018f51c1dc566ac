package target

import "regexp"

// IAMRoleTrust grants by adding the requester's session to the trust
// policy of a role in the service's account (package grant, iamrole.go).
const IAMRoleTrust = "iam_role_trust"

// RoleARN is iam_role_trust's one parameter.
const RoleARN = "role_arn"

var _ = register(&Kind{
	Name: IAMRoleTrust,
	Params: []Param{{
		Name: RoleARN, Label: "Role",
		Pattern: regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`),
		Want:    "an IAM role ARN (arn:aws:iam::123456789012:role/NAME)",
	}},
	AssumeParam: RoleARN,
})

// Default is the provider of a target that names none.
const Default = IAMRoleTrust
