package notify

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/untrusted"
)

// emailData is what the approval email shows. Text people typed is
// cleaned (untrusted) when it is put here; the templates escape it.
type emailData struct {
	Requester string
	Resource  string
	// Target is what the grant changes, on one line (a role ARN, a
	// permission set in an account).
	Target   string
	Duration string
	Window   string
	// ReasonLines are the reason's lines: the text part quotes each, the
	// HTML part breaks between them.
	ReasonLines []string
	Ticket      string
	TicketURL   string
	Requested   string
	Expires     string
	Chain       string
	URL         string
	ID          string
	BreakGlass  bool
}

func newEmailData(r *access.Request) emailData {
	d := emailData{
		Requester: untrusted.Line(r.Requester), Resource: untrusted.Line(r.Resource), Target: r.Target.String(),
		Duration: access.FormatDuration(r.Duration), ReasonLines: untrusted.Lines(r.Reason),
		Ticket: untrusted.Line(r.Ticket), TicketURL: r.TicketURL,
		Requested: r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), ID: r.ID,
		Window: "starting when approved",
	}
	if r.StartAt != nil {
		d.Window = "from " + r.StartAt.UTC().Format("2006-01-02 15:04 UTC") + " to " + r.StartAt.Add(r.Duration).UTC().Format("15:04 UTC")
	}
	return d
}

// Ask is one level of a request asking its approvers to decide.
type Ask struct {
	Level     int
	Escalated bool
	// At is when the level was asked (its escalation comes one level
	// timeout later); LinkExpires when the links sent now expire.
	At, LinkExpires time.Time
}

// chainLine says where this level stands: "Level 1 of 2 (security): 2
// approvals needed; escalates to X at 11:00 UTC".
func chainLine(r *access.Request, ask Ask) string {
	if ask.Level >= len(r.Chain) {
		return ""
	}
	l := r.Chain[ask.Level]
	s := fmt.Sprintf("Level %d of %d", ask.Level+1, len(r.Chain))
	if l.Name != "" {
		s += " (" + l.Name + ")"
	}
	if l.MinApprovals > 1 {
		s += fmt.Sprintf(": %d approvals needed", l.MinApprovals)
	} else {
		s += ": 1 approval needed"
	}
	switch {
	case ask.Escalated:
		s += "; escalated after no decision in time"
	case len(l.EscalateTo) > 0:
		s += "; escalates to " + strings.Join(l.EscalateTo, ", ") + " at " + ask.At.Add(l.Timeout).UTC().Format("15:04 UTC")
	}
	return s
}

func init() {
	renderers[ChannelEmail] = func(r *access.Request, approver, _, url string, _ link.Token, ask Ask) (Message, error) {
		return ApprovalEmail(r, approver, url, ask)
	}
}

