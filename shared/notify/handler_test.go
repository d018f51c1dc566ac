package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/secret"
	"github.com/jitaccess/jit/shared/slack"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/store/storetest"
	"github.com/jitaccess/jit/shared/workflow"
)

// only is the one request a test's store holds, to change in place.
func only(m *storetest.Memory) *access.Request {
	for _, r := range m.Requests {
		return r
	}
	return nil
}

// fakeSender records messages and fails for recipients in fail.
type fakeSender struct {
	mu   sync.Mutex
	sent []Message
	fail map[string]bool
}

func (s *fakeSender) Send(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[m.To] {
		return errors.New("provider said no")
	}
	s.sent = append(s.sent, m)
	return nil
}

const channelsPolicy = `
identities:
  trusted_roles: ["arn:aws:iam::123456789012:role/Engineer"]
resources:
  - name: prod-readonly
    target: {role_arn: "arn:aws:iam::123456789012:role/jit-prod-readonly"}
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    max_duration: 4h
    channels: [email, sms, slack]
    ticket: {required: true, url: "https://tracker.example.com/browse/{ticket}"}
    approval:
      levels:
        - name: team lead
          approvers:
            - {email: Carol@example.com, phone: "+15555550102", slack: U0CAROL01}
          escalate_to:
            - {email: erin@example.com, phone: "+15555550106"}
          timeout: 30m
        - name: security
          min_approvals: 2
          approvers:
            - {email: dave@example.com, slack: U0DAVE002}
            - {email: frank@example.com}
          timeout: 1h
  - name: email-only
    target: {role_arn: "arn:aws:iam::123456789012:role/jit-prod-readonly"}
    requesters: ["*"]
    max_duration: 1h
    approval:
      levels:
        - approvers:
            - {email: carol@example.com, phone: "+15555550102", slack: U0CAROL01}
`

// fakeSlack is a Slack sender posting direct messages (a bot token)
// unless webhook is set.
type fakeSlack struct {
	fakeSender
	webhook bool
}

func (s *fakeSlack) Direct(context.Context) (bool, error) { return !s.webhook, nil }

func newHandler(fs *storetest.Memory) (*Handler, *fakeSender, *fakeSender, *fakeSlack, *bytes.Buffer) {
	var logs bytes.Buffer
	email, sms, slk := &fakeSender{}, &fakeSender{}, &fakeSlack{}
	h := &Handler{
		Store:   fs,
		Senders: map[string]Sender{ChannelEmail: email, ChannelSMS: sms, ChannelSlack: slk},
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Now:     func() time.Time { return t0 },
	}
	return h, email, sms, slk, &logs
}

func approvalTask(id string, level int, escalated bool) workflow.ApprovalTask {
	return workflow.ApprovalTask{
		Action: workflow.ActionRequestApproval, RequestID: id, LinkBaseURL: linkBase + "/",
		Await: workflow.Await{Level: level, TimeoutSeconds: 1800, Escalated: escalated}, TaskToken: "task-token",
	}
}

