// Package browser drives the decision flow in a real browser: it starts
// the local cloud in-process (as test/e2e does), creates a request signed
// as alice, opens the decision link from the inbox in headless Chromium
// at a phone-sized viewport, checks that opening the page changed
// nothing, taps Approve and reads the outcome page. Screenshots of both
// pages go to test/browser/artifacts/ (git-ignored).
//
// Chromium is found at $CHROMIUM or on the usual paths; `make chromium`
// installs it. Without it the browser tests skip, except under CI (CI set),
// where they fail.
package browser

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/inbox"
	"github.com/jitaccess/jit/shared/local/testenv"
)

var (
	lc *cloud.Cloud
	// chromium is the browser binary, "" when none was found.
	chromium string
	// artifacts is where screenshots go.
	artifacts string
)

func TestMain(m *testing.M) {
	if testenv.SkipMain("browser tests") {
		return
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, _ := filepath.Abs("../..")
	artifacts = filepath.Join(root, "test/browser/artifacts")
	chromium = findChromium()
	c, stop, err := cloud.StartForTests("../..", "test/e2e/testdata/policies.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	lc = c
	return m.Run()
}

// findChromium returns the first browser binary found, or "".
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium skips the test without a browser, unless in CI.
func needChromium(t *testing.T) {
	t.Helper()
	if chromium != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: run `make chromium` (apt-get install -y chromium) or set CHROMIUM")
	}
	t.Skip("chromium not found (make chromium installs it; CHROMIUM=path chooses one)")
}

// call sends a SigV4-signed JSON request as who.
func call(t testing.TB, who, method, path string, body any) (int, map[string]any) {
	t.Helper()
	code, out, err := lc.CallJSON(context.Background(), who, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, out
}

// waitFor polls until cond holds or the limit passes.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// request returns the request as alice sees it through the API.
func request(t testing.TB, id string) map[string]any {
	t.Helper()
	code, body := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("get %s: %d %v", id, code, body)
	}
	return body
}

func historyTypes(req map[string]any) []string {
	var out []string
	hist, _ := req["history"].([]any)
	for _, e := range hist {
		if m, ok := e.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["type"]))
		}
	}
	return out
}

// inboxMessage waits for a message to `to` that mentions id.
func inboxMessage(t testing.TB, in *inbox.Inbox, channel, to, id string) inbox.Message {
	t.Helper()
	var found inbox.Message
	waitFor(t, channel+" to "+to, 30*time.Second, func() bool {
		if err := in.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, m := range in.Messages() {
			if m.Channel == channel && m.To == to && strings.Contains(m.Body, id) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}
