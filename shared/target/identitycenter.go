package target

import (
	"fmt"
	"regexp"
)

// IdentityCenter grants by assigning a permission set in an account to
// the requester's IAM Identity Center user (package grant,
// identitycenter.go).
const IdentityCenter = "identity_center"

// identity_center's parameters.
const (
	InstanceARN      = "instance_arn"
	PermissionSetARN = "permission_set_arn"
	AccountID        = "account_id"
)

var _ = register(&Kind{
	Name: IdentityCenter,
	Params: []Param{
		{Name: PermissionSetARN, Label: "Permission set",
			Pattern: regexp.MustCompile(`^arn:aws[a-z-]*:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`),
			Want:    "a permission set ARN (arn:aws:sso:::permissionSet/ssoins-.../ps-...)"},
		{Name: AccountID, Label: "Account",
			Pattern: regexp.MustCompile(`^\d{12}$`),
			Want:    "a 12-digit AWS account id"},
		{Name: InstanceARN, Label: "Identity Center instance",
			Pattern: regexp.MustCompile(`^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`),
			Want:    "an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...)"},
	},
	Describe: func(p map[string]string) string {
		return fmt.Sprintf("permission set %s in account %s", p[PermissionSetARN], p[AccountID])
	},
	ForPeople: true,
	Use:       "an Identity Center assignment is used through the AWS access portal, or with `aws configure sso`\n(account {account_id}, the permission set's name as the role), then `aws sso login`",
})