// ApprovalEmail renders the message asking approver to decide on r.
// Both buttons open the decision page; nothing is decided by opening a
// link.
func ApprovalEmail(r *access.Request, approver, url string, ask Ask) (Message, error) {
	d := newEmailData(r)
	d.URL = url
	d.Expires = ask.LinkExpires.UTC().Format("2006-01-02 15:04 UTC")
	d.Chain = chainLine(r, ask)
	var text, html bytes.Buffer
	if err := textEmail.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("render email text: %w", err)
	}
	if err := htmlEmail.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("render email html: %w", err)
	}
	return Message{
		To:      approver,
		Subject: fmt.Sprintf("Approve %s access to %s for %s?", d.Duration, d.Resource, who(d.Requester)),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

// BreakGlassEmail tells an approver that r took access without approval.
func BreakGlassEmail(r *access.Request, approver string) (Message, error) {
	d := newEmailData(r)
	d.BreakGlass = true
	d.Window = "granted at once"
	var text, html bytes.Buffer
	if err := textBreakGlass.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("render email text: %w", err)
	}
	if err := htmlEmail.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("render email html: %w", err)
	}
	return Message{
		To:      approver,
		Subject: fmt.Sprintf("BREAK-GLASS: %s took %s access to %s", who(d.Requester), d.Duration, d.Resource),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

func who(principal string) string { return principal[strings.LastIndex(principal, "/")+1:] }

// The text part quotes the reason, a line of "  > " per line it has, so
// no line of it can pass for one of the message's own (a second
// "Approve or deny:" link).
var textEmail = texttemplate.Must(texttemplate.New("text").Parse(`{{.Requester}} asks for access.

Resource:  {{.Resource}} ({{.Target}})
Duration:  {{.Duration}}, {{.Window}}
{{if .Ticket}}Ticket:    {{.Ticket}}{{if .TicketURL}} {{.TicketURL}}{{end}}
{{end}}Requested: {{.Requested}}
{{with .Chain}}{{.}}
{{end}}
Reason, as the requester wrote it:
{{range .ReasonLines}}  > {{.}}
{{else}}  (none given)
{{end}}
Approve or deny: {{.URL}}

The link is for you alone: whoever has it can decide as you, so do not
forward it. It works once and expires {{.Expires}}.
Request {{.ID}}
`))

var textBreakGlass = texttemplate.Must(texttemplate.New("bg").Parse(`BREAK-GLASS: {{.Requester}} took access without approval.

Resource:  {{.Resource}} ({{.Target}})
Duration:  {{.Duration}}
Reason, as the requester wrote it:
{{range .ReasonLines}}  > {{.}}
{{else}}  (none given)
{{end}}{{if .Ticket}}Ticket:    {{.Ticket}}{{if .TicketURL}} {{.TicketURL}}{{end}}
{{end}}Requested: {{.Requested}}

Access was granted at once and ends automatically. The request is flagged
in the audit trail. You are told because you approve this resource.
Request {{.ID}}
`))

var htmlEmail = template.Must(template.New("html").Parse(`<!doctype html>
<html lang="en"><body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1b1f24">
<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px">
<tr><td>
{{if .BreakGlass}}<p style="font-size:18px;margin:0 0 16px;color:#cf222e"><strong>Break-glass:</strong> <strong>{{.Requester}}</strong> took access without approval.</p>
{{else}}<p style="font-size:18px;margin:0 0 16px"><strong>{{.Requester}}</strong> asks for access.</p>
{{end}}<table role="presentation" style="font-size:15px;line-height:1.5">
<tr><td style="color:#57606a;padding-right:12px">Resource</td><td><strong>{{.Resource}}</strong><br><span style="color:#57606a;font-size:13px">{{.Target}}</span></td></tr>
<tr><td style="color:#57606a;padding-right:12px">Duration</td><td>{{.Duration}}, {{.Window}}</td></tr>
<tr><td style="color:#57606a;padding-right:12px">Reason</td><td>{{range $i, $l := .ReasonLines}}{{if $i}}<br>{{end}}{{$l}}{{end}}</td></tr>
{{if .Ticket}}<tr><td style="color:#57606a;padding-right:12px">Ticket</td><td>{{if .TicketURL}}<a href="{{.TicketURL}}" style="color:#0969da">{{.Ticket}}</a>{{else}}{{.Ticket}}{{end}}</td></tr>
{{end}}<tr><td style="color:#57606a;padding-right:12px">Requested</td><td>{{.Requested}}</td></tr>
{{with .Chain}}<tr><td style="color:#57606a;padding-right:12px">Approval</td><td>{{.}}</td></tr>
{{end}}</table>
{{if .URL}}<p style="margin:24px 0">
<a href="{{.URL}}?decision=approve" style="display:inline-block;background:#1a7f37;color:#ffffff;text-decoration:none;padding:12px 24px;border-radius:6px;font-weight:600;margin-right:8px">Approve</a>
<a href="{{.URL}}?decision=deny" style="display:inline-block;background:#cf222e;color:#ffffff;text-decoration:none;padding:12px 24px;border-radius:6px;font-weight:600">Deny</a>
</p>
<p style="font-size:13px;color:#57606a">Each button opens a page where you confirm. The link is for you alone: whoever has it can decide as you, so do not forward it. It works once and expires {{.Expires}}. Request {{.ID}}.</p>
{{else}}<p style="font-size:13px;color:#57606a">Access was granted at once and ends automatically. Request {{.ID}}.</p>
{{end}}</td></tr></table>
</body></html>
`))

// SES sends email through SES v2.
type SES struct {
	API interface {
		SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
	}
	From string
}

// Send delivers m with both HTML and plain-text parts.
func (s *SES) Send(ctx context.Context, m Message) error {
	body := &types.Body{Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")}}
	if m.HTML != "" {
		body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")}
	}
	_, err := s.API.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body:    body,
		}},
	})
	if err != nil {
		return fmt.Errorf("send email to %s: %w", m.To, err)
	}
	return nil
}
