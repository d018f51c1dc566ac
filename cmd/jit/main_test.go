package main

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		pos, rest []string
		reason    string
		wait      bool
		wantErr   string
	}{
		{name: "flags after the argument", args: []string{"sandbox-admin", "--reason", "fix it", "--wait"}, pos: []string{"sandbox-admin"}, reason: "fix it", wait: true},
		{name: "flags before the argument", args: []string{"--wait", "--reason=fix it", "sandbox-admin"}, pos: []string{"sandbox-admin"}, reason: "fix it", wait: true},
		{name: "single dash", args: []string{"-reason", "x", "a", "b"}, pos: []string{"a", "b"}, reason: "x"},
		{name: "after --", args: []string{"id", "--", "sh", "-c", "echo --wait"}, pos: []string{"id"}, rest: []string{"sh", "-c", "echo --wait"}},
		{name: "-- as a flag value", args: []string{"--reason", "--", "id"}, pos: []string{"id"}, reason: "--"},
		{name: "-- right after a bool flag", args: []string{"id", "--wait", "--", "cmd"}, pos: []string{"id"}, rest: []string{"cmd"}, wait: true},
		{name: "empty --", args: []string{"id", "--"}, pos: []string{"id"}, rest: []string{}},
		{name: "unknown flag", args: []string{"id", "--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "missing value", args: []string{"id", "--reason"}, wantErr: "flag needs an argument: -reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			reason := fs.String("reason", "", "")
			wait := fs.Bool("wait", false, "")
			pos, rest, err := parseArgs(fs, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.pos) || !reflect.DeepEqual(rest, tt.rest) || *reason != tt.reason || *wait != tt.wait {
				t.Fatalf("pos %q rest %q reason %q wait %v; want %q %q %q %v", pos, rest, *reason, *wait, tt.pos, tt.rest, tt.reason, tt.wait)
			}
		})
	}
}

