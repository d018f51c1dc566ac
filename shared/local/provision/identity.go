package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// EnsureRole creates the IAM role name if it is missing, with a trust
// policy that lets only the account root assume it (the state the grant
// workflow starts from, e.g. for sample jit:managed=true target roles).
// For an existing role it leaves the trust policy alone (a grant may have
// changed it), adds the given tags and sets the maximum session duration.
// maxSessionSeconds 0 keeps IAM's default (3600). It returns the role ARN.
func (p *Provisioner) EnsureRole(ctx context.Context, name string, tags map[string]string, maxSessionSeconds int32) (string, error) {
	if err := checkEndpoint(p.AWS); err != nil {
		return "", err
	}
	if p.Resolver.AccountID == "" {
		return "", errors.New("provision: resolver has no AccountID")
	}
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", p.partition(), p.Resolver.AccountID)},
			"Action":    "sts:AssumeRole",
		}},
	})
	if err != nil {
		return "", fmt.Errorf("encode trust policy: %w", err)
	}
	return p.ensureRole(ctx, name, string(trust), tags, maxSessionSeconds)
}

func (p *Provisioner) ensureRole(ctx context.Context, name, trust string, tags map[string]string, maxSessionSeconds int32) (string, error) {
	client := iam.NewFromConfig(p.AWS)
	var iamTags []iamtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		iamTags = append(iamTags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}

	got, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var notFound *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &notFound):
		in := &iam.CreateRoleInput{
			RoleName:                 aws.String(name),
			AssumeRolePolicyDocument: aws.String(trust),
			Tags:                     iamTags,
		}
		if maxSessionSeconds > 0 {
			in.MaxSessionDuration = aws.Int32(maxSessionSeconds)
		}
		out, err := client.CreateRole(ctx, in)
		if err != nil {
			return "", fmt.Errorf("create role %s: %w", name, err)
		}
		p.logger().Info("created IAM role", "role", name)
		return aws.ToString(out.Role.Arn), nil
	case err != nil:
		return "", fmt.Errorf("get role %s: %w", name, err)
	}

	role := got.Role
	if len(iamTags) > 0 {
		if _, err := client.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: iamTags}); err != nil {
			return "", fmt.Errorf("tag role %s: %w", name, err)
		}
	}
	if maxSessionSeconds > 0 && aws.ToInt32(role.MaxSessionDuration) != maxSessionSeconds {
		if _, err := client.UpdateRole(ctx, &iam.UpdateRoleInput{
			RoleName:           aws.String(name),
			MaxSessionDuration: aws.Int32(maxSessionSeconds),
		}); err != nil {
			return "", fmt.Errorf("set max session duration of role %s: %w", name, err)
		}
	}
	return aws.ToString(role.Arn), nil
}

// VerifySender makes email a verified SES identity, so that SES (v1 and v2)
// SendEmail accepts it as the sender.
func (p *Provisioner) VerifySender(ctx context.Context, email string) error {
	if err := checkEndpoint(p.AWS); err != nil {
		return err
	}
	if !strings.Contains(email, "@") {
		return fmt.Errorf("verify sender: %q is not an email address", email)
	}
	client := ses.NewFromConfig(p.AWS)
	if _, err := client.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(email)}); err != nil {
		return fmt.Errorf("verify sender %s: %w", email, err)
	}
	out, err := client.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{email}})
	if err != nil {
		return fmt.Errorf("check sender %s: %w", email, err)
	}
	if st := out.VerificationAttributes[email].VerificationStatus; st != sestypes.VerificationStatusSuccess {
		return fmt.Errorf("sender %s is %q after verification, want Success", email, st)
	}
	p.logger().Info("verified SES sender", "email", email)
	return nil
}
