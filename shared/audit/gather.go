package audit

import (
	"context"
	"sync"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
)

// Requests is what computing the stats reads: the requests of a period,
// and when a requester first asked.
type Requests interface {
	RequestsCreated(ctx context.Context, from, to time.Time, resource string, max int) ([]*access.Request, bool, error)
	FirstRequest(ctx context.Context, requester string) (time.Time, error)
}

// firstReads bounds the concurrent first-request reads of one computation.
const firstReads = 8

// Compute reads the requests created in [from, to] (of resource, when not
// ""), at most max of them, and summarizes them under doc, the policy in
// force. Besides the period's requests it reads one index entry per
// distinct requester principal (their first request, for new versus
// returning), so its reads grow with the answer, not with the table.
// truncated reports that max was reached.
func Compute(ctx context.Context, src Requests, doc *policy.Document, from, to time.Time, resource string, max int) (b Breakdown, truncated bool, err error) {
	reqs, truncated, err := src.RequestsCreated(ctx, from, to, resource, max)
	if err != nil {
		return Breakdown{}, false, err
	}
	var principals []string
	seen := map[string]bool{}
	for _, r := range reqs {
		if !seen[r.Requester] {
			seen[r.Requester] = true
			principals = append(principals, r.Requester)
		}
	}
	first := make(map[string]time.Time, len(principals))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	sem := make(chan struct{}, firstReads)
	for _, p := range principals {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t, err := src.FirstRequest(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			first[p] = t
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return Breakdown{}, false, firstErr
	}
	pop := PopulationOf(doc, func(p string) time.Time { return first[p] })
	if resource != "" {
		pop.Eligible = map[string][]string{resource: pop.Eligible[resource]}
		if pop.Eligible[resource] == nil {
			pop.Eligible = nil
		}
	}
	return Summarize(reqs, pop), truncated, nil
}
