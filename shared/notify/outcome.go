package notify

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/mail"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/target"
	"github.com/jitaccess/jit/shared/untrusted"
	"github.com/jitaccess/jit/shared/workflow"
)

// ActionOutcome is the notify action that tells the requester what became
// of their request.
const ActionOutcome = "outcome"

// OutcomeTask is the payload of the outcome action:
// {"action":"outcome","request_id":"…","outcome":"granted"}.
type OutcomeTask struct {
	Action    string `json:"action"`
	RequestID string `json:"request_id"`
	Outcome   string `json:"outcome"`
}

// Outcomes the requester is told about.
const (
	OutcomeApproved = "approved"
	OutcomeDenied   = "denied"
	OutcomeTimedOut = "timed_out"
	OutcomeGranted  = "granted"
	OutcomeRevoked  = "revoked"
	OutcomeExpired  = "expired"
	OutcomeFailed   = "failed"
)

// Outcome emails the requester what became of their request, at the email
// of the person the policy's identities say they are. A requester who is
// no identified person (a CI role, or a session merely named like an
// email) cannot be reached: that is logged and is not an error.
func (h *Handler) Outcome(ctx context.Context, task OutcomeTask) error {
	if !knownOutcome(task.Outcome) {
		return fmt.Errorf("notify: unknown outcome %q", task.Outcome)
	}
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return fmt.Errorf("outcome notice: %w", err)
	}
	return h.tell(ctx, r, task.Outcome)
}

// Hold stores the Hold task's token on the active request, so revoke and
// extend can signal the running execution, and then tells the requester
// the task's notice (that access was granted). The write returns the
// request, so the notice needs no read. A notice that cannot be sent is
// logged and never fails the hold: access must not wait on mail. A
// revoke asked for before the hold began could not be signalled: the
// hold ends at once with workflow.RevokeRequested.
func (h *Handler) Hold(ctx context.Context, task workflow.HoldTask) error {
	r, err := h.Store.SetHoldToken(ctx, task.RequestID, string(task.TaskToken))
	if err != nil {
		return fmt.Errorf("hold %s: %w", task.RequestID, err)
	}
	if task.Notice != "" {
		if !knownOutcome(task.Notice) {
			h.Logger.ErrorContext(ctx, "hold: unknown notice", "request", r.ID, "notice", task.Notice)
		} else if err := h.tell(ctx, r, task.Notice); err != nil {
			h.Logger.WarnContext(ctx, "outcome notice not sent", "request", r.ID, "outcome", task.Notice, "error", err.Error())
		}
	}
	if r.RevokeRequestedBy != "" {
		return &workflow.RevokeRequested{ID: r.ID, By: r.RevokeRequestedBy}
	}
	return nil
}

// tell emails r's requester the notice of outcome.
func (h *Handler) tell(ctx context.Context, r *access.Request, outcome string) error {
	doc, err := h.policy(ctx, r.PolicyVersion)
	if err != nil {
		return fmt.Errorf("outcome notice: %w", err)
	}
	to, ok := RequesterEmail(access.DirectoryOf(doc).Identify(r.Requester))
	if !ok {
		h.Logger.InfoContext(ctx, "requester is no identified person; outcome not sent", "request", r.ID, "outcome", outcome, "requester", r.Requester)
		return nil
	}
	var history []access.Event
	if needsHistory(r, outcome) {
		if history, err = h.Store.History(ctx, r.ID); err != nil {
			return fmt.Errorf("outcome notice: %w", err)
		}
	}
	m, err := OutcomeEmail(r, outcome, history, to)
	if err != nil {
		return err
	}
	if h.sendAll(ctx, r, []Message{m}, nil, map[string]string{"notice": outcome}) == 0 {
		return fmt.Errorf("outcome notice %s for %s: could not be sent", outcome, r.ID)
	}
	return nil
}

// needsHistory reports whether the notice of outcome says something only
// the request's events hold: a denial's comment, who revoked and why, a
// failure's error, an approver the request does not name. The others
// (granted, expired, timed out, most approvals) are told from the request
// alone, without reading its history.
func needsHistory(r *access.Request, outcome string) bool {
	switch outcome {
	case OutcomeDenied, OutcomeRevoked, OutcomeFailed:
		return true
	case OutcomeApproved:
		return r.DecidedBy == "" && !r.BreakGlass && r.AutoApprovedBy == ""
	}
	return false
}

