package e2e

// Races between callers: concurrent creates with one Idempotency-Key, and
// a requester's cancel against an approver's approve. Each race is checked
// against what the API answered, the audit trail (counts of event types:
// other events may be added to a request's history), the trust policy and
// the request's execution.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/jitaccess/jit/shared/local/cloud"
)

// TestConcurrentCreatesOneKey sends 20 creates with one Idempotency-Key at
// once, half of them with one body and half with another (TestIdempotentCreate
// sends 20 alike). Exactly one request exists: one 201, its id in every
// other answer (200 for the same body, 422 naming it for the other), one
// request in the list, one created event, one execution.
func TestConcurrentCreatesOneKey(t *testing.T) {
	t.Parallel()
	const n = 20
	stamp := time.Now().UnixNano()
	key := fmt.Sprintf("race-%d", stamp)
	reasons := []string{fmt.Sprintf("one key, body A %d", stamp), fmt.Sprintf("one key, body B %d", stamp)}
	replies := make([]reply, n)
	errs := make([]error, n)
	ci := identityOf(t, lc, "ci-bot")
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"resource":"sandbox-admin","duration":"10m","reason":%q}`, reasons[i%2])
			<-start
			replies[i], errs[i] = doHTTP(lc.APIURL, "POST", "/v1/requests", []byte(body),
				map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}, signedAs(ci))
		})
	}
	close(start)
	wg.Wait()

	codes := map[int]int{}
	ids := map[string]bool{}
	winner := ""
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		codes[r.Code]++
		body := r.JSON()
		switch r.Code {
		case http.StatusCreated:
			winner = reasons[i%2]
			ids[fmt.Sprint(body["id"])] = true
		case http.StatusOK:
			if r.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("create %d: 200 without Idempotent-Replayed", i)
			}
			ids[fmt.Sprint(body["id"])] = true
		case http.StatusUnprocessableEntity:
			// The message names the request the key made.
			ids[between(fmt.Sprint(body["message"]), "request (", ")")] = true
		default:
			t.Errorf("create %d: %d %s", i, r.Code, r.Body)
		}
	}
	if codes[http.StatusCreated] != 1 || len(ids) != 1 {
		t.Fatalf("%d concurrent creates with one key: status counts %v, ids %v; want one 201 and one id", n, codes, ids)
	}
	var id string
	for id = range ids {
	}
	// Every answer to the winning body is the request; the other body is
	// refused every time.
	for i, r := range replies {
		if same := reasons[i%2] == winner; same != (r.Code != http.StatusUnprocessableEntity) {
			t.Errorf("create %d (winning body: %v): %d", i, same, r.Code)
		}
	}
	t.Logf("%d concurrent creates: status counts %v", n, codes)

	if got := listedWithReason(t, "ci-bot", reasons); got != 1 {
		t.Fatalf("the list shows %d requests with these reasons, want 1", got)
	}
	if s := snapshotOf(t, lc, "ci-bot", id); s.count("created") != 1 {
		t.Fatalf("history %v: want one created event", s.Events)
	}
	if got := executionsNamed(t, id); got != 1 {
		t.Fatalf("%d executions for %s, want 1", got, id)
	}
}

// between returns the part of s between the first open and the next
// close after it, or "".
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	inner, _, _ := strings.Cut(rest, close)
	return inner
}

// listedWithReason counts who's requests in the list whose reason is one
// of reasons.
func listedWithReason(t testing.TB, who string, reasons []string) int {
	t.Helper()
	n := 0
	path := "/v1/requests?limit=100"
	for {
		r := apiCall(t, lc, who, "GET", path, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("list: %d %s", r.Code, r.Body)
		}
		body := r.JSON()
		list, _ := body["requests"].([]any)
		for _, e := range list {
			req, _ := e.(map[string]any)
			for _, reason := range reasons {
				if req["reason"] == reason {
					n++
				}
			}
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return n
		}
		path = "/v1/requests?limit=100&cursor=" + url.QueryEscape(next)
	}
}

// executionsNamed counts the shared cloud's executions named name (the
// request id).
func executionsNamed(t testing.TB, name string) int {
	t.Helper()
	n := 0
	p := sfn.NewListExecutionsPaginator(sfnClient(lc), &sfn.ListExecutionsInput{StateMachineArn: aws.String(lc.StateMachineArn)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			if aws.ToString(e.Name) == name {
				n++
			}
		}
	}
	return n
}

// racePolicy gives each round of TestCancelRacesApprove a resource on a
// role of its own, so concurrent grants never share a trust policy (and
// its size quota).
func racePolicy(rounds int) (policy string, roles []string) {
	var b strings.Builder
	b.WriteString("# races_test.go: one resource and role per round.\nresources:\n")
	for i := range rounds {
		role := fmt.Sprintf("jit-race-%d", i)
		roles = append(roles, role)
		fmt.Fprintf(&b, `  - name: race-%d
    description: Round %d of the cancel/approve race.
    target:
      role_arn: arn:aws:iam::123456789012:role/%s
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    min_duration: 2s
    max_duration: 1h
    approval:
      levels:
        - approvers: [{email: carol@example.com}]
