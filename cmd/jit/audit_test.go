package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	carol = "arn:aws:sts::123456789012:assumed-role/Approver/carol@example.com"
	frank = "arn:aws:sts::123456789012:assumed-role/Auditor/frank@example.com"
)

// auditEv is an event as GET /v1/audit shows it.
func auditEv(id, typ, actor string, ago time.Duration, from, to string, detail map[string]any) map[string]any {
	e := map[string]any{"request_id": id, "type": typ, "actor": actor, "at": now.Add(-ago).Format(time.RFC3339),
		"resource": "sandbox-admin", "requester": alice, "source_ip": "192.0.2.7", "user_agent": "jit-cli/devel"}
	if from != "" {
		e["from"] = from
	}
	if to != "" {
		e["to"] = to
	}
	if detail != nil {
		e["detail"] = detail
	}
	return e
}

// pagesByCursor answers each call with the page for its cursor ("" first)
// and records the queries it got.
func pagesByCursor(t *testing.T, pages map[string]func(w http.ResponseWriter)) (http.HandlerFunc, *[]url.Values) {
	var got []url.Values
	return func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Query())
		page, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_request","message":"cursor: not a cursor returned by this list","field":"cursor"}`)
			return
		}
		page(w)
	}, &got
}

func jsonPage(v any) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

