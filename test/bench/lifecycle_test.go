package bench

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/template"
)

const (
	sandboxRole = "jit-sandbox-admin"
	// pollEvery is the pause between two polls of a role's trust policy;
	// the resolution reported with the GetRole figures also includes the
	// polls' own durations. Polling faster would load moto (one Python
	// process) enough to slow what is measured; the primary figures come
	// from the edge and need no polling.
	pollEvery = 250 * time.Millisecond
)

// target is a resource of the e2e policy that one approver (Carol)
// approves in one step, and the managed role it grants.
type target struct {
	Resource, Role string
	poll           *trustWatch // GetRole polling
	edge           *trustWatch // trust policies written through the edge
	gate           sync.Mutex  // one approval at a time per role
}

// lifecycleTargets: two resources on the two managed roles of
// infra/local/roles.json, so twice as many grants can be active at once.
var lifecycleTargets = []struct{ Resource, Role string }{
	{"sandbox-admin", "jit-sandbox-admin"},
	{"self-check", "jit-prod-readonly"},
}

// lifeSample is one approve → grant → expire lifecycle, each instant taken
// by the benchmark itself.
type lifeSample struct {
	id                    string
	tg                    *target
	createSent, accepted  time.Time // POST /v1/requests sent, 201 received
	mail                  mailSighting
	approveSent, approved time.Time // POST /d/{token} sent, 200 received
	grant                 window    // statement first seen by GetRole polling
	revokeSent, revoked   time.Time // POST /v1/requests/{id}/revoke sent, 202 received
	err                   error
	// freshOn asks for figure 7b on this lifecycle: right after the
	// approve's 200, search the audit trail for it (see findApproved).
	freshOn  bool
	fresh    freshSample
	freshErr error
}

// janitorDelay is how long after a revoke lifecycle ends (its statement
// gone) the janitor first looks at the request: by then the revoke
// function has recorded the end and the workflow's last notice is on its
// way; the janitor deletes the items once the status is final. Shorter
// keeps moto's table, which every TransactWriteItems deep-copies once per
// item it writes, small.
var janitorDelay = flag.Duration("janitor-delay", 3*time.Second, "how long after a revoke lifecycle ends the janitor first tries to delete its items")

// benchLifecycle measures figures 1-3 over many concurrent lifecycles.
//
// Requests are created, notified and decided *inflight* at a time, but
// approvals are gated per role: one at a time (so each approve → grant
// sample is one grant, not a queue of them), and only while fewer than
// -per-role of the benchmark's grants are active on that role. IAM caps
// a role's trust policy at 2,048 characters by default and the grant
// function refuses a grant that would exceed it (one statement is about
// 300 characters), so more concurrent grants on one role fail by design.
func benchLifecycle(t *testing.T) {
	lr := runLifecycles(t, "expire", *lifecycles, *grantFor)
	res.mu.Lock()
	res.Lifecycle = lr
	res.mu.Unlock()
}

// revokeRoute is the requester API's early revoke, if the template has it.
const revokeRoute = "POST /v1/requests/{id}/revoke"

// benchRevoke measures revoke POST → access removed, when the API has the
// revoke route: the same lifecycles, but with a long duration and the
// requester revoking as soon as the request is active.
func benchRevoke(t *testing.T) {
	if !hasRoute(revokeRoute) {
		t.Skipf("the API has no %s route yet", revokeRoute)
	}
	lr := runLifecycles(t, "revoke", *revokes, "10m")
	res.mu.Lock()
	res.RevokeLifecycle = lr
	res.Revoke = ""
	res.mu.Unlock()
}

func hasRoute(key string) bool {
	tmpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return false
	}
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			if r.Method+" "+r.Path == key {
				return true
			}
		}
	}
	return false
}

