// Command gentrail writes a large synthetic audit trail into the access
// table of a local cloud (`make dev`), for measuring audit search, stats
// and the compliance export at scale:
//
//	go run ./cmd/gentrail -table <name make dev printed> -requests 11000   # about 100,000 events
//
// The requests and events have the functions' own vocabulary (see
// shared/local/trail) and are written in bulk with store.Seed, which has
// no conditions: never point it at a table in use.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/trail"
	"github.com/jitaccess/jit/shared/store"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "the local cloud's AWS endpoint (its edge)")
	table := flag.String("table", "", "the access table (make dev prints its name)")
	requests := flag.Int("requests", 11000, "requests to write; each writes about 9 events")
	days := flag.Int("days", 90, "days, ending now, the requests are created over")
	seed := flag.Uint64("seed", 1, "makes the same trail again")
	flag.Parse()
	if err := run(*endpoint, *table, *requests, *days, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gentrail:", err)
		os.Exit(1)
	}
}

func run(endpoint, table string, requests, days int, seed uint64) error {
	if table == "" {
		return fmt.Errorf("-table is required (make dev prints the table's name)")
	}
	if requests <= 0 || days <= 0 {
		return fmt.Errorf("-requests and -days must be positive")
	}
	now := time.Now().UTC()
	t := trail.Make(trail.Config{Requests: requests, Days: days, Start: now.Add(-time.Duration(days) * 24 * time.Hour), Seed: seed})
	db := dynamodb.NewFromConfig(provision.EmulatorConfig(endpoint, "us-east-1"))
	start := time.Now()
	if err := store.Seed(context.Background(), db, table, t.Requests, t.Events); err != nil {
		return err
	}
	fmt.Printf("wrote %d requests and %d events to %s in %s\n", len(t.Requests), len(t.Events), table, time.Since(start).Round(time.Millisecond))
	return nil
}