// TestAuditSearchQuery: the flags become the API's query parameters, with
// the period always explicit (a cursor only continues the same period).
func TestAuditSearchQuery(t *testing.T) {
	tests := []struct {
		name string
		give []string
		want url.Values
	}{
		{name: "default: the last 30 days, a page of 50", give: nil,
			want: url.Values{"from": {"2025-12-03T10:00:01Z"}, "to": {"2026-01-02T10:00:01Z"}, "limit": {"50"}}},
		{name: "since", give: []string{"--since", "24h"},
			want: url.Values{"from": {"2026-01-01T10:00:01Z"}, "to": {"2026-01-02T10:00:01Z"}, "limit": {"50"}}},
		{name: "since in days", give: []string{"--since", "7d", "--limit", "10"},
			want: url.Values{"from": {"2025-12-26T10:00:01Z"}, "to": {"2026-01-02T10:00:01Z"}, "limit": {"10"}}},
		{name: "dates: --to includes its day", give: []string{"--from", "2025-12-01", "--to", "2025-12-31"},
			want: url.Values{"from": {"2025-12-01T00:00:00Z"}, "to": {"2026-01-01T00:00:00Z"}, "limit": {"50"}}},
		{name: "times", give: []string{"--from", "2025-12-01T09:30:00+01:00", "--to", "2025-12-02T00:00:00Z"},
			want: url.Values{"from": {"2025-12-01T08:30:00Z"}, "to": {"2025-12-02T00:00:00Z"}, "limit": {"50"}}},
		{name: "--to alone counts 30 days back from it", give: []string{"--to", "2025-12-31T00:00:00Z"},
			want: url.Values{"from": {"2025-12-01T00:00:00Z"}, "to": {"2025-12-31T00:00:00Z"}, "limit": {"50"}}},
		{name: "every filter", give: []string{"--requester", alice, "--actor", carol, "--resource", "sandbox-admin", "--action", "approved", "--status", "timed-out", "--since", "1h"},
			want: url.Values{"requester": {alice}, "actor": {carol}, "resource": {"sandbox-admin"}, "action": {"approved"}, "status": {"timed_out"},
				"from": {"2026-01-02T09:00:01Z"}, "to": {"2026-01-02T10:00:01Z"}, "limit": {"50"}}},
		{name: "more than a page asks for the most", give: []string{"--limit", "500", "--since", "1h"},
			want: url.Values{"from": {"2026-01-02T09:00:01Z"}, "to": {"2026-01-02T10:00:01Z"}, "limit": {"200"}}},
		{name: "a cursor", give: []string{"--cursor", "c1", "--from", "2025-12-01", "--to", "2025-12-31"},
			want: url.Values{"from": {"2025-12-01T00:00:00Z"}, "to": {"2026-01-01T00:00:00Z"}, "limit": {"50"}, "cursor": {"c1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler, got := pagesByCursor(t, map[string]func(http.ResponseWriter){
				"":   jsonPage(map[string]any{"events": []any{}}),
				"c1": jsonPage(map[string]any{"events": []any{}}),
			})
			h.api.with(func(f *fakeAPI) { f.handlers["GET /v1/audit"] = handler })
			res := h.run(append([]string{"audit", "search"}, tt.give...)...)
			if res.code != 0 {
				t.Fatal(res)
			}
			if len(*got) != 1 {
				t.Fatalf("%d calls, want 1", len(*got))
			}
			if q := (*got)[0]; !equalValues(q, tt.want) {
				t.Errorf("query = %v\nwant    %v", q, tt.want)
			}
		})
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func searchEvents() []any {
	return []any{
		auditEv(testID, "active", "system", 4*time.Minute, "approved", "active", map[string]any{"expires_at": "2026-01-02T10:26:00Z"}),
		auditEv(testID, "approved", "carol@example.com", 4*time.Minute+2*time.Second, "pending", "approved", map[string]any{"comment": "ok for the deploy", "level": 1.0}),
		auditEv(testID, "notification_sent", "system", 5*time.Minute, "", "", map[string]any{"channel": "email", "to": "carol@example.com"}),
		auditEv(testID, "created", alice, 5*time.Minute, "", "pending", map[string]any{"reason": "fix the broken deploy"}),
	}
}

func TestAuditSearchOutput(t *testing.T) {
	h := newHarness(t)
	handler, _ := pagesByCursor(t, map[string]func(http.ResponseWriter){
		"": jsonPage(map[string]any{"events": searchEvents(), "next_cursor": "eyJiIjoiMjAyNi0wMSJ9", "index": "GSI6", "queries": 2, "scanned": 9}),
	})
	h.api.with(func(f *fakeAPI) { f.handlers["GET /v1/audit"] = handler })
	res := h.run("audit", "search", "--resource", "sandbox-admin", "--since", "1h", "--limit", "4")
	if res.code != 0 {
		t.Fatal(res)
	}
	golden(t, "audit_search.txt", res.stdout)
	want := "jit audit search --resource sandbox-admin --from 2026-01-02T09:00:01Z --to 2026-01-02T10:00:01Z --limit 4 --cursor eyJiIjoiMjAyNi0wMSJ9"
	if !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "--all") {
		t.Errorf("stderr should say how to get the next page:\n%s", res)
	}

	res = h.run("audit", "search", "--resource", "sandbox-admin", "--since", "1h", "--limit", "4", "-o", "json")
	if res.code != 0 {
		t.Fatal(res)
	}
	golden(t, "audit_search.json", res.stdout)
	if !strings.Contains(res.stderr, "--cursor eyJiIjoiMjAyNi0wMSJ9") {
		t.Errorf("-o json: stderr should still name the next page:\n%s", res)
	}

	// -o table is the text form.
	if got := h.run("audit", "search", "--resource", "sandbox-admin", "--since", "1h", "--limit", "4", "-o", "table"); got.stdout != h.run("audit", "search", "--resource", "sandbox-admin", "--since", "1h", "--limit", "4").stdout {
		t.Errorf("-o table differs from the default:\n%s", got)
	}

	h.api.with(func(f *fakeAPI) {
		f.handlers["GET /v1/audit"] = func(w http.ResponseWriter, r *http.Request) { jsonPage(map[string]any{"events": []any{}})(w) }
	})
	res = h.run("audit", "search", "--from", "2025-12-01", "--to", "2025-12-31")
	if res.code != 0 || res.stdout != "No audit events match between 2025-12-01 00:00 and 2026-01-01 00:00 UTC.\n" || res.stderr != "" {
		t.Errorf("no events:\n%s", res)
	}
	res = h.run("audit", "search", "-o", "json")
	if doc := decode(t, res.stdout); res.code != 0 || doc["events"] == nil || doc["next_cursor"] != nil {
		t.Errorf("no events as JSON: %s", res)
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, s)
	}
	return doc
}

