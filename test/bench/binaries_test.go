package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/runner"
	"github.com/jitaccess/jit/shared/local/template"
)

// coldProbe is the event of the cold-start figure: a JSON string, which
// no function's handler accepts, so aws-lambda-go answers it with an
// unmarshal error without running the handler. "First response" is thus
// process start → runtime ready → one event round trip, with no AWS call
// and no handler work in it.
var coldProbe = []byte(`"cold-start-probe"`)

// benchBinaries records each function's binary sizes and measures its cold
// start by starting fresh processes on a fresh local runner.
func benchBinaries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	edgeCalls.waitQuiet(ctx, 500*time.Millisecond)
	fns, err := templateFunctions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		dir := cloud.Dir(fn.Name)
		fr := &FunctionResult{Name: fn.Name, HostTarget: bins.hostArch, FirstEvent: string(coldProbe)}
		if st, err := os.Stat(filepath.Join(bins.arm64Dir, dir, "bootstrap")); err == nil {
			fr.Arm64Bytes = st.Size()
		}
		if st, err := os.Stat(fn.Binary); err == nil {
			fr.HostBytes = st.Size()
		}
		var ready, first, warm []time.Duration
		for range *coldRuns {
			r := runner.New([]runner.Function{fn}, runner.Options{Region: cloud.Region, AccountID: cloud.AccountID})
			t0 := time.Now()
			inv, err := r.Invoke(ctx, fn.Name, coldProbe)
			d := time.Since(t0)
			if err != nil {
				r.Close()
				t.Fatalf("%s: cold invoke: %v", fn.Name, err)
			}
			if inv.FunctionError == "" {
				t.Logf("%s: the probe event did not fail as expected: %s", fn.Name, inv.Payload)
			}
			first = append(first, d)
			ready = append(ready, r.Stats()[fn.Name].LastColdStart)
			t1 := time.Now()
			if _, err := r.Invoke(ctx, fn.Name, coldProbe); err == nil {
				warm = append(warm, time.Since(t1))
			}
			if err := r.Close(); err != nil {
				t.Logf("%s: close runner: %v", fn.Name, err)
			}
		}
		fr.ColdStartReady = summarize(ms(ready), "ms")
		fr.ColdStartFirst = summarize(ms(first), "ms")
		fr.WarmInvoke = summarize(ms(warm), "ms")
		res.mu.Lock()
		res.Functions = append(res.Functions, fr)
		res.mu.Unlock()
		logf("%-18s arm64 %5.2f MB, %s %5.2f MB, cold start median %.1f ms to ready, %.1f ms to first response",
			fn.Name, float64(fr.Arm64Bytes)/1e6, bins.hostArch, float64(fr.HostBytes)/1e6, fr.ColdStartReady.Median, fr.ColdStartFirst.Median)
	}
}

// templateFunctions describes every template function as the local cloud
// runs it (same binary, same resolved environment, SDK pointed at the edge).
func templateFunctions() ([]runner.Function, error) {
	tmpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for _, p := range []string{"AdminPrincipals", "AuditorPrincipals"} {
		if _, ok := tmpl.Parameters[p]; ok {
			params[p] = principalsOf(p)
		}
	}
	res, err := tmpl.Resolver(cloud.Region, cloud.AccountID, params)
	if err != nil {
		return nil, err
	}
	var out []runner.Function
	for _, f := range tmpl.Functions {
		env := map[string]string{"AWS_ENDPOINT_URL": lc.EdgeURL, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
		for k, v := range f.Environment {
			s, err := res.String(v)
			if err != nil {
				return nil, fmt.Errorf("function %s: environment %s: %w", f.LogicalID, k, err)
			}
			env[k] = s
		}
		bin := filepath.Join(bins.hostDir, cloud.Dir(f.LogicalID), "bootstrap")
		out = append(out, runner.Function{Name: f.LogicalID, Binary: bin, Env: env, Timeout: f.Timeout, MemoryMB: f.MemoryMB, Concurrency: 1})
	}
	slices.SortFunc(out, func(a, b runner.Function) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// principalsOf lists the local identities of the kind a template
// parameter names (AdminPrincipals → admin), as the local cloud does.
func principalsOf(param string) string {
	kind := strings.ToLower(strings.TrimSuffix(param, "Principals"))
	var out []string
	for _, id := range lc.Identities {
		if id.Kind == kind {
			out = append(out, id.PrincipalARN)
		}
	}
	return strings.Join(out, ",")
}