func knownOutcome(o string) bool {
	switch o {
	case OutcomeApproved, OutcomeDenied, OutcomeTimedOut, OutcomeGranted, OutcomeRevoked, OutcomeExpired, OutcomeFailed:
		return true
	}
	return false
}

// RequesterEmail returns the email of the identified person p is: a
// session name proves nothing unless AWS fixed it (see access.Directory).
func RequesterEmail(p access.Principal) (string, bool) {
	a, err := mail.ParseAddress(p.Person)
	if err != nil || a.Address != p.Person || a.Name != "" || !strings.Contains(p.Person, "@") {
		return "", false
	}
	return p.Person, true
}

// outcomeView is one outcome notice, rendered as text and HTML.
type outcomeView struct {
	Subject string
	Heading string
	Tone    string // good, bad, warn
	Lines   []string
	Facts   []target.Fact
	Quote   string // an approver's comment, quoted
	Command string // a command to run
	After   string // a line after the command
	ID      string
}

// OutcomeEmail renders the notice of outcome for r's requester. history
// supplies who decided, their comment, and errors.
func OutcomeEmail(r *access.Request, outcome string, history []access.Event, to string) (Message, error) {
	if !knownOutcome(outcome) {
		return Message{}, fmt.Errorf("unknown outcome %q", outcome)
	}
	dur, res := access.FormatDuration(r.Duration), r.Resource
	v := outcomeView{ID: r.ID}
	what := dur + " access to " + res
	ev := lastEvent(history, outcome)
	by := r.DecidedBy
	if ev != nil && ev.Actor != "" && ev.Actor != access.System && (by == "" || outcome == OutcomeRevoked) {
		by = ev.Actor
	}
	switch outcome {
	case OutcomeApproved:
		v.Subject, v.Heading, v.Tone = "Approved: "+what, "Your request was approved", "good"
		switch {
		case r.BreakGlass:
			v.Lines = append(v.Lines, "Your break-glass request for "+what+" was granted without approval. Every approver was told.")
		case r.AutoApprovedBy != "":
			v.Lines = append(v.Lines, "Your request for "+what+" was approved automatically by the policy rule "+strconv.Quote(r.AutoApprovedBy)+".")
		case by != "":
			v.Lines = append(v.Lines, "Your request for "+what+" was approved by "+by+".")
		default:
			v.Lines = append(v.Lines, "Your request for "+what+" was approved.")
		}
		if r.StartAt != nil {
			v.Lines = append(v.Lines, "Access starts at "+stamp(*r.StartAt)+" and ends automatically "+dur+" later.")
		} else {
			v.Lines = append(v.Lines, "Access starts in a moment and ends automatically after "+dur+".")
		}
		v.Command, v.After = "jit creds "+r.ID, "Once access is active, this prints credentials for the role."
	case OutcomeDenied:
		v.Subject, v.Heading, v.Tone = "Denied: "+what, "Your request was denied", "bad"
		if by != "" {
			v.Lines = append(v.Lines, by+" denied your request for "+what+".")
		} else {
			v.Lines = append(v.Lines, "Your request for "+what+" was denied.")
		}
		if ev != nil {
			v.Quote = untrusted.Line(ev.Detail["comment"])
		}
		v.Lines = append(v.Lines, "No access was granted.")
	case OutcomeTimedOut:
		v.Subject, v.Heading, v.Tone = "Timed out: "+what, "Nobody decided in time", "warn"
		v.Lines = append(v.Lines, "Your request for "+what+" timed out: no approver decided before the approval window closed.", "No access was granted. Ask again if you still need it.")
	case OutcomeGranted:
		v.Subject, v.Heading, v.Tone = "Access granted: "+res+" for "+dur, "Your access is active", "good"
		v.Facts = append(v.Facts, r.Target.Facts()...)
		if r.Target.AssumableRole() != "" {
			v.Lines = append(v.Lines, "You have "+what+". Take the role with exactly this session name; other session names are refused.")
			v.Facts = append(v.Facts, target.Fact{Label: "Session name", Value: access.RoleSessionName(r.Requester)})
			v.Command = "jit creds " + r.ID
		} else {
			v.Lines = append(v.Lines, "You have "+what+".", r.Target.UseText())
		}
		if r.ExpiresAt != nil {
			v.Facts = append(v.Facts, target.Fact{Label: "Expires", Value: stamp(*r.ExpiresAt)})
		}
	case OutcomeRevoked:
		v.Subject, v.Heading, v.Tone = "Revoked: "+res, "Your access was revoked", "warn"
		s := "Your access to " + res + " was revoked"
		if by != "" {
			s += " by " + by
		}
		if r.EndedAt != nil {
			s += " at " + stamp(*r.EndedAt)
		}
		v.Lines = append(v.Lines, s+". Sessions already started last until their own expiry; no new ones can be started.")
		if ev != nil {
			v.Quote = untrusted.Line(firstOf(ev.Detail, "comment", "reason"))
		}
	case OutcomeExpired:
		v.Subject, v.Heading, v.Tone = "Expired: "+res, "Your access ended", "warn"
		s := "Your " + what + " ended"
		if r.EndedAt != nil {
			s += " at " + stamp(*r.EndedAt)
		}
		v.Lines = append(v.Lines, s+", as approved. Ask again if you need more time.")
	case OutcomeFailed:
		v.Subject, v.Heading, v.Tone = "Failed: "+what, "Your request failed", "bad"
		v.Lines = append(v.Lines, "Your request for "+what+" failed, and no access remains from it.")
		if ev != nil && ev.Detail["error"] != "" {
			v.Facts = []target.Fact{{Label: "Error", Value: ev.Detail["error"]}}
		}
		v.Lines = append(v.Lines, "Ask again, or tell an admin if it keeps failing.")
	}
	var text, html bytes.Buffer
	if err := outcomeText.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("render outcome text: %w", err)
	}
	if err := outcomeHTML.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render outcome html: %w", err)
	}
	return Message{Channel: ChannelEmail, To: to, Subject: v.Subject, Text: text.String(), HTML: html.String()}, nil
}