// TestAuditSearchPages: --all follows next_cursor to the end with the same
// period; without it, jit reads on only to fill --limit.
func TestAuditSearchPages(t *testing.T) {
	evs := searchEvents()
	h := newHarness(t)
	handler, got := pagesByCursor(t, map[string]func(http.ResponseWriter){
		"":   jsonPage(map[string]any{"events": evs[:2], "next_cursor": "c1", "queries": 1, "scanned": 2}),
		"c1": jsonPage(map[string]any{"events": []any{}, "next_cursor": "c2", "queries": 1, "scanned": 0}),
		"c2": jsonPage(map[string]any{"events": evs[2:3], "next_cursor": "c3", "queries": 1, "scanned": 2}),
		"c3": jsonPage(map[string]any{"events": evs[3:], "queries": 2, "scanned": 3}),
	})
	h.api.with(func(f *fakeAPI) { f.handlers["GET /v1/audit"] = handler })
	res := h.run("audit", "search", "--all", "--actor", carol, "-o", "json")
	if res.code != 0 {
		t.Fatal(res)
	}
	doc := decode(t, res.stdout)
	if n := len(doc["events"].([]any)); n != 4 || doc["next_cursor"] != nil || doc["queries"] != 5.0 || doc["scanned"] != 7.0 {
		t.Errorf("--all: %d events, %v", n, doc)
	}
	if res.stderr != "" {
		t.Errorf("--all read to the end, nothing to continue:\n%s", res.stderr)
	}
	var cursors []string
	for _, q := range *got {
		cursors = append(cursors, q.Get("cursor"))
		if q.Get("from") != (*got)[0].Get("from") || q.Get("to") != (*got)[0].Get("to") || q.Get("actor") != carol || q.Get("limit") != "200" {
			t.Errorf("page query %v: every page must repeat the search, with pages of 200", q)
		}
	}
	if !slices.Equal(cursors, []string{"", "c1", "c2", "c3"}) {
		t.Errorf("cursors sent %q", cursors)
	}

	// Without --all: pages until --limit events, each asking for what is missing.
	*got = nil
	res = h.run("audit", "search", "--limit", "3")
	if res.code != 0 || strings.Count(res.stdout, testID) != 3 {
		t.Fatalf("--limit 3:\n%s", res)
	}
	var limits []string
	for _, q := range *got {
		limits = append(limits, q.Get("limit"))
	}
	if !slices.Equal(limits, []string{"3", "1", "1"}) {
		t.Errorf("page sizes %v, want 3 1 1", limits)
	}
	if !strings.Contains(res.stderr, "--limit 3 --cursor c3") {
		t.Errorf("the next page starts at c3\n%s", res.stderr)
	}
	*got = nil
	res = h.run("audit", "search", "--limit", "2")
	if res.code != 0 || len(*got) != 1 || !strings.Contains(res.stderr, "--limit 2 --cursor c1") {
		t.Errorf("--limit 2 is one page, then the cursor:\n%s", res)
	}

	// --all with --limit: pages of that size.
	*got = nil
	h.run("audit", "search", "--all", "--limit", "2")
	for _, q := range *got {
		if q.Get("limit") != "2" {
			t.Errorf("--all --limit 2 asked for %s", q.Get("limit"))
		}
	}
}

