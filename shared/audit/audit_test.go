package audit

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

var now = time.Date(2026, time.November, 28, 15, 0, 0, 0, time.UTC)

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery(map[string]string{"requester": "arn:aws:sts::1:assumed-role/E/a@b.c", "action": "approved", "status": "active",
		"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00+01:00", "limit": "7", "format": "csv"}, now, 50, 200)
	if err != nil {
		t.Fatal(err)
	}
	if q.Requester != "arn:aws:sts::1:assumed-role/E/a@b.c" || q.Type != "approved" || q.Status != access.Active || q.Limit != 7 ||
		!q.From.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2026, 11, 1, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("query = %+v", q)
	}
	q, err = ParseQuery(map[string]string{}, now, 50, 200)
	if err != nil || !q.To.Equal(now) || !q.From.Equal(now.Add(-DefaultPeriod)) || q.Limit != 50 {
		t.Fatalf("defaults = %+v, %v", q, err)
	}
	q, err = ParseQuery(map[string]string{"cursor": "abc"}, now, 50, 200)
	if err != nil || !q.From.IsZero() || !q.To.IsZero() || q.Cursor != "abc" {
		t.Fatalf("a cursor without a period keeps its own: %+v, %v", q, err)
	}
	bad := []struct {
		params map[string]string
		field  string
		says   string
	}{
		{map[string]string{"colour": "red"}, "colour", `"colour" is not a parameter here`},
		{map[string]string{"": "0"}, "query", `"" is not a parameter here`},
		{map[string]string{"requester": "a b"}, "requester", "1 to 256 characters"},
		{map[string]string{"resource": strings.Repeat("r", 257)}, "resource", "1 to 256"},
		{map[string]string{"actor": "<script>"}, "actor", "letters, digits"},
		{map[string]string{"action": "Approved!"}, "action", "event type"},
		{map[string]string{"status": "gone"}, "status", "must be one of"},
		{map[string]string{"from": "yesterday"}, "from", "RFC 3339"},
		{map[string]string{"to": "2026-13-01T00:00:00Z"}, "to", "RFC 3339"},
		{map[string]string{"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from", "must not be after to"},
		{map[string]string{"from": "2024-01-01T00:00:00Z"}, "from", "at most 400 days"},
		{map[string]string{"limit": "0"}, "limit", "from 1 to 200"},
		{map[string]string{"limit": "201"}, "limit", "from 1 to 200"},
		{map[string]string{"limit": "x", "cursor": "abc"}, "limit", "whole number"},
	}
	for _, b := range bad {
		_, err := ParseQuery(b.params, now, 50, 200)
		var ve *access.ValidationError
		if !errors.As(err, &ve) || ve.Field != b.field || !strings.Contains(ve.Error(), b.says) {
			t.Errorf("%v: err = %v, want field %s saying %q", b.params, err, b.field, b.says)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	evs := []access.Event{
		{RequestID: "r1", Type: "created", Actor: "arn:aws:sts::1:assumed-role/E/alice", At: now, Resource: "db", Requester: "arn:aws:sts::1:assumed-role/E/alice",
			To: access.Pending, SourceIP: "10.0.0.1", UserAgent: "jit/1", Detail: map[string]string{"reason": "=HYPERLINK(\"x\")", "b": "2"}},
		{RequestID: "r1", Type: "denied", Actor: "carol@example.com", At: now.Add(time.Second), From: access.Pending, To: access.Denied,
			Detail: map[string]string{"comment": "no,\n\"never\""}},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, evs, true); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, b.String())
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(Columns, ",") {
		t.Fatalf("rows = %q", rows)
	}
	if rows[1][0] != "2026-11-28T15:00:00Z" || rows[1][8] != "10.0.0.1" || rows[1][10] != `{"b":"2","reason":"=HYPERLINK(\"x\")"}` {
		t.Errorf("row 1 = %q", rows[1])
	}
	if rows[2][6] != "pending" || rows[2][7] != "denied" || !strings.Contains(rows[2][10], `no,\n\"never\"`) {
		t.Errorf("row 2 = %q", rows[2])
	}
	b.Reset()
	if err := WriteCSV(&b, []access.Event{{RequestID: "=1+1", Type: "created", Actor: "@x", At: now}}, false); err != nil {
		t.Fatal(err)
	}
	if rows, _ := csv.NewReader(&b).ReadAll(); len(rows) != 1 || rows[0][1] != "'=1+1" || rows[0][3] != "'@x" {
		t.Errorf("formula cells not defused: %q", rows)
	}
}

func TestSummarize(t *testing.T) {
	at := func(s int) *time.Time { x := now.Add(time.Duration(s) * time.Second); return &x }
	reqs := []*access.Request{
		{Resource: "db", CreatedAt: now, DecidedAt: at(10), GrantedAt: at(12), Status: access.Expired},
		{Resource: "db", CreatedAt: now, DecidedAt: at(30), GrantedAt: at(31), Status: access.Active, Escalated: true},
		{Resource: "db", CreatedAt: now, DecidedAt: at(50), Status: access.Denied},
		{Resource: "web", CreatedAt: now, DecidedAt: at(0), GrantedAt: at(2), Status: access.Active, AutoApprovedBy: "short"},
		{Resource: "web", CreatedAt: now, DecidedAt: at(0), GrantedAt: at(1), Status: access.Revoked, BreakGlass: true},
		{Resource: "web", CreatedAt: now, StartAt: at(100), DecidedAt: at(5), GrantedAt: at(103), Status: access.Active},
		{Resource: "web", CreatedAt: now.Add(-24 * time.Hour), Status: access.Failed},
	}
	b := Summarize(reqs, Population{})
	total := b.Total
	if total.Requests != 7 || total.AutoApproved != 1 || total.BreakGlass != 1 || total.Escalated != 1 || total.Denied != 1 || total.Failed != 1 {
		t.Errorf("total = %+v", total)
	}
	// People decided 10, 30, 50 and 5 seconds after creation.
	if d := total.TimeToDecision; d.Count != 4 || d.MedianSeconds != 10 || d.P90Seconds != 50 {
		t.Errorf("time to decision = %+v", d)
	}
	// Granted 12, 31, 2, 1 s after creation and 3 s after the scheduled start.
	if g := total.TimeToGrant; g.Count != 5 || g.MedianSeconds != 3 || g.P90Seconds != 31 {
		t.Errorf("time to grant = %+v", g)
	}
	if total.AutoApprovedShare != 0.143 || total.EscalationRate != 0.143 {
		t.Errorf("shares = %v, %v", total.AutoApprovedShare, total.EscalationRate)
	}
	if db := b.ByResource["db"]; db.Requests != 3 || db.TimeToDecision.MedianSeconds != 30 {
		t.Errorf("db = %+v", db)
	}
	if len(b.ByDay) != 2 || b.ByDay["2026-11-27"].Requests != 1 {
		t.Errorf("by day = %+v", b.ByDay)
	}
	if empty := Summarize(nil, Population{}).Total; empty.Requests != 0 || empty.TimeToGrant.Count != 0 {
		t.Errorf("empty = %+v", empty)
	}
}

func TestParseStatsQuery(t *testing.T) {
	q, err := ParseStatsQuery(map[string]string{"resource": "db", "from": "2026-11-01T00:00:00Z"}, now)
	if err != nil || q.Resource != "db" || !q.To.Equal(now) {
		t.Fatalf("query = %+v, %v", q, err)
	}
	for want, params := range map[string]map[string]string{
		"action": {"action": "created"},
		"from":   {"from": "2026-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
		"to":     {"to": "tomorrow"},
	} {
		var ve *access.ValidationError
		if _, err := ParseStatsQuery(params, now); !errors.As(err, &ve) || ve.Field != want {
			t.Errorf("%v: err = %v, want a refusal of %s", params, err, want)
		}
	}
}