// runLifecycles runs n lifecycles of one mode: "expire" (approve, grant,
// let it expire) or "revoke" (approve, grant, revoke at once).
func runLifecycles(t *testing.T, mode string, n int, duration string) *LifecycleResults {
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	edgeCalls.waitQuiet(ctx, 500*time.Millisecond)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var targets []*target
	var edges []*trustWatch
	for _, lt := range lifecycleTargets {
		tg := &target{Resource: lt.Resource, Role: lt.Role, poll: newTrustWatch(lt.Role, pollEvery), edge: newTrustWatch(lt.Role, 0)}
		go tg.poll.run(watchCtx)
		targets = append(targets, tg)
		edges = append(edges, tg.edge)
	}
	roleEdits.Store(&edges)
	defer roleEdits.Store(nil)
	jan := newJanitor(ctx)
	if auditWanted() {
		// Keep some finished trails for the audit step (figure 7).
		jan.keepAs = mode
	}

	w := *inflight
	mark := edgeCalls.mark()
	stats0 := lc.Runner.Stats()
	start := time.Now()
	samples := make([]*lifeSample, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				// Every third expire lifecycle also times figure 7b.
				s := &lifeSample{tg: targets[i%len(targets)], freshOn: mode == "expire" && auditWanted() && i%3 == 0}
				samples[i] = s
				who := []string{"alice", "bob"}[(i/len(targets))%2]
				s.err = oneLifecycle(ctx, s, who, mode, duration)
				if s.id != "" {
					due := time.Now().Add(*janitorDelay)
					if e, ok := s.tg.edge.expiry(s.id); ok && mode == "expire" {
						due = e.Add(1500 * time.Millisecond)
					}
					jan.done(s.id, s.mail.Link, due)
				}
			}
		})
	}
	wg.Wait()
	driven := time.Since(start)

	var ids, failed []string
	for _, s := range samples {
		switch {
		case s == nil:
		case s.err != nil:
			failed = append(failed, s.err.Error())
		default:
			ids = append(ids, s.id)
		}
	}
	for _, f := range failed {
		t.Logf("lifecycle not measured: %s", f)
	}
	// Every revoke runs by its statement's expiry (the Hold ends on whole
	// seconds, so up to a second early) plus its invocation; give
	// stragglers and retries a few seconds more. A statement still present
	// then counts as not removed.
	for _, tg := range targets {
		deadline := tg.edge.lastExpiry(ids).Add(8 * time.Second)
		if mode == "revoke" {
			deadline = time.Now().Add(20 * time.Second)
		}
		for len(tg.poll.stillPresent(ids)) > 0 && time.Now().Before(deadline) {
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	edgeCalls.waitQuiet(ctx, 500*time.Millisecond)
	stopWatch()
	roleEdits.Store(nil)
	wall := time.Since(start)
	jan.close()
	calls := edgeCalls.since(mark)
	invocations := invocationsSince(stats0)
	statuses := map[string]int{}
	for _, id := range ids {
		statuses[jan.status(ctx, id)]++
	}
	holdEnds := holdEnds(ctx, ids)

	// Figures.
	var f struct {
		create, toEmail, emailRes, approve, toGrant, grantRes, toGrantPoll, grantPollRes     []time.Duration
		expToRemoved, holdToRemoved, removedRes, expToRemovedPoll, removedPollRes, expToHold []time.Duration
		revoke, revToRemoved, revToRemovedPoll                                               []time.Duration
	}
	lr := &LifecycleResults{Mode: mode, Lifecycles: n, Inflight: w, Duration: duration, PollEveryMS: msOf(pollEvery), PerRole: *perRole}
	for _, tg := range targets {
		lr.Resources = append(lr.Resources, tg.Resource+" → "+tg.Role)
	}
	for _, s := range samples {
		if s == nil || s.err != nil {
			continue
		}
		f.create = append(f.create, s.accepted.Sub(s.createSent))
		f.toEmail = append(f.toEmail, s.mail.When.mid().Sub(s.accepted))
		f.emailRes = append(f.emailRes, s.mail.When.width())
		f.approve = append(f.approve, s.approved.Sub(s.approveSent))
		f.toGrantPoll = append(f.toGrantPoll, s.grant.mid().Sub(s.approved))
		f.grantPollRes = append(f.grantPollRes, s.grant.width())
		e, p := s.tg.edge.info(s.id), s.tg.poll.info(s.id)
		if e.appearedOK {
			f.toGrant = append(f.toGrant, e.appeared.mid().Sub(s.approved))
			f.grantRes = append(f.grantRes, e.appeared.width())
		}
		if mode == "revoke" {
			f.revoke = append(f.revoke, s.revoked.Sub(s.revokeSent))
			if e.goneOK && e.returned == 0 {
				f.revToRemoved = append(f.revToRemoved, e.gone.mid().Sub(s.revoked))
				f.removedRes = append(f.removedRes, e.gone.width())
			}
			if p.goneOK && p.returned == 0 {
				f.revToRemovedPoll = append(f.revToRemovedPoll, p.gone.mid().Sub(s.revoked))
				f.removedPollRes = append(f.removedPollRes, p.gone.width())
			} else {
				lr.Anomalies.NotRemoved++
			}
			continue
		}
		if !e.expiresOK {
			lr.Anomalies.NoExpiry++
			continue
		}
		if e.goneOK && e.returned == 0 {
			f.expToRemoved = append(f.expToRemoved, e.gone.mid().Sub(e.expires))
			f.removedRes = append(f.removedRes, e.gone.width())
			if h, ok := holdEnds[s.id]; ok {
				f.holdToRemoved = append(f.holdToRemoved, e.gone.mid().Sub(h))
				f.expToHold = append(f.expToHold, h.Sub(e.expires))
			}
		}
		if p.goneOK && p.returned == 0 {
			f.expToRemovedPoll = append(f.expToRemovedPoll, p.gone.mid().Sub(e.expires))
			f.removedPollRes = append(f.removedPollRes, p.gone.width())
		} else {
			lr.Anomalies.NotRemoved++
		}
		if p.returned > 0 || e.returned > 0 {
			lr.Anomalies.StatementReturned++
		}
	}
	var polls []time.Duration
	for _, tg := range targets {
		for _, tw := range []*trustWatch{tg.poll, tg.edge} {
			tw.mu.Lock()
			lr.MaxTrustPolicyChars = max(lr.MaxTrustPolicyChars, tw.maxLen)
			lr.MaxStatements = max(lr.MaxStatements, tw.maxStmts)
			polls = append(polls, tw.polls...)
			tw.mu.Unlock()
		}
	}
	lr.TrustPollMS = summarize(ms(polls), "ms")
	lr.Anomalies.Failed = len(failed)
	lr.NotMeasured = failed
	lr.FinalStatuses = statuses
	lr.CreatePOST = summarize(ms(f.create), "ms")
	lr.RequestToEmail = summarize(ms(f.toEmail), "ms")
	lr.EmailResolution = summarize(ms(f.emailRes), "ms")
	lr.ApprovePOST = summarize(ms(f.approve), "ms")
	lr.ApproveToGrant = summarize(ms(f.toGrant), "ms")
	lr.GrantResolution = summarize(ms(f.grantRes), "ms")
	lr.ApproveToGrantPoll = summarize(ms(f.toGrantPoll), "ms")
	lr.GrantPollResolution = summarize(ms(f.grantPollRes), "ms")
	lr.ExpiryToRemoved = summarize(ms(f.expToRemoved), "ms")
	lr.HoldEndToRemoved = summarize(ms(f.holdToRemoved), "ms")
	lr.ExpiryToHoldEnd = summarize(ms(f.expToHold), "ms")
	lr.RemovalResolution = summarize(ms(f.removedRes), "ms")
	lr.ExpiryToRemovedPoll = summarize(ms(f.expToRemovedPoll), "ms")
	lr.RemovalPollResolution = summarize(ms(f.removedPollRes), "ms")
	lr.RevokePOST = summarize(ms(f.revoke), "ms")
	lr.RevokeToRemoved = summarize(ms(f.revToRemoved), "ms")
	lr.RevokeToRemovedPoll = summarize(ms(f.revToRemovedPoll), "ms")
	lr.DrivenSeconds = round3(driven.Seconds())
	lr.WallSeconds = round3(wall.Seconds())
	lr.EdgeCalls = len(calls)
	lr.EdgeCallsPerLifecycle = round3(float64(len(calls)) / float64(max(1, len(ids))))
	lr.Invocations = invocations
	recordFreshness(samples)
	lr.ByOperation = opStats(calls)
	logf("%s lifecycles: %d measured, %d not; email median %.0f ms, approve→grant median %.0f ms, hold end→removed median %.0f ms, revoke→removed median %.0f ms",
		mode, len(ids), len(failed), lr.RequestToEmail.Median, lr.ApproveToGrant.Median, lr.HoldEndToRemoved.Median, lr.RevokeToRemoved.Median)
	need := map[string]Summary{"request → email": lr.RequestToEmail, "approve → grant": lr.ApproveToGrant, "expiry → removed": lr.ExpiryToRemoved}
	if mode == "revoke" {
		need = map[string]Summary{"revoke → removed": lr.RevokeToRemoved}
	}
	for name, sm := range need {
		if sm.N < 200 && n >= 200 {
			t.Errorf("%s: only %d samples; every figure needs at least 200 (raise -lifecycles or -revokes)", name, sm.N)
		}
	}
	return lr
}

// holdEnds reads, from each execution's history (directly on moto), when
// the Hold state ended: the moment the state after it (Revoke, or
// RevokeEarly) was entered.
func holdEnds(ctx context.Context, ids []string) map[string]time.Time {
	var mu sync.Mutex
	out := map[string]time.Time{}
	ch := make(chan string)
	var wg sync.WaitGroup
	client := sfnDirect()
	for range 4 {
		wg.Go(func() {
			for id := range ch {
				p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(executionArn(id))})
				for p.HasMorePages() {
					page, err := p.NextPage(ctx)
					if err != nil {
						break
					}
					for _, e := range page.Events {
						if d := e.StateEnteredEventDetails; d != nil && strings.HasPrefix(aws.ToString(d.Name), "Revoke") && e.Timestamp != nil {
							mu.Lock()
							if _, ok := out[id]; !ok {
								out[id] = *e.Timestamp
							}
							mu.Unlock()
						}
					}
				}
			}
		})
	}
	for _, id := range ids {
		ch <- id
	}
	close(ch)
	wg.Wait()
	return out
}