`, i, i, role)
	}
	return b.String(), roles
}

// TestCancelRacesApprove: in each round alice cancels her request at the
// moment carol approves it. Whatever the order, the request has one
// outcome:
//   - cancelled (the cancel answered 200): never granted (no active event,
//     no trust statement), its execution ends; if the approval landed
//     first it is in the trail too, but nothing acted on it;
//   - granted (the cancel answered 409 saying the request is already
//     active or past cancelling): the approval answered 200, the request
//     is granted once with one trust statement, then expires.
//
// Four rounds fire both calls at the same moment; the others start them a
// little apart (the cancel 20 ms first, or the approval 25 ms to 1.2 s
// first), so that every interleaving gets its chance: the cancel before
// the approval, between the approval and the grant, and after the grant.
func TestCancelRacesApprove(t *testing.T) {
	t.Parallel()
	// How long before the cancel each round's approval starts (negative:
	// after it).
	approveLead := []time.Duration{0, 0, 0, 0, -20 * time.Millisecond,
		25 * time.Millisecond, 75 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, 1200 * time.Millisecond}
	rounds := len(approveLead)
	policy, roles := racePolicy(rounds)
	c, _ := ownCloud(t, policy, roles...)

	ids := make([]string, rounds)
	for i := range rounds {
		ids[i] = createOn(t, c, "alice", fmt.Sprintf("race-%d", i), "2s", fmt.Sprintf("cancel races approve, round %d", i))
	}
	links := make([]string, rounds)
	for i, id := range ids {
		links[i] = linksFor(t, c, id, "carol@example.com")["carol@example.com"]
	}

	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := range rounds {
		t.Run(fmt.Sprintf("round %d", i), func(t *testing.T) {
			t.Parallel()
			id, role := ids[i], roles[i]
			var cancelDelay, approveDelay time.Duration
			if lead := approveLead[i]; lead > 0 {
				cancelDelay = lead
			} else {
				approveDelay = -lead
			}
			var cancelled, approved reply
			var cancelErr, approveErr error
			start := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				<-start
				time.Sleep(cancelDelay)
				cancelled, cancelErr = doHTTP(c.APIURL, "POST", "/v1/requests/"+id+"/cancel", nil, nil, signedAs(identityOf(t, c, "alice")))
			})
			wg.Go(func() {
				<-start
				time.Sleep(approveDelay)
				approved, approveErr = postDecision(links[i], url.Values{"decision": {"approve"}})
			})
			close(start)
			wg.Wait()
			if cancelErr != nil || approveErr != nil {
				t.Fatalf("cancel: %v; approve: %v", cancelErr, approveErr)
			}

			var outcome string
			switch {
			case cancelled.Code == http.StatusOK:
				outcome = cancelWon(t, c, id, role, approved)
			case cancelled.Code == http.StatusConflict:
				outcome = approveWon(t, c, id, role, cancelled, approved)
			default:
				t.Fatalf("cancel: %d %s", cancelled.Code, cancelled.Body)
			}
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
		})
	}
	t.Cleanup(func() {
		// After every round: a request that was cancelled holds no access,
		// even from a grant that was still running when it was cancelled.
		for i, id := range ids {
			if s := snapshotOf(t, c, "alice", id); s.Status == "cancelled" {
				if n := trustStatements(t, c, roles[i], "Jit"+id); n != 0 {
					t.Errorf("round %d: cancelled request %s has %d trust statements", i, id, n)
				}
			}
		}
		t.Logf("%d rounds: %v", rounds, outcomes)
	})
}

// cancelWon checks a round whose cancel answered 200.
func cancelWon(t *testing.T, c *cloud.Cloud, id, role string, approved reply) string {
	t.Helper()
	s := snapshotOf(t, c, "alice", id)
	if s.Status != "cancelled" || s.count("cancelled") != 1 || s.count("active") != 0 || s.count("denied") != 0 {
		t.Fatalf("cancel answered 200, but status %s, history %v", s.Status, s.Events)
	}
	outcome := "cancelled before the approval"
	switch approved.Code {
	case http.StatusOK:
		// The approval landed first and the cancel before the grant.
		if s.count("approved") != 1 || !strings.Contains(approved.Body, "You approved") {
			t.Fatalf("approve answered 200 (%s), history %v", approved.Body, s.Events)
		}
		outcome = "approved, cancelled before the grant"
	case http.StatusConflict:
		if s.count("approved") != 0 || !strings.Contains(approved.Body, "cancelled") {
			t.Fatalf("approve refused with %s, history %v", approved.Body, s.Events)
		}
	default:
		t.Fatalf("approve: %d %s", approved.Code, approved.Body)
	}
	// Stopped (ABORTED), or ended by the cancel's signal (SUCCEEDED). moto
	// reports an execution stopped while a task fails as FAILED.
	for deadline := time.Now().Add(30 * time.Second); executionStatusOn(t, c, id) == "RUNNING"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("cancelled, but its execution still runs after 30s: %s", executionTrail(t, c, id))
		}
	}
	// A grant already running when the cancel landed may apply its
	// statement before it finds it cannot record the request active; it
	// then takes it back.
	if n := trustStatements(t, c, role, "Jit"+id); n != 0 {
		t.Logf("cancelled with %d trust statements for now: a grant in flight, waiting for it to take them back", n)
		waitFor(t, "the in-flight grant of "+id+" to be taken back", 30*time.Second, func() bool {
			return trustStatements(t, c, role, "Jit"+id) == 0
		})
		outcome += " (grant in flight taken back)"
	}
	if s := snapshotOf(t, c, "alice", id); s.Status != "cancelled" || s.count("active") != 0 {
		t.Fatalf("after its execution ended: status %s, history %v", s.Status, s.Events)
	}
	return outcome
}

// approveWon checks a round whose cancel answered 409.
func approveWon(t *testing.T, c *cloud.Cloud, id, role string, cancelled, approved reply) string {
	t.Helper()
	msg, _ := cancelled.JSON()["message"].(string)
	outcome := "approved and granted, cancel refused"
	switch {
	case strings.Contains(msg, id) && strings.Contains(msg, "is active"):
	case strings.Contains(msg, id) && strings.Contains(msg, "is approved and cannot become cancelled"):
		// The cancel read the request pending and the approval committed
		// before the cancel's write. approved → cancelled is allowed, so
		// the store must try the cancel again from approved, not refuse it
		// (it once did: shared/store/transitions.go, errMovedMeanwhile).
		t.Errorf("cancel refused although the request could still be cancelled: %s", msg)
	default:
		t.Errorf("cancel refused without saying why: %s", cancelled.Body)
	}
	if approved.Code != http.StatusOK || !strings.Contains(approved.Body, "You approved") {
		t.Fatalf("cancel refused (%s), but approve answered %d %s", msg, approved.Code, approved.Body)
	}
	var s snapshot
	waitFor(t, id+" granted", 30*time.Second, func() bool {
		s = snapshotOf(t, c, "alice", id)
		return s.Status == "active" || s.Status == "expired"
	})
	if s.Status == "active" {
		if n := trustStatements(t, c, role, "Jit"+id); n != 1 {
			t.Fatalf("active with %d trust statements, want 1", n)
		}
	}
	s = waitStatus(t, c, "alice", id, "expired", 30*time.Second)
	waitExecution(t, c, id, "SUCCEEDED")
	if s.count("approved") != 1 || s.count("active") != 1 || s.count("cancelled") != 0 {
		t.Fatalf("history %v: want one approval, one grant, no cancel", s.Events)
	}
	if n := trustStatements(t, c, role, "Jit"+id); n != 0 {
		t.Fatalf("expired with %d trust statements", n)
	}
	return outcome
}

func executionStatusOn(t testing.TB, c *cloud.Cloud, id string) string {
	t.Helper()
	arn := executionArn(c, id)
	out, err := sfnClient(c).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Status)
}
