package e2e

import (
	"net/http"
	"testing"
)

// TestChosenSessionNameIsNobody: mallory signs with a GitHubActions
// session she named "carol@example.com". GitHubActions is not a trusted
// identity role, so she is not Carol, the approver: she can neither see
// nor act on the grant Carol approved, while Carol can.
func TestChosenSessionNameIsNobody(t *testing.T) {
	t.Parallel()
	id := activeRequest(t, "1h")
	for _, c := range []struct {
		method, path string
		body         map[string]any
	}{
		{"GET", "/v1/requests/" + id, nil},
		{"POST", "/v1/requests/" + id + "/extend", map[string]any{"by": "3h"}},
		{"POST", "/v1/requests/" + id + "/revoke", nil},
		{"POST", "/v1/requests/" + id + "/cancel", nil},
	} {
		if code, got := call(t, "mallory", c.method, c.path, c.body); code != http.StatusNotFound {
			t.Errorf("mallory (a session named carol@example.com) %s %s: %d %v, want 404", c.method, c.path, code, got)
		}
	}
	for _, path := range []string{"/v1/policy", "/v1/audit", "/v1/stats"} {
		if code, _ := call(t, "mallory", "GET", path, nil); code != http.StatusForbidden {
			t.Errorf("mallory GET %s: %d, want 403", path, code)
		}
	}
	if got := status(t, id); got != "active" {
		t.Fatalf("after mallory's attempts the request is %s, want still active", got)
	}
	if code, got := call(t, "carol", "GET", "/v1/requests/"+id, nil); code != http.StatusOK {
		t.Fatalf("carol, the approver, reading it: %d %v", code, got)
	}
	if code, got := call(t, "carol", "POST", "/v1/requests/"+id+"/revoke", nil); code != http.StatusAccepted {
		t.Fatalf("carol revoking it: %d %v", code, got)
	}
}