func oneLifecycle(ctx context.Context, s *lifeSample, who, mode, duration string) error {
	tg := s.tg
	s.createSent = time.Now()
	id, err := create(ctx, who, tg.Resource, duration)
	s.accepted = time.Now()
	if err != nil {
		return err
	}
	s.id = id
	mail, ok := mails.wait(ctx, id, time.Minute)
	if !ok {
		return fmt.Errorf("%s: no approval email within a minute", id)
	}
	s.mail = mail
	tg.gate.Lock()
	locked := true
	defer func() {
		if locked {
			tg.gate.Unlock()
		}
	}()
	for tg.edge.presentCount() >= *perRole && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
	s.approveSent = time.Now()
	err = decide(ctx, mail.Link, "approve")
	s.approved = time.Now()
	if err != nil {
		return err
	}
	if s.freshOn {
		found := make(chan struct{})
		go func() {
			defer close(found)
			s.fresh, s.freshErr = findApproved(ctx, who, id, s.createSent.Add(-time.Second), s.approved)
		}()
		defer func() { <-found }()
	}
	// Wait for the statement; stop early if the request ends without one.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if g, ok := tg.poll.waitAppeared(ctx, id, 250*time.Millisecond); ok {
			s.grant = g
			break
		}
		st := requestStatus(ctx, id)
		if finalStatus[st] || st == "active" && time.Since(s.approved) > 3*time.Second || time.Now().After(deadline) {
			return fmt.Errorf("%s: approved, now %s, but no trust statement seen", id, st)
		}
	}
	if mode != "revoke" {
		return nil
	}
	// The revoke runs outside the role's gate: its trust-policy edit may
	// meet another lifecycle's grant, which the grant function's role lease
	// serializes, as it would in production.
	tg.gate.Unlock()
	locked = false
	// Revoke as soon as the request is recorded active: the grant function
	// writes the statement, then records active, then returns; its return
	// is seen at the edge. (A 409 means not active yet: try again.)
	invokes.wait(ctx, "GrantFunction", id, 10*time.Second)
	for {
		s.revokeSent = time.Now()
		code, body, err := apiCall(ctx, who, "POST", "/v1/requests/"+id+"/revoke", nil)
		s.revoked = time.Now()
		if err == nil && (code == http.StatusAccepted || code == http.StatusOK) {
			break
		}
		if err != nil || code != http.StatusConflict || time.Now().After(deadline) {
			return fmt.Errorf("%s: revoke: %d %v %.200s", id, code, err, body)
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	for !tg.edge.info(id).goneOK {
		if time.Now().After(s.revoked.Add(20 * time.Second)) {
			return fmt.Errorf("%s: revoked (now %s) but the statement is still there after 20s", id, requestStatus(ctx, id))
		}
		sleepCtx(ctx, 10*time.Millisecond)
	}
	return nil
}

// requestStatus reads a request's status directly on moto (not counted).
func requestStatus(ctx context.Context, id string) string {
	out, err := dynamoDirect().GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(lc.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "REQ#" + id},
			"SK": &types.AttributeValueMemberS{Value: "REQUEST"},
		},
	})
	if err != nil || out.Item == nil {
		return "unknown"
	}
	if st, ok := out.Item["status"].(*types.AttributeValueMemberS); ok {
		return st.Value
	}
	return "unknown"
}

