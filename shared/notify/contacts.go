package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/channel"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
)

// Channels a message goes out on (store.Link.Channel and the audit
// events name them the same way).
const (
	ChannelEmail = channel.Email
	ChannelSMS   = channel.SMS
	ChannelSlack = channel.Slack
)

// approvalRender renders the message asking approver, at address to on
// one channel, to decide with the link url (whose token is tok). Each
// channel's file registers its own in init.
type approvalRender func(r *access.Request, approver, to, url string, tok link.Token, ask Ask) (Message, error)

var renderers = map[string]approvalRender{}

// reach says how one approver can be reached for one request: an address
// by channel, always by email, and on another channel when the resource
// lists it, the approver has an address there, and the handler has a
// sender for it.
type reach map[string]string

// channels lists the approver's channels, email first.
func (c reach) channels() []string {
	out := []string{ChannelEmail}
	for _, ch := range channel.Names() {
		if ch != ChannelEmail && c[ch] != "" {
			out = append(out, ch)
		}
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
	return reach{ChannelEmail: email}
}

// directory reads the policy the request was made under (requests carry
// approvers as emails; phone numbers and Slack ids live in the policy) and
// returns how r's approvers can be reached. A policy that cannot be read
// costs the extra channels, not the email: the failure is logged and the
// directory is empty.
func (h *Handler) directory(ctx context.Context, r *access.Request) directory {
	var others []string
	for ch := range h.Senders {
		if ch != ChannelEmail {
			others = append(others, ch)
		}
	}
	if len(others) == 0 {
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
	var used []string
	for _, ch := range others {
		if slices.Contains(res.Channels, ch) {
			used = append(used, ch)
		}
	}
	d := directory{}
	for _, l := range res.Approval.Levels {
		for _, a := range append(append([]policy.Approver{}, l.Approvers...), l.EscalateTo...) {
			key := strings.ToLower(strings.TrimSpace(a.Email))
			c := d[key]
			if c == nil {
				c = reach{}
			}
			c[ChannelEmail] = a.Email
			for _, ch := range used {
				if addr := a.Address(ch); addr != "" {
					c[ch] = addr
				}
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
