package auditui

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/htmlpage"
)

// page is everything the one auditor template can show.
type page struct {
	Title string
	// Principal is who is signed in ("" on the sign-in pages).
	Principal string
	Message   string
	Tone      string // good, bad, warn, or "" for neutral
	SignIn    *signIn
	Search    *searchForm
	Timeline  *timeline
	Stats     *statsView
	// Back links to the search; BackURL to a given search instead.
	Back    bool
	BackURL string
	// TooLarge explains what to do with a search too large to download.
	TooLarge bool
	// ConfirmSignIn shows the button that spends a sign-in link.
	ConfirmSignIn bool
}

type signIn struct {
	// Local offers the local cloud's dev sign-in page.
	Local bool
}

type searchForm struct {
	Fields     []field
	EventTypes []string
	// Error sums up what is wrong with the search, above the form.
	Error string
	// Searched is false when the search was refused.
	Searched  bool
	Period    string
	Rows      []eventRow
	NextURL   string
	ExportURL string
	// StatsURL is the stats page for the search's resource and period.
	StatsURL string
}

type field struct {
	Name, Label, Hint, Value, Error string
	Options                         []option
}

// DescribedBy is the ids of the field's hint and error.
func (f field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "f-"+f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, "f-"+f.Name+"-error")
	}
	return strings.Join(ids, " ")
}

type option struct {
	Value, Label string
	Selected     bool
}

type eventRow struct {
	At, AtISO                string
	Type                     string
	Actor, ActorFull         string
	Requester, RequesterFull string
	Resource                 string
	RequestID                string
	// Linked: the event belongs to a request (policy changes do not).
	Linked              bool
	Change              string
	SourceIP, UserAgent string
	Detail              []pair
}

type pair struct{ K, V string }

const timeLayout = "2006-01-02 15:04:05 UTC"

func row(ev access.Event) eventRow {
	r := eventRow{
		At: ev.At.UTC().Format(timeLayout), AtISO: ev.At.UTC().Format(time.RFC3339Nano), Type: ev.Type,
		Actor: who(ev.Actor), ActorFull: ev.Actor, Requester: who(ev.Requester), RequesterFull: ev.Requester,
		Resource: ev.Resource, RequestID: ev.RequestID, Linked: access.ValidID(ev.RequestID), SourceIP: ev.SourceIP, UserAgent: ev.UserAgent,
	}
	if ev.From != "" || ev.To != "" {
		r.Change = strings.TrimSpace(string(ev.From) + " → " + string(ev.To))
	}
	keys := make([]string, 0, len(ev.Detail))
	for k := range ev.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.Detail = append(r.Detail, pair{k, ev.Detail[k]})
	}
	return r
}

// who is what a person recognises in a principal: the session name of an
// assumed role (their email, for people), else the whole value.
func who(principal string) string {
	if i := strings.LastIndex(principal, "/"); i >= 0 && strings.HasPrefix(principal, "arn:") && i+1 < len(principal) {
		return principal[i+1:]
	}
	return principal
}

type timeline struct {
	ID, Resource, Requester, RequesterFull, Reason, Status string
	Duration, Created, Window, Ticket, TicketURL           string
	Decided, Granted, Expires, Ended, Mode, Approvers      string
	RevokeRequestedBy                                      string
	Levels                                                 []string
	Events                                                 []eventRow
}

func newTimeline(r *access.Request, hist []access.Event) *timeline {
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(timeLayout)
	}
	t := &timeline{
		ID: r.ID, Resource: r.Resource, Requester: who(r.Requester), RequesterFull: r.Requester, Reason: r.Reason,
		Status: string(r.Status), Duration: access.FormatDuration(r.Duration), Created: r.CreatedAt.UTC().Format(timeLayout),
		Window: "starts when approved", Ticket: r.Ticket, TicketURL: r.TicketURL,
		Granted: stamp(r.GrantedAt), Expires: stamp(r.ExpiresAt), Ended: stamp(r.EndedAt),
		Approvers: strings.Join(r.Approvers, ", "), RevokeRequestedBy: r.RevokeRequestedBy,
	}
	if r.StartAt != nil {
		t.Window = "from " + stamp(r.StartAt)
	}
	if r.DecidedAt != nil {
		t.Decided = stamp(r.DecidedAt)
		if r.DecidedBy != "" {
			t.Decided += " by " + r.DecidedBy
		}
	} else if r.DecidedBy != "" {
		t.Decided = "by " + r.DecidedBy
	}
	switch {
	case r.BreakGlass:
		t.Mode = "break-glass (approval skipped, approvers told)"
	case r.AutoApprovedBy != "":
		t.Mode = "approved by policy rule " + r.AutoApprovedBy
	default:
		t.Mode = "approval"
	}
	for i, l := range r.Chain {
		s := fmt.Sprintf("Level %d", i+1)
		if l.Name != "" {
			s += " (" + l.Name + ")"
		}
		s += fmt.Sprintf(": %d of %s", r.Needed(i), strings.Join(l.Approvers, ", "))
		if len(l.EscalateTo) > 0 {
			s += "; escalates to " + strings.Join(l.EscalateTo, ", ")
		}
		t.Levels = append(t.Levels, s)
	}
	for _, ev := range hist {
		t.Events = append(t.Events, row(ev))
	}
	return t
}