// csvPageOf is a CSV export page, with the header row when header.
func csvPageOf(header bool, next string, rows ...[]string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		if next != "" {
			w.Header().Set("Jit-Next-Cursor", next)
			w.Header().Set("Link", `</v1/audit/export?cursor=`+next+`>; rel="next"`)
		}
		cw := csv.NewWriter(w)
		if header {
			_ = cw.Write([]string{"at", "request_id", "type", "actor", "requester", "resource", "from", "to", "source_ip", "user_agent", "detail"})
		}
		_ = cw.WriteAll(rows)
	}
}

func csvRow(n int, detail string) []string {
	return []string{now.Add(-time.Duration(n) * time.Minute).Format(time.RFC3339), testID, "created", alice, alice, "sandbox-admin", "", "pending", "192.0.2.7", "jit-cli", detail}
}

func TestAuditExportCSV(t *testing.T) {
	const multiline = "{\"reason\":\"a, \\\"quoted\\\"\\non two lines\"}\nand a real newline"
	h := newHarness(t)
	handler, got := pagesByCursor(t, map[string]func(http.ResponseWriter){
		"":   csvPageOf(true, "c1", csvRow(1, multiline), csvRow(2, "")),
		"c1": csvPageOf(false, "c2", csvRow(3, "")),
		// A page that repeats the header row: it is not repeated in the file.
		"c2": csvPageOf(true, "", csvRow(4, ""), csvRow(5, "")),
	})
	h.api.with(func(f *fakeAPI) { f.handlers["GET /v1/audit/export"] = handler })
	res := h.run("audit", "export", "--format", "csv", "--resource", "sandbox-admin", "--from", "2025-12-01", "--to", "2025-12-31")
	if res.code != 0 {
		t.Fatal(res)
	}
	records, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("not one CSV file: %v\n%s", err, res.stdout)
	}
	if len(records) != 6 || records[0][0] != "at" || strings.Count(res.stdout, "at,request_id,") != 1 {
		t.Fatalf("want one header row and 5 events:\n%s", res.stdout)
	}
	if records[1][10] != multiline {
		t.Errorf("a quoted cell changed: %q", records[1][10])
	}
	if !strings.Contains(res.stderr, "exported 5 event(s) from 2025-12-01T00:00:00Z to 2026-01-01T00:00:00Z (csv) to standard output") {
		t.Errorf("stderr should count the events:\n%s", res.stderr)
	}
	var cursors []string
	for _, q := range *got {
		cursors = append(cursors, q.Get("cursor"))
		if q.Get("format") != "csv" || q.Get("resource") != "sandbox-admin" || q.Get("from") != "2025-12-01T00:00:00Z" || q.Get("to") != "2026-01-01T00:00:00Z" {
			t.Errorf("page query %v", q)
		}
	}
	if !slices.Equal(cursors, []string{"", "c1", "c2"}) {
		t.Errorf("cursors %q: want every page followed", cursors)
	}

	// To a file: the same bytes.
	file := filepath.Join(t.TempDir(), "audit.csv")
	res2 := h.run("audit", "export", "--resource", "sandbox-admin", "--from", "2025-12-01", "--to", "2025-12-31", "-f", file)
	if b, _ := os.ReadFile(file); res2.code != 0 || string(b) != res.stdout || res2.stdout != "" || !strings.Contains(res2.stderr, "exported 5 event(s)") || !strings.Contains(res2.stderr, "to "+file) {
		t.Errorf("-f: %q\n%s", b, res2)
	}
	res2 = h.run("audit", "export", "--resource", "sandbox-admin", "-f", file, "-o", "json")
	if doc := decode(t, res2.stdout); doc["events"] != 5.0 || doc["file"] != file || doc["format"] != "csv" {
		t.Errorf("-f with -o json: %s", res2)
	}

	// No events: the header row alone.
	h.api.with(func(f *fakeAPI) {
		f.handlers["GET /v1/audit/export"] = func(w http.ResponseWriter, r *http.Request) { csvPageOf(true, "")(w) }
	})
	res = h.run("audit", "export")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "at,request_id,") || strings.Count(res.stdout, "\n") != 1 || !strings.Contains(res.stderr, "exported 0 event(s)") {
		t.Errorf("empty export:\n%s", res)
	}
}

