package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// seedEvents writes evs to table, 25 to a BatchWriteItem.
func seedEvents(t *testing.T, table string, evs []access.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := 0; i < len(evs); i += 25 {
		var reqs []types.WriteRequest
		for _, ev := range evs[i:min(i+25, len(evs))] {
			item, err := store.EventItem(ev)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for len(reqs) > 0 {
			out, err := emu.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				t.Fatalf("seed events: %v", err)
			}
			reqs = out.UnprocessedItems[table]
		}
	}
}

// syntheticEvents makes n events over days days from start: requesters,
// actors, resources and types drawn from small sets, every event at its
// own microsecond. Transition types carry from/to.
func syntheticEvents(n, days int, start time.Time, seed uint64) []access.Event {
	rng := rand.New(rand.NewPCG(seed, seed))
	types := []string{"created", "policy_evaluated", "approval_requested", "notification_sent", "link_opened", "approved", "denied", "active", "expired", "revoked"}
	transitions := map[string][2]access.Status{
		"approved": {access.Pending, access.Approved}, "denied": {access.Pending, access.Denied},
		"active": {access.Approved, access.Active}, "expired": {access.Active, access.Expired}, "revoked": {access.Active, access.Revoked},
	}
	span := time.Duration(days) * 24 * time.Hour
	evs := make([]access.Event, n)
	for i := range evs {
		typ := types[rng.IntN(len(types))]
		ev := access.Event{
			RequestID: fmt.Sprintf("req%05d", rng.IntN(n/4+1)),
			Type:      typ,
			Actor:     fmt.Sprintf("actor-%02d@example.com", rng.IntN(20)),
			Requester: fmt.Sprintf("arn:aws:sts::123456789012:assumed-role/Engineer/user-%02d", rng.IntN(50)),
			Resource:  fmt.Sprintf("resource-%d", rng.IntN(40)),
			At:        start.Add(time.Duration(rng.Int64N(int64(span))) / time.Microsecond * time.Microsecond),
			Detail:    map[string]string{"n": fmt.Sprint(i)},
		}
		if ft, ok := transitions[typ]; ok {
			ev.From, ev.To = ft[0], ft[1]
		}
		evs[i] = ev
	}
	return evs
}

func auditKey(ev access.Event) string {
	return ev.At.UTC().Format("2006-01-02T15:04:05.000000Z") + "#" + ev.RequestID + "#" + ev.Type
}

