package main

import (
	"net/http"
	"strings"
	"testing"
)

func statsAnswer(truncated bool) map[string]any {
	n := func(requests, autoN int, auto, esc float64, denied, failed int, dec, grant [3]float64, outcomes map[string]int) map[string]any {
		return map[string]any{
			"requests":            requests,
			"time_to_decision":    map[string]any{"count": dec[0], "median_seconds": dec[1], "p90_seconds": dec[2]},
			"time_to_grant":       map[string]any{"count": grant[0], "median_seconds": grant[1], "p90_seconds": grant[2]},
			"auto_approved":       autoN,
			"auto_approved_share": auto, "break_glass": 1, "escalated": int(esc * float64(requests)), "escalation_rate": esc,
			"outcomes": outcomes, "denied": denied, "failed": failed,
			"adoption": map[string]any{
				"requesters": requests / 3, "new_requesters": requests / 7, "returning_requesters": requests/3 - requests/7,
				"requests_per_requester": map[string]any{"mean": 3, "median": 2.5, "max": requests / 2},
				"source_share":           map[string]any{"cli": 0.6, "api": 0.3, "web": 0.1},
				"break_glass_share":      0.024,
				"eligible":               map[string]any{"people": 20, "used": 14, "share": 0.7},
			},
		}
	}
	return map[string]any{
		"from": "2025-12-03T10:00:00Z", "to": "2026-01-02T10:00:00Z", "resource": "", "truncated": truncated,
		"total": n(42, 12, 0.286, 0.071, 2, 1, [3]float64{29, 252.4, 1860}, [3]float64{38, 260, 1925.5},
			map[string]int{"expired": 30, "active": 3, "denied": 2, "failed": 1, "cancelled": 6}),
		"by_resource": map[string]any{
			"sandbox-admin": n(30, 2, 0.067, 0.1, 2, 0, [3]float64{27, 240, 1800}, [3]float64{28, 245, 1810}, map[string]int{"expired": 28, "denied": 2}),
			"auto-short":    n(12, 10, 0.833, 0, 0, 1, [3]float64{0, 0, 0}, [3]float64{10, 0.4, 2}, map[string]int{"expired": 11, "failed": 1}),
		},
		"by_day": map[string]any{"2026-01-01": n(2, 0, 0, 0, 0, 0, [3]float64{}, [3]float64{}, map[string]int{"expired": 2})},
	}
}

func TestStats(t *testing.T) {
	h := newHarness(t)
	var got []map[string]string
	h.api.with(func(f *fakeAPI) {
		f.handlers["GET /v1/stats"] = func(w http.ResponseWriter, r *http.Request) {
			q := map[string]string{}
			for k := range r.URL.Query() {
				q[k] = r.URL.Query().Get(k)
			}
			got = append(got, q)
			jsonPage(statsAnswer(r.URL.Query().Get("resource") == "many"))(w)
		}
	})
	res := h.run("stats")
	if res.code != 0 {
		t.Fatal(res)
	}
	golden(t, "stats.txt", res.stdout)
	if len(got[0]) != 0 {
		t.Errorf("no flags: the API's default period, sent %v", got[0])
	}

	res = h.run("stats", "--since", "7d", "--resource", "sandbox-admin", "-o", "json")
	doc := decode(t, res.stdout)
	if res.code != 0 || doc["by_day"] == nil || doc["total"] == nil {
		t.Errorf("-o json passes the API's answer on: %s", res)
	}
	if q := got[1]; q["from"] != "2025-12-26T10:00:01Z" || q["to"] != "2026-01-02T10:00:01Z" || q["resource"] != "sandbox-admin" || len(q) != 3 {
		t.Errorf("--since 7d --resource sandbox-admin sent %v", q)
	}
	h.run("stats", "--from", "2025-10-01", "--to", "2025-12-31")
	if q := got[2]; q["from"] != "2025-10-01T00:00:00Z" || q["to"] != "2026-01-01T00:00:00Z" || len(q) != 2 {
		t.Errorf("--from --to sent %v", q)
	}

	res = h.run("stats", "--resource", "many")
	if !strings.Contains(res.stdout, "Not every request of the period was counted") {
		t.Errorf("truncated answers say so:\n%s", res.stdout)
	}

	h.api.with(func(f *fakeAPI) {
		f.handlers["GET /v1/stats"] = func(w http.ResponseWriter, r *http.Request) {
			jsonPage(map[string]any{"from": "2025-12-03T10:00:00Z", "to": "2026-01-02T10:00:00Z", "resource": "quiet",
				"total": map[string]any{"requests": 0}, "by_resource": map[string]any{}, "by_day": map[string]any{}})(w)
		}
	})
	res = h.run("stats", "--resource", "quiet")
	if res.code != 0 || res.stdout != "No requests for quiet were created from 2025-12-03 10:00 to 2026-01-02 10:00 UTC (30 day(s)).\n" {
		t.Errorf("no requests:\n%s", res)
	}
}
