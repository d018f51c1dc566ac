package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
)

// IAM is eventually consistent: a trust statement the grant just wrote can
// take seconds to be honoured by STS
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
// So an AccessDenied from AssumeRole within propagationRetry of the
// grant's activation is retried, backing off from retryFirst to retryMax.
const (
	propagationRetry = 60 * time.Second
	retryFirst       = time.Second
	retryMax         = 5 * time.Second
)

// assumeRetrying calls sts:AssumeRole, retrying AccessDenied while the
// grant is new enough for IAM to be still applying it, and saying so on
// stderr (the credential_process protocol leaves stderr to the user).
func (a *app) assumeRetrying(ctx context.Context, s *session, r *request, name string, seconds int) (*sts.AssumeRoleOutput, error) {
	client := sts.NewFromConfig(s.aws)
	// STS takes 900..43200 seconds; the flag is checked against that, and
	// the clamp keeps the conversion in range whatever the caller passed.
	duration := int32(min(max(seconds, 900), 43200)) // #nosec G115 -- clamped to 900..43200 on this line
	in := &sts.AssumeRoleInput{
		RoleArn: aws.String(r.Target.AssumableRole()), RoleSessionName: aws.String(name), DurationSeconds: aws.Int32(duration),
		// The grant's trust statement requires the request as source
		// identity: a revoke denies that grant's sessions exactly.
		SourceIdentity: aws.String(access.GrantSourceIdentity(r.ID)),
	}
	var deadline time.Time
	if r.GrantedAt != nil {
		deadline = r.GrantedAt.Add(propagationRetry)
	}
	wait := retryFirst
	for attempt := 1; ; attempt++ {
		s.api.logf("sts:AssumeRole %s as session %s for %ds", r.Target.AssumableRole(), name, seconds)
		out, err := client.AssumeRole(ctx, in)
		var ae smithy.APIError
		if err == nil || !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			return out, err
		}
		now := a.now()
		if !now.Add(wait).Before(deadline) || r.ExpiresAt != nil && !now.Add(wait).Before(*r.ExpiresAt) {
			return nil, err
		}
		fmt.Fprintf(a.stderr, "jit: sts:AssumeRole was refused %s after the grant became active; IAM may still be applying it: retrying in %s (attempt %d, until %s after activation)\n",
			now.Sub(*r.GrantedAt).Round(time.Second), wait, attempt+1, propagationRetry)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}
