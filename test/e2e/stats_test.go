package e2e

import (
	"net/http"
	"net/url"
	"testing"
)

// A small known history on a resource no other test uses, read back from
// /v1/stats as exact numbers: counts, sources, new and returning
// requesters, and the share of the people the policy names who asked.
func TestStatsFromAKnownHistory(t *testing.T) {
	t.Parallel()
	ask := func(who, userAgent string, body map[string]any) map[string]any {
		t.Helper()
		code, got := callWith(t, who, "POST", "/v1/requests", body, map[string]string{"User-Agent": userAgent})
		if code != http.StatusCreated {
			t.Fatalf("%s asks: %d %v", who, code, got)
		}
		return got
	}
	// alice has asked before (for another resource): she returns.
	// dave never asked: he is new.
	earlier := create(t, "sandbox-admin", "10m")
	if code, got := call(t, "alice", "POST", "/v1/requests/"+earlier+"/cancel", nil); code != http.StatusOK {
		t.Fatalf("cancel: %d %v", code, got)
	}

	denied := ask("alice", "jit-cli/e2e (linux/amd64)", map[string]any{"resource": "stats-probe", "duration": "10m", "reason": "stats: to be denied"})
	link := decisionLink(t, denied["id"].(string))
	if code, body := page(t, "POST", link, url.Values{"decision": {"deny"}}); code != http.StatusOK {
		t.Fatalf("deny: %d\n%s", code, body)
	}
	if auto := ask("alice", "curl/8.5.0", map[string]any{"resource": "stats-probe", "duration": "30s", "reason": "stats: auto-approved"}); auto["auto_approved_by"] != "short" {
		t.Fatalf("not auto-approved: %v", auto)
	}
	cancelled := ask("dave", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", map[string]any{"resource": "stats-probe", "duration": "10m", "reason": "stats: cancelled"})
	if code, got := call(t, "dave", "POST", "/v1/requests/"+cancelled["id"].(string)+"/cancel", nil); code != http.StatusOK {
		t.Fatalf("cancel: %d %v", code, got)
	}
	ask("dave", "python-requests/2.32", map[string]any{"resource": "stats-probe", "duration": "10m", "reason": "stats: break-glass, production is down", "break_glass": true})

	code, got := call(t, "frank", "GET", "/v1/stats?resource=stats-probe", nil)
	if code != http.StatusOK {
		t.Fatalf("stats: %d %v", code, got)
	}
	total := got["total"].(map[string]any)
	outcomes := total["outcomes"].(map[string]any)
	checks := []struct {
		what      string
		got, want any
	}{
		{"requests", total["requests"], 4.0},
		{"auto-approved", total["auto_approved"], 1.0},
		{"break-glass", total["break_glass"], 1.0},
		{"denied", total["denied"], 1.0},
		{"cancelled", outcomes["cancelled"], 1.0},
		{"decided by a person", total["time_to_decision"].(map[string]any)["count"], 1.0},
	}
	a := total["adoption"].(map[string]any)
	per := a["requests_per_requester"].(map[string]any)
	source := a["by_source"].(map[string]any)
	eligible := a["eligible"].(map[string]any)
	checks = append(checks, []struct {
		what      string
		got, want any
	}{
		{"requesters", a["requesters"], 2.0},
		{"new requesters", a["new_requesters"], 1.0},
		{"returning requesters", a["returning_requesters"], 1.0},
		{"requests per requester (mean)", per["mean"], 2.0},
		{"requests per requester (max)", per["max"], 2.0},
		{"from the CLI", source["cli"], 1.0},
		{"from the API", source["api"], 2.0},
		{"from the web", source["web"], 1.0},
		{"break-glass share", a["break_glass_share"], 0.25},
		{"people the policy names", eligible["people"], 3.0},
		{"of them who asked", eligible["used"], 2.0},
		{"share who asked", eligible["share"], 0.667},
	}...)
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("stats: %v", got)
	}
}
