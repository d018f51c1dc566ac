package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/slack"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// Store is what notifying needs from the table.
type Store interface {
	GetRequest(context.Context, string) (*access.Request, error)
	RequestApproval(ctx context.Context, r *access.Request, level int, taskToken string, links []store.Link, at time.Time) error
	MoveOn(ctx context.Context, r *access.Request, level int, step access.TimeoutStep, at time.Time) error
	SetHoldToken(ctx context.Context, id, token string) (*access.Request, error)
	Record(ctx context.Context, ev access.Event) error
	// History, PolicyVersion and CurrentPolicy give the details a request
	// does not carry: comments, errors, approvers' phone numbers and
	// Slack ids.
	History(ctx context.Context, id string) ([]access.Event, error)
	PolicyVersion(ctx context.Context, version int) (*store.PolicyVersion, error)
	CurrentPolicy(ctx context.Context) (*store.PolicyVersion, error)
}

// Sender delivers one message on one channel.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Message is one rendered message to one recipient on one channel.
type Message struct {
	// Channel is the channel's name (shared/channel); the zero value
	// means email.
	Channel string
	// To is the recipient's address on the channel: an email address, an
	// E.164 phone number, a Slack user id.
	To      string
	Subject string
	Text    string
	HTML    string
	// Slack is the approval a Slack direct message shows, with its link;
	// SlackNotice the notice a Slack channel gets, without one.
	Slack       *slack.Approval
	SlackNotice *slack.Notice
}

func (m Message) channel() string {
	if m.Channel == "" {
		return ChannelEmail
	}
	return m.Channel
}

// Handler runs the workflow's notify tasks: AwaitApproval (ask a level),
// LevelTimedOut (decide what a timeout leads to), AnnounceBreakGlass,
// Hold (wait out the window, telling the requester it was granted), and
// Outcome (tell the requester what became of their request).
type Handler struct {
	Store Store
	// Senders deliver messages, by channel name. Email's is required; a
	// resource's other channels are used only where they have a sender.
	// Slack's may be a SlackSender, which says whether it posts direct
	// messages (that may carry a link) or to a channel (that may not).
	Senders map[string]Sender
	Logger  *slog.Logger
	Now     func() time.Time
	Random  io.Reader
	// AuditEverySend records a notification_sent event for every message
	// sent; otherwise only messages that could not be sent are recorded
	// (and every send is logged).
	AuditEverySend bool

	policies policyCache
}

// EventNotificationSent records one message sent (or not) on one channel.
// Its detail names the channel, the recipient and the outcome, never the
// link.
const EventNotificationSent = "notification_sent"

// Send outcomes in notification_sent events.
const (
	SendOK     = "sent"
	SendFailed = "failed"
	// SMSDeliveryUnconfirmed is the delivery detail of an SMS SNS took.
	SMSDeliveryUnconfirmed = "unconfirmed: SNS accepted it; sandbox, spend limit or origination identity can still drop it"
)

// ErrNobodyToAsk is returned when a level has no approver other than the
// requester, so no decision could ever arrive.
var ErrNobodyToAsk = errors.New("no approver other than the requester")

// Handle dispatches on the payload's action.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var head struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("notify: payload: %w", err)
	}
	switch head.Action {
	case workflow.ActionRequestApproval, "":
		var task workflow.ApprovalTask
		if err := json.Unmarshal(payload, &task); err != nil {
			return nil, fmt.Errorf("notify: payload: %w", err)
		}
		return nil, h.RequestApproval(ctx, task)
	case workflow.ActionLevelTimeout:
		var task workflow.TimeoutTask
		if err := json.Unmarshal(payload, &task); err != nil {
			return nil, fmt.Errorf("notify: payload: %w", err)
		}
		return h.LevelTimedOut(ctx, task)
	case ActionOutcome:
		var task OutcomeTask
		if err := json.Unmarshal(payload, &task); err != nil {
			return nil, fmt.Errorf("notify: payload: %w", err)
		}
		return nil, h.Outcome(ctx, task)
	case workflow.ActionHold:
		var task workflow.HoldTask
		if err := json.Unmarshal(payload, &task); err != nil {
			return nil, fmt.Errorf("notify: payload: %w", err)
		}
		return nil, h.Hold(ctx, task)
	case workflow.ActionBreakGlass:
		var task workflow.ApprovalTask
		if err := json.Unmarshal(payload, &task); err != nil {
			return nil, fmt.Errorf("notify: payload: %w", err)
		}
		return nil, h.AnnounceBreakGlass(ctx, task)
	}
	return nil, fmt.Errorf("notify: unknown action %q", head.Action)
}

