package browser

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/inbox"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/notify"
)

// TestInboxListsSMS sends an SMS with the notify function's own SNS sender
// through the local cloud's AWS endpoint and finds it in the inbox, as
// moto recorded it. (The e2e policy lists no sms channel, so no request
// sends one.)
func TestInboxListsSMS(t *testing.T) {
	api := sns.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	link := lc.APIURL + "/d/BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
	text := "jit: alice@example.com asks for sandbox-admin for 15m. Approve or deny: " + link
	if err := (&notify.SNS{API: api}).Send(context.Background(), notify.Message{Channel: notify.ChannelSMS, To: "+15555550102", Text: text}); err != nil {
		t.Fatal(err)
	}
	// A fresh inbox reads moto's record from the start.
	in := inbox.New(lc.MotoURL, slog.New(slog.DiscardHandler))
	m := inboxMessage(t, in, "sms", "+15555550102", "sandbox-admin for 15m")
	if m.Body != text || len(m.Links) != 1 || m.Links[0] != link || m.Subject != "" || m.SentAt.IsZero() {
		t.Errorf("sms in inbox = %+v", m)
	}
	if !strings.HasPrefix(m.Links[0], lc.APIURL+"/d/") {
		t.Errorf("link = %q", m.Links[0])
	}
}