// matching is what q should return from evs, newest first.
func matching(evs []access.Event, q store.AuditQuery) []string {
	var out []string
	for _, ev := range evs {
		if (q.Requester != "" && ev.Requester != q.Requester) || (q.Actor != "" && ev.Actor != q.Actor) ||
			(q.Resource != "" && ev.Resource != q.Resource) || (q.Type != "" && ev.Type != q.Type) ||
			(q.Status != "" && ev.To != q.Status) || ev.At.Before(q.From) || ev.At.After(q.To) {
			continue
		}
		out = append(out, auditKey(ev))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// searchAll follows a search's cursors to the end.
func searchAll(t *testing.T, s *store.Store, q store.AuditQuery) (keys []string, pages, queries, scanned int, index string) {
	t.Helper()
	for {
		p, err := s.SearchAudit(testContext(t), q)
		if err != nil {
			t.Fatalf("SearchAudit(%+v): %v", q, err)
		}
		index = p.Index
		pages++
		queries += p.Queries
		scanned += p.Scanned
		if len(p.Events) > q.Limit {
			t.Fatalf("page of %d events, limit %d", len(p.Events), q.Limit)
		}
		for _, ev := range p.Events {
			keys = append(keys, auditKey(ev))
		}
		if p.Next == "" {
			return keys, pages, queries, scanned, index
		}
		if pages > 10000 {
			t.Fatal("search does not end")
		}
		q.Cursor = p.Next
	}
}

func equalKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAuditSearchFilters checks every filter, alone and combined, across
// pages and time buckets (two month boundaries), against the events
// seeded.
func TestAuditSearchFilters(t *testing.T) {
	t.Parallel()
	table := ownTable(t, "audit-filters")
	s := store.New(emu.db, table)
	start := time.Date(2031, time.January, 20, 0, 0, 0, 0, time.UTC)
	evs := syntheticEvents(600, 45, start, 7)
	seedEvents(t, table, evs)
	end := start.Add(45 * 24 * time.Hour)
	mid := time.Date(2031, time.February, 3, 12, 0, 0, 0, time.UTC)
	some := evs[11]
	tests := []struct {
		name string
		q    store.AuditQuery
	}{
		{"everything", store.AuditQuery{}},
		{"requester", store.AuditQuery{Requester: some.Requester}},
		{"actor", store.AuditQuery{Actor: some.Actor}},
		{"resource", store.AuditQuery{Resource: some.Resource}},
		{"action", store.AuditQuery{Type: "notification_sent"}},
		{"status", store.AuditQuery{Status: access.Revoked}},
		{"requester and action", store.AuditQuery{Requester: some.Requester, Type: "created"}},
		{"resource and actor", store.AuditQuery{Resource: some.Resource, Actor: some.Actor}},
		{"actor and status", store.AuditQuery{Actor: some.Actor, Status: access.Approved}},
		{"action and status that cannot both hold", store.AuditQuery{Type: "created", Status: access.Approved}},
		{"resource, narrow period", store.AuditQuery{Resource: some.Resource, From: mid, To: mid.Add(36 * time.Hour)}},
		{"everything, narrow period", store.AuditQuery{From: mid, To: mid.Add(50 * time.Hour)}},
		{"nobody", store.AuditQuery{Requester: "arn:aws:sts::123456789012:assumed-role/Engineer/nobody"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if q.From.IsZero() {
				q.From, q.To = start, end
			}
			q.Limit = 7
			want := matching(evs, q)
			got, pages, queries, _, _ := searchAll(t, s, q)
			if !equalKeys(got, want) {
				t.Fatalf("got %d events, want %d\n got  %v\n want %v", len(got), len(want), got, want)
			}
			t.Logf("%d events in %d pages, %d queries", len(got), pages, queries)
		})
	}
}

// TestAuditCursorBelongsToItsSearch refuses a cursor edited or moved to
// another search.
func TestAuditCursorBelongsToItsSearch(t *testing.T) {
	t.Parallel()
	table := ownTable(t, "audit-cursor")
	s := store.New(emu.db, table)
	start := time.Date(2031, time.May, 1, 0, 0, 0, 0, time.UTC)
	evs := syntheticEvents(60, 3, start, 3)
	seedEvents(t, table, evs)
	q := store.AuditQuery{From: start, To: start.Add(72 * time.Hour), Limit: 5}
	p, err := s.SearchAudit(testContext(t), q)
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %v (next %q)", err, p.Next)
	}
	for name, other := range map[string]store.AuditQuery{
		"other filter": {Resource: "resource-1", From: q.From, To: q.To, Limit: 5, Cursor: p.Next},
		"other period": {From: q.From.Add(time.Hour), To: q.To, Limit: 5, Cursor: p.Next},
		"garbage":      {From: q.From, To: q.To, Limit: 5, Cursor: "bm90IGEgY3Vyc29y"},
		"not base64":   {From: q.From, To: q.To, Limit: 5, Cursor: "%%%"},
	} {
		if _, err := s.SearchAudit(testContext(t), other); err != store.ErrBadCursor {
			t.Errorf("%s: err = %v, want ErrBadCursor", name, err)
		}
	}
}

// TestAuditSearchTouchesOnlyItsItems seeds 20,000 events and shows that
// each filter's search reads only the index entries of its own
// partitions (DynamoDB's ScannedCount), never the table.
func TestAuditSearchTouchesOnlyItsItems(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 events")
	}
	t.Parallel()
	const n = 20000
	table := ownTable(t, "audit-20k")
	s := store.New(emu.db, table)
	start := time.Date(2031, time.August, 3, 0, 0, 0, 0, time.UTC)
	evs := syntheticEvents(n, 14, start, 20000)
	began := time.Now()
	seedEvents(t, table, evs)
	t.Logf("seeded %d events in %v", n, time.Since(began).Round(time.Millisecond))
	some := evs[0]
	end := start.Add(14 * 24 * time.Hour)
	tests := []struct {
		name string
		q    store.AuditQuery
		// keyed counts the events in the partitions the search reads: the
		// most it may scan (plus one look-ahead per partition and page).
		keyed store.AuditQuery
		index string
	}{
		{"requester", store.AuditQuery{Requester: some.Requester}, store.AuditQuery{Requester: some.Requester}, "GSI4"},
		{"actor", store.AuditQuery{Actor: some.Actor}, store.AuditQuery{Actor: some.Actor}, "GSI5"},
		{"resource", store.AuditQuery{Resource: some.Resource}, store.AuditQuery{Resource: some.Resource}, "GSI6"},
		{"action", store.AuditQuery{Type: "denied"}, store.AuditQuery{Type: "denied"}, "GSI7"},
		{"status", store.AuditQuery{Status: access.Expired}, store.AuditQuery{Type: "expired"}, "GSI7"},
		{"requester and action", store.AuditQuery{Requester: some.Requester, Type: "created"}, store.AuditQuery{Requester: some.Requester}, "GSI4"},
		{"one day, everything", store.AuditQuery{From: start.Add(48 * time.Hour), To: start.Add(72*time.Hour - time.Microsecond)},
			store.AuditQuery{From: start.Add(48 * time.Hour), To: start.Add(72*time.Hour - time.Microsecond)}, "GSI3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, keyed := tt.q, tt.keyed
			if q.From.IsZero() {
				q.From, q.To, keyed.From, keyed.To = start, end, start, end
			}
			// One page holds every result, so what it scanned is what the
			// whole search costs.
			q.Limit = 5000
			want := matching(evs, q)
			own := len(matching(evs, keyed))
			got, pages, queries, scanned, index := searchAll(t, s, q)
			if !equalKeys(got, want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			if index != tt.index {
				t.Fatalf("answered by %s, want %s", index, tt.index)
			}
			partitions := 1
			if tt.index == "GSI3" || tt.index == "GSI7" {
				partitions = 8
			}
			if limit := own + pages*partitions; scanned > limit || scanned < len(want) {
				t.Errorf("scanned %d index entries for %d results; its own partitions hold %d (at most %d with look-ahead)", scanned, len(want), own, limit)
			}
			if scanned*4 > n {
				t.Errorf("scanned %d of %d events: not a selective query", scanned, n)
			}
			t.Logf("%s: %d results, %d pages, %d queries, %d entries scanned of %d events in the table", tt.index, len(want), pages, queries, scanned, n)
		})
	}
}