// RequestApproval sends the level's approvers their decision links (after
// an escalation, only the approvers escalated to).
func (h *Handler) RequestApproval(ctx context.Context, task workflow.ApprovalTask) error {
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if r.Status != access.Pending {
		// Cancelled or decided before we ran: nothing to ask.
		h.Logger.InfoContext(ctx, "request no longer pending", "request", r.ID, "status", r.Status)
		return nil
	}
	level := task.Await.Level
	now := h.Now().UTC()
	timeout := time.Duration(task.Await.TimeoutSeconds) * time.Second
	// Links live as long as the level may, through its escalation too,
	// but never longer than a bearer credential should.
	expires := now.Add(timeout)
	if !task.Await.Escalated && level < len(r.Chain) && len(r.Chain[level].EscalateTo) > 0 {
		expires = expires.Add(timeout)
	}
	if limit := now.Add(link.MaxLifetime); expires.After(limit) {
		expires = limit
	}
	ask := Ask{Level: level, Escalated: task.Await.Escalated, At: now, LinkExpires: expires}
	approvers := r.AskedAt(level, task.Await.Escalated)
	if len(r.Chain) == 0 {
		approvers = r.Approvers
	}
	contacts := h.directory(ctx, r)
	slackDM := h.slackDirect(ctx)
	base := strings.TrimRight(task.LinkBaseURL, "/")
	var links []store.Link
	var msgs []Message
	var recipients []string
	// Without direct messages, Slack gets one notice for the level.
	var mentions, mentioned []string
	for _, approver := range approvers {
		if access.SamePerson(approver, "", access.Principal{ARN: r.Requester}) {
			continue
		}
		c := contacts.lookup(approver)
		// One link per channel: each message carries its own token, and
		// the decision records the channel it came through.
		for _, ch := range c.channels() {
			if ch == ChannelSlack && !slackDM {
				mentions, mentioned = append(mentions, c[ch]), append(mentioned, approver)
				continue
			}
			render := renderers[ch]
			if render == nil {
				return fmt.Errorf("notify %s: channel %q has a sender but renders no message", r.ID, ch)
			}
			tok, err := link.New(h.Random)
			if err != nil {
				return err
			}
			links = append(links, store.Link{
				Hash: tok.Hash(), RequestID: r.ID, Level: level, Approver: approver,
				Channel: ch, CreatedAt: now, ExpiresAt: expires,
			})
			msg, err := render(r, approver, c[ch], base+"/d/"+tok.Reveal(), tok, ask)
			if err != nil {
				return err
			}
			msgs = append(msgs, msg)
			recipients = append(recipients, approver)
		}
	}
	if len(links) == 0 {
		return fmt.Errorf("request %s level %d: %w", r.ID, level, ErrNobodyToAsk)
	}
	if len(mentions) > 0 {
		msgs = append(msgs, SlackNotice(r, mentions, ask))
		recipients = append(recipients, strings.Join(mentioned, ", "))
	}
	if err := h.Store.RequestApproval(ctx, r, level, string(task.TaskToken), links, now); err != nil {
		return fmt.Errorf("notify %s: %w", r.ID, err)
	}
	sent := h.sendAll(ctx, r, msgs, recipients, map[string]string{"level": fmt.Sprint(level)})
	if sent == 0 {
		return fmt.Errorf("notify %s: no approval message could be sent", r.ID)
	}
	h.Logger.InfoContext(ctx, "approval requested", "request", r.ID, "level", level, "escalated", task.Await.Escalated, "sent", sent, "of", len(msgs))
	return nil
}