// linkIn returns the token of the decision link in s.
func linkIn(t *testing.T, s string) link.Token {
	t.Helper()
	i := strings.Index(s, linkBase+"/d/")
	if i < 0 {
		t.Fatalf("no decision link in %q", s)
	}
	tok, err := link.Parse(s[i+len(linkBase)+3 : i+len(linkBase)+3+43])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRequestApprovalEveryChannelOwnLink(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	h, email, sms, slk, _ := newHandler(fs)
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	// Carol (email + phone + slack) is asked on all three channels.
	if len(email.sent) != 1 || len(sms.sent) != 1 || len(slk.sent) != 1 {
		t.Fatalf("sent email %d, sms %d, slack %d; want 1 each", len(email.sent), len(sms.sent), len(slk.sent))
	}
	if sms.sent[0].To != "+15555550102" || slk.sent[0].To != "U0CAROL01" || email.sent[0].To != "carol@example.com" {
		t.Errorf("recipients: %q %q %q", email.sent[0].To, sms.sent[0].To, slk.sent[0].To)
	}
	if len(fs.Links) != 3 {
		t.Fatalf("links = %+v", fs.Links)
	}
	byHash := map[string]store.Link{}
	for _, l := range fs.Links {
		byHash[l.Hash] = l
		if l.Approver != "carol@example.com" || l.Level != 0 || !l.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("link = %+v", l)
		}
	}
	if len(byHash) != 3 {
		t.Fatal("channels share a token")
	}
	for ch, tok := range map[string]link.Token{
		ChannelEmail: linkIn(t, email.sent[0].Text),
		ChannelSMS:   linkIn(t, sms.sent[0].Text),
		ChannelSlack: linkIn(t, slk.sent[0].Slack.DecisionURL),
	} {
		if l, ok := byHash[tok.Hash()]; !ok || l.Channel != ch {
			t.Errorf("%s message carries a link recorded as %+v", ch, l)
		}
	}
	if slk.sent[0].Slack.Token.Hash() != linkIn(t, slk.sent[0].Slack.DecisionURL).Hash() {
		t.Error("Slack token and URL differ")
	}
	if gsm7Len(sms.sent[0].Text) > SMSLimit {
		t.Errorf("SMS too long: %q", sms.sent[0].Text)
	}
	// All sent: nothing audited unless every send is.
	if len(fs.Events) != 0 {
		t.Errorf("events = %+v", fs.Events)
	}
	// When every send is, an SMS is recorded as taken, not delivered.
	fs = storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	h, _, _, _, _ = newHandler(fs)
	h.AuditEverySend = true
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	for _, ev := range fs.Events {
		if want := map[string]string{ChannelSMS: SMSDeliveryUnconfirmed}[ev.Detail["channel"]]; ev.Detail["delivery"] != want {
			t.Errorf("%s event delivery = %q, want %q", ev.Detail["channel"], ev.Detail["delivery"], want)
		}
	}
	if len(fs.Events) != 3 {
		t.Errorf("%d events with every send audited, want 3", len(fs.Events))
	}
}

func TestRequestApprovalFailingChannelDoesNotBlockOthers(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	only(fs).Level = 1
	h, email, sms, slk, logs := newHandler(fs)
	slk.fail = map[string]bool{"U0DAVE002": true}
	email.fail = map[string]bool{"frank@example.com": true}
	h.AuditEverySend = true
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 1, false)); err != nil {
		t.Fatal(err)
	}
	// Level 2: dave (email + slack), frank (email). Nobody has a phone.
	if len(sms.sent) != 0 || len(email.sent) != 1 || email.sent[0].To != "dave@example.com" || len(slk.sent) != 0 {
		t.Fatalf("sent email %+v sms %+v slack %+v", email.sent, sms.sent, slk.sent)
	}
	if len(fs.Links) != 3 {
		t.Errorf("links = %d, want 3 (dave email+slack, frank email)", len(fs.Links))
	}
	got := map[string]string{}
	for _, ev := range fs.Events {
		if ev.Type != EventNotificationSent || ev.Actor != access.System || ev.Detail["level"] != "1" {
			t.Errorf("event = %+v", ev)
		}
		got[ev.Detail["channel"]+" "+ev.Detail["to"]] = ev.Detail["outcome"]
		for _, v := range ev.Detail {
			if strings.Contains(v, "/d/") || len(v) == 43 {
				t.Errorf("event detail carries a link: %+v", ev.Detail)
			}
		}
	}
	want := map[string]string{
		"email dave@example.com":  SendOK,
		"slack U0DAVE002":         SendFailed,
		"email frank@example.com": SendFailed,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audited sends = %v, want %v", got, want)
	}
	for _, ev := range fs.Events {
		if ev.Detail["channel"] == ChannelSlack && ev.Detail["approver"] != "dave@example.com" {
			t.Errorf("slack event does not name the approver: %+v", ev.Detail)
		}
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), "/d/") {
		t.Error("a link reached the logs")
	}
}

