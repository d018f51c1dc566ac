package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
)

// Channels a message goes out on (store.Link.Channel and the audit
// events name them the same way).
const (
	ChannelEmail = policy.ChannelEmail
	ChannelSMS   = policy.ChannelSMS
	ChannelSlack = policy.ChannelSlack
)

// reach says how one approver can be reached for one request: always by
// email, and by SMS or Slack when the resource lists the channel, the
// approver has the number or id, and the handler has a sender for it.
type reach struct {
	Email, Phone, Slack string
}

func (c reach) channels() []string {
	out := []string{ChannelEmail}
	if c.Phone != "" {
		out = append(out, ChannelSMS)
	}
	if c.Slack != "" {
		out = append(out, ChannelSlack)
	}
	return out
}

// directory is the contact details of one resource's approvers, by
// lower-cased email, with the resource's channels applied.
type directory map[string]reach

func (d directory) lookup(email string) reach {
	if c, ok := d[strings.ToLower(strings.TrimSpace(email))]; ok {
		return c
	}
	return reach{Email: email}
}

// directory reads the policy the request was made under (requests carry
// approvers as emails; phone numbers and Slack ids live in the policy) and
// returns how r's approvers can be reached. A policy that cannot be read
// costs the extra channels, not the email: the failure is logged and the
// directory is empty.
func (h *Handler) directory(ctx context.Context, r *access.Request) directory {
	wantSMS, wantSlack := h.SMS != nil, h.Slack != nil
	if !wantSMS && !wantSlack {
		return nil
	}
	doc, err := h.policy(ctx, r.PolicyVersion)
	if err != nil {
		h.Logger.WarnContext(ctx, "policy unreadable; email only", "request", r.ID, "policy_version", r.PolicyVersion, "error", err.Error())
		return nil
	}
	res, ok := doc.Resource(r.Resource)
	if !ok {
		h.Logger.WarnContext(ctx, "resource not in policy; email only", "request", r.ID, "resource", r.Resource, "policy_version", r.PolicyVersion)
		return nil
	}
	sms := wantSMS && slices.Contains(res.Channels, ChannelSMS)
	slk := wantSlack && slices.Contains(res.Channels, ChannelSlack)
	d := directory{}
	for _, l := range res.Approval.Levels {
		for _, a := range append(append([]policy.Approver{}, l.Approvers...), l.EscalateTo...) {
			key := strings.ToLower(strings.TrimSpace(a.Email))
			c := d[key]
			c.Email = a.Email
			if sms && a.Phone != "" {
				c.Phone = a.Phone
			}
			if slk && a.Slack != "" {
				c.Slack = a.Slack
			}
			d[key] = c
		}
	}
	return d
}

// policy returns the parsed policy version (the current one for a request
// that does not record its version). Versions never change once applied,
// so parsed documents are kept for the life of the process.
func (h *Handler) policy(ctx context.Context, version int) (*policy.Document, error) {
	if version > 0 {
		if doc, ok := h.policies.Load(version); ok {
			return doc.(*policy.Document), nil
		}
	}
	var pv *store.PolicyVersion
	var err error
	if version > 0 {
		pv, err = h.Store.PolicyVersion(ctx, version)
	}
	if version <= 0 || errors.Is(err, access.ErrNotFound) {
		pv, err = h.Store.CurrentPolicy(ctx)
	}
	if err != nil {
		return nil, err
	}
	doc, err := policy.Parse(pv.Document)
	if err != nil {
		return nil, fmt.Errorf("policy version %d: %w", pv.Version, err)
	}
	h.policies.Store(pv.Version, doc)
	return doc, nil
}

// policyCache is a sync.Map of version → *policy.Document.
type policyCache = sync.Map