// slackDirect reports whether Slack messages go to one approver each, and
// so may carry a link. When that cannot be told (the secret is
// unreadable), they may not: the notice is tried, and its failure
// audited, like any send.
func (h *Handler) slackDirect(ctx context.Context) bool {
	s, ok := h.Senders[ChannelSlack].(SlackSender)
	if !ok {
		return false
	}
	direct, err := s.Direct(ctx)
	return err == nil && direct
}

// sendAll sends every message; one failing recipient or channel must not
// stop the others. approvers[i], when given, is the person msgs[i] is
// for. Each send is logged and audited (see AuditEverySend). It returns
// how many were sent.
func (h *Handler) sendAll(ctx context.Context, r *access.Request, msgs []Message, approvers []string, detail map[string]string) int {
	id := r.ID
	sent := 0
	var last time.Time
	for i, m := range msgs {
		ch := m.channel()
		outcome := SendOK
		sendCtx, cancel := sendBudget(ctx, len(msgs)-i)
		err := h.sender(ch).Send(sendCtx, m)
		cancel()
		if err != nil {
			outcome = SendFailed
			h.Logger.ErrorContext(ctx, "send "+ch, "request", id, "channel", ch, "to", m.To, "error", err.Error())
		} else {
			sent++
			h.Logger.InfoContext(ctx, "sent "+ch, "request", id, "channel", ch, "to", m.To)
		}
		if outcome == SendOK && !h.AuditEverySend {
			continue
		}
		// Events are keyed by time and type: keep them apart.
		at := h.Now().UTC()
		if !at.After(last) {
			at = last.Add(time.Microsecond)
		}
		last = at
		d := map[string]string{"channel": ch, "to": m.To, "outcome": outcome}
		for k, v := range detail {
			d[k] = v
		}
		if i < len(approvers) && approvers[i] != m.To {
			d["approver"] = approvers[i]
		}
		if ch == ChannelSMS && outcome == SendOK {
			// SNS accepting an SMS is not delivery: in the SMS sandbox, over
			// the account's spend limit, or without an origination identity
			// where one is required, SNS drops it without an error (Amazon
			// SNS Developer Guide, "Mobile text messaging (SMS)").
			d["delivery"] = SMSDeliveryUnconfirmed
		}
		if rerr := h.Store.Record(ctx, access.Event{Type: EventNotificationSent, Actor: access.System, At: at, Detail: d}.About(r)); rerr != nil {
			h.Logger.ErrorContext(ctx, "record notification", "request", id, "channel", ch, "error", rerr.Error())
		}
	}
	return sent
}

// Each send may take at most maxSend, and never so long that the sends
// after it, and recording them, cannot finish before the function's
// deadline: a function killed at its timeout is retried by the workflow,
// which sends every link again.
const (
	maxSend = 5 * time.Second
	// deadlineReserve is kept back from the deadline to record the
	// outcomes and answer.
	deadlineReserve = 2 * time.Second
)

// sendBudget bounds one send of the left still to go by the caller's
// deadline (the Lambda invocation's): an equal share of what remains
// after the reserve, at most maxSend.
func sendBudget(ctx context.Context, left int) (context.Context, context.CancelFunc) {
	budget := maxSend
	if deadline, ok := ctx.Deadline(); ok && left > 0 {
		share := (time.Until(deadline) - deadlineReserve) / time.Duration(left)
		budget = max(min(budget, share), 100*time.Millisecond)
	}
	return context.WithTimeout(ctx, budget)
}

// sender returns the sender for a channel; a channel without one fails
// its sends (RequestApproval never renders for it).
func (h *Handler) sender(ch string) Sender {
	if s := h.Senders[ch]; s != nil {
		return s
	}
	return noSender(ch)
}

