package audit

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
)

// Adoption says whether people use the service rather than route around
// it: who asks, how often, from where.
type Adoption struct {
	// Requesters counts the distinct people who asked (a principal the
	// policy does not identify as a person counts by its ARN).
	Requesters int `json:"requesters"`
	// NewRequesters asked for the first time ever in these requests;
	// ReturningRequesters had asked before them.
	NewRequesters       int `json:"new_requesters"`
	ReturningRequesters int `json:"returning_requesters"`
	// RequestsPerRequester is the mean and median number of requests per
	// requester, and the most one requester made.
	RequestsPerRequester PerRequester `json:"requests_per_requester"`
	// BySource counts requests by where they were made (cli, api, web,
	// slack; unknown for requests older than the source field), and
	// SourceShare gives the same as shares of all requests.
	BySource    map[string]int     `json:"by_source"`
	SourceShare map[string]float64 `json:"source_share"`
	// BreakGlassShare is the share of requests that were break-glass.
	BreakGlassShare float64 `json:"break_glass_share"`
	// Eligible is present where the policy names the people who may
	// request (see Named): how many it names and how many of them asked.
	Eligible *Eligible `json:"eligible,omitempty"`
}

// PerRequester summarises requests per requester.
type PerRequester struct {
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	Max    int     `json:"max"`
}

// Eligible is the people a policy names as requesters and how many of them
// used the service.
type Eligible struct {
	People int     `json:"people"`
	Used   int     `json:"used"`
	Share  float64 `json:"share"`
}

// SourceUnknown counts requests made before their source was recorded.
const SourceUnknown = "unknown"

// Population is what adoption needs to know besides the requests.
type Population struct {
	// Person returns the person (email) a requester principal is, "" when
	// the policy does not identify one. Nil identifies nobody.
	Person func(principal string) string
	// FirstRequest returns when a requester principal made its first
	// request ever; the zero time when unknown, which counts the
	// requester new. Nil knows of nothing earlier.
	FirstRequest func(principal string) time.Time
	// Eligible lists, by resource, the people (as Person names them, or
	// ARNs) the policy names as its requesters; see Named.
	Eligible map[string][]string
}

// who is the key a requester counts under: their person, else the ARN.
func (p Population) who(principal string) string {
	if p.Person != nil {
		if person := p.Person(principal); person != "" {
			return person
		}
	}
	return principal
}

// adoption computes the figures for requests; eligible is the people the
// policy names for them, nil when it names nobody.
func adoption(requests []*access.Request, pop Population, eligible []string) Adoption {
	a := Adoption{BySource: map[string]int{}, SourceShare: map[string]float64{}}
	type asker struct {
		requests  int
		firstHere time.Time
		firstEver time.Time
	}
	askers := map[string]*asker{}
	breakGlass := 0
	for _, r := range requests {
		source := r.Source
		if source == "" {
			source = SourceUnknown
		}
		a.BySource[source]++
		if r.BreakGlass {
			breakGlass++
		}
		k := pop.who(r.Requester)
		as := askers[k]
		if as == nil {
			as = &asker{firstHere: r.CreatedAt}
			askers[k] = as
		}
		as.requests++
		if r.CreatedAt.Before(as.firstHere) {
			as.firstHere = r.CreatedAt
		}
		if pop.FirstRequest != nil {
			// A person's first request is their principals' earliest.
			if t := pop.FirstRequest(r.Requester); !t.IsZero() && (as.firstEver.IsZero() || t.Before(as.firstEver)) {
				as.firstEver = t
			}
		}
	}
	a.Requesters = len(askers)
	counts := make([]float64, 0, len(askers))
	for _, as := range askers {
		if !as.firstEver.IsZero() && as.firstEver.Before(as.firstHere) {
			a.ReturningRequesters++
		} else {
			a.NewRequesters++
		}
		counts = append(counts, float64(as.requests))
		a.RequestsPerRequester.Max = max(a.RequestsPerRequester.Max, as.requests)
	}
	if len(requests) > 0 {
		for s, n := range a.BySource {
			a.SourceShare[s] = ratio(n, len(requests))
		}
		a.BreakGlassShare = ratio(breakGlass, len(requests))
		a.RequestsPerRequester.Mean = math.Round(float64(len(requests))/float64(len(askers))*100) / 100
		a.RequestsPerRequester.Median = median(counts)
	}
	if len(eligible) > 0 {
		e := &Eligible{People: len(eligible)}
		for _, person := range eligible {
			if askers[person] != nil {
				e.Used++
			}
		}
		e.Share = ratio(e.Used, e.People)
		a.Eligible = e
	}
	return a
}

// median is the middle value (the mean of the two middle ones for an even
// count) of xs, which it sorts.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// Named returns the people a resource's requesters list names one by one:
// each exact email (lower-cased), and each ARN without a wildcard, as the
// person dir identifies it or else as itself. Patterns ("*@example.com",
// ".../Engineer/*") name a group whose size the policy does not know, so
// they are left out; a resource that names nobody returns nil.
func Named(res *policy.Resource, dir access.Directory) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range res.Requesters {
		p = strings.TrimSpace(p)
		if p == "" || strings.ContainsAny(p, "*?") {
			continue
		}
		who := strings.ToLower(p)
		if strings.HasPrefix(p, "arn:") {
			who = p
			if person := dir.Identify(p).Person; person != "" {
				who = person
			}
		}
		if !seen[who] {
			seen[who] = true
			out = append(out, who)
		}
	}
	sort.Strings(out)
	return out
}

// PopulationOf is the population a policy describes: who its identities
// say each principal is, and the people each resource names. first, when
// not nil, tells when a principal first asked.
func PopulationOf(doc *policy.Document, first func(string) time.Time) Population {
	dir := access.DirectoryOf(doc)
	pop := Population{
		Person:       func(arn string) string { return dir.Identify(arn).Person },
		FirstRequest: first,
		Eligible:     map[string][]string{},
	}
	if doc != nil {
		for i := range doc.Resources {
			if named := Named(&doc.Resources[i], dir); len(named) > 0 {
				pop.Eligible[doc.Resources[i].Name] = named
			}
		}
	}
	return pop
}

// isoWeek names t's ISO 8601 week, e.g. "2026-W49".
func isoWeek(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}
