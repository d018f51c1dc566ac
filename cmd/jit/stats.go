package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

var statsCommand = &command{
	name: "stats", args: "[--since 30d | --from T --to T] [--resource R]",
	summary: "how fast requests are decided and granted, and how they end (auditors and admins)",
	about: `Summarise the requests created in a period (default the last 30 days, at
most 92): how many, the median and 90th percentile time to a person's
decision and to the grant, the share auto-approved by policy, break-glass
use, the escalation rate, denials, failures and outcomes, and adoption: how
many people asked (new and returning), how often, from where (CLI, API, web,
Slack) and, where the policy names its requesters one by one, how many of
them asked; in all and by resource. -o json prints the API's answer, which has the same numbers by day
too. For auditors and admins.

Period: --since 7d (or 24h, 2w) counts back from now; or --from and --to, each
an RFC 3339 time or a date (YYYY-MM-DD, local time; --to DATE includes that
day).`,
	examples: `  jit stats
  jit stats --since 7d --resource sandbox-admin
  jit stats --from 2026-10-01 --to 2026-12-31 -o json | jq .total.time_to_grant`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		var p periodFlags
		p.register(fs, "30d")
		resource := fs.String("resource", "", "only requests for `RESOURCE`")
		return func(ctx context.Context, pos, _ []string) error {
			if len(pos) > 0 {
				return usageErr("takes no arguments; got %s", strings.Join(quoteAll(pos), " "))
			}
			q := url.Values{}
			if p.given() {
				from, to, err := p.resolve(a.now(), a.loc, auditDefaultPeriod)
				if err != nil {
					return err
				}
				q.Set("from", from.Format(time.RFC3339))
				q.Set("to", to.Format(time.RFC3339))
			}
			if r := strings.TrimSpace(*resource); r != "" {
				q.Set("resource", r)
			}
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			var rep statsReport
			raw, err := s.api.getJSON(ctx, "/v1/stats", q, &rep)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(json.RawMessage(raw))
			}
			a.printStats(&rep)
			return nil
		}
	},
}

// statsReport is the API's answer to GET /v1/stats.
type statsReport struct {
	From       time.Time               `json:"from"`
	To         time.Time               `json:"to"`
	Resource   string                  `json:"resource"`
	Truncated  bool                    `json:"truncated"`
	Total      statsNumbers            `json:"total"`
	ByResource map[string]statsNumbers `json:"by_resource"`
}

type statsNumbers struct {
	Requests          int            `json:"requests"`
	TimeToDecision    spread         `json:"time_to_decision"`
	TimeToGrant       spread         `json:"time_to_grant"`
	AutoApproved      int            `json:"auto_approved"`
	AutoApprovedShare float64        `json:"auto_approved_share"`
	BreakGlass        int            `json:"break_glass"`
	Escalated         int            `json:"escalated"`
	EscalationRate    float64        `json:"escalation_rate"`
	Outcomes          map[string]int `json:"outcomes"`
	Denied            int            `json:"denied"`
	Failed            int            `json:"failed"`
	Adoption          adoption       `json:"adoption"`
}

// adoption is who asked, how often and from where.
type adoption struct {
	Requesters           int `json:"requesters"`
	NewRequesters        int `json:"new_requesters"`
	ReturningRequesters  int `json:"returning_requesters"`
	RequestsPerRequester struct {
		Mean   float64 `json:"mean"`
		Median float64 `json:"median"`
		Max    int     `json:"max"`
	} `json:"requests_per_requester"`
	SourceShare     map[string]float64 `json:"source_share"`
	BreakGlassShare float64            `json:"break_glass_share"`
	Eligible        *struct {
		People int     `json:"people"`
		Used   int     `json:"used"`
		Share  float64 `json:"share"`
	} `json:"eligible"`
}

type spread struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
}

// text is "median 4m12s, p90 31m" or "-" when nothing was measured.
func (s spread) text() string {
	if s.Count == 0 {
		return "-"
	}
	return "median " + seconds(s.MedianSeconds) + ", p90 " + seconds(s.P90Seconds)
}

// short is "4m12s / 31m".
func (s spread) short() string {
	if s.Count == 0 {
		return "-"
	}
	return seconds(s.MedianSeconds) + " / " + seconds(s.P90Seconds)
}

func seconds(s float64) string {
	if s < 1 {
		return "<1s"
	}
	return roundDuration(time.Duration(s * float64(time.Second)))
}