func TestAuditExportJSON(t *testing.T) {
	evs := searchEvents()
	h := newHarness(t)
	export := func(page map[string]any, next string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			if next != "" {
				w.Header().Set("Jit-Next-Cursor", next)
			}
			jsonPage(page)(w)
		}
	}
	handler, got := pagesByCursor(t, map[string]func(http.ResponseWriter){
		"":   export(map[string]any{"events": evs[:1], "next_cursor": "c1"}, "c1"),
		"c1": export(map[string]any{"events": []any{}, "next_cursor": "c2"}, "c2"),
		"c2": export(map[string]any{"events": evs[1:]}, ""),
	})
	h.api.with(func(f *fakeAPI) { f.handlers["GET /v1/audit/export"] = handler })
	res := h.run("audit", "export", "--format", "json")
	var arr []map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &arr); res.code != 0 || err != nil || len(arr) != 4 || arr[3]["type"] != "created" {
		t.Fatalf("--format json is one array of every event: %v\n%s", err, res)
	}
	for _, q := range *got {
		if q.Get("format") != "json" {
			t.Errorf("asked for format %q", q.Get("format"))
		}
	}
	// -o json alone means --format json.
	if res2 := h.run("audit", "export", "-o", "json"); res2.stdout != res.stdout {
		t.Errorf("-o json export differs:\n%s", res2)
	}

	*got = nil
	res = h.run("audit", "export", "--format", "jsonl")
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if res.code != 0 || len(lines) != 4 {
		t.Fatalf("--format jsonl: one event per line\n%s", res)
	}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev["request_id"] != testID {
			t.Errorf("line %q: %v", l, err)
		}
	}
	if (*got)[0].Get("format") != "json" {
		t.Errorf("jsonl is read as JSON pages, asked for %q", (*got)[0].Get("format"))
	}

	// Empty: an empty array.
	h.api.with(func(f *fakeAPI) {
		f.handlers["GET /v1/audit/export"] = func(w http.ResponseWriter, r *http.Request) { jsonPage(map[string]any{"events": []any{}})(w) }
	})
	if res := h.run("audit", "export", "--format", "json"); res.stdout != "[]\n" {
		t.Errorf("empty JSON export = %q", res.stdout)
	}
}

// TestAuditExportFails: a page that fails ends the export with exit 1 and
// leaves no file that looks complete.
func TestAuditExportFails(t *testing.T) {
	h := newHarness(t)
	handler, _ := pagesByCursor(t, map[string]func(http.ResponseWriter){
		"": csvPageOf(true, "c1", csvRow(1, "")),
		"c1": func(w http.ResponseWriter) {
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":"internal","message":"internal error; the request was not changed"}`)
		},
	})
	h.api.with(func(f *fakeAPI) { f.handlers["GET /v1/audit/export"] = handler })
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.csv")
	res := h.run("audit", "export", "-f", file)
	if res.code != 1 || !strings.Contains(res.stderr, "export failed, "+file+" not written: internal error") {
		t.Fatalf("want exit 1 and why\n%s", res)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}
	res = h.run("audit", "export")
	if res.code != 1 || !strings.Contains(res.stderr, "export failed after 1 event(s); the output is incomplete") {
		t.Errorf("to stdout: %s", res)
	}
}