// TestUsageErrors: everything jit can refuse before calling the API exits
// 2, says what is wrong, and never calls the API.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "Usage:"},
		{[]string{"frobnicate"}, `no command "frobnicate"`},
		{[]string{"ls"}, "did you mean `jit list`?"},
		{[]string{"--output", "yaml", "list"}, "--output must be text or json"},
		{[]string{"list", "-o", "yaml"}, "--output must be text or json"},
		{[]string{"request"}, "missing <resource>"},
		{[]string{"request", "sandbox-admin", "--reason", "fix", "the", "deploy"}, `one resource at a time; got "sandbox-admin" "the" "deploy"`},
		{[]string{"request", "sandbox-admin"}, "--reason is required"},
		{[]string{"request", "sandbox-admin", "--reason", "   "}, "--reason is required"},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--duration", "soon"}, `--duration "soon" is not a duration`},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--duration", "1.5s"}, "whole number of seconds"},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--timeout", "5m"}, "--timeout only applies with --wait"},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--wait", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--idempotency-key", "has space"}, `--idempotency-key "has space" must be 1 to 128`},
		{[]string{"request", "sandbox-admin", "--reason", "r", "-q", "-o", "json"}, "--quiet and --output json"},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"status"}, "missing <request-id>"},
		{[]string{"status", "INC-1"}, `"INC-1" is not a request id`},
		{[]string{"status", testID, testID}, "one request id at a time"},
		{[]string{"wait", testID, "--timeout", "-1s"}, "--timeout must be positive"},
		{[]string{"list", "extra"}, "takes no arguments"},
		{[]string{"list", "--status", "done"}, `--status "done" is not a status`},
		{[]string{"list", "--limit", "0"}, "--limit must be at least 1"},
		{[]string{"creds", testID, "--format", "yaml"}, "--format must be env, json or credential-process"},
		{[]string{"creds", testID, "--format", "env", "-o", "json"}, "--output json and --format env disagree"},
		{[]string{"creds", testID, "--duration-seconds", "60"}, "--duration-seconds must be from 900 to 43200"},
		{[]string{"exec", testID}, "missing the command: jit exec " + testID + " -- aws sts get-caller-identity"},
		{[]string{"exec", testID, "aws", "s3", "ls"}, "put the command after --"},
		{[]string{"extend", testID}, "--by is required"},
		{[]string{"extend", testID, "--by", "soon"}, `--by "soon" is not a duration`},
		{[]string{"revoke"}, "missing <request-id>"},
		{[]string{"revoke", testID, "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"policy"}, "missing what to do"},
		{[]string{"policy", "validate"}, "validate needs -f FILE"},
		{[]string{"policy", "apply"}, "apply needs -f FILE"},
		{[]string{"policy", "frob"}, `no policy action "frob"`},
		{[]string{"policy", "get", "--if-version", "3"}, "--if-version only applies to jit policy apply"},
		{[]string{"policy", "validate", "-f", "p.yaml", "--version", "2"}, "--version only applies to jit policy get"},
		{[]string{"policy", "apply", "-f", "p.yaml", "--local"}, "--local only applies to jit policy validate"},
		{[]string{"policy", "apply", "-f", "p.yaml", "--if-version", "-2"}, "--if-version must be 0 or more"},
		{[]string{"policy", "get", "--version", "0"}, "--version must be 1 or more"},
		{[]string{"cancel"}, "missing <request-id>"},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--start-at", "soon"}, `--start-at "soon" is neither a time`},
		{[]string{"request", "sandbox-admin", "--reason", "r", "--start-at", "-5m"}, `--start-at "-5m" is neither a time`},
		{[]string{"audit"}, "missing what to do: search, export or open"},
		{[]string{"audit", "frob"}, `no audit action "frob"`},
		{[]string{"audit", "search", "export"}, "one action at a time"},
		{[]string{"audit", "search", "--format", "csv"}, "--format only applies to jit audit export"},
		{[]string{"audit", "export", "--all"}, "--all only applies to jit audit search"},
		{[]string{"audit", "open", "--resource", "sandbox-admin"}, "--resource only applies to jit audit search and export"},
		{[]string{"audit", "search", "--print"}, "--print only applies to jit audit open"},
		{[]string{"audit", "search", "--since", "soon"}, `--since "soon" is not a duration like 90m, 24h, 7d or 2w`},
		{[]string{"audit", "search", "--since", "1d", "--from", "2026-01-01"}, "--since and --from both say where the period starts"},
		{[]string{"audit", "search", "--since", "1d", "--to", "2026-01-01"}, "--since counts back from now; use --from with --to"},
		{[]string{"audit", "search", "--from", "yesterday"}, `--from "yesterday" is neither a time like 2026-11-28T09:00:00Z nor a date`},
		{[]string{"audit", "search", "--from", "2026-01-02", "--to", "2025-12-31"}, "--from 2026-01-02T00:00:00Z is after --to 2026-01-01T00:00:00Z"},
		{[]string{"audit", "search", "--status", "denied,expired"}, `--status takes one status, not "denied,expired"`},
		{[]string{"audit", "search", "--limit", "0"}, "--limit must be at least 1"},
		{[]string{"audit", "search", "--status", "done"}, `--status "done" is not a status`},
		{[]string{"audit", "export", "--format", "xml"}, "--format must be csv, json or jsonl"},
		{[]string{"audit", "export", "--format", "csv", "-o", "json"}, "--output json and --format csv disagree"},
		{[]string{"stats", "extra"}, "takes no arguments"},
		{[]string{"stats", "--since", "2 days"}, `--since "2 days" is not a duration`},
		{[]string{"stats", "--since", "1d", "--to", "2026-01-01"}, "--since counts back from now"},
		{[]string{"help", "nope"}, `no command "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			h := newHarness(t)
			got := h.run(tt.args...)
			if got.code != exitUsage || !strings.Contains(got.stderr, tt.want) {
				t.Fatalf("want exit 2 and %q on stderr\n%s", tt.want, got)
			}
			if n := h.api.callCount(); n != 0 {
				t.Fatalf("a usage error called the API %d times", n)
			}
		})
	}
}

func TestUsageErrorAsJSON(t *testing.T) {
	h := newHarness(t)
	got := h.run("audit", "search", "--since", "soon", "-o", "json")
	if got.code != exitUsage {
		t.Fatal(got)
	}
	golden(t, "audit_error.json", got.stdout)
}

func TestExitCodeFor(t *testing.T) {
	for status, want := range map[string]int{
		"active": 0, "denied": 3, "timed_out": 4, "cancelled": 5, "failed": 6, "revoked": 6, "expired": 6,
		"pending": 1, "approved": 1, "scheduled": 1,
	} {
		if got := exitCodeFor(status); got != want {
			t.Errorf("exitCodeFor(%s) = %d, want %d", status, got, want)
		}
	}
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	top := h.run("--help")
	if top.code != 0 {
		t.Fatal(top)
	}
	golden(t, "help.txt", top.stdout)
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "--help"}, {"help", c.name}, {c.name, "-h"}} {
			got := h.run(args...)
			if got.code != 0 || !strings.HasPrefix(got.stdout, "Usage: jit "+c.name) {
				t.Errorf("%v: %s", args, got)
			}
			_, examples, _ := strings.Cut(got.stdout, "\nExamples:\n")
			if c.name != "version" && !strings.Contains(examples, "jit "+c.name+" ") {
				t.Errorf("%v: no examples\n%s", args, got.stdout)
			}
		}
		if !strings.Contains(top.stdout, "  "+c.name) {
			t.Errorf("jit --help does not list %s", c.name)
		}
	}
	golden(t, "help_request.txt", h.run("request", "--help").stdout)
	for _, code := range []string{"0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 "} {
		if !strings.Contains(top.stdout, "\n  "+code) {
			t.Errorf("jit --help does not document exit code %s", code)
		}
	}
}
