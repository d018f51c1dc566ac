package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policyDoc = "resources:\n  - name: sandbox-admin\n"

func TestPolicyGet(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.routes["GET /v1/policy"] = canned{status: 200, body: map[string]any{"version": 3, "applied_by": "arn:aws:sts::123456789012:assumed-role/JitAdmin/erin@example.com", "applied_at": "2026-01-01T09:00:00Z", "document": policyDoc}}
	})
	got := h.run("policy", "get")
	if got.code != 0 || got.stdout != policyDoc || !strings.Contains(got.stderr, "# policy version 3, applied by arn:aws:sts::123456789012:assumed-role/JitAdmin/erin@example.com at 2026-01-01 09:00:00 UTC") {
		t.Fatal(got)
	}
	file := filepath.Join(t.TempDir(), "p.yaml")
	got = h.run("policy", "get", "-f", file)
	if b, _ := os.ReadFile(file); string(b) != policyDoc || !strings.Contains(got.stdout, "jit policy apply -f "+file+" --if-version 3") {
		t.Fatalf("get -f: %q\n%s", b, got)
	}
	h.run("policy", "get", "--version", "2")
	calls := h.api.snap().calls
	if q := calls[len(calls)-1].URL.Query().Get("version"); q != "2" {
		t.Errorf("--version 2 sent version=%q", q)
	}
	got = h.run("policy", "get", "-o", "json")
	if !strings.Contains(got.stdout, `"version": 3`) {
		t.Error(got)
	}
}

func TestPolicyValidate(t *testing.T) {
	h := newHarness(t)
	// On this machine, with the service's own parser.
	got := h.run("policy", "validate", "--local", "-f", "../../infra/local/policies.yaml")
	if got.code != 0 || !strings.Contains(got.stdout, "policies.yaml: valid,") || !strings.Contains(got.stdout, "checked by this machine") {
		t.Fatalf("sample policy: %s", got)
	}
	got = h.run("policy", "validate", "--local", "-f", "testdata/bad_policy.yaml")
	if got.code != 2 || !strings.Contains(got.stdout, "testdata/bad_policy.yaml: 2 problem(s):\n  line 3: ") || !strings.Contains(got.stdout, "\n  line 5: ") {
		t.Fatal(got)
	}
	if h.api.callCount() != 0 {
		t.Fatal("--local called the API")
	}
	got = h.run("policy", "validate", "--local", "-f", "testdata/missing.yaml")
	if got.code != 1 || !strings.Contains(got.stderr, "no such file") {
		t.Fatal(got)
	}

	// By the API, sent as YAML.
	h.api.with(func(f *fakeAPI) {
		f.routes["POST /v1/policy/validate"] = canned{status: 200, body: map[string]any{"valid": true, "resources": 7}}
	})
	got = h.run("policy", "validate", "-f", "testdata/bad_policy.yaml")
	if got.code != 0 || got.stdout != "testdata/bad_policy.yaml: valid, 7 resource(s) (checked by the API)\n" {
		t.Fatal(got)
	}
	c := h.api.snap()
	if ct := c.calls[0].Header.Get("Content-Type"); ct != "application/yaml" || !strings.HasPrefix(c.bodies[0], "# Two problems") {
		t.Errorf("sent %s: %q", ct, c.bodies[0])
	}
	h.api.with(func(f *fakeAPI) {
		f.routes["POST /v1/policy/validate"] = canned{status: 400, body: map[string]any{"error": "invalid_policy", "message": "invalid policy: ...",
			"problems": []map[string]any{{"line": 3, "field": "resources[0].name", "message": "bad name"}, {"field": "document", "message": "whole"}}}}
	})
	got = h.run("policy", "validate", "-f", "testdata/bad_policy.yaml")
	if got.code != 2 {
		t.Fatal(got)
	}
	golden(t, "policy_invalid.txt", got.stdout)
	got = h.run("policy", "validate", "-f", "testdata/bad_policy.yaml", "-o", "json")
	golden(t, "policy_invalid.json", got.stdout)

	h.api.with(func(f *fakeAPI) {
		f.routes["POST /v1/policy/validate"] = canned{status: 403, body: map[string]any{"error": "forbidden", "message": "only admins can validate and apply the policy"}}
	})
	got = h.run("policy", "validate", "-f", "testdata/bad_policy.yaml")
	if got.code != 1 || !strings.Contains(got.stderr, "jit policy validate --local -f testdata/bad_policy.yaml") {
		t.Fatal(got)
	}
}

func TestPolicyApply(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.routes["PUT /v1/policy"] = canned{status: 200, body: map[string]any{"version": 4, "applied_by": "erin", "applied_at": "2026-01-02T10:00:00Z",
			"changes": map[string]any{"added": []string{"new-one"}, "removed": []string{}, "changed": []string{"sandbox-admin", "prod"}}}}
	})
	got := h.run("policy", "apply", "-f", "testdata/bad_policy.yaml", "--if-version", "3")
	if got.code != 0 {
		t.Fatal(got)
	}
	golden(t, "policy_apply.txt", got.stdout)
	c := h.api.snap().calls[0]
	if c.Header.Get("If-Match") != `"3"` || c.Header.Get("Content-Type") != "application/yaml" {
		t.Errorf("headers %v", c.Header)
	}
	h.run("policy", "apply", "-f", "testdata/bad_policy.yaml")
	if c := h.api.snap().calls[1]; c.Header.Get("If-Match") != "" {
		t.Errorf("If-Match sent without --if-version: %q", c.Header.Get("If-Match"))
	}
	h.api.with(func(f *fakeAPI) {
		f.routes["PUT /v1/policy"] = canned{status: 412, body: map[string]any{"error": "stale_policy", "message": "the policy is at version 5, not 3; get it again and reapply your change"}}
	})
	got = h.run("policy", "apply", "-f", "testdata/bad_policy.yaml", "--if-version", "3")
	if got.code != 1 || !strings.Contains(got.stderr, "the policy is at version 5, not 3") || !strings.Contains(got.stderr, "jit policy get -f FILE") {
		t.Fatal(got)
	}
	h.api.with(func(f *fakeAPI) {
		f.routes["PUT /v1/policy"] = canned{status: 400, body: map[string]any{"error": "invalid_policy", "message": "invalid", "problems": []map[string]any{{"line": 3, "field": "resources[0].name", "message": "bad name"}}}}
	})
	got = h.run("policy", "apply", "-f", "testdata/bad_policy.yaml")
	if got.code != 2 || !strings.Contains(got.stdout, "line 3: resources[0].name: bad name") {
		t.Fatal(got)
	}
}
