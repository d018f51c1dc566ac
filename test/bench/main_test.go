// Package bench measures the system on the local cloud: lifecycle latencies
// (request → email, approve → grant, expiry → removal), API handler and
// gateway latency, AWS calls per request, audit search, export and
// freshness, and the functions' binary sizes and cold starts. `make bench`
// runs it and writes bench/results.json and bench/RESULTS.md; `go test
// ./...` only runs the unit tests here (the local cloud is started only
// with -bench or -out).
package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/local/cloud"
)

var (
	outDir     = flag.String("out", "", "directory to write results.json and RESULTS.md into (relative to test/bench); empty writes nothing")
	lifecycles = flag.Int("lifecycles", 206, "approve→grant→expire lifecycles to measure")
	revokes    = flag.Int("revokes", 206, "approve→grant→revoke lifecycles to measure (when the API has the revoke route)")
	inflight   = flag.Int("inflight", 8, "lifecycles in flight at once")
	perRole    = flag.Int("per-role", 5, "most grants of the lifecycle benchmark active at once on one role (the trust policy quota allows about 6)")
	grantFor   = flag.String("duration", "5s", "requested access duration in lifecycles (the e2e policy's minimum is 5s)")
	perLevel   = flag.Int("requests", 204, "requests per operation and concurrency level through the HTTP gateway")
	coldRuns   = flag.Int("coldstarts", 20, "fresh processes per function for the cold-start figure")
	verbose    = flag.Bool("verbose", false, "show the local cloud's, functions' and moto's output")
	render     = flag.String("render", "", "only rewrite RESULTS.md next to this results.json (no measurements)")
	steps      = flag.String("steps", "", "comma-separated TestBench steps to run (e.g. audit); empty runs them all")
	budget     = flag.Duration("budget", 13*time.Minute, "time the whole run should take at most (go test's -timeout in the Makefile is 14m); the audit searches stop early rather than exceed it")
)

var (
	// lc is the local cloud, started by TestMain in benchmark mode.
	lc *cloud.Cloud
	// edgeCalls records every AWS call that reaches the edge.
	edgeCalls = &callLog{}
	// mails records approval emails as SES calls pass the edge.
	mails = newMailWatch()
	// bins are the functions built as for AWS and for this machine.
	bins *binaries
	// res collects every figure; TestMain writes it at the end.
	res = newResults()
	// root is the repository root.
	root string
	// runStart is when the run began (for -budget).
	runStart = time.Now()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func benchMode() bool {
	if *outDir != "" {
		return true
	}
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

func run(m *testing.M) int {
	flag.Parse()
	if *render != "" {
		if err := rerender(*render); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	if !benchMode() {
		return m.Run() // unit tests only (go test ./...)
	}
	started := time.Now()
	runStart = started
	var err error
	root, err = filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "jit-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	step := time.Now()
	if bins, err = buildAll(ctx, root, tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logf("built %d functions for linux/arm64 and %s in %s", len(bins.names), bins.hostArch, time.Since(step).Round(time.Millisecond))

	var out io.Writer = io.Discard
	if *verbose {
		out = os.Stderr
	}
	step = time.Now()
	lc, err = cloud.Start(ctx, cloud.Options{
		Root: root, BuildDir: bins.hostDir,
		Policy:  filepath.Join(root, "test/e2e/testdata/policies.yaml"),
		Output:  out,
		Logger:  slog.New(slog.NewTextHandler(out, nil)),
		Observe: edgeCalls.add,
		// The inbox's background read of moto's whole state would compete
		// with everything measured; the benchmarks watch SES calls instead.
		InboxPoll: -1,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start local cloud: %v\n(run `make venv` if moto is missing)\n", err)
		return 1
	}
	res.Setup.CloudStartMS = msOf(time.Since(step))
	// Ctrl-C (or a timeout's signal) still stops moto and the functions.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted, stopping the local cloud")
		lc.Close()
		os.Exit(2)
	}()
	logf("local cloud up in %s", time.Since(step).Round(time.Millisecond))

	code := m.Run()
	if err := lc.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stop local cloud:", err)
	}
	res.Setup.TotalSeconds = round3(time.Since(started).Seconds())
	if *outDir != "" {
		// A failed run leaves the last good results alone and writes what it
		// has next to them (bench/*.tmp is ignored by git).
		suffix := ""
		if code != 0 {
			suffix = ".failed.tmp"
		}
		// A fresh context: the startup one may have run out by now.
		wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
		defer wcancel()
		if err := res.write(wctx, root, *outDir, suffix); err != nil {
			fmt.Fprintln(os.Stderr, "write results:", err)
			return 1
		}
		logf("wrote %s and %s", filepath.Join(*outDir, "results.json"+suffix), filepath.Join(*outDir, "RESULTS.md"+suffix))
	}
	return code
}

// logf prints progress to stderr, which go test shows as it happens.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// needCloud skips a test when the local cloud is not running (plain
// `go test ./...`).
func needCloud(t testing.TB) {
	t.Helper()
	if lc == nil {
		t.Skip("benchmarks run with `make bench` (or go test -bench . ./test/bench/)")
	}
}

// TestBench runs the system-level measurements in a fixed order: the
// single-request call counts first, on a quiet system, then the lifecycle
// latencies, the gateway load, the audit search, and the cold starts last.
func TestBench(t *testing.T) {
	needCloud(t)
	for _, s := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"calls", benchCalls},
		{"lifecycle", benchLifecycle},
		{"revoke", benchRevoke},
		{"iam-race", benchIAMRace},
		{"gateway", benchGateway},
		{"audit", benchAudit},
		{"binaries", benchBinaries},
	} {
		if *steps != "" && !slices.Contains(strings.Split(*steps, ","), s.name) {
			continue
		}
		before, after, err := cleanTable(context.Background(), isKeeper)
		if err != nil {
			t.Fatalf("clean table before %s: %v", s.name, err)
		}
		size := TableSize{Before: s.name, Items: before, Kept: after}
		step := time.Now()
		sizes := watchTable(context.Background(), 5*time.Second)
		ok := t.Run(s.name, s.fn)
		seen := sizes()
		size.Seconds = round3(time.Since(step).Seconds())
		if len(seen) > 0 {
			size.During = summarize(seen, "items")
		}
		res.mu.Lock()
		res.Tables = append(res.Tables, size)
		res.mu.Unlock()
		if !ok {
			t.Fatalf("%s failed; later steps skipped", s.name)
		}
		logf("%s done in %s (table: %.0f items median, %.0f at most)", s.name, time.Since(step).Round(time.Millisecond), size.During.Median, size.During.Max)
	}
}