// TestRequestApprovalSlackWebhookNoLinks: an incoming webhook posts to a
// channel, where the requester may read along; it gets one notice per
// level naming the approvers, and no Slack link is even created.
func TestRequestApprovalSlackWebhookNoLinks(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	only(fs).Level = 1
	h, email, _, slk, logs := newHandler(fs)
	slk.webhook = true
	h.AuditEverySend = true
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 1, false)); err != nil {
		t.Fatal(err)
	}
	// Level 2: dave (email + slack), frank (email).
	if len(email.sent) != 2 || len(slk.sent) != 1 {
		t.Fatalf("sent email %d, slack %+v", len(email.sent), slk.sent)
	}
	for _, l := range fs.Links {
		if l.Channel == ChannelSlack {
			t.Errorf("webhook mode created a Slack link: %+v", l)
		}
	}
	if len(fs.Links) != 2 {
		t.Errorf("links = %+v, want dave's and frank's email links", fs.Links)
	}
	n := slk.sent[0]
	if n.Slack != nil || n.SlackNotice == nil || n.To != "U0DAVE002" {
		t.Fatalf("slack message = %+v, want a notice for U0DAVE002", n)
	}
	if b, _ := json.Marshal(n); strings.Contains(string(b), "/d/") || strings.Contains(string(b), testToken) {
		t.Errorf("notice carries a link: %s", b)
	}
	if n.SlackNotice.Resource != "prod-readonly" || n.SlackNotice.Reason == "" || n.SlackNotice.Level == "" {
		t.Errorf("notice lacks the request's context: %+v", n.SlackNotice)
	}
	var audited bool
	for _, ev := range fs.Events {
		if ev.Detail["channel"] == ChannelSlack {
			audited = ev.Detail["to"] == "U0DAVE002" && ev.Detail["approver"] == "dave@example.com" && ev.Detail["outcome"] == SendOK
		}
	}
	if !audited {
		t.Errorf("notice not audited: %+v", fs.Events)
	}
	if strings.Contains(logs.String(), "/d/") {
		t.Error("a link reached the logs")
	}
}

func TestRequestApprovalRecordsOnlyFailuresByDefault(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	h, _, sms, _, _ := newHandler(fs)
	sms.fail = map[string]bool{"+15555550102": true}
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if len(fs.Events) != 1 || fs.Events[0].Detail["channel"] != ChannelSMS || fs.Events[0].Detail["outcome"] != SendFailed || fs.Events[0].Detail["to"] != "+15555550102" {
		t.Errorf("events = %+v", fs.Events)
	}
}

func TestRequestApprovalAllFailed(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	h, email, sms, slk, _ := newHandler(fs)
	email.fail = map[string]bool{"carol@example.com": true}
	sms.fail = map[string]bool{"+15555550102": true}
	slk.fail = map[string]bool{"U0CAROL01": true}
	err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false))
	if err == nil || !strings.Contains(err.Error(), "no approval message could be sent") {
		t.Fatalf("err = %v", err)
	}
	if len(fs.Events) != 3 {
		t.Errorf("events = %+v, want one failure per channel", fs.Events)
	}
	seen := map[time.Time]bool{}
	for _, ev := range fs.Events {
		if seen[ev.At] {
			t.Error("two events at the same instant would collide in the table")
		}
		seen[ev.At] = true
	}
}

