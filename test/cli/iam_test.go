package cli

import (
	"strings"
	"testing"
	"time"
)

// propagation is the IAM propagation delay of the local cloud the CLI
// tests run on: a trust statement takes this long to be honoured by STS.
const propagation = 10 * time.Second

// TestCIExampleSurvivesPropagation runs the README's CI example as the CI
// identity: request --wait, then exec right away, while IAM has not yet
// applied the grant. jit must retry AssumeRole, say so, and hand the
// command working credentials.
func TestCIExampleSurvivesPropagation(t *testing.T) {
	t.Parallel()
	if lc.IAM == nil || lc.IAM.Propagation() != propagation {
		t.Fatalf("the local cloud must enforce IAM with a %s propagation delay", propagation)
	}
	ci := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": unique(t, "run"), "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "deploy"}
	ci["GITHUB_RUN_ID"] = strings.ReplaceAll(ci["GITHUB_RUN_ID"], " ", "-")
	reason := unique(t, "deploy from CI")
	p := start(t, "ci-bot", ci, "request", "sandbox-admin", "--duration", "2m", "--reason", reason, "--wait", "--timeout", "1m", "--quiet")
	decide(t, reason, "approve")
	res := p.wait(t)
	id := strings.TrimSpace(res.stdout)
	if res.code != 0 || !idPattern.MatchString(id) {
		t.Fatalf("request --wait --quiet: %s", res)
	}

	began := time.Now()
	res = jit(t, "ci-bot", ci, "exec", id, "--", "sh", "-c", `printf '%s\n%s\n%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"`)
	if res.code != 0 {
		t.Fatalf("exec right after the grant: %s", res)
	}
	mustContain(t, res, "stderr", "IAM may still be applying it: retrying")
	t.Logf("exec got credentials %s after request --wait returned", time.Since(began).Round(100*time.Millisecond))
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ASIA") {
		t.Fatalf("exec's environment: %q", res.stdout)
	}
	arn := callerIdentity(t, map[string]string{"AWS_ACCESS_KEY_ID": lines[0], "AWS_SECRET_ACCESS_KEY": lines[1], "AWS_SESSION_TOKEN": lines[2]})
	if want := "assumed-role/jit-sandbox-admin/ci-deploy"; !strings.Contains(arn, want) {
		t.Fatalf("caller identity with exec's credentials = %s, want %s", arn, want)
	}
	jit(t, "ci-bot", nil, "revoke", id)
}