type noSender string

func (n noSender) Send(context.Context, Message) error {
	return fmt.Errorf("no %s sender configured", string(n))
}

// LevelTimedOut decides what a level's timeout leads to, records it, and
// tells the workflow where to go: wait again (escalated, or the next
// level), grant (the request was approved just as the level timed out),
// stop (it already ended), or end as timed out.
func (h *Handler) LevelTimedOut(ctx context.Context, task workflow.TimeoutTask) (workflow.TimeoutResult, error) {
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return workflow.TimeoutResult{}, fmt.Errorf("level timeout: %w", err)
	}
	switch {
	case r.Status == access.Approved:
		return workflow.TimeoutResult{Action: workflow.TimeoutApproved}, nil
	case r.Status != access.Pending:
		return workflow.TimeoutResult{Action: workflow.TimeoutEnded}, nil
	case r.Level != task.Level:
		// A decision moved the request on but its signal did not arrive:
		// wait on the level it is at.
		return workflow.TimeoutResult{Action: workflow.TimeoutAwait, Await: awaitFor(r, r.Level, r.Escalated)}, nil
	}
	step := r.OnLevelTimeout(task.Level)
	if step.Action == access.StepTimedOut {
		return workflow.TimeoutResult{Action: workflow.TimeoutTimedOut}, nil
	}
	err = h.Store.MoveOn(ctx, r, task.Level, step, h.Now().UTC())
	if errors.Is(err, store.ErrConflict) {
		// A decision landed at the same moment; let the workflow look again.
		return workflow.TimeoutResult{}, &TransientError{Err: err}
	}
	if err != nil {
		return workflow.TimeoutResult{}, err
	}
	attrs := []any{"request", r.ID, "level", task.Level, "step", step.Action}
	if step.Action == access.StepEscalate {
		attrs = append(attrs, lambdaenv.Metric("Escalations", "Count", 1, h.Now())...)
	}
	h.Logger.InfoContext(ctx, "level timed out", attrs...)
	if step.Action == access.StepEscalate {
		return workflow.TimeoutResult{Action: workflow.TimeoutAwait, Await: awaitFor(r, task.Level, true)}, nil
	}
	return workflow.TimeoutResult{Action: workflow.TimeoutAwait, Await: awaitFor(r, step.Level, false)}, nil
}

func awaitFor(r *access.Request, level int, escalated bool) workflow.Await {
	a := workflow.Await{Level: level, Escalated: escalated, TimeoutSeconds: 3600}
	if level < len(r.Chain) {
		a.TimeoutSeconds = int64(r.Chain[level].Timeout / time.Second)
	}
	return a
}

// TransientError marks a failure worth retrying; the state machine's
// Retry matches its type name.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// AnnounceBreakGlass tells every approver of every level that access was
// taken without approval, and records who was told.
func (h *Handler) AnnounceBreakGlass(ctx context.Context, task workflow.ApprovalTask) error {
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return fmt.Errorf("break-glass notice: %w", err)
	}
	seen := map[string]bool{}
	var msgs []Message
	for _, l := range r.Chain {
		for _, a := range append(append([]string{}, l.Approvers...), l.EscalateTo...) {
			key := strings.ToLower(a)
			if seen[key] || access.SamePerson(a, "", access.Principal{ARN: r.Requester}) {
				continue
			}
			seen[key] = true
			m, err := BreakGlassEmail(r, a)
			if err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
	}
	sent := h.sendAll(ctx, r, msgs, nil, map[string]string{"notice": "break_glass"})
	var to []string
	for _, m := range msgs {
		to = append(to, m.To)
	}
	return h.Store.Record(ctx, access.Event{
		Type: access.EventBreakGlassNotified, Actor: access.System, At: h.Now().UTC(),
		Detail: map[string]string{"sent_to": strings.Join(to, ", "), "sent": fmt.Sprintf("%d of %d", sent, len(msgs))},
	}.About(r))
}
