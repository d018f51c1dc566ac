package decision

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/htmlpage"
	"github.com/jitaccess/jit/shared/target"
	"github.com/jitaccess/jit/shared/untrusted"
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
	// RequesterName is the requester's session name (their email, for
	// people): what a person recognises.
	RequesterName string
	Resource      string
	// Target are what the grant changes, labelled (Role, Permission set,
	// Account...), as the target's provider names them.
	Target   []target.Fact
	Duration string
	// ReasonLines are the reason's lines, shown quoted.
	ReasonLines []string
	Requested   string
	Status      string
	Ticket      string
	TicketURL   string
	Window      string
	Level       string
}

func summary(r *access.Request) *requestSummary {
	requester := untrusted.Line(r.Requester)
	s := &requestSummary{
		ID: r.ID, Requester: requester, RequesterName: who(requester), Resource: r.Resource, Target: r.Target.Facts(),
		Duration: access.FormatDuration(r.Duration), ReasonLines: untrusted.Lines(r.Reason),
		Requested: r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), Status: string(r.Status),
		Ticket: untrusted.Line(r.Ticket), TicketURL: r.TicketURL, Window: "starts when approved",
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

func render(status int, p page) events.APIGatewayV2HTTPResponse {
	return htmlpage.Render(status, pageTemplate, p, "Something went wrong. Nothing was decided.")
}

// pageTemplate is mobile first (one column, full-width controls, 48px
// buttons), meets WCAG AA contrast (see TestPageContrast) and shows focus.
// It may use inline styles only: the CSP allows nothing else.
var pageTemplate = htmlpage.Parse("page", nil, `{{template "head" .}}
<style>
main{max-width:36rem;margin:0 auto;padding:.75rem 1rem 2rem}
.who{margin:0 0 .5rem;font-size:1.125rem;line-height:1.35;overflow-wrap:anywhere}
.level{display:inline-block;margin:0 0 .75rem;padding:.25rem .625rem;border-radius:.5rem;background:#ddf4ff;color:#0a3069;font-weight:600;font-size:.9375rem}
@media (min-width:30rem){dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.375rem 1rem;align-items:baseline}dt,dt:first-child{margin:0}}
form{margin:0}
.buttons{display:flex;flex-direction:column;gap:.75rem}
@media (min-width:22rem){.buttons{flex-direction:row}}
button{flex:1;min-height:3rem;min-width:2.75rem;font:inherit;font-weight:700;padding:.75rem 1rem;border:0;border-radius:.5rem;color:#fff;cursor:pointer}
.approve{background:#1a7f37}.approve:hover{background:#116329}
.deny{background:#cf222e}.deny:hover{background:#a40e26}
.chosen{box-shadow:0 0 0 .1875rem #fff,0 0 0 .375rem #0969da}
details{margin:0 0 .75rem}
summary{padding:.625rem 0;cursor:pointer;color:#0969da;font-weight:600}
label{display:block;margin:.25rem 0 .375rem;font-weight:600}
textarea{display:block;width:100%;font:inherit;color:inherit;background:#fff;padding:.75rem;border:1px solid #6e7781;border-radius:.5rem;min-height:5.5rem;resize:vertical}
.hint{margin:.375rem 0 0;color:#57606a;font-size:.9375rem}
.fine{color:#57606a;font-size:.9375rem;margin:.75rem 0 0}
.quote{margin:0;padding:0 0 0 .625rem;border-left:.25rem solid #8c959f}
.meta{font-size:.9375rem}
.meta h2{font-size:1rem;margin:0 0 .25rem}
button:focus-visible{outline-offset:.25rem}
textarea:focus-visible{border-color:#0969da}
</style>
</head>
<body><main>
<p class="brand">jit · access request</p>
<h1>{{.Title}}</h1>
{{with .Message}}<p class="note {{$.Tone}}" role="status">{{.}}</p>{{end}}
{{with .Request}}
<section class="card" aria-labelledby="req-heading">
<h2 id="req-heading" class="who"><strong>{{.RequesterName}}</strong> asks for <strong>{{.Resource}}</strong> for <strong>{{.Duration}}</strong></h2>
{{if and $.Form .Level}}<p class="level">{{.Level}}</p>{{end}}
<dl>
<dt>Reason</dt><dd><blockquote class="quote">{{range $i, $l := .ReasonLines}}{{if $i}}<br>{{end}}{{$l}}{{else}}none given{{end}}</blockquote></dd>
{{if .Ticket}}<dt>Ticket</dt><dd>{{if .TicketURL}}<a href="{{.TicketURL}}" target="_blank" rel="noreferrer noopener">{{.Ticket}}</a>{{else}}{{.Ticket}}{{end}}</dd>{{end}}
<dt>Duration</dt><dd>{{.Duration}}, {{.Window}}</dd>
</dl>
</section>
{{end}}
{{if .Form}}
<form method="post" class="card" aria-label="Your decision">
<details{{if eq .Preselect "deny"}} open{{end}}>
<summary>Add a comment (optional)</summary>
<label for="comment">Comment</label>
<textarea id="comment" name="comment" maxlength="500" aria-describedby="comment-hint"></textarea>
<p id="comment-hint" class="hint">Kept in the audit trail and shown to the requester.</p>
</details>
{{if eq .Preselect "approve"}}<p class="hint" style="margin:0 0 .75rem">You chose <strong>Approve</strong> in your message. Confirm below.</p>{{else if eq .Preselect "deny"}}<p class="hint" style="margin:0 0 .75rem">You chose <strong>Deny</strong> in your message. Confirm below.</p>{{end}}
<div class="buttons">
<button class="approve{{if eq .Preselect "approve"}} chosen{{end}}" type="submit" name="decision" value="approve">Approve</button>
<button class="deny{{if eq .Preselect "deny"}} chosen{{end}}" type="submit" name="decision" value="deny">Deny</button>
</div>
<p class="fine">Deciding as <strong>{{.Approver}}</strong>. This link works once{{with .Expires}} and expires {{.}}{{end}}.</p>
</form>
{{end}}
{{with .Request}}
<section class="card meta" aria-labelledby="details-heading">
<h2 id="details-heading">Details</h2>
<dl>
{{range .Target}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>
{{end}}<dt>Requester</dt><dd>{{.Requester}}</dd>
<dt>Requested</dt><dd>{{.Requested}}</dd>
<dt>Request</dt><dd>{{.ID}}</dd>
</dl>
</section>
{{end}}
</main></body></html>
`)