func TestAuditOpen(t *testing.T) {
	h := newHarness(t)
	link := h.srv.URL + "/audit/session/tok_secret"
	h.api.with(func(f *fakeAPI) {
		f.routes["POST /v1/audit/sessions"] = canned{status: 201, body: map[string]any{"url": link, "expires_at": now.Add(5 * time.Minute).Format(time.RFC3339)}}
	})
	res := h.run("audit", "open")
	if res.code != 0 || !slices.Equal(h.opened, []string{link}) || strings.Contains(res.stdout, link) ||
		res.stdout != "Opened the auditor page in your browser (the sign-in link works once, until 2026-01-02 10:05:00 UTC (in 5m)).\n" {
		t.Fatalf("open: opened %v\n%s", h.opened, res)
	}
	if c := h.api.snap().calls[0]; c.Method != "POST" || c.URL.Path != "/v1/audit/sessions" {
		t.Errorf("called %s %s", c.Method, c.URL.Path)
	}

	res = h.run("audit", "open", "--print")
	if res.code != 0 || res.stdout != link+"\n" || len(h.opened) != 1 || !strings.Contains(res.stderr, "once, until 2026-01-02 10:05:00 UTC") {
		t.Errorf("--print: %s", res)
	}

	h.openErr = errors.New("no graphical display")
	res = h.run("audit", "open")
	if res.code != 0 || !strings.Contains(res.stdout, link) || !strings.Contains(res.stderr, "could not open a browser: no graphical display") {
		t.Errorf("no browser: print the link instead\n%s", res)
	}
	res = h.run("audit", "open", "-o", "json")
	if doc := decode(t, res.stdout); res.code != 0 || doc["url"] != link || doc["opened"] != false || doc["expires_at"] == nil {
		t.Errorf("-o json: %s", res)
	}
}

// TestAuditOpenRefusesForeignLinks: the link comes from the server; jit
// hands the system's opener only a link on the API's own origin.
func TestAuditOpenRefusesForeignLinks(t *testing.T) {
	h := newHarness(t)
	for _, bad := range []string{
		"https://evil.example/audit/session/x",
		"http://127.0.0.1:1/audit/session/x",
		"file:///etc/passwd",
		"javascript:alert(1)",
		"--new-window=https://evil.example",
		h.srv.URL + "/audit/session/x\n\x1b]8;;https://evil.example\a",
	} {
		h.api.with(func(f *fakeAPI) {
			f.routes["POST /v1/audit/sessions"] = canned{status: 201, body: map[string]any{"url": bad, "expires_at": now.Add(5 * time.Minute).Format(time.RFC3339)}}
		})
		res := h.run("audit", "open")
		if res.code == 0 || len(h.opened) != 0 || !strings.Contains(res.stderr, "jit opens only") {
			t.Errorf("%q: opened %v\n%s", bad, h.opened, res)
		}
		if strings.Contains(res.stdout+res.stderr, "\x1b") {
			t.Errorf("%q: a terminal escape reached the output\n%s", bad, res)
		}
	}
}

func TestOpenableSignIn(t *testing.T) {
	tests := []struct {
		name, api, link string
		want            bool
	}{
		{"https on the API's host", "https://abc.execute-api.us-east-1.amazonaws.com", "https://abc.execute-api.us-east-1.amazonaws.com/audit/session/t", true},
		{"host case differs", "https://API.example.com", "https://api.example.com/audit/session/t", true},
		{"another host", "https://api.example.com", "https://api.example.com.evil.example/audit/session/t", false},
		{"http from an https API", "https://api.example.com", "http://api.example.com/audit/session/t", false},
		{"user info", "https://api.example.com", "https://x@api.example.com/audit/session/t", false},
		{"another port", "https://api.example.com", "https://api.example.com:8443/audit/session/t", false},
		{"local API, local link", "http://127.0.0.1:3000", "http://127.0.0.1:3000/audit/session/t", true},
		{"local API by name", "http://localhost:3000", "http://127.0.0.1:3000/audit/session/t", true},
		{"local API, other port", "http://127.0.0.1:3000", "http://127.0.0.1:3001/audit/session/t", false},
		{"local API, remote link", "http://127.0.0.1:3000", "http://evil.example:3000/audit/session/t", false},
		{"remote http API", "http://api.example.com", "http://api.example.com/audit/session/t", false},
		{"not a URL", "https://api.example.com", "api.example.com/audit", false},
		{"space", "https://api.example.com", "https://api.example.com/audit session", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _ := url.Parse(tt.api)
			if err := openableSignIn(tt.link, api); (err == nil) != tt.want {
				t.Errorf("openableSignIn(%q, %q) = %v, want ok %v", tt.link, tt.api, err, tt.want)
			}
		})
	}
}

