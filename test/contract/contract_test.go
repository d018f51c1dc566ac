// Package contract checks docs/openapi.yaml against the implementation:
// the routes against template.yaml, and the responses of the real system
// (the local cloud, started in-process as test/e2e does) against the
// document's schemas. TestSchemathesis then lets schemathesis generate
// requests from the document (make contract).
package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/gateway"
	"github.com/jitaccess/jit/shared/local/template"
	"github.com/jitaccess/jit/shared/local/testenv"
)

var (
	root string
	lc   *cloud.Cloud
)

func TestMain(m *testing.M) {
	if testenv.SkipMain("contract tests") {
		return
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, _ = filepath.Abs("../..")
	// The end-to-end policy: short minimum durations, several resources.
	c, stop, err := cloud.StartForTests(root, "test/e2e/testdata/policies.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	lc = c
	return m.Run()
}

// ---------------------------------------------------------------------------
// The document.

// doc is docs/openapi.yaml, decoded.
type doc struct {
	raw map[string]any
	v   *validator
}

func loadDoc(t testing.TB) *doc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs/openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	return &doc{raw: raw, v: &validator{root: raw}}
}

func (d *doc) mapAt(m map[string]any, keys ...string) map[string]any {
	cur := m
	for _, k := range keys {
		next, _ := cur[k].(map[string]any)
		if ref, ok := next["$ref"].(string); ok {
			r, err := d.v.resolve(ref)
			if err != nil {
				return nil
			}
			next, _ = r.(map[string]any)
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// operations lists "METHOD /path" of every operation in the document.
func (d *doc) operations() map[string]map[string]any {
	ops := map[string]map[string]any{}
	for path, item := range d.mapAt(d.raw, "paths") {
		im, _ := item.(map[string]any)
		for _, m := range methods {
			if op, ok := im[m].(map[string]any); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return ops
}

// TestRoutesMatchTemplate: every route in template.yaml is in the document
// and every operation of the document is a route, with the same auth.
func TestRoutesMatchTemplate(t *testing.T) {
	d := loadDoc(t)
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]template.Route{}
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			routes[r.Method+" "+r.Path] = r
		}
	}
	if len(routes) == 0 {
		t.Fatal("template.yaml has no routes")
	}
	ops := d.operations()
	for key := range routes {
		if _, ok := ops[key]; !ok {
			t.Errorf("route %s of template.yaml is not in docs/openapi.yaml", key)
		}
	}
	for key := range ops {
		if _, ok := routes[key]; !ok {
			t.Errorf("operation %s of docs/openapi.yaml is not a route of template.yaml", key)
		}
	}
	topSecurity, _ := d.raw["security"].([]any)
	for key, op := range ops {
		r, ok := routes[key]
		if !ok {
			continue
		}
		sec := topSecurity
		if s, ok := op["security"]; ok {
			sec, _ = s.([]any)
		}
		signed := false
		for _, req := range sec {
			if _, ok := req.(map[string]any)["sigv4"]; ok {
				signed = true
			}
		}
		if signed != r.IAMAuth {
			t.Errorf("%s: document says signed=%v, template IAM auth=%v", key, signed, r.IAMAuth)
		}
		if !r.IAMAuth && len(sec) != 0 {
			t.Errorf("%s: a public route must have security: []", key)
		}
		// Every path parameter is declared.
		_, path, _ := strings.Cut(key, " ")
		declared := map[string]bool{}
		item := d.mapAt(d.raw, "paths", path)
		for _, list := range []any{item["parameters"], op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					r, _ := d.v.resolve(ref)
					pm, _ = r.(map[string]any)
				}
				if pm["in"] == "path" {
					if pm["required"] != true {
						t.Errorf("%s: path parameter %v is not required", key, pm["name"])
					}
					declared[fmt.Sprint(pm["name"])] = true
				}
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}+]+)\+?\}`).FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", key, m[1])
			}
		}
		if _, ok := op["responses"].(map[string]any); !ok {
			t.Errorf("%s: no responses", key)
		}
	}
	t.Logf("%d routes, %d operations", len(routes), len(ops))
}

// TestDocumentExamplesAndRefs: every reference resolves, every schema is
// within what the validator checks, and every example is valid.
func TestDocumentExamplesAndRefs(t *testing.T) {
	d := loadDoc(t)
	checked := 0
	var walk func(node any, path string)
	walk = func(node any, path string) {
		switch n := node.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok {
				if _, err := d.v.resolve(ref); err != nil {
					t.Errorf("%s: %v", path, err)
				}
			}
			// A media type or parameter: schema with example(s).
			if schema, ok := n["schema"]; ok {
				if errs := d.v.validate(schema, nil); hasUnsupported(errs) {
					t.Errorf("%s: schema uses what the validator cannot check: %v", path, errs)
				}
				if ex, ok := n["example"]; ok {
					checked++
					if errs := d.v.validate(schema, normalize(ex)); len(errs) > 0 {
						t.Errorf("%s: example is invalid: %v", path, errs)
					}
				}
				exs, _ := n["examples"].(map[string]any)
				for name, e := range exs {
					em, _ := e.(map[string]any)
					if ref, ok := em["$ref"].(string); ok {
						r, _ := d.v.resolve(ref)
						em, _ = r.(map[string]any)
					}
					if val, ok := em["value"]; ok {
						checked++
						if errs := d.v.validate(schema, normalize(val)); len(errs) > 0 {
							t.Errorf("%s: example %s is invalid: %v", path, name, errs)
						}
					}
				}
			}
			keys := make([]string, 0, len(n))
			for k := range n {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(n[k], path+"/"+k)
			}
		case []any:
			for i, e := range n {
				walk(e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(d.raw, "#")
	for name, s := range d.mapAt(d.raw, "components", "schemas") {
		if errs := d.v.validate(s, nil); hasUnsupported(errs) {
			t.Errorf("schema %s: %v", name, errs)
		}
	}
	if checked < 3 {
		t.Errorf("only %d examples checked", checked)
	}
	t.Logf("%d examples valid", checked)
}

func hasUnsupported(errs []string) bool {
	for _, e := range errs {
		if strings.Contains(e, "not supported") || strings.Contains(e, "does not resolve") || strings.Contains(e, "does not compile") {
			return true
		}
	}
	return false
}

// normalize turns YAML-decoded values into what encoding/json decodes.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// ---------------------------------------------------------------------------
// Real responses.

// exchange is one real call and its answer.
type exchange struct {
	name   string
	method string
	route  string // the document's path template
	status int
	header http.Header
	body   []byte
}

func identity(t testing.TB, name string) gateway.Identity {
	t.Helper()
	id, err := lc.Identity(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// send makes one call on the local cloud, signed as who unless who is "".
// Redirects are answered as they are, so they can be checked against the
// document (the auditor page's sign-in answers 303).
func send(t testing.TB, who, method, path string, body []byte, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	r, err := lc.CallAPI(context.Background(), who, method, path, body, headers)
	if err != nil {
		t.Fatal(err)
	}
	return r.Code, r.Header, r.Body
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

var jsonCT = map[string]string{"Content-Type": "application/json"}
var formCT = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

// carolLink waits for Carol's email about id and returns its path.
func carolLink(t testing.TB, id string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		// moto's /moto-api/data.json now and then answers 500 while other
		// requests change its state; the next poll reads it fine.
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			t.Logf("inbox poll (will retry): %.120s", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for _, m := range lc.Inbox.Messages() {
			if m.To == "carol@example.com" && strings.Contains(m.Body, id) && len(m.Links) > 0 {
				u, err := url.Parse(strings.SplitN(m.Links[0], "?", 2)[0])
				if err != nil {
					t.Fatal(err)
				}
				return u.EscapedPath()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no email about %s", id)
	return ""
}

// TestResponsesMatchSchemas drives every operation of the real system
// through its success and refusal paths, and checks each answer's status,
// media type, documented headers and body against the document.
func TestResponsesMatchSchemas(t *testing.T) {
	d := loadDoc(t)
	var xs []exchange
	do := func(name, who, method, route, path string, body []byte, headers map[string]string) exchange {
		t.Helper()
		code, h, b := send(t, who, method, path, body, headers)
		x := exchange{name: name, method: method, route: route, status: code, header: h, body: b}
		xs = append(xs, x)
		return x
	}
	want := func(x exchange, code int) map[string]any {
		t.Helper()
		if x.status != code {
			t.Fatalf("%s: %d, want %d: %s", x.name, x.status, code, x.body)
		}
		var m map[string]any
		_ = json.Unmarshal(x.body, &m)
		return m
	}
	ask := func(reason string) []byte {
		return jsonBody(map[string]string{"resource": "sandbox-admin", "duration": "10m", "reason": reason})
	}
	const reqs, one, cancelR = "/v1/requests", "/v1/requests/{id}", "/v1/requests/{id}/cancel"

	// Create, replay, and the refusals.
	created := want(do("create", "alice", "POST", reqs, reqs, ask("contract test one"), jsonCT), 201)
	id := created["id"].(string)
	key := map[string]string{"Content-Type": "application/json", "Idempotency-Key": fmt.Sprintf("contract-%d", time.Now().UnixNano())}
	want(do("create with key", "alice", "POST", reqs, reqs, ask("contract test two"), key), 201)
	replay := do("replay", "alice", "POST", reqs, reqs, ask("contract test two"), key)
	want(replay, 200)
	if replay.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay lacks Idempotent-Replayed: true")
	}
	want(do("key reused", "alice", "POST", reqs, reqs, ask("contract test three"), key), 422)
	want(do("bad JSON", "alice", "POST", reqs, reqs, []byte(`{"resource":`), jsonCT), 400)
	want(do("bad duration", "alice", "POST", reqs, reqs, jsonBody(map[string]string{"resource": "sandbox-admin", "duration": "5h", "reason": "too long a time"}), jsonCT), 400)
	want(do("not allowed", "frank", "POST", reqs, reqs, ask("auditor asks"), jsonCT), 403)
	want(do("unsigned", "", "POST", reqs, reqs, ask("nobody asks"), jsonCT), 403)
	want(do("text/plain", "alice", "POST", reqs, reqs, ask("plain text"), map[string]string{"Content-Type": "text/plain"}), 415)
	want(do("too large", "alice", "POST", reqs, reqs, ask(strings.Repeat("x", 17<<10)), jsonCT), 413)
	want(do("create as an approver", "carol", "POST", reqs, reqs, jsonBody(map[string]string{"resource": "quorum", "duration": "10m", "reason": "carol asks"}), jsonCT), 201)

	// Lists.
	page := want(do("list", "alice", "GET", reqs, reqs+"?limit=1", nil, nil), 200)
	if cur, _ := page["next_cursor"].(string); cur != "" {
		want(do("list page 2", "alice", "GET", reqs, reqs+"?limit=1&cursor="+url.QueryEscape(cur), nil, nil), 200)
	} else {
		t.Error("a list of one with more requests has no next_cursor")
	}
	want(do("list bad limit", "alice", "GET", reqs, reqs+"?limit=0", nil, nil), 400)
	want(do("list bad cursor", "alice", "GET", reqs, reqs+"?cursor=nope", nil, nil), 400)
	want(do("list unsigned", "", "GET", reqs, reqs, nil, nil), 403)

	// One request, with its history once the approval was asked.
	link := carolLink(t, id)
	got := want(do("get", "alice", "GET", one, "/v1/requests/"+id, nil, nil), 200)
	if h, _ := got["history"].([]any); len(h) < 2 {
		t.Errorf("history = %v", got["history"])
	}
	want(do("get someone else's", "bob", "GET", one, "/v1/requests/"+id, nil, nil), 404)
	want(do("get malformed", "alice", "GET", one, "/v1/requests/nope", nil, nil), 404)
	want(do("get unsigned", "", "GET", one, "/v1/requests/"+id, nil, nil), 403)

	// Decision pages.
	want(do("page", "", "GET", "/d/{token}", link, nil, nil), 200)
	want(do("page malformed", "", "GET", "/d/{token}", "/d/nope", nil, nil), 404)
	want(do("decide no decision", "", "POST", "/d/{token}", link, []byte("comment=x"), formCT), 400)
	want(do("decide cross-site", "", "POST", "/d/{token}", link, []byte("decision=deny"), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}), 403)
	want(do("decide", "", "POST", "/d/{token}", link, []byte("decision=deny&comment=contract"), formCT), 200)
	want(do("decide again", "", "POST", "/d/{token}", link, []byte("decision=approve"), formCT), 409)
	want(do("decide unknown", "", "POST", "/d/{token}", "/d/"+strings.Repeat("A", 43), []byte("decision=approve"), formCT), 404)
	// No signing secret is stored in the local cloud: the endpoint is off.
	want(do("slack not set up", "", "POST", "/slack/interactions", "/slack/interactions", []byte("payload=%7B%7D"), formCT), 404)
	want(do("get decided", "alice", "GET", one, "/v1/requests/"+id, nil, nil), 200)

	// Cancel.
	other := want(do("create to cancel", "alice", "POST", reqs, reqs, ask("to be cancelled"), jsonCT), 201)["id"].(string)
	want(do("cancel someone else's", "bob", "POST", cancelR, "/v1/requests/"+other+"/cancel", nil, nil), 404)
	want(do("cancel", "alice", "POST", cancelR, "/v1/requests/"+other+"/cancel", nil, nil), 200)
	want(do("cancel again", "alice", "POST", cancelR, "/v1/requests/"+other+"/cancel", nil, nil), 409)
	want(do("cancel decided", "alice", "POST", cancelR, "/v1/requests/"+id+"/cancel", nil, nil), 409)

	// Revoke and extend, on a request that is active.
	const revokeR, extendR = "/v1/requests/{id}/revoke", "/v1/requests/{id}/extend"
	act := want(do("create to grant", "alice", "POST", reqs, reqs, ask("to be granted"), jsonCT), 201)["id"].(string)
	want(do("revoke pending", "alice", "POST", revokeR, "/v1/requests/"+act+"/revoke", nil, nil), 409)
	want(do("extend pending", "erin", "POST", extendR, "/v1/requests/"+act+"/extend", jsonBody(map[string]string{"by": "5m"}), jsonCT), 409)
	want(do("approve to grant", "", "POST", "/d/{token}", carolLink(t, act), []byte("decision=approve"), formCT), 200)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, b := send(t, "alice", "GET", "/v1/requests/"+act, nil, nil)
		var r map[string]any
		_ = json.Unmarshal(b, &r)
		if code == 200 && r["status"] == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became active: %d %s", act, code, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want(do("extend bad JSON", "erin", "POST", extendR, "/v1/requests/"+act+"/extend", []byte(`{"by":`), jsonCT), 400)
	want(do("extend unknown field", "erin", "POST", extendR, "/v1/requests/"+act+"/extend", []byte(`{"by":"5m","until":"x"}`), jsonCT), 400)
	want(do("extend over max", "erin", "POST", extendR, "/v1/requests/"+act+"/extend", jsonBody(map[string]string{"by": "10h"}), jsonCT), 400)
	want(do("extend text/plain", "erin", "POST", extendR, "/v1/requests/"+act+"/extend", jsonBody(map[string]string{"by": "5m"}), map[string]string{"Content-Type": "text/plain"}), 415)
	want(do("extend someone else's", "bob", "POST", extendR, "/v1/requests/"+act+"/extend", jsonBody(map[string]string{"by": "5m"}), jsonCT), 404)
	want(do("extend by the requester", "alice", "POST", extendR, "/v1/requests/"+act+"/extend", jsonBody(map[string]string{"by": "5m"}), jsonCT), 403)
	// "busy" (409) until the grant has handed its Hold task over: retry,
	// as the message says.
	untilNotBusy := func(name, who, route, path string, body []byte, headers map[string]string) exchange {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; {
			x := do(name, who, "POST", route, path, body, headers)
			var e map[string]any
			_ = json.Unmarshal(x.body, &e)
			if x.status != http.StatusConflict || e["error"] != "busy" || time.Now().After(deadline) {
				return x
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	want(untilNotBusy("extend", "erin", extendR, "/v1/requests/"+act+"/extend", jsonBody(map[string]string{"by": "5m"}), jsonCT), 200)
	want(do("revoke someone else's", "bob", "POST", revokeR, "/v1/requests/"+act+"/revoke", nil, nil), 404)
	want(do("revoke unsigned", "", "POST", revokeR, "/v1/requests/"+act+"/revoke", nil, nil), 403)
	want(untilNotBusy("revoke", "alice", revokeR, "/v1/requests/"+act+"/revoke", nil, nil), 202)

	// Policy.
	pol := want(do("policy", "frank", "GET", "/v1/policy", "/v1/policy", nil, nil), 200)
	version := int(pol["version"].(float64))
	want(do("policy version", "erin", "GET", "/v1/policy", "/v1/policy?version="+strconv.Itoa(version), nil, nil), 200)
	want(do("policy bad version", "erin", "GET", "/v1/policy", "/v1/policy?version=x", nil, nil), 400)
	want(do("policy missing version", "erin", "GET", "/v1/policy", "/v1/policy?version=99999", nil, nil), 404)
	want(do("policy requester", "alice", "GET", "/v1/policy", "/v1/policy", nil, nil), 403)
	yamlCT := map[string]string{"Content-Type": "application/yaml"}
	document := []byte(pol["document"].(string))
	want(do("validate", "erin", "POST", "/v1/policy/validate", "/v1/policy/validate", document, yamlCT), 200)
	want(do("validate invalid", "erin", "POST", "/v1/policy/validate", "/v1/policy/validate", []byte("resources: []\n"), yamlCT), 400)
	want(do("validate not YAML", "erin", "POST", "/v1/policy/validate", "/v1/policy/validate", []byte("resources: [\n"), yamlCT), 400)
	want(do("validate as requester", "alice", "POST", "/v1/policy/validate", "/v1/policy/validate", document, yamlCT), 403)
	want(do("apply stale", "erin", "PUT", "/v1/policy", "/v1/policy", document, map[string]string{"Content-Type": "application/yaml", "If-Match": strconv.Itoa(version + 5)}), 412)
	want(do("apply invalid", "erin", "PUT", "/v1/policy", "/v1/policy", []byte("resources: []\n"), yamlCT), 400)
	want(do("apply as auditor", "frank", "PUT", "/v1/policy", "/v1/policy", document, yamlCT), 403)
	want(do("apply", "erin", "PUT", "/v1/policy", "/v1/policy", document, map[string]string{"Content-Type": "application/yaml", "If-Match": strconv.Itoa(version)}), 200)

	// Audit search, export, stats.
	const auditR, exportR = "/v1/audit", "/v1/audit/export"
	first := want(do("audit search", "frank", "GET", auditR, auditR+"?resource=sandbox-admin&limit=2", nil, nil), 200)
	if cur, _ := first["next_cursor"].(string); cur != "" {
		want(do("audit search page 2", "frank", "GET", auditR, auditR+"?resource=sandbox-admin&limit=2&cursor="+url.QueryEscape(cur), nil, nil), 200)
		want(do("audit cursor of another search", "frank", "GET", auditR, auditR+"?resource=quorum&cursor="+url.QueryEscape(cur), nil, nil), 400)
	} else {
		t.Error("an audit search of two with more events has no next_cursor")
	}
	want(do("audit search by action", "erin", "GET", auditR, auditR+"?action=created&requester="+url.QueryEscape(fmt.Sprint(created["requester"])), nil, nil), 200)
	want(do("audit unknown filter", "frank", "GET", auditR, auditR+"?colour=red", nil, nil), 400)
	want(do("audit bad period", "frank", "GET", auditR, auditR+"?from=yesterday", nil, nil), 400)
	want(do("audit as requester", "alice", "GET", auditR, auditR, nil, nil), 403)
	want(do("audit unsigned", "", "GET", auditR, auditR, nil, nil), 403)
	csvPage := do("export csv", "frank", "GET", exportR, exportR+"?resource=sandbox-admin&limit=3", nil, nil)
	want(csvPage, 200)
	if !strings.HasPrefix(string(csvPage.body), "at,request_id,type,actor") || csvPage.header.Get("Jit-Next-Cursor") == "" {
		t.Errorf("export csv: header %v body %.200s", csvPage.header, csvPage.body)
	}
	want(do("export json", "frank", "GET", exportR, exportR+"?format=json&action=created", nil, nil), 200)
	want(do("export bad format", "frank", "GET", exportR, exportR+"?format=xml", nil, nil), 400)
	want(do("export as requester", "alice", "GET", exportR, exportR, nil, nil), 403)
	want(do("stats", "frank", "GET", "/v1/stats", "/v1/stats", nil, nil), 200)
	want(do("stats of a resource", "erin", "GET", "/v1/stats", "/v1/stats?resource=sandbox-admin", nil, nil), 200)
	want(do("stats too long", "frank", "GET", "/v1/stats", "/v1/stats?from=2020-01-01T00:00:00Z", nil, nil), 400)
	want(do("stats as requester", "alice", "GET", "/v1/stats", "/v1/stats", nil, nil), 403)

	// The auditor page: sign in with a link from the API, then browse.
	const sessionsR = "/v1/audit/sessions"
	want(do("sign-in as requester", "alice", "POST", sessionsR, sessionsR, nil, nil), 403)
	signIn := want(do("sign-in link", "frank", "POST", sessionsR, sessionsR, nil, nil), 201)
	u, err := url.Parse(fmt.Sprint(signIn["url"]))
	if err != nil {
		t.Fatalf("sign-in url %v: %v", signIn["url"], err)
	}
	want(do("page without session", "", "GET", "/audit", "/audit", nil, nil), 401)
	want(do("sign-in malformed", "", "GET", "/audit/session/{token}", "/audit/session/nope", nil, nil), 404)
	want(do("sign-in page", "", "GET", "/audit/session/{token}", u.Path, nil, nil), 200)
	want(do("sign-in page again (nothing spent)", "", "GET", "/audit/session/{token}", u.Path, nil, nil), 200)
	want(do("sign in from another site", "", "POST", "/audit/session/{token}", u.Path, nil, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}), 403)
	want(do("sign-in malformed post", "", "POST", "/audit/session/{token}", "/audit/session/nope", nil, nil), 404)
	in := do("sign in", "", "POST", "/audit/session/{token}", u.Path, nil, nil)
	want(in, 303)
	want(do("sign in again", "", "POST", "/audit/session/{token}", u.Path, nil, nil), 410)
	cookie := map[string]string{"Cookie": strings.Split(in.header.Get("Set-Cookie"), ";")[0]}
	want(do("page", "", "GET", "/audit", "/audit?resource=sandbox-admin", nil, cookie), 200)
	want(do("page bad filter", "", "GET", "/audit", "/audit?status=nope", nil, cookie), 400)
	want(do("page export", "", "GET", "/audit/export", "/audit/export?resource=sandbox-admin", nil, cookie), 200)
	want(do("page export without session", "", "GET", "/audit/export", "/audit/export", nil, nil), 401)
	want(do("page export bad filter", "", "GET", "/audit/export", "/audit/export?from=x", nil, cookie), 400)
	want(do("timeline", "", "GET", "/audit/requests/{id}", "/audit/requests/"+id, nil, cookie), 200)
	want(do("timeline unknown", "", "GET", "/audit/requests/{id}", "/audit/requests/nope", nil, cookie), 404)
	want(do("timeline without session", "", "GET", "/audit/requests/{id}", "/audit/requests/"+id, nil, nil), 401)
	want(do("stats page", "", "GET", "/audit/stats", "/audit/stats?resource=sandbox-admin", nil, cookie), 200)
	want(do("stats page bad period", "", "GET", "/audit/stats", "/audit/stats?from=x", nil, cookie), 400)
	want(do("stats page without session", "", "GET", "/audit/stats", "/audit/stats", nil, nil), 401)
	want(do("sign out from another site", "", "POST", "/audit/logout", "/audit/logout", nil, map[string]string{"Cookie": cookie["Cookie"], "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}), 403)
	want(do("sign out", "", "POST", "/audit/logout", "/audit/logout", nil, cookie), 200)
	want(do("page after sign-out", "", "GET", "/audit", "/audit", nil, cookie), 401)

	// Every answer against the document.
	seen := map[string]bool{}
	for _, x := range xs {
		for _, p := range d.checkExchange(x) {
			t.Errorf("%s (%s %s → %d): %s\n%s", x.name, x.method, x.route, x.status, p, truncate(x.body))
		}
		seen[x.method+" "+x.route] = true
	}
	for op := range d.operations() {
		if !seen[op] {
			t.Errorf("no real call exercised %s", op)
		}
	}
	t.Logf("%d real responses validated against docs/openapi.yaml", len(xs))
}

// checkExchange lists how one real answer departs from the document.
func (d *doc) checkExchange(x exchange) []string {
	op := d.mapAt(d.raw, "paths", x.route, strings.ToLower(x.method))
	if op == nil {
		return []string{"no such operation in the document"}
	}
	resp := d.mapAt(op, "responses", strconv.Itoa(x.status))
	if resp == nil {
		resp = d.mapAt(op, "responses", "default")
	}
	if resp == nil {
		return []string{fmt.Sprintf("status %d is not documented", x.status)}
	}
	var problems []string
	for name, h := range d.mapAt(resp, "headers") {
		hm, _ := h.(map[string]any)
		if val := x.header.Get(name); val != "" && hm["schema"] != nil {
			for _, e := range d.v.validate(hm["schema"], val) {
				problems = append(problems, "header "+name+": "+e)
			}
		}
	}
	content := d.mapAt(resp, "content")
	if len(x.body) == 0 && len(content) == 0 {
		return problems
	}
	mt, _, err := mime.ParseMediaType(x.header.Get("Content-Type"))
	if err != nil {
		return append(problems, fmt.Sprintf("Content-Type %q: %v", x.header.Get("Content-Type"), err))
	}
	media := d.mapAt(content, mt)
	if media == nil {
		keys := make([]string, 0, len(content))
		for k := range content {
			keys = append(keys, k)
		}
		return append(problems, fmt.Sprintf("media type %s is not documented (documented: %v)", mt, keys))
	}
	var instance any = string(x.body)
	if mt == "application/json" {
		if err := json.Unmarshal(x.body, &instance); err != nil {
			return append(problems, "body is not JSON: "+err.Error())
		}
	}
	for _, e := range d.v.validate(media["schema"], instance) {
		problems = append(problems, e)
	}
	return problems
}

func truncate(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}