var grantMu sync.Mutex

// finalStatuses reads every request's status through the API.
func finalStatuses(ctx context.Context, ids []string) map[string]int {
	var mu sync.Mutex
	out := map[string]int{}
	ch := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range ch {
				status := "unreadable"
				for _, who := range []string{"alice", "bob"} {
					if v, err := getRequest(ctx, who, id); err == nil {
						status = v.Status
						break
					}
				}
				mu.Lock()
				out[status]++
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		ch <- id
	}
	close(ch)
	wg.Wait()
	return out
}

// invocationsSince is each function's invocations since before.
func invocationsSince(before map[string]runnerStats) map[string]int {
	out := map[string]int{}
	for name, s := range lc.Runner.Stats() {
		if d := s.Invocations - before[name].Invocations; d > 0 {
			out[name] = d
		}
	}
	return out
}

// benchCalls runs one approve → grant → expire lifecycle and one deny
// lifecycle alone on a quiet system and records every AWS call that
// reaches the edge, attributed to the function that made it.
func benchCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	mw := mails
	tw := newTrustWatch(sandboxRole, 10*time.Millisecond)
	go tw.run(watchCtx)
	quiet := func() { edgeCalls.waitQuiet(ctx, 400*time.Millisecond) }
	quiet()

	cr := &CallResults{}
	// Approve → grant → expire.
	{
		stats0 := lc.Runner.Stats()
		life := &Lifecycle{Kind: "approve → grant → expire", Duration: *grantFor}
		m0 := edgeCalls.mark()
		id, err := create(ctx, "alice", "sandbox-admin", *grantFor)
		if err != nil {
			t.Fatal(err)
		}
		mail, ok := mw.wait(ctx, id, time.Minute)
		if !ok {
			t.Fatalf("%s: no approval email", id)
		}
		quiet()
		m1 := edgeCalls.mark()
		life.addStep("request: POST /v1/requests → approval email", "ApiFunction", edgeCalls.since(m0)[:m1-m0])
		if err := decide(ctx, mail.Link, "approve"); err != nil {
			t.Fatal(err)
		}
		if _, ok := tw.waitAppeared(ctx, id, time.Minute); !ok {
			t.Fatalf("%s: not granted", id)
		}
		quiet()
		m2 := edgeCalls.mark()
		life.addStep("approve: POST /d/{token} → grant applied", "DecideFunction", edgeCalls.since(m1)[:m2-m1])
		waitExecution(ctx, t, id, "SUCCEEDED", 90*time.Second)
		quiet()
		m3 := edgeCalls.mark()
		life.addStep("expiry: Hold ends → statement removed, expired", "", edgeCalls.since(m2)[:m3-m2])
		life.finish(edgeCalls.since(m0)[:m3-m0], stats0)
		life.Transitions, life.HistoryEvents = stateTransitions(ctx, t, id)
		cr.Lifecycles = append(cr.Lifecycles, life)
	}
	// Approve → grant → revoke, when the API can revoke.
	if hasRoute(revokeRoute) {
		stats0 := lc.Runner.Stats()
		life := &Lifecycle{Kind: "approve → grant → revoke", Duration: "10m"}
		m0 := edgeCalls.mark()
		id, err := create(ctx, "alice", "sandbox-admin", "10m")
		if err != nil {
			t.Fatal(err)
		}
		mail, ok := mw.wait(ctx, id, time.Minute)
		if !ok {
			t.Fatalf("%s: no approval email", id)
		}
		quiet()
		m1 := edgeCalls.mark()
		life.addStep("request: POST /v1/requests → approval email", "ApiFunction", edgeCalls.since(m0)[:m1-m0])
		if err := decide(ctx, mail.Link, "approve"); err != nil {
			t.Fatal(err)
		}
		if _, ok := tw.waitAppeared(ctx, id, time.Minute); !ok {
			t.Fatalf("%s: not granted", id)
		}
		quiet()
		m2 := edgeCalls.mark()
		life.addStep("approve: POST /d/{token} → grant applied", "DecideFunction", edgeCalls.since(m1)[:m2-m1])
		if code, body, err := apiCall(ctx, "alice", "POST", "/v1/requests/"+id+"/revoke", nil); err != nil || code != http.StatusAccepted && code != http.StatusOK {
			t.Fatalf("%s: revoke: %d %v %s", id, code, err, body)
		}
		waitExecution(ctx, t, id, "", 60*time.Second)
		quiet()
		m3 := edgeCalls.mark()
		life.addStep("revoke: POST /v1/requests/{id}/revoke → statement removed, revoked", "ApiFunction", edgeCalls.since(m2)[:m3-m2])
		life.finish(edgeCalls.since(m0)[:m3-m0], stats0)
		life.Transitions, life.HistoryEvents = stateTransitions(ctx, t, id)
		cr.Lifecycles = append(cr.Lifecycles, life)
	}
	// Deny.
	{
		stats0 := lc.Runner.Stats()
		life := &Lifecycle{Kind: "deny", Duration: "10m"}
		m0 := edgeCalls.mark()
		id, err := create(ctx, "alice", "sandbox-admin", "10m")
		if err != nil {
			t.Fatal(err)
		}
		mail, ok := mw.wait(ctx, id, time.Minute)
		if !ok {
			t.Fatalf("%s: no approval email", id)
		}
		quiet()
		m1 := edgeCalls.mark()
		life.addStep("request: POST /v1/requests → approval email", "ApiFunction", edgeCalls.since(m0)[:m1-m0])
		if err := decide(ctx, mail.Link, "deny"); err != nil {
			t.Fatal(err)
		}
		waitExecution(ctx, t, id, "SUCCEEDED", 30*time.Second)
		quiet()
		m2 := edgeCalls.mark()
		life.addStep("deny: POST /d/{token} → execution ends", "DecideFunction", edgeCalls.since(m1)[:m2-m1])
		life.finish(edgeCalls.since(m0)[:m2-m0], stats0)
		life.Transitions, life.HistoryEvents = stateTransitions(ctx, t, id)
		cr.Lifecycles = append(cr.Lifecycles, life)
	}
	res.Calls = cr
	for _, l := range cr.Lifecycles {
		logf("calls: %s: %d AWS calls at the edge %v", l.Kind, l.Total, l.ByService)
	}
}