func TestRequestApprovalEscalatedAndChannelsOfResource(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	h, email, sms, slk, _ := newHandler(fs)
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, true)); err != nil {
		t.Fatal(err)
	}
	// Escalated: only erin (email + phone, no slack id).
	if len(email.sent) != 1 || email.sent[0].To != "erin@example.com" || len(sms.sent) != 1 || sms.sent[0].To != "+15555550106" || len(slk.sent) != 0 {
		t.Fatalf("email %+v sms %+v slack %+v", email.sent, sms.sent, slk.sent)
	}

	// A resource without sms/slack channels: email only, whatever the
	// approver's details.
	fs2 := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	only(fs2).Resource = "email-only"
	h2, email2, sms2, slk2, _ := newHandler(fs2)
	if err := h2.RequestApproval(context.Background(), approvalTask(only(fs2).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if len(email2.sent) != 1 || len(sms2.sent) != 0 || len(slk2.sent) != 0 || len(fs2.Links) != 1 || fs2.Links[0].Channel != ChannelEmail {
		t.Errorf("email-only resource: email %d sms %d slack %d links %+v", len(email2.sent), len(sms2.sent), len(slk2.sent), fs2.Links)
	}
}

func TestRequestApprovalPolicyFallbacks(t *testing.T) {
	// The request's version is gone: the current policy is used.
	fs := storetest.New(chainRequest()).WithPolicy(7, channelsPolicy)
	h, email, sms, _, _ := newHandler(fs)
	if err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if len(email.sent) != 1 || len(sms.sent) != 1 {
		t.Errorf("with the current policy: email %d sms %d", len(email.sent), len(sms.sent))
	}
	// A version that exists is read once, then kept.
	fsv := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	hv, _, _, _, _ := newHandler(fsv)
	for i := 0; i < 3; i++ {
		if err := hv.RequestApproval(context.Background(), approvalTask(only(fsv).ID, 0, false)); err != nil {
			t.Fatal(err)
		}
	}
	if fsv.PolicyReads != 1 {
		t.Errorf("policy read %d times for three requests of one version", fsv.PolicyReads)
	}

	// No policy at all: email still goes out.
	fs2 := storetest.New(chainRequest())
	h2, email2, sms2, _, logs := newHandler(fs2)
	if err := h2.RequestApproval(context.Background(), approvalTask(only(fs2).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if len(email2.sent) != 1 || len(sms2.sent) != 0 || !strings.Contains(logs.String(), "email only") {
		t.Errorf("without a policy: email %d sms %d logs %s", len(email2.sent), len(sms2.sent), logs)
	}

	// No SMS or Slack sender: the policy is not even read.
	fs3 := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	h3, email3, _, _, _ := newHandler(fs3)
	delete(h3.Senders, ChannelSMS)
	delete(h3.Senders, ChannelSlack)
	if err := h3.RequestApproval(context.Background(), approvalTask(only(fs3).ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if len(email3.sent) != 1 || fs3.PolicyReads != 0 || len(fs3.Links) != 1 {
		t.Errorf("email only: sent %d, policy reads %d, links %d", len(email3.sent), fs3.PolicyReads, len(fs3.Links))
	}
}

func TestRequestApprovalSkipsRequester(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	only(fs).Requester = "arn:aws:sts::123456789012:assumed-role/Engineer/carol@example.com"
	h, _, _, _, _ := newHandler(fs)
	err := h.RequestApproval(context.Background(), approvalTask(only(fs).ID, 0, false))
	if !errors.Is(err, ErrNobodyToAsk) {
		t.Errorf("err = %v, want ErrNobodyToAsk", err)
	}
}

func TestHandleOutcome(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	only(fs).Status, only(fs).DecidedBy = access.Denied, "carol@example.com"
	fs.Events = []access.Event{
		{RequestID: only(fs).ID, Type: "created", Actor: only(fs).Requester},
		{RequestID: only(fs).ID, Type: "denied", Actor: "carol@example.com", Detail: map[string]string{"comment": "not during the freeze"}},
	}
	h, email, _, _, _ := newHandler(fs)
	out, err := h.Handle(context.Background(), json.RawMessage(`{"action":"outcome","request_id":"`+only(fs).ID+`","outcome":"denied"}`))
	if err != nil || out != nil {
		t.Fatalf("Handle = %v, %v", out, err)
	}
	if len(email.sent) != 1 || email.sent[0].To != "alice@example.com" || !strings.Contains(email.sent[0].Text, "not during the freeze") {
		t.Fatalf("sent = %+v", email.sent)
	}
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"action":"outcome","request_id":"`+only(fs).ID+`","outcome":"exploded"}`)); err == nil {
		t.Error("unknown outcome accepted")
	}
	// A CI role has no email: skipped, not failed.
	only(fs).Requester = "arn:aws:sts::123456789012:assumed-role/GitHubActions/ci-deploy"
	email.sent = nil
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"action":"outcome","request_id":"`+only(fs).ID+`","outcome":"denied"}`)); err != nil || len(email.sent) != 0 {
		t.Errorf("CI requester: err %v, sent %d", err, len(email.sent))
	}
	// Nor has a CI session merely named like alice: she is not told of it.
	only(fs).Requester = "arn:aws:sts::123456789012:assumed-role/GitHubActions/alice@example.com"
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"action":"outcome","request_id":"`+only(fs).ID+`","outcome":"denied"}`)); err != nil || len(email.sent) != 0 {
		t.Errorf("CI session named like alice: err %v, sent %+v", err, email.sent)
	}
	// A send that fails is an error (the workflow may retry) and audited.
	only(fs).Requester = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	email.fail = map[string]bool{"alice@example.com": true}
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"action":"outcome","request_id":"`+only(fs).ID+`","outcome":"denied"}`)); err == nil {
		t.Error("failed outcome send reported success")
	}
	// Besides the two seeded events, only the failure was recorded.
	if recorded := fs.Events[2:]; len(recorded) != 1 || recorded[0].Detail["notice"] != "denied" || recorded[0].Detail["outcome"] != SendFailed {
		t.Errorf("events = %+v", fs.Events)
	}
}

