package bench

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
)

// window brackets when something happened, as seen by polling: after Lo
// (the start of the last poll that did not see it) and before Hi (the end
// of the first poll that did).
type window struct{ Lo, Hi time.Time }

func (w window) mid() time.Time       { return w.Lo.Add(w.Hi.Sub(w.Lo) / 2) }
func (w window) width() time.Duration { return w.Hi.Sub(w.Lo) }

// mailWatch notes when each request's approval email was recorded by the
// emulator: the SES SendEmail call that carried it passes the edge, which
// hands its body to the observer (cloud.Call.Body), and moto has stored
// the message when that call returns. The window is the call itself.
//
// Polling moto's /moto-api/data.json (the inbox's Poll) would also work,
// but moto serializes its whole state for it: after 40 requests one read
// takes 2-3 s of the emulator's single Python process, so polling it
// during a benchmark would slow everything it measures.
type mailWatch struct {
	mu      sync.Mutex
	seen    map[string]mailSighting
	waiters map[string]chan struct{}
}

type mailSighting struct {
	When window
	Link string // the decision link, without ?decision=
	To   string
}

var (
	requestIDInBody = regexp.MustCompile(`Request ([a-z0-9]{26})`)
	decisionLink    = regexp.MustCompile(`https?://[^\s"<>?]+/d/[A-Za-z0-9_-]+`)
)

func newMailWatch() *mailWatch {
	return &mailWatch{seen: map[string]mailSighting{}, waiters: map[string]chan struct{}{}}
}

// sesSendEmail is the part of an SES v2 SendEmail request the watch reads.
type sesSendEmail struct {
	Destination struct {
		ToAddresses []string
	}
	Content struct {
		Simple struct {
			Body struct {
				Text struct{ Data string }
			}
		}
	}
}

// observe looks at one edge call; only successful SES SendEmail calls
// matter.
func (w *mailWatch) observe(c cloud.Call) {
	if c.Service != "ses" || c.Operation != "SendEmail" || c.Status != 200 || c.Body == nil {
		return
	}
	var m sesSendEmail
	if json.Unmarshal(c.Body, &m) != nil {
		return
	}
	text := m.Content.Simple.Body.Text.Data
	id := requestIDInBody.FindStringSubmatch(text)
	link := decisionLink.FindString(text)
	if id == nil || link == "" {
		return
	}
	to := strings.Join(m.Destination.ToAddresses, ",")
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.seen[id[1]]; dup {
		return
	}
	w.seen[id[1]] = mailSighting{When: window{c.Start, c.Start.Add(c.Duration)}, Link: link, To: to}
	if ch, ok := w.waiters[id[1]]; ok {
		close(ch)
		delete(w.waiters, id[1])
	}
}

// wait returns the sighting of id's approval email, waiting up to limit.
func (w *mailWatch) wait(ctx context.Context, id string, limit time.Duration) (mailSighting, bool) {
	w.mu.Lock()
	if s, ok := w.seen[id]; ok {
		w.mu.Unlock()
		return s, true
	}
	ch, ok := w.waiters[id]
	if !ok {
		ch = make(chan struct{})
		w.waiters[id] = ch
	}
	w.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.seen[id]
	return s, ok
}

// trustWatch polls a role's trust policy with GetRole (directly on moto,
// so its calls are not counted at the edge) and notes when each request's
// statement (Sid Jit<id>) appeared and disappeared.
type trustWatch struct {
	iam      *iam.Client
	role     string
	interval time.Duration

	mu       sync.Mutex
	present  map[string]bool
	appeared map[string]window
	gone     map[string]window
	expires  map[string]time.Time // the statement's aws:CurrentTime bound
	returned map[string]int       // statements seen again after they were gone
	waiters  map[string]chan struct{}
	polls    []time.Duration
	maxLen   int // longest trust policy seen, in characters (JSON, no whitespace)
	maxStmts int
}

func newTrustWatch(role string, interval time.Duration) *trustWatch {
	return &trustWatch{
		iam:      iam.NewFromConfig(provision.EmulatorConfig(lc.MotoURL, cloud.Region)),
		role:     role,
		interval: interval,
		present:  map[string]bool{},
		appeared: map[string]window{},
		gone:     map[string]window{},
		expires:  map[string]time.Time{},
		returned: map[string]int{},
		waiters:  map[string]chan struct{}{},
	}
}