func render(status int, p page) events.APIGatewayV2HTTPResponse {
	return htmlpage.Render(status, pageTemplate, p, "Something went wrong.")
}

// pageTemplate is mobile first (one column; the results table scrolls
// inside its own region, never the page), meets WCAG AA contrast (see
// TestPageContrast), shows focus and labels every field. Inline styles
// only: the CSP allows nothing else.
var pageTemplate = htmlpage.Parse("page", template.FuncMap{"who": who}, `{{template "head" .}}
<style>
main{max-width:76rem;margin:0 auto;padding:.75rem 1rem 2rem}
h2{font-size:1.125rem;margin:0 0 .5rem}
@media (min-width:30rem){dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.375rem 1rem;align-items:baseline}dl.facts dt{margin:0}}
.fields{display:grid;grid-template-columns:minmax(0,1fr);gap:.75rem}
@media (min-width:48rem){.fields{grid-template-columns:repeat(2,minmax(0,1fr))}}
label{display:block;margin:0 0 .25rem;font-weight:600}
input,select{display:block;width:100%;min-height:2.75rem;font:inherit;color:inherit;background:#fff;padding:.5rem .75rem;border:1px solid #6e7781;border-radius:.5rem}
[aria-invalid=true]{border:2px solid #cf222e}
.hint{margin:.25rem 0 0;color:#57606a;font-size:.9375rem;overflow-wrap:anywhere}
.error{margin:.25rem 0 0;color:#a40e26;font-weight:600;font-size:.9375rem;overflow-wrap:anywhere}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:.75rem 0 0}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:3rem;min-width:2.75rem;font:inherit;font-weight:700;padding:.625rem 1.25rem;border:0;border-radius:.5rem;color:#fff;background:#0969da;text-decoration:none;cursor:pointer}
button:hover,.button:hover{background:#0550ae}
.button.secondary,button.secondary{background:#fff;color:#0969da;border:1px solid #0969da}
button.secondary:hover,.button.secondary:hover{background:#ddf4ff}
.signout{margin:1.5rem 0 0}
.scroll{overflow-x:auto;margin:0 -1.125rem;padding:0 1.125rem}
table{border-collapse:collapse;width:100%;font-size:.9375rem}
caption{text-align:left;color:#57606a;padding:0 0 .5rem}
th,td{text-align:left;vertical-align:top;padding:.5rem .625rem .5rem 0;border-bottom:1px solid #d0d7de}
th{white-space:nowrap;color:#1b1f24;background:#fff}
td{overflow-wrap:anywhere;min-width:6rem}
td.time,td.id{white-space:nowrap;min-width:0}
ul.kv{list-style:none;margin:0;padding:0}
.k{color:#57606a}
.type{display:inline-block;padding:0 .375rem;border-radius:.375rem;background:#ddf4ff;color:#0a3069;font-weight:600}
ol.events{list-style:none;margin:0;padding:0}
ol.events li{border-left:.25rem solid #d0d7de;padding:.25rem 0 .75rem .75rem;margin:0 0 .25rem}
.small{font-size:.875rem;color:#57606a;overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9375em;background:#eaeef2;padding:0 .25rem;border-radius:.25rem;overflow-wrap:anywhere}
.pager{display:flex;flex-wrap:wrap;gap:.75rem;margin:.75rem 0 0}
button:focus-visible,.button:focus-visible{outline-offset:.25rem}
input:focus-visible,select:focus-visible{border-color:#0969da}
figure.chart{margin:0 0 1rem}
figure.chart svg{display:block;width:100%;height:auto;max-height:22rem}
figure.chart figcaption{margin:.5rem 0 0;color:#1b1f24}
details{margin:.5rem 0 0}
summary{cursor:pointer;min-height:2.75rem;display:flex;align-items:center;color:#0969da;font-weight:600}
nav.views{display:flex;flex-wrap:wrap;gap:.75rem;margin:0 0 .75rem}
</style>
</head>
<body><main>
<p class="brand">jit · audit trail{{with .Principal}} · signed in as {{who .}}{{end}}</p>
<h1>{{.Title}}</h1>
{{if .Principal}}{{if or .Search .Stats}}<nav class="views" aria-label="Views"><a href="/audit"{{if .Search}} aria-current="page"{{end}}>Search the trail</a><a href="{{if .Search}}{{.Search.StatsURL}}{{else}}/audit/stats{{end}}"{{if .Stats}} aria-current="page"{{end}}>Usage and speed</a></nav>{{end}}{{end}}
{{with .Message}}<p class="note {{$.Tone}}" role="status">{{.}}</p>{{end}}
{{if .ConfirmSignIn}}<form method="post" class="card" aria-label="Sign in"><button type="submit">Sign in</button></form>{{end}}
{{with .SignIn}}
<section class="card" aria-labelledby="signin-heading">
<h2 id="signin-heading">How to sign in</h2>
<ol>
<li>In a terminal with your AWS credentials, run <code>jit audit open</code>. It asks the API for a sign-in link and opens it in your browser.</li>
<li>Or call <code>POST /v1/audit/sessions</code>, signed with SigV4, and open the <code>url</code> it returns.</li>
</ol>
<p class="hint">A sign-in link works once, within 5 minutes. Only auditors and admins can get one.</p>
{{if .Local}}<p>On the local cloud: <a href="/_local/signin">sign in as a local auditor or admin</a>.</p>{{end}}
</section>
{{end}}
{{if .TooLarge}}
<section class="card" aria-labelledby="large-heading">
<h2 id="large-heading">What you can do</h2>
<ul>
<li><a href="{{.BackURL}}">Narrow the search</a>: a shorter period, or a requester, resource or event type.</li>
<li>Or export everything from a terminal: <code>jit audit export --from … --to …</code> pages through <code>GET /v1/audit/export</code> without a limit.</li>
</ul>
</section>
{{end}}
{{with .Search}}
{{if .Searched}}<p style="margin:0 0 .75rem"><a href="#results">Skip to the results</a></p>{{end}}
<form method="get" action="/audit" class="card" aria-labelledby="search-heading" novalidate>
<h2 id="search-heading">Search</h2>
{{with .Error}}<p class="note bad" role="alert">{{.}}</p>{{end}}
<div class="fields">
{{range .Fields}}{{$f := .}}<div>
<label for="f-{{.Name}}">{{.Label}}</label>
{{if .Options}}<select id="f-{{.Name}}" name="{{.Name}}"{{with .DescribedBy}} aria-describedby="{{.}}"{{end}}{{if .Error}} aria-invalid="true"{{end}}>{{range .Options}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end}}</select>
{{else}}<input id="f-{{.Name}}" name="{{.Name}}" type="text" value="{{.Value}}" autocomplete="off" autocapitalize="none" spellcheck="false"{{if eq .Name "action"}} list="event-types"{{end}}{{with .DescribedBy}} aria-describedby="{{.}}"{{end}}{{if .Error}} aria-invalid="true"{{end}}>
{{end}}{{with .Error}}<p id="f-{{$f.Name}}-error" class="error">{{.}}</p>{{end}}{{with .Hint}}<p id="f-{{$f.Name}}-hint" class="hint">{{.}}</p>{{end}}
</div>
{{end}}</div>
<datalist id="event-types">{{range .EventTypes}}<option value="{{.}}">{{end}}</datalist>
<div class="actions"><button type="submit">Search</button><a class="button secondary" href="/audit">Clear</a></div>
</form>
{{if .Searched}}
<section id="results" class="card" aria-labelledby="results-heading">
<h2 id="results-heading">{{len .Rows}} event{{if ne (len .Rows) 1}}s{{end}}{{if .NextURL}} on this page{{end}}</h2>
<p class="hint">{{.Period}}</p>
{{if .Rows}}
<div class="scroll" role="region" aria-labelledby="results-heading" tabindex="0">
<table>
<caption>Audit events</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Requester</th><th scope="col">Resource</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Detail</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td class="time"><time datetime="{{.AtISO}}">{{.At}}</time></td>
<td><span class="type">{{.Type}}</span></td>
<td title="{{.ActorFull}}">{{.Actor}}</td>
<td title="{{.RequesterFull}}">{{.Requester}}</td>
<td>{{.Resource}}</td>
<td class="id">{{if .Linked}}<a href="/audit/requests/{{.RequestID}}">{{.RequestID}}</a>{{else}}{{.RequestID}}{{end}}</td>
<td>{{.Change}}</td>
<td>{{if .Detail}}<ul class="kv">{{range .Detail}}<li><span class="k">{{.K}}:</span> {{.V}}</li>{{end}}</ul>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</div>
{{else}}<p>No events match this search.</p>{{end}}
<nav class="pager" aria-label="Results">
{{with .NextURL}}<a class="button" href="{{.}}" rel="next">Next page</a>{{end}}
<a class="button secondary" href="{{.ExportURL}}" download>Export CSV</a>
</nav>
</section>
{{end}}
{{end}}
{{with .Stats}}
<form method="get" action="/audit/stats" class="card" aria-labelledby="period-heading" novalidate>
<h2 id="period-heading">Period</h2>
{{with .Form.Error}}<p class="note bad" role="alert">{{.}}</p>{{end}}
<div class="fields">
{{range .Form.Fields}}{{$f := .}}<div>
<label for="f-{{.Name}}">{{.Label}}</label>
<input id="f-{{.Name}}" name="{{.Name}}" type="text" value="{{.Value}}" autocomplete="off" autocapitalize="none" spellcheck="false"{{with .DescribedBy}} aria-describedby="{{.}}"{{end}}{{if .Error}} aria-invalid="true"{{end}}>
{{with .Error}}<p id="f-{{$f.Name}}-error" class="error">{{.}}</p>{{end}}{{with .Hint}}<p id="f-{{$f.Name}}-hint" class="hint">{{.}}</p>{{end}}
</div>
{{end}}</div>
<div class="actions"><button type="submit">Show</button><a class="button secondary" href="/audit/stats">Last 30 days</a></div>
</form>
{{if .Period}}
<section class="card" aria-labelledby="figures-heading">
<h2 id="figures-heading">In numbers</h2>
<p class="hint">{{.Period}}</p>
<dl class="facts">{{range .Figures}}<dt>{{.K}}</dt><dd>{{.V}}</dd>{{end}}</dl>
{{if .Truncated}}<p class="note warn" role="status">More requests were created in this period than one page reads: the figures cover the newest 10,000. Choose a shorter period for exact figures.</p>{{end}}
<p class="small">The same figures as JSON: <code>GET {{.APIURL}}</code>, signed (<code>jit stats -o json</code>).</p>
</section>
{{range .Charts}}{{$c := .}}
<figure class="card chart" id="chart-{{.ID}}" aria-labelledby="chart-{{.ID}}-heading">
<h2 id="chart-{{.ID}}-heading">{{.Title}}</h2>
{{if .Empty}}<p class="chart-empty">{{.Summary}}</p>{{else}}
<svg viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-labelledby="chart-{{.ID}}-title chart-{{.ID}}-desc" focusable="false" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif">
<title id="chart-{{.ID}}-title">{{.Title}}</title>
<desc id="chart-{{.ID}}-desc">{{.Summary}}</desc>
{{range .Grid}}<line x1="{{$c.X1}}" x2="{{$c.X2}}" y1="{{.}}" y2="{{.}}" stroke="#d0d7de" stroke-width="1"/>
{{end}}{{range .YLabels}}<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}" font-size="13" fill="#57606a">{{.Text}}</text>
{{end}}{{range .XLabels}}<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}" font-size="13" fill="#57606a">{{.Text}}</text>
{{end}}{{range .Bars}}<rect class="datum" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}" rx="3"><title>{{.Label}}: {{.Value}}</title></rect>
{{if .LabelY}}<text x="{{.LabelX}}" y="{{.LabelY}}" text-anchor="end" font-size="14" fill="#1b1f24">{{.Label}}</text><text x="{{.ValueX}}" y="{{.LabelY}}" font-size="14" fill="#1b1f24">{{.Value}}</text>
{{end}}{{end}}{{range .Lines}}{{$l := .}}<polyline points="{{.Points}}" fill="none" stroke="{{.Color}}" stroke-width="3"{{with .Dash}} stroke-dasharray="{{.}}"{{end}}/>
{{range .Dots}}<circle class="datum" cx="{{.X}}" cy="{{.Y}}" r="4" fill="{{$l.Color}}"/>{{end}}
{{end}}</svg>
{{end}}
<figcaption>{{.Summary}}{{with .Legend}} {{.}}{{end}}</figcaption>
{{if .Rows}}<details><summary>The figures as a table</summary>
<div class="scroll" role="region" aria-label="{{.Title}}, as a table" tabindex="0"><table>
<caption>{{.Title}}</caption>
<thead><tr>{{range .Head}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range $i, $v := .}}{{if eq $i 0}}<th scope="row">{{$v}}</th>{{else}}<td>{{$v}}</td>{{end}}{{end}}</tr>
{{end}}</tbody></table></div></details>{{end}}
</figure>
{{end}}
{{end}}
{{end}}
{{with .Timeline}}
<section class="card" aria-labelledby="req-heading">
<h2 id="req-heading"><strong>{{.Requester}}</strong> asked for <strong>{{.Resource}}</strong> for <strong>{{.Duration}}</strong></h2>
<dl class="facts">
<dt>Status</dt><dd>{{.Status}}</dd>
<dt>Reason</dt><dd>{{.Reason}}</dd>
{{if .Ticket}}<dt>Ticket</dt><dd>{{if .TicketURL}}<a href="{{.TicketURL}}" target="_blank" rel="noreferrer noopener">{{.Ticket}}</a>{{else}}{{.Ticket}}{{end}}</dd>{{end}}
<dt>Requester</dt><dd>{{.RequesterFull}}</dd>
<dt>Requested</dt><dd>{{.Created}}</dd>
<dt>Window</dt><dd>{{.Duration}}, {{.Window}}</dd>
<dt>How</dt><dd>{{.Mode}}</dd>
{{if .Levels}}<dt>Approval chain</dt><dd><ul class="kv">{{range .Levels}}<li>{{.}}</li>{{end}}</ul></dd>{{end}}
{{if .Approvers}}<dt>Approvers</dt><dd>{{.Approvers}}</dd>{{end}}
{{if .Decided}}<dt>Decided</dt><dd>{{.Decided}}</dd>{{end}}
{{if .Granted}}<dt>Granted</dt><dd>{{.Granted}}</dd>{{end}}
{{if .Expires}}<dt>Expires</dt><dd>{{.Expires}}</dd>{{end}}
{{if .RevokeRequestedBy}}<dt>Revoke asked by</dt><dd>{{.RevokeRequestedBy}}</dd>{{end}}
{{if .Ended}}<dt>Ended</dt><dd>{{.Ended}}</dd>{{end}}
<dt>Request</dt><dd>{{.ID}}</dd>
</dl>
</section>
<section class="card" aria-labelledby="events-heading">
<h2 id="events-heading">Events, oldest first</h2>
{{if .Events}}<ol class="events">
{{range .Events}}<li>
<p style="margin:0"><time datetime="{{.AtISO}}">{{.At}}</time> <span class="type">{{.Type}}</span>{{with .Change}} {{.}}{{end}}</p>
<p style="margin:0">by <span title="{{.ActorFull}}">{{.ActorFull}}</span></p>
{{if .Detail}}<ul class="kv">{{range .Detail}}<li><span class="k">{{.K}}:</span> {{.V}}</li>{{end}}</ul>{{end}}
{{if or .SourceIP .UserAgent}}<p class="small" style="margin:0">{{with .SourceIP}}from {{.}}{{end}}{{with .UserAgent}} · {{.}}{{end}}</p>{{end}}
</li>
{{end}}</ol>{{else}}<p>No events recorded.</p>{{end}}
</section>
{{end}}
{{if .BackURL}}{{if not .TooLarge}}<p><a href="{{.BackURL}}">Back to the search</a></p>{{end}}{{else if .Back}}<p><a href="/audit">Back to the search</a></p>{{end}}
{{if .Principal}}<form method="post" action="/audit/logout" class="signout" aria-label="Sign out"><button class="secondary" type="submit">Sign out</button></form>{{end}}
</main></body></html>
`)