// TestHandleHold: the hold stores the task token on the active request
// and tells the requester the notice it carries, from the request the
// write returned; a notice that cannot be sent never fails the hold, a
// revoke asked for before it ends it at once (the Catch matches the type
// name), and a request no longer active holds nothing and hears nothing.
func TestHandleHold(t *testing.T) {
	fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
	r := only(fs)
	r.Status = access.Active
	h, email, _, _, logs := newHandler(fs)
	hold := func(notice string) error {
		b, _ := json.Marshal(workflow.HoldTask{Action: workflow.ActionHold, RequestID: r.ID, TaskToken: "hold-token", Notice: notice})
		_, err := h.Handle(context.Background(), b)
		return err
	}
	if err := hold(OutcomeGranted); err != nil {
		t.Fatalf("hold: %v", err)
	}
	if fs.HoldTokens[r.ID] != "hold-token" {
		t.Errorf("hold token %q, want it stored", fs.HoldTokens[r.ID])
	}
	if len(email.sent) != 1 || email.sent[0].To != "alice@example.com" || !strings.Contains(email.sent[0].Subject, "granted") {
		t.Fatalf("sent = %+v; want the granted notice to alice", email.sent)
	}
	// After an extension's regrant: held again, nobody told.
	email.sent = nil
	if err := hold(""); err != nil || len(email.sent) != 0 {
		t.Errorf("hold without a notice: err %v, sent %d", err, len(email.sent))
	}
	// Mail down: the hold still holds.
	email.fail = map[string]bool{"alice@example.com": true}
	if err := hold(OutcomeGranted); err != nil {
		t.Errorf("hold with mail failing = %v, want nil", err)
	}
	if !strings.Contains(logs.String(), "outcome notice not sent") {
		t.Errorf("the unsent notice is not logged: %s", logs.String())
	}
	email.fail = nil
	// A revoke asked for before the hold: told, then ended at once.
	r.RevokeRequestedBy = "bob@example.com"
	email.sent = nil
	err := hold(OutcomeGranted)
	var rr *workflow.RevokeRequested
	if !errors.As(err, &rr) || rr.By != "bob@example.com" {
		t.Errorf("hold with a revoke requested = %v, want RevokeRequested by bob", err)
	}
	if len(email.sent) != 1 {
		t.Errorf("hold with a revoke requested sent %d notices, want the granted one", len(email.sent))
	}
	if got := fmt.Sprintf("%T", err); got != "*workflow.RevokeRequested" {
		t.Errorf("error type %s: the state machine's Catch matches RevokeRequested", got)
	}
	// No longer active: refused, nothing sent, no token kept.
	r.Status, r.RevokeRequestedBy = access.Revoked, ""
	delete(fs.HoldTokens, r.ID)
	email.sent = nil
	if err := hold(OutcomeGranted); err == nil {
		t.Error("hold of a revoked request succeeded")
	}
	if len(email.sent) != 0 || fs.HoldTokens[r.ID] != "" {
		t.Errorf("refused hold sent %d, kept token %q", len(email.sent), fs.HoldTokens[r.ID])
	}
}

