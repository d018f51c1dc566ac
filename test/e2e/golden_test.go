package e2e

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Golden audit trails: every lifecycle path's test ends by comparing the
// request's whole audit trail with testdata/golden/<path>.txt. Run
// `go test ./test/e2e/ -update` to rewrite the files after a deliberate
// change, and review the diff.
var update = flag.Bool("update", false, "rewrite the golden audit trails")

// goldenDetail are the detail keys whose values do not depend on time,
// ids or the machine.
var goldenDetail = []string{"approvals", "break_glass", "channel", "comment", "level", "mode", "next_level", "notice", "outcome", "provider", "reconciled", "rule", "to", "wanted"}

// trail renders a history the way the golden files hold it: the lifecycle
// events in order, then the delivery events (messages sent, pages opened)
// sorted, because when they land among the others depends on timing.
// Times, ids and addresses are left out; principals become their session
// names.
func trail(hist []any) string {
	var life, delivery []string
	for _, e := range hist {
		ev := e.(map[string]any)
		line := fmt.Sprint(ev["type"]) + " by " + sessionName(fmt.Sprint(ev["actor"]))
		if from, ok := ev["from"]; ok {
			line += fmt.Sprintf(" %v>%v", from, ev["to"])
		} else if to, ok := ev["to"]; ok {
			line += fmt.Sprintf(" >%v", to)
		}
		if resource, _ := ev["resource"].(string); resource == "" {
			line += " NO-RESOURCE"
		}
		if requester, _ := ev["requester"].(string); requester == "" {
			line += " NO-REQUESTER"
		}
		detail, _ := ev["detail"].(map[string]any)
		for _, k := range goldenDetail {
			if v, ok := detail[k]; ok {
				if timestamp.MatchString(fmt.Sprint(v)) {
					v = "<time>"
				}
				line += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		if deliveryEvents[fmt.Sprint(ev["type"])] {
			delivery = append(delivery, line)
		} else {
			life = append(life, line)
		}
	}
	slices.Sort(delivery)
	return strings.Join(life, "\n") + "\n--- delivery\n" + strings.Join(delivery, "\n") + "\n"
}

var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)

func sessionName(principal string) string {
	if i := strings.LastIndex(principal, "/"); i >= 0 {
		return principal[i+1:]
	}
	return principal
}

// golden compares request id's audit trail with the golden file of path,
// waiting a little for messages still being sent.
func golden(t *testing.T, path, id string) {
	t.Helper()
	file := filepath.Join("testdata", "golden", path+".txt")
	read := func() string {
		_, got := call(t, "erin", "GET", "/v1/requests/"+id, nil)
		return trail(got["history"].([]any))
	}
	if *update {
		time.Sleep(3 * time.Second)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(read()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("golden trail: %v (run with -update to create it)", err)
	}
	var got string
	deadline := time.Now().Add(15 * time.Second)
	for {
		if got = read(); got == string(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got != string(want) {
		t.Errorf("audit trail of %s (%s) differs from %s\n--- got\n%s--- want\n%s", path, id, file, got, want)
	}
}

// TestAuditTrailCannotBeChanged: no route of the API, for any caller,
// changes or deletes audit events (and the template's IAM denies it to
// every function: test/iam).
func TestAuditTrailCannotBeChanged(t *testing.T) {
	t.Parallel()
	id := create(t, "sandbox-admin", "10m")
	linkFor(t, "carol@example.com", id)
	var before map[string]any
	waitFor(t, "the email to carol recorded", 10*time.Second, func() bool {
		_, before = call(t, "erin", "GET", "/v1/requests/"+id, nil)
		return strings.Contains(fmt.Sprint(before["history"]), "notification_sent")
	})
	for _, try := range []struct{ method, path string }{
		{"DELETE", "/v1/requests/" + id},
		{"PUT", "/v1/requests/" + id},
		{"PATCH", "/v1/requests/" + id},
		{"DELETE", "/v1/requests/" + id + "/history"},
		{"DELETE", "/v1/audit"},
		{"PUT", "/v1/audit"},
		{"POST", "/v1/audit"},
		{"PATCH", "/v1/audit"},
		{"DELETE", "/v1/audit/export"},
	} {
		for _, who := range []string{"erin", "frank", "alice"} {
			code, body := call(t, who, try.method, try.path, map[string]any{"type": "approved", "actor": "nobody"})
			if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s as %s: %d %v, want 404 or 405", try.method, try.path, who, code, body)
			}
		}
	}
	_, after := call(t, "erin", "GET", "/v1/requests/"+id, nil)
	if fmt.Sprint(after["history"]) != fmt.Sprint(before["history"]) {
		t.Errorf("history changed:\n before %v\n after  %v", before["history"], after["history"])
	}
}
