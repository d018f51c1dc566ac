package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchGateway drives the requester API through the local HTTP gateway
// (SigV4 check, API Gateway v2 event, the api function process, its AWS
// calls through the edge) with 1, 8 and 32 concurrent clients.
func benchGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	jan := newJanitor(ctx)
	defer jan.close()
	// Requests the get and list steps read: one to get (with its history),
	// and a full page of alice's to list. Cleaning between steps keeps
	// them.
	var id string
	for i := range 21 {
		rid, err := create(ctx, "alice", "sandbox-admin", "10m")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			id = rid
			keep(rid, keepAll)
		} else {
			keep(rid, keepRequest)
		}
	}
	ops := []struct {
		name string
		do   func(ctx context.Context, i int) (int, []byte, error)
		want int
	}{
		{"create", func(ctx context.Context, i int) (int, []byte, error) {
			code, body, err := apiCall(ctx, []string{"alice", "bob"}[i%2], "POST", "/v1/requests",
				map[string]string{"resource": "sandbox-admin", "duration": "10m", "reason": "gateway benchmark"})
			if code == http.StatusCreated {
				// Once its approval email is out, nothing touches the request
				// again: delete it so moto's table stays small.
				var v requestView
				if json.Unmarshal(body, &v) == nil {
					go func() {
						if m, ok := mails.wait(ctx, v.ID, 30*time.Second); ok {
							jan.discard(v.ID, m.Link)
						}
					}()
				}
			}
			return code, body, err
		}, http.StatusCreated},
		{"get", func(ctx context.Context, i int) (int, []byte, error) {
			return apiCall(ctx, "alice", "GET", "/v1/requests/"+id, nil)
		}, http.StatusOK},
		{"list", func(ctx context.Context, i int) (int, []byte, error) {
			return apiCall(ctx, "alice", "GET", "/v1/requests?limit=20", nil)
		}, http.StatusOK},
	}
	for _, clients := range []int{1, 8, 32} {
		for _, op := range ops {
			// Let the previous step's background work (a create's workflow
			// and approval email) finish first, and start from a small table.
			edgeCalls.waitQuiet(ctx, 500*time.Millisecond)
			_, kept, err := cleanTable(ctx, isKeeper)
			if err != nil {
				t.Fatal(err)
			}
			mark := edgeCalls.mark()
			r := runLoad(ctx, *perLevel, clients, op.do, op.want)
			r.Op = op.name
			r.TableItems = kept
			if op.name == "create" {
				// Count the background work a create causes as well.
				edgeCalls.waitQuiet(ctx, 500*time.Millisecond)
			}
			calls := edgeCalls.since(mark)
			r.EdgeCalls = round3(float64(len(calls)) / float64(r.Requests))
			r.EmulatorMS = round3(msOf(edgeTime(calls)) / float64(r.Requests))
			r.ByOperation = opStats(calls)
			res.mu.Lock()
			res.Gateway = append(res.Gateway, r)
			res.mu.Unlock()
			logf("gateway %-6s %2d clients: %6.1f req/s, median %.1f ms, p99 %.1f ms, %d errors",
				op.name, clients, r.Throughput, r.Latency.Median, r.Latency.P99, r.Errors)
			if r.Errors > 0 {
				t.Logf("%s with %d clients: %d of %d requests failed; first: %s", op.name, clients, r.Errors, r.Requests, r.FirstError)
			}
		}
	}
}

// runLoad sends n requests from clients goroutines, each timing its own
// requests, and returns the latency distribution and throughput.
func runLoad(ctx context.Context, n, clients int, do func(context.Context, int) (int, []byte, error), want int) *GatewayResult {
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var next atomic.Int64
	var firstErr sync.Once
	var errText string
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				code, body, err := do(ctx, i)
				lat[i] = time.Since(t0)
				ok[i] = err == nil && code == want
				if !ok[i] {
					firstErr.Do(func() { errText = fmt.Sprintf("%d %v %.300s", code, err, body) })
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	r := &GatewayResult{Clients: clients, Requests: n, WallSeconds: round3(wall.Seconds()), FirstError: errText}
	// Latency is over every response, errors included (an overloaded
	// gateway answers 5xx after its integration timeout, which belongs in
	// the tail); throughput counts successes only.
	for i := range n {
		if !ok[i] {
			r.Errors++
		}
	}
	r.Latency = summarize(ms(lat), "ms")
	r.Throughput = round3(float64(n-r.Errors) / wall.Seconds())
	return r
}
