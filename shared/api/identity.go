package api

import (
	"context"
	"errors"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
)

// actor says who the caller is and what they may do: the person the
// current policy's identities make them, and whether the deployment's
// admin and auditor patterns name them. Without a readable policy the
// caller is only their ARN (ARN patterns still match; email patterns do
// not), so a failure never grants more.
func (h *Handler) actor(ctx context.Context, arn string) access.Actor {
	return h.staff().Actor(h.Directory(ctx).Identify(arn))
}

// Directory is the current policy's identity model.
func (h *Handler) Directory(ctx context.Context) access.Directory {
	_, doc, err := h.policy(ctx)
	if err != nil {
		h.Logger.WarnContext(ctx, "no policy to identify the caller by; matching by ARN only", "error", err.Error())
		return access.Directory{}
	}
	return access.DirectoryOf(doc)
}

// PolicyDocument returns the policy in force, nil when none has been
// applied yet.
func (h *Handler) PolicyDocument(ctx context.Context) (*policy.Document, error) {
	_, doc, err := h.policy(ctx)
	if ae := (*access.Error)(nil); errors.As(err, &ae) && ae.Code == "no_policy" {
		return nil, nil
	}
	return doc, err
}

func (h *Handler) staff() access.Staff {
	return access.Staff{Admins: h.Admins, Auditors: h.Auditors}
}
