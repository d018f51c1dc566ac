package decision

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
)

// page is everything the one decision template can show.
type page struct {
	Title     string
	Message   string
	Tone      string // good, bad, warn, or "" for neutral
	Request   *requestSummary
	Approver  string
	Form      bool
	Preselect string
	Expires   string
}

type requestSummary struct {
	ID        string
	Requester string
	Resource  string
	RoleARN   string
	Duration  string
	Reason    string
	Requested string
	Status    string
	Ticket    string
	TicketURL string
	Window    string
	Level     string
}

func summary(r *access.Request) *requestSummary {
	s := &requestSummary{
		ID: r.ID, Requester: r.Requester, Resource: r.Resource, RoleARN: r.Target.RoleARN,
		Duration: access.FormatDuration(r.Duration), Reason: r.Reason,
		Requested: r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), Status: string(r.Status),
		Ticket: r.Ticket, TicketURL: r.TicketURL, Window: "starts when approved",
	}
	if r.StartAt != nil {
		s.Window = "from " + r.StartAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	if r.Status == access.Pending && r.Level < len(r.Chain) {
		l := r.Chain[r.Level]
		s.Level = fmt.Sprintf("Level %d of %d", r.Level+1, len(r.Chain))
		if l.Name != "" {
			s.Level += " (" + l.Name + ")"
		}
		s.Level += fmt.Sprintf(": %d of %d approvals", r.Approvals, r.Needed(r.Level))
	}
	return s
}

// securityHeaders: no scripts at all, styles only inline, forms only back
// here, no framing, and no Referer that would carry the token elsewhere.
var securityHeaders = map[string]string{
	"Content-Type":            "text/html; charset=utf-8",
	"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"Referrer-Policy":         "no-referrer",
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Cache-Control":           "no-store",
}

func render(status int, p page) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		status = 500
		b.Reset()
		b.WriteString("<!doctype html><title>Error</title><p>Something went wrong. Nothing was decided.</p>")
	}
	headers := make(map[string]string, len(securityHeaders))
	for k, v := range securityHeaders {
		headers[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: b.String()}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · jit</title>
<style>
body{margin:0;font:17px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f4f5f7;color:#1b1f24}
main{max-width:34rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}
dt{color:#57606a}dd{margin:0;overflow-wrap:anywhere}
.note{border-left:.3rem solid #57606a;padding:.75rem 1rem;margin:0 0 1rem;background:#fff;border-radius:.4rem}
.good{border-color:#1a7f37}.bad{border-color:#cf222e}.warn{border-color:#9a6700}
label{display:block;margin:1rem 0 .35rem;font-weight:600}
textarea{width:100%;box-sizing:border-box;font:inherit;padding:.6rem;border:1px solid #8c959f;border-radius:.4rem;min-height:4.5rem}
.buttons{display:flex;gap:.75rem;margin-top:1rem}
button{flex:1;font:inherit;font-weight:700;padding:.9rem 1rem;min-height:3rem;border:0;border-radius:.5rem;color:#fff;cursor:pointer}
.approve{background:#1a7f37}.deny{background:#cf222e}
.chosen{outline:.2rem solid #0969da;outline-offset:.15rem}
small{color:#57606a}
</style>
</head>
<body><main>
<h1>{{.Title}}</h1>
{{with .Message}}<p class="note {{$.Tone}}" role="status">{{.}}</p>{{end}}
{{with .Request}}
<section class="card" aria-label="Request">
<dl>
<dt>Requester</dt><dd>{{.Requester}}</dd>
<dt>Resource</dt><dd><strong>{{.Resource}}</strong><br><small>{{.RoleARN}}</small></dd>
<dt>Duration</dt><dd>{{.Duration}}, {{.Window}}</dd>
<dt>Reason</dt><dd>{{.Reason}}</dd>
{{if .Ticket}}<dt>Ticket</dt><dd>{{if .TicketURL}}<a href="{{.TicketURL}}" rel="noreferrer noopener">{{.Ticket}}</a>{{else}}{{.Ticket}}{{end}}</dd>{{end}}
{{if .Level}}<dt>Approval</dt><dd>{{.Level}}</dd>{{end}}
<dt>Requested</dt><dd>{{.Requested}}</dd>
<dt>Request</dt><dd><small>{{.ID}}</small></dd>
</dl>
</section>
{{end}}
{{if .Form}}
<form method="post">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="500"></textarea>
<div class="buttons">
<button class="approve{{if eq .Preselect "approve"}} chosen{{end}}" type="submit" name="decision" value="approve">Approve</button>
<button class="deny{{if eq .Preselect "deny"}} chosen{{end}}" type="submit" name="decision" value="deny">Deny</button>
</div>
<p><small>Deciding as {{.Approver}}. This link works once{{with .Expires}} and expires {{.}}{{end}}.</small></p>
</form>
{{end}}
</main></body></html>
`))
