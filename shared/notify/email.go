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
)

// emailData is what the approval email shows.
type emailData struct {
	Requester string
	Resource  string
	RoleARN   string
	Duration  string
	Reason    string
	Requested string
	Expires   string
	URL       string
	ID        string
}

// ApprovalEmail renders the message asking approver to decide on r. Both
// buttons open the decision page; nothing is decided by opening a link.
func ApprovalEmail(r *access.Request, approver, url string, linkExpires time.Time) (Message, error) {
	d := emailData{
		Requester: r.Requester, Resource: r.Resource, RoleARN: r.Target.RoleARN,
		Duration: access.FormatDuration(r.Duration), Reason: r.Reason,
		Requested: r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		Expires:   linkExpires.UTC().Format("2006-01-02 15:04 UTC"),
		URL:       url, ID: r.ID,
	}
	var text, html bytes.Buffer
	if err := textEmail.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("render email text: %w", err)
	}
	if err := htmlEmail.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("render email html: %w", err)
	}
	who := r.Requester[strings.LastIndex(r.Requester, "/")+1:]
	return Message{
		To:      approver,
		Subject: fmt.Sprintf("Approve %s access to %s for %s?", d.Duration, r.Resource, who),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

var textEmail = texttemplate.Must(texttemplate.New("text").Parse(`{{.Requester}} asks for access.

Resource:  {{.Resource}} ({{.RoleARN}})
Duration:  {{.Duration}}, starting when approved
Reason:    {{.Reason}}
Requested: {{.Requested}}

Approve or deny: {{.URL}}

The link is for you alone, works once, and expires {{.Expires}}.
Request {{.ID}}
`))

var htmlEmail = template.Must(template.New("html").Parse(`<!doctype html>
<html><body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1b1f24">
<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px">
<tr><td>
<p style="font-size:18px;margin:0 0 16px"><strong>{{.Requester}}</strong> asks for access.</p>
<table role="presentation" style="font-size:15px;line-height:1.5">
<tr><td style="color:#57606a;padding-right:12px">Resource</td><td><strong>{{.Resource}}</strong><br><span style="color:#57606a;font-size:13px">{{.RoleARN}}</span></td></tr>
<tr><td style="color:#57606a;padding-right:12px">Duration</td><td>{{.Duration}}, starting when approved</td></tr>
<tr><td style="color:#57606a;padding-right:12px">Reason</td><td>{{.Reason}}</td></tr>
<tr><td style="color:#57606a;padding-right:12px">Requested</td><td>{{.Requested}}</td></tr>
</table>
<p style="margin:24px 0">
<a href="{{.URL}}?decision=approve" style="display:inline-block;background:#1a7f37;color:#ffffff;text-decoration:none;padding:12px 24px;border-radius:6px;font-weight:600;margin-right:8px">Approve</a>
<a href="{{.URL}}?decision=deny" style="display:inline-block;background:#cf222e;color:#ffffff;text-decoration:none;padding:12px 24px;border-radius:6px;font-weight:600">Deny</a>
</p>
<p style="font-size:13px;color:#57606a">Each button opens a page where you confirm. The link is for you alone, works once, and expires {{.Expires}}. Request {{.ID}}.</p>
</td></tr></table>
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
	_, err := s.API.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	})
	if err != nil {
		return fmt.Errorf("send email to %s: %w", m.To, err)
	}
	return nil
}