func TestRequesterEmail(t *testing.T) {
	for person, want := range map[string]string{
		"alice@example.com":     "alice@example.com",
		"bob@corp.test":         "bob@corp.test",
		"":                      "",
		"ci-deploy":             "",
		"Eve <eve@example.com>": "",
		"a@b@c":                 "",
	} {
		got, ok := RequesterEmail(access.Principal{ARN: "arn:aws:sts::1:assumed-role/E/x", Person: person})
		if got != want || ok != (want != "") {
			t.Errorf("RequesterEmail(person %q) = %q, %v; want %q", person, got, ok, want)
		}
	}
}

type fakeSSM struct {
	value string
	calls int
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.calls++
	if !aws.ToBool(in.WithDecryption) {
		return nil, errors.New("not decrypted")
	}
	if f.value == "" {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(f.value)}}, nil
}

func TestSlackSender(t *testing.T) {
	var posted []map[string]any
	var raw, paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		// Re-encoded without HTML escaping, to read as Slack does.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(m)
		posted, raw = append(posted, m), append(raw, b.String())
		paths = append(paths, r.URL.Path+" "+r.Header.Get("Authorization"))
		if r.URL.Path == "/api/chat.postMessage" {
			fmt.Fprint(w, `{"ok":true}`)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	r := chainRequest()
	tok, _ := link.Parse(testToken)
	approval := SlackApproval(r, "U0CAROL01", linkBase+"/d/"+testToken, tok, askAt(0, false, time.Hour))
	notice := SlackNotice(r, []string{"U0CAROL01"}, askAt(0, false, time.Hour))
	now := t0
	param := &fakeSSM{value: "xoxb-1-2-3"}
	token := &secret.SSM{API: param, Name: "/jit/slack", TTL: 5 * time.Minute, Now: func() time.Time { return now }}
	s := &Slack{Client: &slack.Client{HTTP: srv.Client(), APIBase: srv.URL + "/api"}, Secret: token.Get}
	ctx := context.Background()

	// Bot token: a direct message to the approver's user id, no mention.
	if direct, err := s.Direct(ctx); !direct || err != nil {
		t.Errorf("bot token: Direct = %v, %v", direct, err)
	}
	if err := s.Send(ctx, approval); err != nil {
		t.Fatal(err)
	}
	if paths[0] != "/api/chat.postMessage Bearer xoxb-1-2-3" || posted[0]["channel"] != "U0CAROL01" {
		t.Errorf("bot post: %s %v", paths[0], posted[0]["channel"])
	}
	if strings.Contains(raw[0], "<@U0CAROL01>") || !strings.Contains(raw[0], testToken) {
		t.Errorf("direct message mentions its recipient or lacks the link: %s", raw[0])
	}
	// Never to a channel, whatever the message says its recipient is.
	for _, to := range []string{"C0GENERAL1", "G0PRIVATE1", "#approvals", ""} {
		m := approval
		m.To = to
		if err := s.Send(ctx, m); err == nil || !strings.Contains(err.Error(), "not a Slack user id") {
			t.Errorf("bot approval to %q: %v", to, err)
		}
	}
	if err := s.Send(ctx, notice); err == nil {
		t.Error("bot token posted a channel notice")
	}
	if len(posted) != 1 {
		t.Fatalf("posted %d messages, want only the direct message", len(posted))
	}

	// Still cached a minute later; re-read after the TTL.
	now = now.Add(time.Minute)
	_ = s.Send(ctx, approval)
	if param.calls != 1 {
		t.Errorf("SSM read %d times within the TTL", param.calls)
	}

	// Webhook: only the notice goes to its channel, mentioning the
	// approver and carrying no link. The client only accepts
	// hooks.slack.com, so route that host to srv.
	param.value = "https://hooks.slack.com/services/T0/B0/secret"
	now = now.Add(10 * time.Minute)
	s.Client.HTTP = &http.Client{Transport: rewriteTo(srv.URL)}
	if direct, err := s.Direct(ctx); direct || err != nil {
		t.Errorf("webhook: Direct = %v, %v", direct, err)
	}
	before := len(posted)
	if err := s.Send(ctx, approval); err == nil || !strings.Contains(err.Error(), "never carries a decision link") {
		t.Errorf("webhook approval: %v", err)
	}
	if len(posted) != before {
		t.Fatal("an approval with its link was posted through the webhook")
	}
	if err := s.Send(ctx, notice); err != nil {
		t.Fatal(err)
	}
	last := raw[len(raw)-1]
	if paths[len(paths)-1] != "/services/T0/B0/secret " {
		t.Errorf("webhook path = %q", paths[len(paths)-1])
	}
	if !strings.Contains(last, "<@U0CAROL01>") || !strings.Contains(last, "prod-readonly") {
		t.Errorf("webhook notice does not mention the approver or the resource: %s", last)
	}
	for _, bad := range []string{testToken, "/d/", "decision=", `"actions"`} {
		if strings.Contains(last, bad) {
			t.Errorf("webhook payload carries %q: %s", bad, last)
		}
	}

	// Missing parameter, or a secret of neither kind: errors.
	param.value = ""
	now = now.Add(10 * time.Minute)
	if err := s.Send(ctx, approval); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing parameter: %v", err)
	}
	if direct, err := s.Direct(ctx); direct || err == nil {
		t.Errorf("missing parameter: Direct = %v, %v", direct, err)
	}
	param.value = "hunter2"
	now = now.Add(10 * time.Minute)
	if err := s.Send(ctx, approval); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unknown secret kind: %v", err)
	}
}

