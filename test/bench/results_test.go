package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jit/shared/local/moto"
	"github.com/jitaccess/jit/shared/local/runner"
)

type runnerStats = runner.FunctionStats

// Results is everything one run measured; results.json is this, and
// RESULTS.md is rendered from it.
type Results struct {
	mu sync.Mutex

	Machine   Machine           `json:"machine"`
	Setup     Setup             `json:"setup"`
	Lifecycle *LifecycleResults `json:"lifecycle,omitempty"`
	// RevokeLifecycle is revoke POST → access removed, once the API has
	// the route; Revoke says why it is missing otherwise.
	RevokeLifecycle *LifecycleResults         `json:"revoke_lifecycle,omitempty"`
	Revoke          string                    `json:"early_revoke,omitempty"`
	Handler         map[string]*HandlerResult `json:"api_handler_in_process,omitempty"`
	Gateway         []*GatewayResult          `json:"api_gateway,omitempty"`
	Calls           *CallResults              `json:"aws_calls,omitempty"`
	IAMRace         *RaceResult               `json:"iam_concurrent_grants,omitempty"`
	Functions       []*FunctionResult         `json:"functions,omitempty"`
	Audit           *AuditResults             `json:"audit,omitempty"`
	// AuditPending says why figure 7 is missing (the key results.json
	// used before the figure existed).
	AuditPending string      `json:"audit_search,omitempty"`
	Tables       []TableSize `json:"table_cleanups"`
	// PolicyParse is policy.Parse of the e2e policy, which create does on
	// every call.
	PolicyParse *ParseResult `json:"policy_parse,omitempty"`
}

// ParseResult is one in-process measurement of pure CPU work.
type ParseResult struct {
	DocumentBytes int   `json:"document_bytes"`
	NsPerOp       int64 `json:"ns_per_op"`
	AllocsPerOp   int64 `json:"allocs_per_op"`
	BytesPerOp    int64 `json:"bytes_per_op"`
}

// TableSize is the table before a step, what cleaning left of it, and
// its size while the step ran (counted every few seconds).
type TableSize struct {
	Before  string  `json:"before_step"`
	Items   int     `json:"items"`
	Kept    int     `json:"kept"`
	During  Summary `json:"items_during_step"`
	Seconds float64 `json:"step_seconds"`
}

// audit is figure 7 so far (nil before the audit step).
func (r *Results) audit() *AuditResults {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Audit
}

func newResults() *Results {
	return &Results{
		Handler:      map[string]*HandlerResult{},
		Revoke:       "pending: the API has no revoke endpoint yet; expiry → access removed is measured instead",
		AuditPending: "pending (issue: audit)",
	}
}

// Machine describes where the run happened.
type Machine struct {
	Date        string `json:"date"`
	GitCommit   string `json:"git_commit"`
	GitDirty    bool   `json:"git_dirty"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	CPUs        int    `json:"nproc"`
	CPUModel    string `json:"cpu_model,omitempty"`
	MemoryMB    int    `json:"memory_mb"`
	GoVersion   string `json:"go_version"`
	MotoVersion string `json:"moto_version"`
}

// Setup is how the run was configured and how long its parts took.
type Setup struct {
	BuildSeconds float64 `json:"build_seconds"`
	CloudStartMS float64 `json:"cloud_start_ms"`
	TotalSeconds float64 `json:"total_seconds"`
	Policy       string  `json:"policy"`
}

// LifecycleResults are figures 1-3.
type LifecycleResults struct {
	Mode        string   `json:"mode"`
	Lifecycles  int      `json:"lifecycles"`
	Inflight    int      `json:"inflight"`
	PerRole     int      `json:"max_active_grants_per_role"`
	Resources   []string `json:"resources"`
	Duration    string   `json:"requested_duration"`
	PollEveryMS float64  `json:"poll_every_ms"`

	CreatePOST            Summary `json:"create_post_201"`
	RequestToEmail        Summary `json:"request_accepted_to_email"`
	EmailResolution       Summary `json:"request_accepted_to_email_resolution"`
	ApprovePOST           Summary `json:"approve_post_200"`
	ApproveToGrant        Summary `json:"approve_to_grant_applied"`
	GrantResolution       Summary `json:"approve_to_grant_applied_resolution"`
	ApproveToGrantPoll    Summary `json:"approve_to_grant_seen_by_getrole"`
	GrantPollResolution   Summary `json:"approve_to_grant_seen_by_getrole_resolution"`
	ExpiryToRemoved       Summary `json:"expiry_to_access_removed"`
	HoldEndToRemoved      Summary `json:"hold_end_to_access_removed"`
	ExpiryToHoldEnd       Summary `json:"expiry_to_hold_end"`
	RemovalResolution     Summary `json:"access_removed_resolution"`
	ExpiryToRemovedPoll   Summary `json:"expiry_to_removal_seen_by_getrole"`
	RemovalPollResolution Summary `json:"removal_seen_by_getrole_resolution"`
	TrustPollMS           Summary `json:"getrole_poll_duration"`
	RevokePOST            Summary `json:"revoke_post_202,omitempty"`
	RevokeToRemoved       Summary `json:"revoke_to_access_removed,omitempty"`
	RevokeToRemovedPoll   Summary `json:"revoke_to_removal_seen_by_getrole,omitempty"`

	Anomalies struct {
		Failed            int `json:"failed"`
		NoExpiry          int `json:"no_expiry_condition"`
		NotRemoved        int `json:"statement_not_removed"`
		StatementReturned int `json:"statement_reappeared"`
	} `json:"anomalies"`
	NotMeasured         []string       `json:"not_measured,omitempty"`
	FinalStatuses       map[string]int `json:"final_statuses"`
	MaxTrustPolicyChars int            `json:"max_trust_policy_chars"`
	MaxStatements       int            `json:"max_jit_statements"`

	EdgeCalls             int            `json:"edge_calls"`
	EdgeCallsPerLifecycle float64        `json:"edge_calls_per_lifecycle"`
	ByOperation           []OpStat       `json:"edge_by_operation"`
	Invocations           map[string]int `json:"invocations"`
	DrivenSeconds         float64        `json:"driven_seconds"`
	WallSeconds           float64        `json:"wall_seconds"`
}

// HandlerResult is one in-process benchmark of api.Handler.Handle.
type HandlerResult struct {
	Op          string  `json:"op"`
	Samples     int     `json:"samples"`
	Total       Summary `json:"total"`
	DynamoDB    Summary `json:"dynamodb_client"`
	Emulator    Summary `json:"emulator_at_edge"`
	SDK         Summary `json:"sdk_and_transport"`
	Ours        Summary `json:"our_code"`
	CallsPerOp  float64 `json:"dynamodb_calls_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	NsPerOp     int64   `json:"ns_per_op"`
}

