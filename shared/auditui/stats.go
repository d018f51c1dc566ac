package auditui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/policy"
)

// statsMax bounds the requests one stats page reads, as GET /v1/stats.
const statsMax = 10000

// statsView is the stats page: its form, the key figures, the charts.
type statsView struct {
	Form      *searchForm
	Period    string
	Figures   []pair
	Charts    []chart
	Truncated bool
	// APIURL is the same figures as JSON, for a script.
	APIURL string
}

var statsFields = []struct{ name, label, hint string }{
	{"resource", "Resource", "Empty: every resource"},
	{"from", "From", "RFC 3339, e.g. 2026-11-01T00:00:00Z. Empty: 30 days before To"},
	{"to", "To", "RFC 3339. Empty: now. At most 92 days after From"},
}

// outcomeOrder lists outcomes as a request's life goes.
var outcomeOrder = func() []string {
	var out []string
	for _, s := range access.Statuses() {
		out = append(out, string(s))
	}
	return out
}()

// stats answers GET /audit/stats: for a period and optionally a resource,
// the figures of GET /v1/stats with time to decision and to grant, the
// outcomes, the sources and the requesters drawn.
func (h *Handler) stats(ctx context.Context, req events.APIGatewayV2HTTPRequest, principal string) events.APIGatewayV2HTTPResponse {
	params := userParams(req.QueryStringParameters)
	form := &searchForm{}
	for _, f := range statsFields {
		form.Fields = append(form.Fields, field{Name: f.name, Label: f.label, Hint: f.hint, Value: params[f.name]})
	}
	view := &statsView{Form: form}
	p := page{Title: "Usage and speed", Principal: principal, Stats: view, Back: true}
	q, err := audit.ParseStatsQuery(params, h.Now())
	if refused, ok := invalid(err, form); ok {
		p.Title = "Usage and speed: check the period"
		return render(http.StatusBadRequest, p)
	} else if refused != nil {
		return h.internal(ctx, principal, refused)
	}
	var doc *policy.Document
	if h.Policy != nil {
		if doc, err = h.Policy(ctx); err != nil {
			return h.internal(ctx, principal, err)
		}
	}
	b, truncated, err := audit.Compute(ctx, h.Store, doc, q.From, q.To, q.Resource, statsMax)
	if err != nil {
		return h.internal(ctx, principal, err)
	}
	view.Truncated = truncated
	view.Period = "Requests created from " + q.From.UTC().Format(timeLayout) + " to " + q.To.UTC().Format(timeLayout)
	if q.Resource != "" {
		view.Period += " for " + q.Resource
	}
	view.Period += "."
	api := pinPeriod(params, q)
	view.APIURL = "/v1/stats?" + api.Encode()
	view.Figures = figures(b.Total)
	view.Charts = charts(b)
	h.Logger.InfoContext(ctx, "auditor page stats", "principal", principal, "requests", b.Total.Requests, "truncated", truncated)
	return render(http.StatusOK, p)
}

// figures are the key numbers above the charts.
func figures(t audit.Stats) []pair {
	spread := func(s audit.Spread) string {
		if s.Count == 0 {
			return "none measured"
		}
		return fmt.Sprintf("median %s, 90th percentile %s (%d)", seconds(s.MedianSeconds), seconds(s.P90Seconds), s.Count)
	}
	pct := func(f float64) string { return trimFloat(f*100) + "%" }
	a := t.Adoption
	out := []pair{
		{"Requests", strconv.Itoa(t.Requests)},
		{"Time to decision", spread(t.TimeToDecision)},
		{"Time to grant", spread(t.TimeToGrant)},
		{"Auto-approved", fmt.Sprintf("%s (%d)", pct(t.AutoApprovedShare), t.AutoApproved)},
		{"Break-glass", fmt.Sprintf("%d (%s)", t.BreakGlass, pct(a.BreakGlassShare))},
		{"Escalated", fmt.Sprintf("%s (%d)", pct(t.EscalationRate), t.Escalated)},
		{"Requesters", fmt.Sprintf("%d (%d new, %d returning)", a.Requesters, a.NewRequesters, a.ReturningRequesters)},
		{"Requests per requester", fmt.Sprintf("%s on average, median %s, most %d", trimFloat(a.RequestsPerRequester.Mean), trimFloat(a.RequestsPerRequester.Median), a.RequestsPerRequester.Max)},
	}
	if e := a.Eligible; e != nil {
		out = append(out, pair{"People the policy names who asked", fmt.Sprintf("%d of %d (%s)", e.Used, e.People, pct(e.Share))})
	}
	return out
}

// charts draws the breakdown.
func charts(b audit.Breakdown) []chart {
	days := make([]string, 0, len(b.ByDay))
	for d := range b.ByDay {
		days = append(days, d)
	}
	sort.Strings(days)
	outcomes := map[string]int{}
	for s, n := range b.Total.Outcomes {
		outcomes[string(s)] = n
	}
	return []chart{
		spreadChart("decision", "Time to a person's decision", "time to decision", days, b.ByDay, func(s audit.Stats) audit.Spread { return s.TimeToDecision }),
		spreadChart("grant", "Time to access granted", "time to grant", days, b.ByDay, func(s audit.Stats) audit.Spread { return s.TimeToGrant }),
		barChart("outcomes", "How requests ended (or stand)", "outcome", outcomes, outcomeOrder),
		barChart("sources", "Where requests were made", "source", b.Total.Adoption.BySource, nil),
		requestersChart(days, b.ByDay),
	}
}

// statsLink is the stats page for a search's resource and period.
func statsLink(params map[string]string) string {
	v := url.Values{}
	for _, k := range []string{"resource", "from", "to"} {
		if params[k] != "" {
			v.Set(k, params[k])
		}
	}
	if len(v) == 0 {
		return "/audit/stats"
	}
	return "/audit/stats?" + v.Encode()
}