// addStep attributes a step's calls to functions: a call made while a
// Lambda Invoke was in progress belongs to the invoked function (the
// lifecycle runs alone, so invocations do not overlap); any other call
// belongs to outside, the function the gateway invoked for the step (its
// invocations do not pass the edge).
func (l *Lifecycle) addStep(name, outside string, calls []cloud.Call) {
	step := Step{Name: name, Calls: len(calls), ByFunction: map[string][]OpCount{}}
	var invokes []cloud.Call
	for _, c := range calls {
		if c.Operation == "Invoke" {
			invokes = append(invokes, c)
		}
	}
	groups := map[string][]cloud.Call{}
	for _, c := range calls {
		owner := outside
		if c.Operation == "Invoke" {
			owner = "StepFunctions (moto interpreter)"
		} else {
			for _, in := range invokes {
				if !c.Start.Before(in.Start) && c.Start.Before(in.Start.Add(in.Duration)) {
					owner = in.Resource
				}
			}
		}
		if owner == "" {
			owner = "unattributed"
		}
		groups[owner] = append(groups[owner], c)
	}
	for owner, cs := range groups {
		step.ByFunction[owner] = countOps(cs)
	}
	sorted := append([]cloud.Call(nil), calls...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	step.Sequence = sequence(sorted)
	step.EmulatorMS = msOf(edgeTime(calls))
	l.Steps = append(l.Steps, step)
}

func (l *Lifecycle) finish(calls []cloud.Call, stats0 map[string]runnerStats) {
	l.Total = len(calls)
	l.ByService = byService(calls)
	l.ByOperation = countOps(calls)
	l.EmulatorMS = msOf(edgeTime(calls))
	l.Invocations = invocationsSince(stats0)
}

func sfnDirect() *sfn.Client {
	return sfn.NewFromConfig(provision.EmulatorConfig(lc.MotoURL, cloud.Region))
}

func executionArn(id string) string {
	return strings.Replace(lc.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + id
}

func waitExecution(ctx context.Context, t *testing.T, id, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	arn := executionArn(id)
	for {
		out, err := sfnDirect().DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
		if err == nil && (string(out.Status) == want || want == "" && out.Status != "RUNNING") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s not %s after %s (%v)", id, want, limit, err)
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

// stateTransitions counts the execution's state transitions (the unit
// Standard workflows are billed by: one per state entered) and history
// events, read directly from moto.
func stateTransitions(ctx context.Context, t *testing.T, id string) (int, int) {
	t.Helper()
	arn := executionArn(id)
	var transitions, events int
	p := sfn.NewGetExecutionHistoryPaginator(sfnDirect(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Logf("execution history of %s: %v", id, err)
			return 0, 0
		}
		for _, e := range page.Events {
			events++
			if strings.HasSuffix(string(e.Type), "StateEntered") {
				transitions++
			}
		}
	}
	return transitions, events
}