// GatewayResult is one operation at one concurrency through the HTTP API.
type GatewayResult struct {
	Op          string   `json:"op"`
	Clients     int      `json:"clients"`
	Requests    int      `json:"requests"`
	Errors      int      `json:"errors"`
	Throughput  float64  `json:"requests_per_second"`
	Latency     Summary  `json:"latency"`
	EmulatorMS  float64  `json:"emulator_ms_per_request"`
	EdgeCalls   float64  `json:"edge_calls_per_request"`
	WallSeconds float64  `json:"wall_seconds"`
	ByOperation []OpStat `json:"edge_by_operation"`
	FirstError  string   `json:"first_error,omitempty"`
	TableItems  int      `json:"table_items_at_start"`
}

// CallResults are figure 5.
type CallResults struct {
	Lifecycles []*Lifecycle `json:"lifecycles"`
	Note       string       `json:"note"`
}

// Lifecycle is every AWS call one request's lifecycle made at the edge.
type Lifecycle struct {
	Kind          string         `json:"kind"`
	Duration      string         `json:"requested_duration"`
	Total         int            `json:"total_calls"`
	ByService     map[string]int `json:"by_service"`
	ByOperation   []OpCount      `json:"by_operation"`
	EmulatorMS    float64        `json:"emulator_ms"`
	Invocations   map[string]int `json:"function_invocations"`
	Transitions   int            `json:"state_transitions"`
	HistoryEvents int            `json:"history_events"`
	Steps         []Step         `json:"steps"`
}

// Step is one part of a lifecycle.
type Step struct {
	Name       string               `json:"name"`
	Calls      int                  `json:"calls"`
	EmulatorMS float64              `json:"emulator_ms"`
	ByFunction map[string][]OpCount `json:"by_function"`
	Sequence   []string             `json:"sequence"`
}

// FunctionResult is figure 6 for one function.
type FunctionResult struct {
	Name           string  `json:"name"`
	Arm64Bytes     int64   `json:"linux_arm64_bytes"`
	HostBytes      int64   `json:"host_bytes"`
	HostTarget     string  `json:"host_target"`
	ColdStartReady Summary `json:"cold_start_to_ready"`
	ColdStartFirst Summary `json:"cold_start_to_first_response"`
	WarmInvoke     Summary `json:"warm_invoke"`
	FirstEvent     string  `json:"first_event"`
}

func (r *Results) write(ctx context.Context, root, dir, suffix string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Machine = machine(ctx, root)
	r.Setup.Policy = "test/e2e/testdata/policies.yaml"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, "results.json"+suffix), append(b, '\n')); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "RESULTS.md"+suffix), []byte(r.markdown()))
}

// writeAtomic writes through a temporary file (bench/*.tmp is ignored by
// git) so an interrupted run leaves the previous results intact.
func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func machine(ctx context.Context, root string) Machine {
	m := Machine{
		Date: time.Now().UTC().Format(time.RFC3339), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
	}
	if out, err := command(ctx, root, "nproc"); err == nil {
		if n, err := strconv.Atoi(out); err == nil {
			m.CPUs = n
		}
	}
	m.GitCommit, _ = command(ctx, root, "git", "rev-parse", "HEAD")
	if out, err := command(ctx, root, "git", "status", "--porcelain", "--untracked-files=no"); err == nil {
		m.GitDirty = out != ""
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.Atoi(f[1])
				m.MemoryMB = kb / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if v, err := moto.Version(ctx, filepath.Join(root, ".venv/moto/bin")); err == nil {
		m.MotoVersion = v
	}
	return m
}

func command(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return strings.TrimSpace(out.String()), nil
}

// rerender rewrites RESULTS.md from an existing results.json.
func rerender(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r := newResults()
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeAtomic(filepath.Join(filepath.Dir(path), "RESULTS.md"), []byte(r.markdown()))
}
