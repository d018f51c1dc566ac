package notify

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/channel"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store/storetest"
)

// A new channel is its Kind (shared/channel), its renderer (a file here)
// and its sender (the notify function's wiring): nothing else changes.
// This test adds a pager channel in exactly those three places and sees a
// policy name it and an approver get their own link on it.
func TestNewChannelIsConfined(t *testing.T) {
	const pager = "pager"
	channel.Register(channel.Kind{
		Name: pager, Field: "pager", Want: "a pager id (e.g. P123)",
		Valid: regexp.MustCompile(`^P[0-9]+$`).MatchString,
	})
	renderers[pager] = func(r *access.Request, _, to, url string, _ link.Token, _ Ask) (Message, error) {
		return Message{Channel: pager, To: to, Text: r.Resource + " " + url}, nil
	}
	doc := strings.Replace(channelsPolicy, "channels: [email, sms, slack]", "channels: [email, pager]", 1)
	doc = strings.Replace(doc, `{email: Carol@example.com, phone: "+15555550102", slack: U0CAROL01}`, `{email: Carol@example.com, pager: P123}`, 1)
	if _, err := policy.Parse([]byte(doc)); err != nil {
		t.Fatalf("policy naming the new channel: %v", err)
	}
	if _, err := policy.Parse([]byte(strings.Replace(doc, "pager: P123", "pager: 123", 1))); err == nil ||
		!strings.Contains(err.Error(), `pager: "123" is not a pager id`) {
		t.Errorf("bad pager id: %v", err)
	}

	fs := storetest.New(chainRequest()).WithPolicy(3, doc)
	h, email, _, _, _ := newHandler(fs)
	pagers := &fakeSender{}
	h.Senders[pager] = pagers
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if len(email.sent) != 1 || len(pagers.sent) != 1 || pagers.sent[0].To != "P123" {
		t.Fatalf("email %d, pager %+v", len(email.sent), pagers.sent)
	}
	channels := map[string]bool{}
	for _, l := range fs.Links {
		channels[l.Channel] = true
	}
	if len(fs.Links) != 2 || !channels[pager] || !channels[ChannelEmail] {
		t.Errorf("links %+v, want one per channel", fs.Links)
	}
	// Its link is its own: a token the email does not carry.
	if tok := linkIn(t, pagers.sent[0].Text); strings.Contains(email.sent[0].Text, tok.Reveal()) {
		t.Error("the pager message carries the email's link")
	}
}
