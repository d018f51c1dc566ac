package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"
)

// RaceResult is what happens to k grants on one role approved at once.
type RaceResult struct {
	Concurrent        int            `json:"concurrent_approvals"`
	Active            int            `json:"requests_active"`
	StatementsSeen    int            `json:"statements_ever_seen"`
	StatementsPresent int            `json:"statements_present_after_grants"`
	LeftAfterExpiry   int            `json:"statements_left_after_expiry"`
	FinalStatuses     map[string]int `json:"final_statuses"`
	MaxPolicyChars    int            `json:"max_trust_policy_chars"`
	Failures          []string       `json:"failures,omitempty"`
}

// benchIAMRace approves several requests for the same role at the same
// moment: grant (and revoke) read the trust policy, edit it and write it
// back with UpdateAssumeRolePolicy, which has no condition, so unless the
// writers are serialized concurrent edits overwrite each other; and the
// policy's size quota bounds how many grants fit. It counts what survives
// and why the others failed.
func benchIAMRace(t *testing.T) {
	const k = 8
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	mw := mails
	tw := newTrustWatch(sandboxRole, pollEvery)
	go tw.run(watchCtx)

	ids := make([]string, k)
	links := make([]string, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() {
			id, err := create(ctx, []string{"alice", "bob"}[i%2], "sandbox-admin", *grantFor)
			if err != nil {
				t.Error(err)
				return
			}
			m, ok := mw.wait(ctx, id, time.Minute)
			if !ok {
				t.Errorf("%s: no email", id)
				return
			}
			ids[i], links[i] = id, m.Link
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	edgeCalls.waitQuiet(ctx, 300*time.Millisecond)
	start := make(chan struct{})
	for i := range k {
		wg.Go(func() {
			<-start
			if err := decide(ctx, links[i], "approve"); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	// Every grant has run once the requests are active (or failed).
	deadline := time.Now().Add(30 * time.Second)
	var statuses map[string]int
	for time.Now().Before(deadline) {
		statuses = finalStatuses(ctx, ids)
		if statuses["approved"] == 0 {
			break
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	sleepCtx(ctx, 3*pollEvery+100*time.Millisecond)
	rr := &RaceResult{Concurrent: k, Active: statuses["active"] + statuses["expired"]}
	rr.StatementsPresent = len(tw.stillPresent(ids))
	d, _ := time.ParseDuration(*grantFor)
	for _, id := range ids {
		if _, ok := tw.waitAppeared(ctx, id, 0); ok {
			rr.StatementsSeen++
		}
	}
	// Wait for every expiry and its revoke (at most d and 10 s more).
	deadline = time.Now().Add(d + 10*time.Second)
	for len(tw.stillPresent(ids)) > 0 && time.Now().Before(deadline) {
		sleepCtx(ctx, 100*time.Millisecond)
	}
	edgeCalls.waitQuiet(ctx, 500*time.Millisecond)
	rr.LeftAfterExpiry = len(tw.stillPresent(ids))
	rr.FinalStatuses = finalStatuses(ctx, ids)
	tw.mu.Lock()
	rr.MaxPolicyChars = tw.maxLen
	tw.mu.Unlock()
	for i, id := range ids {
		if reason := failureReason(ctx, []string{"alice", "bob"}[i%2], id); reason != "" {
			rr.Failures = append(rr.Failures, reason)
		}
	}
	res.mu.Lock()
	res.IAMRace = rr
	res.mu.Unlock()
	logf("iam race: %d approvals at once → %d active, %d statements ever seen, %d present after the grants, %d left after expiry",
		k, rr.Active, rr.StatementsSeen, rr.StatementsPresent, rr.LeftAfterExpiry)
}

// failureReason is the error recorded with a failed request, or "".
func failureReason(ctx context.Context, who, id string) string {
	code, b, err := apiCall(ctx, who, "GET", "/v1/requests/"+id, nil)
	if err != nil || code != http.StatusOK {
		return ""
	}
	var v struct {
		Status  string `json:"status"`
		History []struct {
			Type   string            `json:"type"`
			Detail map[string]string `json:"detail"`
		} `json:"history"`
	}
	if json.Unmarshal(b, &v) != nil || v.Status != "failed" {
		return ""
	}
	for i := len(v.History) - 1; i >= 0; i-- {
		if e := v.History[i].Detail["error"]; e != "" {
			return e
		}
	}
	return "failed (no error recorded)"
}
