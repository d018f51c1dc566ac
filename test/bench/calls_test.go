package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jitaccess/jit/shared/local/cloud"
)

// roleEdits, while set, see every trust policy written through the edge
// (each keeps to its own role).
var roleEdits atomic.Pointer[[]*trustWatch]

// callLog records the AWS calls that reach the local edge (cloud.Options.Observe).
type callLog struct {
	mu    sync.Mutex
	calls []cloud.Call
	last  time.Time
}

func (l *callLog) add(c cloud.Call) {
	mails.observe(c)
	invokes.observe(c)
	if ws := roleEdits.Load(); ws != nil {
		for _, w := range *ws {
			w.fromEdge(c)
		}
	}
	c.Body = nil // keep the log small
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
	l.last = time.Now()
}

// mark is a position in the log.
func (l *callLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

// since returns the calls recorded after mark.
func (l *callLog) since(mark int) []cloud.Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls[mark:])
}

// waitQuiet waits until no call has reached the edge for quiet (or ctx
// ends), so the calls a step caused can be told from the next step's.
func (l *callLog) waitQuiet(ctx context.Context, quiet time.Duration) {
	for ctx.Err() == nil {
		l.mu.Lock()
		idle := time.Since(l.last)
		l.mu.Unlock()
		if idle >= quiet {
			return
		}
		time.Sleep(quiet - idle)
	}
}

// opKey names an operation as the results list it: "dynamodb GetItem",
// "lambda Invoke NotifyFunction".
func opKey(c cloud.Call) string {
	k := c.Service + " " + c.Operation
	if c.Resource != "" {
		k += " " + c.Resource
	}
	return k
}

// OpCount is how often one operation was called and the time the edge
// spent on it (moto's time plus the proxy; for Invoke, the function's).
type OpCount struct {
	Op      string  `json:"op"`
	Count   int     `json:"count"`
	TotalMS float64 `json:"total_ms"`
}

// countOps groups calls by operation, ordered by service then by count.
func countOps(calls []cloud.Call) []OpCount {
	idx := map[string]int{}
	var out []OpCount
	for _, c := range calls {
		k := opKey(c)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, OpCount{Op: k})
		}
		out[i].Count++
		out[i].TotalMS += float64(c.Duration) / float64(time.Millisecond)
	}
	for i := range out {
		out[i].TotalMS = round3(out[i].TotalMS)
	}
	slices.SortStableFunc(out, func(a, b OpCount) int {
		sa, sb := strings.Fields(a.Op)[0], strings.Fields(b.Op)[0]
		if sa != sb {
			return strings.Compare(sa, sb)
		}
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Op, b.Op)
	})
	return out
}

// byService totals calls per service.
func byService(calls []cloud.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[c.Service]++
	}
	return out
}

// sequence renders calls in order as "service Operation" lines with their
// edge time, for the call log of one lifecycle.
func sequence(calls []cloud.Call) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, fmt.Sprintf("%s (%.1f ms)", opKey(c), float64(c.Duration)/float64(time.Millisecond)))
	}
	return out
}

// edgeTime sums the edge time of calls that are not Lambda invokes (a
// proxied call's edge time is the emulator's; an invoke's is a function's).
func edgeTime(calls []cloud.Call) time.Duration {
	var d time.Duration
	for _, c := range calls {
		if c.Operation != "Invoke" {
			d += c.Duration
		}
	}
	return d
}

// OpStat is the edge latency of one operation over many calls.
type OpStat struct {
	Op    string  `json:"op"`
	Count int     `json:"count"`
	Edge  Summary `json:"edge_ms"`
}

// opStats summarizes edge latency per operation, most frequent first.
func opStats(calls []cloud.Call) []OpStat {
	by := map[string][]time.Duration{}
	for _, c := range calls {
		k := opKey(c)
		by[k] = append(by[k], c.Duration)
	}
	out := make([]OpStat, 0, len(by))
	for k, ds := range by {
		out = append(out, OpStat{Op: k, Count: len(ds), Edge: summarize(ms(ds), "ms")})
	}
	slices.SortFunc(out, func(a, b OpStat) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Op, b.Op)
	})
	return out
}

// invokes notes when each function first finished an invocation for a
// request (the payload's request_id), as seen at the edge.
var invokes = &invokeWatch{done: map[string]time.Time{}, waiters: map[string]chan struct{}{}}

type invokeWatch struct {
	mu      sync.Mutex
	done    map[string]time.Time // function + " " + request id
	waiters map[string]chan struct{}
}

func (w *invokeWatch) observe(c cloud.Call) {
	if c.Operation != "Invoke" || c.Body == nil || c.Status != 200 {
		return
	}
	var p struct {
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(c.Body, &p) != nil || p.RequestID == "" {
		return
	}
	k := c.Resource + " " + p.RequestID
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.done[k]; ok {
		return
	}
	w.done[k] = c.Start.Add(c.Duration)
	if ch, ok := w.waiters[k]; ok {
		close(ch)
		delete(w.waiters, k)
	}
}

// wait waits up to limit for function's first invocation for id to end.
func (w *invokeWatch) wait(ctx context.Context, function, id string, limit time.Duration) bool {
	k := function + " " + id
	w.mu.Lock()
	if _, ok := w.done[k]; ok {
		w.mu.Unlock()
		return true
	}
	ch, ok := w.waiters[k]
	if !ok {
		ch = make(chan struct{})
		w.waiters[k] = ch
	}
	w.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}
