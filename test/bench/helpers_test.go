package bench

import (
	"strings"
	"testing"
	"time"
)

func TestDisposable(t *testing.T) {
	tests := []struct {
		name        string
		give        string
		want        bool
		wantRequest string
	}{
		{"request", "REQ#01jabc", true, "01jabc"},
		{"its events", "EVENT#01jabc", true, "01jabc"},
		{"the policy's events stay", "EVENT#policy-3", false, "policy-3"},
		{"link", "LINK#0a1b", true, ""},
		{"idempotency key", "IDEM#k", true, ""},
		{"policy", "POLICY#CURRENT", false, ""},
		{"lease", "LEASE#jit-sandbox-admin", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := disposable(tt.give); got != tt.want {
				t.Errorf("disposable(%q) = %v, want %v", tt.give, got, tt.want)
			}
			if got := requestOf(tt.give); got != tt.wantRequest {
				t.Errorf("requestOf(%q) = %q, want %q", tt.give, got, tt.wantRequest)
			}
		})
	}
}

func TestCovered(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name string
		give []span
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []span{{at(0), at(10)}}, 10 * time.Millisecond},
		{"apart", []span{{at(20), at(25)}, {at(0), at(10)}}, 15 * time.Millisecond},
		{"overlapping", []span{{at(0), at(10)}, {at(5), at(20)}}, 20 * time.Millisecond},
		{"nested", []span{{at(0), at(30)}, {at(5), at(10)}, {at(12), at(20)}}, 30 * time.Millisecond},
		{"touching", []span{{at(0), at(10)}, {at(10), at(15)}}, 15 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := covered(tt.give); got != tt.want {
				t.Errorf("covered = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuditMarkdown(t *testing.T) {
	lat := Summary{Unit: "ms", N: 200, Median: 50, P99: 90}
	tests := []struct {
		name string
		give *Results
		want []string
	}{
		{"pending", newResults(), []string{"7. Audit search: pending", "## 7. Audit search\n\npending"}},
		{"measured", &Results{Audit: &AuditResults{
			Page: 20, Target: 200, TableItems: 700, EventItems: 500,
			MotoEmptyQuery: Summary{N: 20, Median: 10}, MotoPageQuery: Summary{N: 20, Median: 61},
			Searches: []*AuditSearch{
				{Filter: "requester", Query: "GET /v1/audit?limit=20&requester=a", Index: "GSI4", Latency: lat, Queries: 1, Scanned: 21, Events: 20},
				{Filter: "none", Query: "GET /v1/audit?limit=20", Index: "GSI3", Latency: lat, Queries: 8, Scanned: 168, Events: 20},
			},
			Fresh:  &AuditFresh{Found: Summary{N: 69, Median: 90}, Polls: Summary{N: 69, Median: 1, Max: 1}, Of: 69},
			Export: &AuditExport{Runs: 2, Events: 500, Expected: 500, Pages: 1, Total: Summary{N: 2, Median: 5000}, PerPage: Summary{N: 2, Median: 5000}, EdgeQueries: 248},
			CSV:    &AuditCSV{Events: 1000, NsPerOp: 1400000, EventsPerS: 714285},
		}}, []string{
			"| 7a. GET /v1/audit, filter: none (page of 20) | 200 | 50.0 ms | 90.0 ms |",
			"7b. approve 200 → approved event returned",
			"7c. CSV export of all 500 events (1 page)",
			"**The table held 700 items**",
			"about 1.00 ms per entry",
			"read 168 entries in 8 Query calls",
			"248 Query calls for 500 events",
			"`audit.WriteCSV` in process: 1000 events in 1.40 ms",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.give.Handler == nil {
				tt.give.Handler = map[string]*HandlerResult{}
			}
			md := tt.give.markdown()
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("RESULTS.md lacks %q", w)
				}
			}
		})
	}
}