// TestAuditRefused: the API's answers become the usual exit codes, with
// what to do.
func TestAuditRefused(t *testing.T) {
	forbidden := canned{status: 403, body: map[string]any{"error": "forbidden", "message": "only auditors and admins can search the audit trail"}}
	tests := []struct {
		name  string
		route string
		c     canned
		args  []string
		code  int
		wants []string
	}{
		{"search by a requester", "GET /v1/audit", forbidden, []string{"audit", "search"}, 1,
			[]string{"jit audit: only auditors and admins can search the audit trail", "AuditorPrincipals", "AdminPrincipals"}},
		{"export by a requester", "GET /v1/audit/export", forbidden, []string{"audit", "export"}, 1, []string{"AuditorPrincipals"}},
		{"open by a requester", "POST /v1/audit/sessions", forbidden, []string{"audit", "open"}, 1, []string{"AuditorPrincipals"}},
		{"stats by a requester", "GET /v1/stats", forbidden, []string{"stats"}, 1, []string{"jit stats: only auditors", "AuditorPrincipals"}},
		{"a stale cursor", "GET /v1/audit", canned{status: 400, body: map[string]any{"error": "invalid_request", "message": "cursor: not a cursor returned by this list", "field": "cursor"}},
			[]string{"audit", "search", "--cursor", "old"}, 2, []string{"fix --cursor", "same filters, --from and --to"}},
		{"a period too long", "GET /v1/stats", canned{status: 400, body: map[string]any{"error": "invalid_request", "message": "from: stats cover at most 92 days; ask in parts", "field": "from"}},
			[]string{"stats", "--since", "100d"}, 2, []string{"stats cover at most 92 days", "fix --since / --from"}},
		{"a bad filter", "GET /v1/audit", canned{status: 400, body: map[string]any{"error": "invalid_request", "message": "action: must be an event type", "field": "action"}},
			[]string{"audit", "search", "--action", "Approved"}, 2, []string{"fix --action"}},
		{"an older service", "GET /v1/audit", canned{status: 400, body: map[string]any{"error": "invalid_request", "message": "status: \"status\" is not a parameter here (use ...)", "field": "status"}},
			[]string{"audit", "search", "--status", "denied"}, 2, []string{"the deployed service is older than this jit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.with(func(f *fakeAPI) { f.routes[tt.route] = tt.c })
			res := h.run(tt.args...)
			if res.code != tt.code {
				t.Fatalf("want exit %d\n%s", tt.code, res)
			}
			for _, w := range tt.wants {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q\n%s", w, res)
				}
			}
			res = h.run(append(tt.args, "-o", "json")...)
			if doc := decode(t, res.stdout); doc["exit_code"] != float64(tt.code) || doc["http_status"] == nil {
				t.Errorf("-o json error: %s", res)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	for _, tt := range []struct {
		give    string
		want    time.Duration
		wantErr bool
	}{
		{give: "90m", want: 90 * time.Minute},
		{give: "24h", want: 24 * time.Hour},
		{give: "7d", want: 7 * 24 * time.Hour},
		{give: "2w", want: 14 * 24 * time.Hour},
		{give: "0d", wantErr: true},
		{give: "-1h", wantErr: true},
		{give: "1.5d", wantErr: true},
		{give: "soon", wantErr: true},
	} {
		got, err := parseSince(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSince(%q) = %v, %v", tt.give, got, err)
		}
	}
}