// rewriteTo sends every request to base, keeping the path.
type rewriteTo string

func (r rewriteTo) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	base, _ := http.NewRequest("GET", string(r), nil)
	u.Scheme, u.Host = base.URL.Scheme, base.URL.Host
	req2 := req.Clone(req.Context())
	req2.URL = &u
	return http.DefaultTransport.RoundTrip(req2)
}

// TestRequestApprovalLinkLifetimeCapped: a link is a bearer credential,
// so it lives at most link.MaxLifetime, whatever the level's timeout (a
// policy applied before the cap may have up to seven days, doubled by an
// escalation).
func TestRequestApprovalLinkLifetimeCapped(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"short level, doubled for its escalation", 30 * time.Minute, time.Hour},
		{"level of 20h with escalation", 20 * time.Hour, link.MaxLifetime},
		{"level of 7 days", 7 * 24 * time.Hour, link.MaxLifetime},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := storetest.New(chainRequest()).WithPolicy(3, channelsPolicy)
			only(fs).Chain[0].Timeout = tt.timeout
			h, email, _, _, _ := newHandler(fs)
			task := approvalTask(only(fs).ID, 0, false)
			task.Await.TimeoutSeconds = int64(tt.timeout / time.Second)
			if err := h.RequestApproval(context.Background(), task); err != nil {
				t.Fatal(err)
			}
			for _, l := range fs.Links {
				if !l.ExpiresAt.Equal(t0.Add(tt.want)) {
					t.Errorf("%s link expires %s, want %s", l.Channel, l.ExpiresAt, t0.Add(tt.want))
				}
			}
			// The escalation still comes one timeout after the ask.
			for _, want := range []string{
				"expires " + t0.Add(tt.want).Format("2006-01-02 15:04 UTC"),
				"escalates to erin@example.com at " + t0.Add(tt.timeout).Format("15:04 UTC"),
			} {
				if !strings.Contains(email.sent[0].Text, want) {
					t.Errorf("email does not say %q:\n%s", want, email.sent[0].Text)
				}
			}
		})
	}
}

func TestSendBudget(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // from now; 0 = none
		left     int
		want     time.Duration // upper bound of the budget
		atLeast  time.Duration
	}{
		{"no deadline: the per-send maximum", 0, 3, maxSend, maxSend - time.Second},
		{"a long deadline: the maximum", time.Minute, 2, maxSend, maxSend - time.Second},
		{"a short deadline shared by the sends left", 10 * time.Second, 4, 2 * time.Second, 1500 * time.Millisecond},
		{"past the reserve: a floor, so the send still fails fast", time.Second, 5, 100 * time.Millisecond, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			got, cancel := sendBudget(ctx, tt.left)
			defer cancel()
			d, ok := got.Deadline()
			if !ok {
				t.Fatal("no deadline on the send")
			}
			if b := time.Until(d); b > tt.want || b < tt.atLeast {
				t.Fatalf("budget %v, want between %v and %v", b, tt.atLeast, tt.want)
			}
		})
	}
}