type trustDoc struct {
	Statement []struct {
		Sid       string `json:"Sid"`
		Condition struct {
			DateLessThan map[string]string `json:"DateLessThan"`
		} `json:"Condition"`
	} `json:"Statement"`
}

func (w *trustWatch) run(ctx context.Context) {
	prev := time.Now()
	for ctx.Err() == nil {
		start := time.Now()
		out, err := w.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(w.role)})
		end := time.Now()
		if err == nil {
			raw := aws.ToString(out.Role.AssumeRolePolicyDocument)
			if dec, err := url.QueryUnescape(raw); err == nil {
				raw = dec
			}
			var doc trustDoc
			if json.Unmarshal([]byte(raw), &doc) == nil {
				w.observe(doc, len(raw), window{prev, end}, end.Sub(start))
			}
		}
		prev = start
		sleepCtx(ctx, w.interval)
	}
}

// fromEdge feeds the watch with the trust policies written through the
// edge: each successful UpdateAssumeRolePolicy of the role replaces the
// whole document, and the change took effect during the call.
func (w *trustWatch) fromEdge(c cloud.Call) {
	if c.Service != "iam" || c.Operation != "UpdateAssumeRolePolicy" || c.Status != 200 || c.Body == nil {
		return
	}
	v, err := url.ParseQuery(string(c.Body))
	if err != nil || v.Get("RoleName") != w.role {
		return
	}
	var doc trustDoc
	if json.Unmarshal([]byte(v.Get("PolicyDocument")), &doc) != nil {
		return
	}
	w.observe(doc, len(v.Get("PolicyDocument")), window{c.Start, c.Start.Add(c.Duration)}, 0)
}

func (w *trustWatch) observe(doc trustDoc, length int, when window, took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if took > 0 {
		w.polls = append(w.polls, took)
	}
	w.maxLen = max(w.maxLen, length)
	now := map[string]bool{}
	for _, st := range doc.Statement {
		if !strings.HasPrefix(st.Sid, "Jit") {
			continue
		}
		id := strings.TrimPrefix(st.Sid, "Jit")
		now[id] = true
		if w.present[id] {
			continue
		}
		if _, was := w.gone[id]; was {
			w.returned[id]++
		}
		if _, ok := w.appeared[id]; !ok {
			w.appeared[id] = when
			if t, err := time.Parse(time.RFC3339, st.Condition.DateLessThan["aws:CurrentTime"]); err == nil {
				w.expires[id] = t
			}
		}
		if ch, ok := w.waiters[id]; ok {
			close(ch)
			delete(w.waiters, id)
		}
	}
	w.maxStmts = max(w.maxStmts, len(now))
	for id := range w.present {
		if !now[id] {
			if _, ok := w.gone[id]; !ok {
				w.gone[id] = when
			}
		}
	}
	w.present = now
}

// waitAppeared waits up to limit for id's statement.
func (w *trustWatch) waitAppeared(ctx context.Context, id string, limit time.Duration) (window, bool) {
	w.mu.Lock()
	if a, ok := w.appeared[id]; ok {
		w.mu.Unlock()
		return a, true
	}
	ch, ok := w.waiters[id]
	if !ok {
		ch = make(chan struct{})
		w.waiters[id] = ch
	}
	w.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	a, ok := w.appeared[id]
	return a, ok
}

// stillPresent lists the ids among ids whose statement is in the policy.
func (w *trustWatch) stillPresent(ids []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, id := range ids {
		if w.present[id] {
			out = append(out, id)
		}
	}
	return out
}

// statementInfo is what a watch saw of one request's statement.
type statementInfo struct {
	appeared, gone                window
	appearedOK, goneOK, expiresOK bool
	expires                       time.Time
	returned                      int
}

func (w *trustWatch) info(id string) statementInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	var si statementInfo
	si.appeared, si.appearedOK = w.appeared[id]
	si.gone, si.goneOK = w.gone[id]
	si.expires, si.expiresOK = w.expires[id]
	si.returned = w.returned[id]
	return si
}

// presentCount is how many request statements the role holds now.
func (w *trustWatch) presentCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.present)
}

// expiry is the aws:CurrentTime bound of id's statement, if seen.
func (w *trustWatch) expiry(id string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.expires[id]
	return e, ok
}

// lastExpiry is the latest expiry among ids' statements (now if none).
func (w *trustWatch) lastExpiry(ids []string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := time.Now()
	for _, id := range ids {
		if e, ok := w.expires[id]; ok && e.After(last) {
			last = e
		}
	}
	return last
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
