package audit

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// Stats are the service's measures over the requests created in a period:
// how fast people get a decision and access, and how requests end.
type Stats struct {
	Requests int `json:"requests"`
	// TimeToDecision runs from creation to a person's decision (requests
	// decided by policy or break-glass are left out: they take no time).
	TimeToDecision Spread `json:"time_to_decision"`
	// TimeToGrant runs from when access was wanted (creation, or the
	// scheduled start) to when it was granted.
	TimeToGrant       Spread  `json:"time_to_grant"`
	AutoApproved      int     `json:"auto_approved"`
	AutoApprovedShare float64 `json:"auto_approved_share"`
	BreakGlass        int     `json:"break_glass"`
	Escalated         int     `json:"escalated"`
	EscalationRate    float64 `json:"escalation_rate"`
	// Outcomes counts requests by their status now.
	Outcomes map[access.Status]int `json:"outcomes"`
	Denied   int                   `json:"denied"`
	Failed   int                   `json:"failed"`
	// Adoption is who asked, how often and from where.
	Adoption Adoption `json:"adoption"`
}

// Spread summarises durations in seconds.
type Spread struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
}

// Breakdown is Stats in all, by resource, and by day and ISO week of
// creation (UTC): by_day's adoption.requesters is the distinct requesters
// per day, by_week's per week.
type Breakdown struct {
	Total      Stats            `json:"total"`
	ByResource map[string]Stats `json:"by_resource"`
	ByDay      map[string]Stats `json:"by_day"`
	ByWeek     map[string]Stats `json:"by_week"`
}

// Summarize computes the breakdown of requests; pop tells who each
// requester is and whom the policy names (PopulationOf).
func Summarize(requests []*access.Request, pop Population) Breakdown {
	b := Breakdown{ByResource: map[string]Stats{}, ByDay: map[string]Stats{}, ByWeek: map[string]Stats{}}
	byResource := map[string][]*access.Request{}
	byDay := map[string][]*access.Request{}
	byWeek := map[string][]*access.Request{}
	for _, r := range requests {
		byResource[r.Resource] = append(byResource[r.Resource], r)
		day := r.CreatedAt.UTC().Format("2006-01-02")
		byDay[day] = append(byDay[day], r)
		week := isoWeek(r.CreatedAt)
		byWeek[week] = append(byWeek[week], r)
	}
	// Everyone the policy names, for the figures across resources.
	var everyone []string
	seen := map[string]bool{}
	for _, people := range pop.Eligible {
		for _, p := range people {
			if !seen[p] {
				seen[p] = true
				everyone = append(everyone, p)
			}
		}
	}
	b.Total = stats(requests, pop, everyone)
	for k, rs := range byResource {
		b.ByResource[k] = stats(rs, pop, pop.Eligible[k])
	}
	for k, rs := range byDay {
		b.ByDay[k] = stats(rs, pop, everyone)
	}
	for k, rs := range byWeek {
		b.ByWeek[k] = stats(rs, pop, everyone)
	}
	return b
}

func stats(requests []*access.Request, pop Population, eligible []string) Stats {
	s := Stats{Requests: len(requests), Outcomes: map[access.Status]int{}}
	var decision, grant []float64
	for _, r := range requests {
		s.Outcomes[r.Status]++
		switch {
		case r.BreakGlass:
			s.BreakGlass++
		case r.AutoApprovedBy != "":
			s.AutoApproved++
		case r.DecidedAt != nil:
			decision = append(decision, r.DecidedAt.Sub(r.CreatedAt).Seconds())
		}
		if r.Escalated {
			s.Escalated++
		}
		if r.GrantedAt != nil {
			wanted := r.CreatedAt
			if r.StartAt != nil && r.StartAt.After(wanted) {
				wanted = *r.StartAt
			}
			grant = append(grant, math.Max(0, r.GrantedAt.Sub(wanted).Seconds()))
		}
	}
	s.Denied, s.Failed = s.Outcomes[access.Denied], s.Outcomes[access.Failed]
	s.Adoption = adoption(requests, pop, eligible)
	s.TimeToDecision, s.TimeToGrant = spread(decision), spread(grant)
	if s.Requests > 0 {
		s.AutoApprovedShare = ratio(s.AutoApproved, s.Requests)
		s.EscalationRate = ratio(s.Escalated, s.Requests)
	}
	return s
}

func ratio(n, of int) float64 { return math.Round(float64(n)/float64(of)*1000) / 1000 }

// spread takes the median and 90th percentile by the nearest-rank method.
func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	sort.Float64s(xs)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(xs)))) - 1
		return math.Round(xs[max(i, 0)]*1000) / 1000
	}
	return Spread{Count: len(xs), MedianSeconds: rank(0.5), P90Seconds: rank(0.9)}
}

// StatsPeriod bounds the period of one stats call.
const StatsPeriod = 92 * 24 * time.Hour

// statsParams are the parameters a stats query takes.
var statsParams = []string{"from", "to", "resource"}

// ParseStatsQuery reads the period and resource of a stats query (the
// API's and the auditor page's): only from, to and resource, a period of
// at most StatsPeriod. Refusals are *access.ValidationError naming the
// parameter.
func ParseStatsQuery(params map[string]string, now time.Time) (store.AuditQuery, error) {
	for k := range params {
		if !slices.Contains(statsParams, k) {
			return store.AuditQuery{}, UnknownParam(k, statsParams)
		}
	}
	q, err := ParseQuery(params, now, 1, 1)
	if err != nil {
		return store.AuditQuery{}, err
	}
	if q.To.Sub(q.From) > StatsPeriod {
		return store.AuditQuery{}, access.Invalid("from", "stats cover at most %d days; ask in parts", int(StatsPeriod.Hours()/24))
	}
	return q, nil
}