// lastEvent is the latest event of type typ (the status an outcome
// reached), or the latest event at all.
func lastEvent(history []access.Event, typ string) *access.Event {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Type == typ {
			return &history[i]
		}
	}
	if len(history) > 0 {
		return &history[len(history)-1]
	}
	return nil
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if m[k] != "" {
			return m[k]
		}
	}
	return ""
}

var outcomeText = texttemplate.Must(texttemplate.New("outcome").Parse(`{{.Heading}}.

{{range .Lines}}{{.}}
{{end}}{{with .Quote}}
Comment: "{{.}}"
{{end}}{{if .Facts}}
{{range .Facts}}{{printf "%-13s" (print .Label ":")}} {{.Value}}
{{end}}{{end}}{{with .Command}}
Get credentials:

    {{.}}
{{end}}{{with .After}}
{{.}}
{{end}}
Request {{.ID}}
`))

var outcomeHTML = template.Must(template.New("outcome").Parse(`<!doctype html>
<html lang="en"><body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1b1f24">
<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px;border-top:4px solid {{if eq .Tone "good"}}#1a7f37{{else if eq .Tone "bad"}}#cf222e{{else}}#9a6700{{end}}">
<tr><td>
<p style="font-size:18px;margin:0 0 16px"><strong>{{.Heading}}</strong></p>
{{range .Lines}}<p style="font-size:15px;line-height:1.5;margin:0 0 12px">{{.}}</p>
{{end}}{{with .Quote}}<blockquote style="margin:0 0 12px;padding:8px 12px;border-left:4px solid #8c959f;color:#1b1f24;font-size:15px">{{.}}</blockquote>
{{end}}{{if .Facts}}<table role="presentation" style="font-size:15px;line-height:1.5;margin:0 0 12px">
{{range .Facts}}<tr><td style="color:#57606a;padding-right:12px;vertical-align:top">{{.Label}}</td><td style="word-break:break-all">{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{with .Command}}<p style="font-size:15px;margin:0 0 4px">Get credentials:</p>
<pre style="background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;font-size:14px;margin:0 0 12px;white-space:pre-wrap">{{.}}</pre>
{{end}}{{with .After}}<p style="font-size:13px;color:#57606a;margin:0 0 12px">{{.}}</p>
{{end}}<p style="font-size:13px;color:#57606a;margin:16px 0 0">Request {{.ID}}</p>
</td></tr></table>
</body></html>
`))

// stamp writes a time the way every message does.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
