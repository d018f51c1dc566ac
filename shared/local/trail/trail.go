// Package trail makes a large synthetic audit trail: requests and the
// events their lifecycles write, with the store's vocabulary (the same
// event types, actors, transitions and details the functions record), so
// that audit search, stats and the compliance export can be measured on a
// table of realistic size without running every lifecycle. cmd/gentrail
// writes one into a table; the audit-lag benchmark uses it.
package trail

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/target"
)

// Config shapes a trail.
type Config struct {
	// Requests is how many requests; a request writes 9 events on
	// average, so 11,000 requests are about 100,000 events.
	// (Zero is none: the other fields have defaults, this one does not.)
	Requests int
	// People ask; Approvers decide (their emails are approver-NN@example.com).
	People, Approvers int
	// Resources are the resource names requests spread over.
	Resources []string
	// Start and Days are the period the requests are created in.
	Start time.Time
	Days  int
	// Seed makes the trail reproducible.
	Seed uint64
}

// withDefaults fills what c leaves zero (but Requests).
func (c Config) withDefaults() Config {
	if c.People == 0 {
		c.People = 200
	}
	if c.Approvers == 0 {
		c.Approvers = 12
	}
	if len(c.Resources) == 0 {
		c.Resources = []string{"prod-readonly", "prod-admin", "sandbox-admin", "billing", "db-admin", "break-glass-admin"}
	}
	if c.Days == 0 {
		c.Days = 90
	}
	if c.Start.IsZero() {
		c.Start = time.Now().UTC().Add(-time.Duration(c.Days) * 24 * time.Hour)
	}
	return c
}

// Trail is the requests and every event they wrote, oldest first.
type Trail struct {
	Requests []*access.Request
	Events   []access.Event
}

// Requester is the principal of person i.
func Requester(i int) string {
	return fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Engineer_1a2b3c4d/user-%03d@example.com", i)
}

// Approver is the email of approver i.
func Approver(i int) string { return fmt.Sprintf("approver-%02d@example.com", i) }

// How requests end, by share (of 1000).
var endings = []struct {
	name  string
	share int
}{
	{"expired", 700}, {"revoked", 80}, {"denied", 90}, {"cancelled", 30}, {"timed_out", 20}, {"auto", 70}, {"break_glass", 10},
}

// Make builds the trail c describes. The same config makes the same
// trail.
func Make(c Config) Trail {
	c = c.withDefaults()
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	span := time.Duration(c.Days) * 24 * time.Hour
	var t Trail
	for i := 0; i < c.Requests; i++ {
		created := c.Start.Add(time.Duration(int64(i) * int64(span) / int64(c.Requests))).Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		r, evs := lifecycle(rng, c, created)
		t.Requests = append(t.Requests, r)
		t.Events = append(t.Events, evs...)
	}
	return t
}

// source draws where a request was made: mostly the CLI.
func source(rng *rand.Rand) (string, string) {
	switch n := rng.IntN(100); {
	case n < 60:
		return access.SourceCLI, "jit-cli/1.4.0 (darwin/arm64)"
	case n < 85:
		return access.SourceAPI, "aws-sdk-go-v2/1.30.0"
	case n < 95:
		return access.SourceWeb, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)"
	}
	return access.SourceSlack, "Slackbot 1.0 (+https://api.slack.com/robots)"
}

