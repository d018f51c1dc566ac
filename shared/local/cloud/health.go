package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// pingTimeout bounds Health's question to the emulator: a local moto that
// takes longer is reported as not answering rather than waited for.
const pingTimeout = 2 * time.Second

// Health is what GET /_local/health answers on the edge and on the HTTP
// API port: 200 when the local cloud can serve, 503 when it cannot.
type Health struct {
	OK bool `json:"ok"`
	// Emulator is "running", "exited (signal: killed)" or "not answering:
	// <why>"; EmulatorURL is where moto listens.
	Emulator    string `json:"emulator"`
	EmulatorURL string `json:"emulator_url"`
	// Problem says what is wrong and what to do about it; empty when OK.
	Problem   string           `json:"problem,omitempty"`
	Functions []FunctionHealth `json:"functions"`
}

// FunctionHealth is what the runner saw of one function since start.
type FunctionHealth struct {
	Name            string `json:"name"`
	Processes       int    `json:"processes"`
	Invocations     int    `json:"invocations"`
	Errors          int    `json:"errors"`
	Timeouts        int    `json:"timeouts"`
	Crashes         int    `json:"crashes"`
	InjectedCrashes int    `json:"injected_crashes"`
}

// Health checks the emulator (its process, then whether it answers) and
// reports the functions' counters.
func (c *Cloud) Health(ctx context.Context) Health {
	h := Health{OK: true, Emulator: "running", EmulatorURL: c.MotoURL}
	if msg := c.emulatorGone(); msg != "" {
		h.OK, h.Emulator, h.Problem = false, "exited ("+c.Moto.ExitState()+")", msg
	} else {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		if err := c.Moto.Ping(ctx); err != nil {
			h.OK, h.Emulator = false, "not answering: "+err.Error()
			h.Problem = fmt.Sprintf("the AWS emulator (moto, pid %d) at %s does not answer within %s; AWS calls may hang or fail until it does", c.Moto.PID(), c.MotoURL, pingTimeout)
		}
	}
	for name, st := range c.Runner.Stats() {
		h.Functions = append(h.Functions, FunctionHealth{
			Name: name, Processes: st.Processes, Invocations: st.Invocations, Errors: st.Errors,
			Timeouts: st.Timeouts, Crashes: st.Crashes, InjectedCrashes: st.InjectedCrashes,
		})
	}
	sort.Slice(h.Functions, func(i, j int) bool { return h.Functions[i].Name < h.Functions[j].Name })
	return h
}

func (c *Cloud) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeMessage(w, http.StatusMethodNotAllowed, "GET the local cloud's health")
		return
	}
	h := c.Health(r.Context())
	status := http.StatusOK
	if !h.OK {
		status = http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(h) // strings and ints always marshal
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// emulatorGone returns, once moto has exited, a sentence saying so (else
// ""). Nothing restarts it: the resources it held are gone with it.
func (c *Cloud) emulatorGone() string {
	select {
	case <-c.Moto.Done():
		return fmt.Sprintf("the AWS emulator (moto, pid %d, %s) exited (%s): no AWS call of the local cloud can succeed; restart the local cloud (make dev)",
			c.Moto.PID(), c.MotoURL, c.Moto.ExitState())
	default:
		return ""
	}
}

// requireEmulator answers every request with 503 and what happened once
// moto has exited, instead of letting it run into the dead emulator
// through a function (whose SDK would retry, then fail with a bare 500).
// skip lets some requests through anyway (Lambda invokes on the edge: the
// runner is alive, and the function reports its own errors).
func (c *Cloud) requireEmulator(next http.Handler, skip func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if msg := c.emulatorGone(); msg != "" && (skip == nil || !skip(r)) {
			w.Header().Set("X-Amzn-ErrorType", "EmulatorExited")
			writeMessage(w, http.StatusServiceUnavailable, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// watchEmulator logs once, clearly, if moto exits while the cloud runs.
func (c *Cloud) watchEmulator(ctx context.Context) {
	select {
	case <-c.Moto.Done():
		if ctx.Err() == nil {
			c.log.Error(c.emulatorGone())
		}
	case <-ctx.Done():
	}
}