// percent is a share (0 to 1) for people: "28.6%".
func percent(share float64) string {
	p := strconv.FormatFloat(math.Round(share*1000)/10, 'f', -1, 64)
	return p + "%"
}

func (a *app) printStats(r *statsReport) {
	days := int(math.Round(r.To.Sub(r.From).Hours() / 24))
	period := fmt.Sprintf("%s to %s (%d day(s))", r.From.In(a.loc).Format("2006-01-02 15:04"), r.To.In(a.loc).Format("2006-01-02 15:04 MST"), days)
	what := "Requests"
	if r.Resource != "" {
		what = "Requests for " + r.Resource
	}
	t := r.Total
	if t.Requests == 0 {
		fmt.Fprintf(a.stdout, "No requests%s were created from %s.\n", strings.TrimPrefix(what, "Requests"), period)
		return
	}
	fmt.Fprintf(a.stdout, "%s created from %s\n\n", what, period)
	var rows [][]string
	row := func(k, v string) { rows = append(rows, []string{"  " + k, v}) }
	row("Requests", strconv.Itoa(t.Requests))
	row("Time to decision", t.TimeToDecision.text()+countText(t.TimeToDecision.Count, "decided by a person"))
	row("Time to grant", t.TimeToGrant.text()+countText(t.TimeToGrant.Count, "granted"))
	row("Auto-approved", fmt.Sprintf("%s (%d by policy)", percent(t.AutoApprovedShare), t.AutoApproved))
	row("Break-glass", fmt.Sprintf("%d (%s)", t.BreakGlass, percent(t.Adoption.BreakGlassShare)))
	row("Escalation rate", fmt.Sprintf("%s (%d escalated)", percent(t.EscalationRate), t.Escalated))
	row("Denied", strconv.Itoa(t.Denied))
	row("Failed", strconv.Itoa(t.Failed))
	row("Outcomes", outcomesText(t.Outcomes))
	ad := t.Adoption
	row("Requesters", fmt.Sprintf("%d (%d new, %d returning)", ad.Requesters, ad.NewRequesters, ad.ReturningRequesters))
	row("Per requester", fmt.Sprintf("%s requests on average (median %s, most %d)", number(ad.RequestsPerRequester.Mean),
		number(ad.RequestsPerRequester.Median), ad.RequestsPerRequester.Max))
	row("From", sharesText(ad.SourceShare))
	if e := ad.Eligible; e != nil {
		row("Named people", fmt.Sprintf("%d of the %d the policy names asked (%s)", e.Used, e.People, percent(e.Share)))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	if len(r.ByResource) > 0 {
		names := make([]string, 0, len(r.ByResource))
		for n := range r.ByResource {
			names = append(names, n)
		}
		sort.Strings(names)
		rows = nil
		for _, n := range names {
			s := r.ByResource[n]
			rows = append(rows, []string{"  " + n, strconv.Itoa(s.Requests), strconv.Itoa(s.Adoption.Requesters), s.TimeToDecision.short(), s.TimeToGrant.short(),
				percent(s.AutoApprovedShare), percent(s.EscalationRate), strconv.Itoa(s.Denied), strconv.Itoa(s.Failed)})
		}
		fmt.Fprintln(a.stdout)
		table(a.stdout, []string{"  RESOURCE", "REQUESTS", "REQUESTERS", "DECISION MEDIAN/P90", "GRANT MEDIAN/P90", "AUTO", "ESCALATED", "DENIED", "FAILED"}, rows)
	}
	if r.Truncated {
		fmt.Fprintf(a.stdout, "\nNot every request of the period was counted (the API stops at a maximum): ask for a shorter period for exact numbers.\n")
	}
}

// number is a figure without trailing zeros: "2", "3.5".
func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// sharesText is "cli 60%, api 30%, web 10%", largest first.
func sharesText(m map[string]float64) string {
	return largestFirst(m, func(v float64) bool { return true }, percent)
}

func countText(n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d %s)", n, what)
}

// outcomesText is "expired 30, active 3, denied 2", most frequent first.
func outcomesText(m map[string]int) string {
	return largestFirst(m, func(v int) bool { return v > 0 }, strconv.Itoa)
}

// largestFirst lists m's entries that keep holds for as "key value",
// largest value first (ties by key), or "-" when none does.
func largestFirst[V int | float64](m map[string]V, keep func(V) bool, format func(V) string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if keep(v) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + format(m[k])
	}
	return firstNonEmpty(strings.Join(parts, ", "), "-")
}