func lifecycle(rng *rand.Rand, c Config, created time.Time) (*access.Request, []access.Event) {
	id, err := access.NewID(created, randReader{rng})
	if err != nil {
		panic(err)
	}
	src, ua := source(rng)
	person := rng.IntN(c.People)
	approver := Approver(rng.IntN(c.Approvers))
	resource := c.Resources[rng.IntN(len(c.Resources))]
	d := time.Duration(15+rng.IntN(16)*15) * time.Minute
	r := &access.Request{
		ID: id, Resource: resource, Requester: Requester(person), Reason: "synthetic trail: on-call investigation",
		Duration: d, Status: access.Pending, PolicyVersion: 1, Source: src,
		Target:    target.New(target.IAMRoleTrust, target.RoleARN, "arn:aws:iam::123456789012:role/jit-"+resource),
		CreatedAt: created, UpdatedAt: created,
		Chain:     []access.Level{{Name: "owners", Approvers: []string{approver}, MinApprovals: 1, Timeout: time.Hour, OnTimeout: "fail"}},
		Approvers: []string{approver},
	}
	at := created
	var evs []access.Event
	add := func(after time.Duration, typ, actor string, from, to access.Status, detail map[string]string) time.Time {
		at = at.Add(after)
		ev := access.Event{Type: typ, Actor: actor, At: at, From: from, To: to, Detail: detail}.About(r)
		if actor == r.Requester {
			ev.SourceIP, ev.UserAgent = fmt.Sprintf("10.0.%d.%d", person/250, person%250+1), ua
		}
		evs = append(evs, ev)
		return at
	}
	secs := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Second }
	add(0, access.EventCreated, r.Requester, "", access.Pending, map[string]string{"resource": resource, "duration": access.FormatDuration(d), "policy_version": "1", "source": src})
	ending := pick(rng)
	grant := func(decidedBy string) {
		decided := at
		r.Status, r.DecidedBy, r.DecidedAt = access.Approved, decidedBy, &decided
		granted := add(secs(1, 4), string(access.Active), access.System, access.Approved, access.Active,
			map[string]string{"provider": target.IAMRoleTrust, "session_name": access.SessionName(r.Requester), "expires_at": at.Add(secs(1, 4) + d).UTC().Format(time.RFC3339)})
		expires := granted.Add(d)
		r.Status, r.GrantedAt, r.ExpiresAt = access.Active, &granted, &expires
		if ending == "revoked" {
			add(secs(60, int(d/time.Second)/2), access.EventRevokeRequested, r.Requester, "", "", nil)
			ended := add(secs(1, 3), string(access.Revoked), access.System, access.Active, access.Revoked, nil)
			r.Status, r.RevokeRequestedBy, r.EndedAt = access.Revoked, r.Requester, &ended
			return
		}
		at = expires
		ended := add(secs(0, 2), string(access.Expired), access.System, access.Active, access.Expired, nil)
		r.Status, r.EndedAt = access.Expired, &ended
	}
	switch ending {
	case "auto":
		r.AutoApprovedBy = "short"
		add(time.Millisecond, access.EventPolicyEvaluated, access.System, "", "", map[string]string{"mode": "auto", "rule": "short"})
		add(time.Millisecond, string(access.Approved), access.ActorPolicy+":short", access.Pending, access.Approved, nil)
		grant(access.ActorPolicy + ":short")
	case "break_glass":
		r.BreakGlass = true
		add(time.Millisecond, access.EventPolicyEvaluated, access.System, "", "", map[string]string{"mode": "break_glass"})
		add(time.Millisecond, string(access.Approved), access.ActorBreakGlass, access.Pending, access.Approved, nil)
		add(secs(1, 3), access.EventBreakGlassNotified, access.System, "", "", map[string]string{"sent_to": approver, "sent": "1 of 1"})
		grant(access.ActorBreakGlass)
	default:
		add(time.Millisecond, access.EventPolicyEvaluated, access.System, "", "", map[string]string{"mode": "approval", "levels": "1"})
		add(secs(1, 3), access.EventApprovalRequested, access.System, "", "", map[string]string{"level": "0", "sent_to": approver + " (email), " + approver + " (slack)"})
		add(time.Second, "notification_sent", access.System, "", "", map[string]string{"channel": "email", "to": approver, "outcome": "sent", "level": "0"})
		add(time.Millisecond, "notification_sent", access.System, "", "", map[string]string{"channel": "slack", "to": "U0APPROVER", "outcome": "sent", "level": "0", "approver": approver})
		switch ending {
		case "cancelled":
			ended := add(secs(30, 900), string(access.Cancelled), r.Requester, access.Pending, access.Cancelled, nil)
			r.Status, r.EndedAt = access.Cancelled, &ended
		case "timed_out":
			ended := add(time.Hour, string(access.TimedOut), access.System, access.Pending, access.TimedOut, nil)
			r.Status, r.EndedAt = access.TimedOut, &ended
		default:
			add(secs(20, 1800), access.EventLinkOpened, approver, "", "", map[string]string{"channel": "email"})
			if ending == "denied" {
				decided := add(secs(5, 60), string(access.Denied), approver, access.Pending, access.Denied, map[string]string{"comment": "not without a ticket", "channel": "email"})
				r.Status, r.DecidedBy, r.DecidedAt, r.EndedAt = access.Denied, approver, &decided, &decided
				break
			}
			add(secs(5, 60), access.EventApproval, approver, "", "", map[string]string{"level": "0", "channel": "email"})
			add(time.Millisecond, string(access.Approved), approver, access.Pending, access.Approved, nil)
			grant(approver)
		}
	}
	r.UpdatedAt = at
	return r, evs
}

func pick(rng *rand.Rand) string {
	n := rng.IntN(1000)
	for _, e := range endings {
		if n < e.share {
			return e.name
		}
		n -= e.share
	}
	return "expired"
}

// randReader reads from a seeded generator, so request ids repeat with
// the seed.
type randReader struct{ rng *rand.Rand }

func (r randReader) Read(p []byte) (int, error) {
	var b [8]byte
	for i := 0; i < len(p); i += len(b) {
		binary.LittleEndian.PutUint64(b[:], r.rng.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}
