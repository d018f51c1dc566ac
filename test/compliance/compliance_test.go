// Package compliance proves the audit queries of infra/athena against real
// data: it drives requests through the local cloud to known outcomes,
// exports the table with ExportTableToPointInTime into the emulator's S3,
// downloads the export's data files and runs every query with DuckDB over
// a view with the column layout of the Glue table in infra/compliance.yaml,
// asserting the exact rows.
package compliance

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/gateway"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/testenv"
)

const root = "../.."

var lc *cloud.Cloud

func TestMain(m *testing.M) {
	if testenv.SkipMain("compliance tests") {
		return
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	c, stop, err := cloud.StartForTests(root, "test/compliance/testdata/policies.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	lc = c
	return m.Run()
}

// outcomes are the requests the test made, by what became of them.
type outcomes struct {
	expired, breakGlass, auto, denied, revoked, revokeFailed, stillActive string
}

func TestAuditQueries(t *testing.T) {
	start := time.Now()
	var o outcomes
	// Every outcome that needs IAM to work, side by side: asked at once,
	// decided as the links arrive, then awaited. (Not parallel subtests:
	// -parallel defaults to the number of CPUs, which may be 2.)
	o.expired = ask(t, "alice", map[string]any{"resource": "sandbox-admin", "duration": "3s"})
	o.revoked = ask(t, "alice", map[string]any{"resource": "sandbox-admin", "duration": "10m"})
	o.denied = ask(t, "bob", map[string]any{"resource": "sandbox-admin", "duration": "1m"})
	o.breakGlass = ask(t, "bob", map[string]any{"resource": "prod-breakglass", "duration": "3s", "break_glass": true,
		"reason": "production is down and nobody answers the pager"})
	o.auto = ask(t, "alice", map[string]any{"resource": "auto-short", "duration": "3s"})
	o.stillActive = ask(t, "alice", map[string]any{"resource": "auto-short", "duration": "5m"})
	approve(t, "carol@example.com", o.expired, "approve")
	approve(t, "dave@example.com", o.revoked, "approve")
	approve(t, "carol@example.com", o.denied, "deny")
	waitStatus(t, "alice", o.revoked, "active", 30*time.Second)
	if code, body := call(t, "alice", "POST", "/v1/requests/"+o.revoked+"/revoke", nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d %v", code, body)
	}
	waitStatus(t, "alice", o.stillActive, "active", 30*time.Second)
	waitStatus(t, "alice", o.revoked, "revoked", 30*time.Second)
	waitStatus(t, "bob", o.denied, "denied", 30*time.Second)
	waitStatus(t, "alice", o.expired, "expired", 30*time.Second)
	waitStatus(t, "bob", o.breakGlass, "expired", 30*time.Second)
	waitStatus(t, "alice", o.auto, "expired", 30*time.Second)
	t.Logf("lifecycles done: %s", time.Since(start).Round(time.Millisecond))
	// Alone, as the fault makes every trust edit fail.
	o.revokeFailed = revokeFailsThenReconciled(t)
	t.Logf("revoke failure reconciled: %s", time.Since(start).Round(time.Millisecond))

	files := export(t)
	t.Logf("exported: %s", time.Since(start).Round(time.Millisecond))
	items := readItems(t, files)
	table, queries := readTemplate(t)
	checks := expectations(t, o, items)
	results := runDuckDB(t, table, files, checks)
	t.Logf("queried: %s", time.Since(start).Round(time.Millisecond))
	ran := map[string]bool{}
	for _, c := range checks {
		ran[c.query] = true
		got, ok := results[c.name]
		if !ok {
			t.Errorf("%s: not run", c.name)
			continue
		}
		if want := normalize(t, c.rows); !reflect.DeepEqual(got, want) {
			t.Errorf("%s %v:\n got  %s\n want %s", c.query, c.params, mustJSON(got), mustJSON(want))
		}
	}
	for _, q := range queries {
		if !ran[q.Name] {
			t.Errorf("named query %s has no expected rows in this test", q.Name)
		}
	}
}

// revokeFailsThenReconciled makes the revoke of an active grant fail after
// its retries (IAM fault), then runs the reconciler, which ends it.
func revokeFailsThenReconciled(t *testing.T) string {
	t.Helper()
	id := ask(t, "bob", map[string]any{"resource": "sandbox-admin", "duration": "3s"})
	approve(t, "carol@example.com", id, "approve")
	waitStatus(t, "bob", id, "active", 30*time.Second)
	lc.Faults.Add(cloud.Fault{Service: "iam", Operation: "UpdateAssumeRolePolicy", Code: "ServiceFailure"})
	defer lc.Faults.Clear()
	waitFor(t, "revoke of "+id+" to give up", 60*time.Second, func() bool {
		return strings.Contains(strings.Join(history(t, "bob", id), " "), "revoke_failed")
	})
	waitFor(t, "execution to fail", 10*time.Second, func() bool { return executionStatus(t, id) == "FAILED" })
	lc.Faults.Clear()
	fn := lambda.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	out, err := fn.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("ReconcileFunction"), Payload: []byte(`{"grace_seconds":0}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("reconcile: %v %s", err, out.Payload)
	}
	if s := status(t, "bob", id); s != "expired" {
		t.Fatalf("after reconcile status = %s, want expired", s)
	}
	return id
}

// Export ------------------------------------------------------------------

const (
	exportBucket = "jit-exports"
	exportPrefix = "compliance"
)

// export runs ExportTableToPointInTime into the emulator's S3 and downloads
// the export's data files, returning their local paths.
//
// moto (5.2.x) does not write what AWS writes. AWS writes, under
// <prefix>/AWSDynamoDB/<export id>/ (the id is the ExportArn's last part),
// manifest-summary.json, manifest-files.json (which lists the data files),
// _started, and data/<random>.json.gz, several files for a big table. moto
// writes one file, <prefix>/AWSDynamoDB/<random uuid>/data/<random uuid>.gz,
// and no manifest; its folder is not the ARN's id (whose path even says
// /import/). So the data files are found by listing the prefix rather than
// through manifest-files.json. The lines are the same in both:
// {"Item": {"PK": {"S": "..."}, ...}}, gzip'd.
func export(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	s3(t, "PUT", "/"+exportBucket, nil) // CreateBucket (us-east-1: no body)
	ddb := dynamodb.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(lc.Table)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := ddb.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: desc.Table.TableArn, S3Bucket: aws.String(exportBucket), S3Prefix: aws.String(exportPrefix),
		ExportFormat: ddbtypes.ExportFormatDynamodbJson,
	})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	arn := out.ExportDescription.ExportArn
	waitFor(t, "export to complete", 30*time.Second, func() bool {
		d, err := ddb.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		switch e := d.ExportDescription; e.ExportStatus {
		case ddbtypes.ExportStatusCompleted:
			return true
		case ddbtypes.ExportStatusFailed:
			t.Fatalf("export failed: %s %s", aws.ToString(e.FailureCode), aws.ToString(e.FailureMessage))
		}
		return false
	})
	var list struct {
		Keys []string `xml:"Contents>Key"`
	}
	raw := s3(t, "GET", "/"+exportBucket, url.Values{"list-type": {"2"}, "prefix": {exportPrefix + "/AWSDynamoDB/"}})
	if err := xml.Unmarshal(raw, &list); err != nil {
		t.Fatalf("list: %v\n%s", err, raw)
	}
	dir := t.TempDir()
	var files []string
	for _, k := range list.Keys {
		if !strings.Contains(k, "/data/") {
			continue
		}
		// DuckDB, like Athena, tells gzip by the name: keep .gz.
		f := filepath.Join(dir, fmt.Sprintf("%03d-%s", len(files), filepath.Base(k)))
		if err := os.WriteFile(f, s3(t, "GET", "/"+exportBucket+"/"+k, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no data files under s3://%s/%s/AWSDynamoDB/ (keys %v)", exportBucket, exportPrefix, list.Keys)
	}
	return files
}

// s3 sends one S3 call to the emulator; anything but 200 fails the test.
func s3(t *testing.T, method, path string, query url.Values) []byte {
	t.Helper()
	r, err := lc.S3(context.Background(), method, path, query)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != http.StatusOK {
		t.Fatalf("s3 %s %s: %d %s", method, path, r.Code, r.Body)
	}
	return r.Body
}

// item is one exported item, attribute → its one DynamoDB-typed value as
// text (S, N, BOOL); what the expected rows are built from, read
// independently of DuckDB.
type item map[string]string

// exportedItems are the export's items: requests by id, events by request id.
type exportedItems struct {
	requests map[string]item
	events   map[string][]item
}

func readItems(t *testing.T, files []string) exportedItems {
	t.Helper()
	out := exportedItems{requests: map[string]item{}, events: map[string][]item{}}
	// The queries tell events by kind, not by key, so they read events
	// under REQ#<id> (the first layout) and EVENT#<id> alike; say which.
	keyShapes := map[string]int{}
	defer func() { t.Logf("events in the export by partition key prefix: %v", keyShapes) }()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dec := json.NewDecoder(zr)
		for dec.More() {
			var line struct {
				Item map[string]map[string]any
			}
			if err := dec.Decode(&line); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			it := item{}
			for name, v := range line.Item {
				for typ, x := range v {
					if typ == "S" || typ == "N" || typ == "BOOL" {
						it[name] = fmt.Sprint(x)
					}
				}
			}
			switch it["kind"] {
			case "request":
				out.requests[it["id"]] = it
			case "event":
				out.events[it["request_id"]] = append(out.events[it["request_id"]], it)
				keyShapes[strings.SplitN(it["PK"], "#", 2)[0]+"#"]++
			}
		}
	}
	return out
}

// event returns the time of id's (only) event of type typ.
func (x exportedItems) event(t *testing.T, id, typ string) string {
	t.Helper()
	var at []string
	for _, e := range x.events[id] {
		if e["type"] == typ {
			at = append(at, e["at"])
		}
	}
	if len(at) != 1 {
		t.Fatalf("request %s has %d %s events in the export, want 1", id, len(at), typ)
	}
	return at[0]
}

// DuckDB -------------------------------------------------------------------

// check is one query run with its parameters and the rows it must return.
type check struct {
	name, query string
	params      []any
	rows        [][]any
}

// expectations are the exact rows each query must return, built from the
// outcomes and the exported items.
func expectations(t *testing.T, o outcomes, x exportedItems) []check {
	t.Helper()
	req := func(id string) item {
		it, ok := x.requests[id]
		if !ok {
			t.Fatalf("request %s is not in the export", id)
		}
		return it
	}
	alice, bob := identity(t, "alice").PrincipalARN, identity(t, "bob").PrincipalARN
	ended := func(id string) any {
		if e, ok := req(id)["ended_at"]; ok {
			return e
		}
		return req(id)["expires_at"]
	}
	during := func(id, status string, who string) []any {
		return []any{id, who, req(id)["granted_at"], ended(id), status}
	}
	// The three sandbox-admin grants in the order they were granted.
	sandbox := [][]any{during(o.expired, "expired", alice), during(o.revoked, "revoked", alice), during(o.revokeFailed, "expired", bob)}
	sort.Slice(sandbox, func(i, j int) bool { return sandbox[i][2].(string) < sandbox[j][2].(string) })
	auto := [][]any{during(o.auto, "expired", alice), during(o.stillActive, "active", alice)}
	sort.Slice(auto, func(i, j int) bool { return auto[i][2].(string) < auto[j][2].(string) })
	if _, ok := req(o.stillActive)["ended_at"]; ok {
		t.Fatalf("%s has ended_at; it should still be active", o.stillActive)
	}
	bg := req(o.breakGlass)
	carol := []string{o.expired, o.revokeFailed}
	sort.Strings(carol)
	autoRows := [][]any{
		{o.auto, "auto-short", alice, "short", 3, req(o.auto)["created_at"], "expired"},
		{o.stillActive, "auto-short", alice, "short", 300, req(o.stillActive)["created_at"], "active"},
	}
	sort.Slice(autoRows, func(i, j int) bool { return autoRows[i][5].(string) < autoRows[j][5].(string) })
	rv := req(o.revoked)
	return []check{
		{name: "access_during/sandbox-admin", query: "access_during",
			params: []any{"sandbox-admin", "2000-01-01", "2100-01-01"}, rows: sandbox},
		{name: "access_during/auto-short (ended or not)", query: "access_during",
			params: []any{"auto-short", "2000-01-01", "2100-01-01"}, rows: auto},
		{name: "access_during/denied-only resource window", query: "access_during",
			params: []any{"sandbox-admin", "2000-01-01", "2000-01-02"}, rows: nil},
		{name: "access_during/break-glass window", query: "access_during",
			params: []any{"prod-breakglass", bg["granted_at"], ended(o.breakGlass)},
			rows:   [][]any{during(o.breakGlass, "expired", bob)}},
		{name: "access_during/after the end", query: "access_during",
			params: []any{"prod-breakglass", ended(o.breakGlass), "2100-01-01"}, rows: nil},
		{name: "access_during/before the grant", query: "access_during",
			params: []any{"prod-breakglass", "2000-01-01", bg["granted_at"]}, rows: nil},
		{name: "break_glass", query: "break_glass", rows: [][]any{{
			o.breakGlass, "prod-breakglass", bob, bg["reason"], nil, bg["created_at"], bg["granted_at"], ended(o.breakGlass), "expired"}}},
		{name: "approvals_by_approver", query: "approvals_by_approver", rows: [][]any{
			{"carol@example.com", 2, carol},
			{"dave@example.com", 1, []string{o.revoked}},
		}},
		{name: "auto_approved", query: "auto_approved", rows: autoRows},
		{name: "revoked_early", query: "revoked_early", rows: [][]any{{
			o.revoked, "sandbox-admin", alice, rv["revoke_requested_by"], rv["granted_at"], rv["expires_at"], rv["ended_at"]}}},
		{name: "revoke_failures", query: "revoke_failures", rows: [][]any{{
			o.revokeFailed, "sandbox-admin", bob, x.event(t, o.revokeFailed, "revoke_failed"), true,
			x.event(t, o.revokeFailed, "reconciled"), "expired"}}},
	}
}

// runDuckDB runs every check's query from infra/athena with DuckDB over
// the data files and returns each check's rows (JSON-normalized).
func runDuckDB(t *testing.T, table glueTable, files []string, checks []check) map[string]any {
	t.Helper()
	sources := querySources(t)
	type query struct {
		Name   string `json:"name"`
		SQL    string `json:"sql"`
		Params []any  `json:"params"`
	}
	spec := struct {
		Table    string   `json:"table"`
		Column   string   `json:"column"`
		JSONKey  string   `json:"json_key"`
		HiveType string   `json:"hive_type"`
		Files    []string `json:"files"`
		Queries  []query  `json:"queries"`
	}{Table: table.Name, Column: table.Column, JSONKey: "Item", HiveType: table.Type, Files: files}
	for _, c := range checks {
		sql, ok := sources[c.query]
		if !ok {
			t.Fatalf("no infra/athena/%s.sql", c.query)
		}
		spec.Queries = append(spec.Queries, query{Name: c.name, SQL: sql, Params: c.params})
	}
	python, err := filepath.Abs(filepath.Join(root, ".venv/moto/bin/python"))
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(spec)
	cmd := exec.Command(python, "run_duckdb.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run_duckdb.py: %v\n%s\n(run `make venv` if duckdb is missing)", err, stderr.Bytes())
	}
	var results []struct {
		Name string `json:"name"`
		Rows any    `json:"rows"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("run_duckdb.py output: %v\n%s", err, out)
	}
	got := map[string]any{}
	for _, r := range results {
		got[r.Name] = r.Rows
	}
	return got
}

// normalize gives rows the shape JSON decoding gives DuckDB's (numbers as
// float64, lists as []any, no rows as an empty list).
func normalize(t *testing.T, rows [][]any) any {
	t.Helper()
	if rows == nil {
		rows = [][]any{}
	}
	var out any
	if err := json.Unmarshal([]byte(mustJSON(rows)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// API --------------------------------------------------------------------

func identity(t testing.TB, name string) gateway.Identity {
	t.Helper()
	id, err := lc.Identity(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// call sends a SigV4-signed JSON request to the API as who.
func call(t testing.TB, who, method, path string, body any) (int, map[string]any) {
	t.Helper()
	code, out, err := lc.CallJSON(context.Background(), who, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, out
}

// ask creates a request as who and returns its id.
func ask(t testing.TB, who string, body map[string]any) string {
	t.Helper()
	if _, ok := body["reason"]; !ok {
		body["reason"] = "compliance test " + t.Name()
	}
	code, got := call(t, who, "POST", "/v1/requests", body)
	if code != http.StatusCreated {
		t.Fatalf("create %v: %d %v", body, code, got)
	}
	return got["id"].(string)
}

func status(t testing.TB, who, id string) string {
	t.Helper()
	code, body := call(t, who, "GET", "/v1/requests/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("get %s: %d %v", id, code, body)
	}
	return body["status"].(string)
}

// waitStatus waits for the request to reach want, failing early on
// another terminal status.
func waitStatus(t testing.TB, who, id, want string, limit time.Duration) {
	t.Helper()
	waitFor(t, id+" "+want, limit, func() bool {
		s := status(t, who, id)
		switch {
		case s == want:
			return true
		case s != "pending" && s != "approved" && s != "active":
			t.Fatalf("%s is %s, want %s", id, s, want)
		}
		return false
	})
}

func history(t testing.TB, who, id string) []string {
	t.Helper()
	_, got := call(t, who, "GET", "/v1/requests/"+id, nil)
	var types []string
	for _, e := range got["history"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	return types
}

// approve waits for approver's email about id and posts decision on its link.
func approve(t testing.TB, approver, id, decision string) {
	t.Helper()
	var link string
	waitFor(t, "approval email to "+approver+" for "+id, 30*time.Second, func() bool {
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			return false // the emulator sometimes fails this read while busy
		}
		for _, m := range lc.Inbox.Messages() {
			if m.To != approver || !strings.Contains(m.Body, id) {
				continue
			}
			for _, l := range m.Links {
				if strings.HasPrefix(l, lc.APIURL+"/d/") {
					link = strings.SplitN(l, "?", 2)[0]
					return true
				}
			}
		}
		return false
	})
	resp, err := http.PostForm(link, url.Values{"decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", decision, id, resp.StatusCode, b)
	}
}

func executionStatus(t testing.TB, id string) string {
	t.Helper()
	arn := strings.Replace(lc.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + id
	out, err := sfn.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region)).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Status)
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
