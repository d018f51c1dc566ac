package store_test

// Integration tests of the store against moto's DynamoDB, over the real AWS
// API. One moto serves the whole test binary (started in TestMain); the
// template's AccessTable is provisioned once and every test isolates itself
// with its own request ids and requesters. Two tests provision a table of
// their own from the same template definition: the policy test, because
// policy items are global to a table, and the concurrency test, because
// moto copies the whole table on every transaction and that test sends a
// few hundred. Tests run one after the other: moto does not isolate
// concurrent transactions (see serialStore). Every call passes the local
// cloud's edge, so the store is held to DynamoDB's request validation
// (package ddbcheck), not only to moto's.
//
// The virtualenv is required: without it TestMain fails and says to run
// `make venv`.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/local/edge"
	"github.com/jitaccess/jit/shared/local/moto"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/template"
	"github.com/jitaccess/jit/shared/local/testenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/target"
)

const (
	region   = "us-east-1"
	account  = "123456789012"
	repoRoot = "../.."
	// tableID is the table's logical id in template.yaml.
	tableID = "AccessTable"
	// storedTime is the layout the store writes times in (keys.go).
	storedTime = "2006-01-02T15:04:05.000000Z"
)

// emu is the emulator shared by every test of this binary.
var emu struct {
	srv   *moto.Server
	cfg   aws.Config
	db    *dynamodb.Client
	tpl   *template.Template
	table string // physical name of the shared AccessTable
}

func TestMain(m *testing.M) {
	if testenv.SkipMain("store integration tests") {
		return
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin, err := filepath.Abs(filepath.Join(repoRoot, ".venv", "moto", "bin"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "store integration tests:", err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(bin, "moto_server")); err != nil {
		fmt.Fprintf(os.Stderr, "store integration tests need the moto emulator, which is not installed (%v).\n"+
			"Run `make venv` at the repository root to create .venv/moto, then re-run the tests.\n", err)
		return 1
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := moto.Start(ctx, moto.Options{Python: bin, Logger: quiet})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start moto: %v\n(run `make venv` if the virtualenv is missing or outdated)\n", err)
		return 1
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop moto:", err)
		}
	}()
	tpl, err := template.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load template:", err)
		return 1
	}
	// Every call goes through the local cloud's edge, which refuses what
	// DynamoDB refuses and moto would accept.
	motoURL, err := url.Parse(srv.URL())
	if err != nil {
		fmt.Fprintln(os.Stderr, "moto URL:", err)
		return 1
	}
	front := httptest.NewServer(edge.New(nil, motoURL, quiet))
	defer front.Close()
	emu.srv, emu.tpl = srv, tpl
	emu.cfg = provision.EmulatorConfig(front.URL, region)
	emu.db = dynamodb.NewFromConfig(emu.cfg)
	emu.table = tableID
	if err := provisionTable(ctx, emu.table); err != nil {
		fmt.Fprintf(os.Stderr, "provision %s: %v\nmoto output:\n%s\n", emu.table, err, srv.Output())
		return 1
	}
	return m.Run()
}

// provisionTable creates the template's AccessTable (keys, GSIs, TTL) under
// the physical name name. Only tables are provisioned: the store needs no
// state machine.
func provisionTable(ctx context.Context, name string) error {
	tables := *emu.tpl
	tables.StateMachines = nil
	r, err := tables.Resolver(region, account, nil)
	if err != nil {
		return err
	}
	ph := r.Physical[tableID]
	if ph.Name == "" {
		return fmt.Errorf("template.yaml declares no %s", tableID)
	}
	ph.Name = name
	ph.Arn = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, name)
	r.Physical = maps.Clone(r.Physical)
	r.Physical[tableID] = ph
	p := &provision.Provisioner{
		AWS: emu.cfg, Template: &tables, Root: repoRoot, Resolver: r,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return p.Apply(ctx)
}

// ownTable provisions a table of the template's definition for one test
// and returns its name.
func ownTable(t *testing.T, prefix string) string {
	t.Helper()
	name := unique(t, prefix)
	if err := provisionTable(testContext(t), name); err != nil {
		t.Fatalf("provision %s: %v", name, err)
	}
	return name
}

// ---- fixtures ----

// t0 is the base time of every fixture: microsecond precision, as stored.
var t0 = time.Date(2031, time.March, 14, 9, 26, 53, 589793000, time.UTC)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newStore() *store.Store { return store.New(emu.db, emu.table) }

// serialStore is a store whose client sends one request at a time to moto,
// and can hold writes back until enough reads went through.
//
// moto's server is threaded and its DynamoDB backend takes no lock: a
// TransactWriteItems checks and applies its items one by one and rolls back
// by restoring a snapshot of the whole table taken when it started. Two
// concurrent transactions can then both pass their conditions, and a
// rollback can undo another transaction's committed write (seen with a
// plain client: 11 of 50 concurrent Decides "won" and the request lost its
// decided_by). DynamoDB isolates transactions; one request at a time on
// the wire gives the emulator that isolation whether or not the moto
// launcher serializes DynamoDB itself, while the store's callers still
// race: each Decide reads the request, then writes conditionally, and those
// steps interleave between goroutines.
func serialStore(table string) (*store.Store, *serialTransport) {
	tr := &serialTransport{next: http.DefaultTransport}
	cfg := emu.cfg.Copy()
	cfg.HTTPClient = &http.Client{Transport: tr}
	return store.New(dynamodb.NewFromConfig(cfg), table), tr
}

type serialTransport struct {
	next http.RoundTripper
	wire sync.Mutex // held while a request is with moto

	mu           sync.Mutex
	transactions int           // TransactWriteItems sent
	gate         chan struct{} // if set, writes wait until it is closed
	reads, want  int           // GetItem calls seen since holdWrites, and how many open the gate
}

func (s *serialTransport) transacts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transactions
}

// holdWrites makes TransactWriteItems wait until n GetItem calls have been
// answered (or a few seconds passed), so that n racing callers all read
// before any of them writes.
func (s *serialTransport) holdWrites(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate, s.reads, s.want = make(chan struct{}), 0, n
}

func (s *serialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	target := req.Header.Get("X-Amz-Target")
	write := strings.HasSuffix(target, ".TransactWriteItems")
	if write {
		s.mu.Lock()
		s.transactions++
		gate := s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-time.After(5 * time.Second):
			}
		}
	}
	resp, err := s.send(req)
	if err == nil && strings.HasSuffix(target, ".GetItem") {
		s.mu.Lock()
		if s.gate != nil {
			if s.reads++; s.reads == s.want {
				close(s.gate)
				s.gate = nil
			}
		}
		s.mu.Unlock()
	}
	return resp, err
}

func (s *serialTransport) send(req *http.Request) (*http.Response, error) {
	s.wire.Lock()
	defer s.wire.Unlock()
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// Read the whole answer before letting the next request go.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func randHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// unique returns prefix with a random suffix, so tests sharing the table
// never see each other's requesters or resources.
func unique(t *testing.T, prefix string) string {
	t.Helper()
	return prefix + "-" + randHex(t, 6)
}

func newRequest(t *testing.T, requester string, created time.Time) *access.Request {
	t.Helper()
	id, err := access.NewID(created, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &access.Request{
		ID:            id,
		Resource:      "prod-admin",
		Requester:     requester,
		Reason:        "INC-4242: restart the stuck consumer",
		Duration:      90 * time.Minute,
		Status:        access.Pending,
		PolicyVersion: 3,
		Target:        target.New("iam-role", target.RoleARN, "arn:aws:iam::123456789012:role/prod-admin"),
		Approvers:     []string{"Bob@Example.com", "carol@example.com"},
		CreatedAt:     created,
		UpdatedAt:     created,
	}
}

func createdEvent(r *access.Request) access.Event {
	return access.Event{
		RequestID: r.ID, Type: access.EventCreated, Actor: r.Requester, At: r.CreatedAt,
		To: access.Pending, Detail: map[string]string{"resource": r.Resource},
	}
}

// mustCreate stores a fresh pending request of requester.
func mustCreate(t *testing.T, s *store.Store, requester string, created time.Time) *access.Request {
	t.Helper()
	r := newRequest(t, requester, created)
	if err := s.CreateRequest(testContext(t), r, createdEvent(r)); err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return r
}

// newLinks returns n links of request id, created at and valid for ttl.
func newLinks(t *testing.T, id string, n int, at time.Time, ttl time.Duration) []store.Link {
	t.Helper()
	links := make([]store.Link, n)
	for i := range links {
		links[i] = store.Link{
			Hash: randHex(t, 32), RequestID: id, Level: 1,
			Approver: fmt.Sprintf("Approver%d@Example.com", i), Channel: "email",
			CreatedAt: at, ExpiresAt: at.Add(ttl),
		}
	}
	return links
}

// pendingWithLinks creates a pending request and asks n approvers, each
// with their own link valid for an hour.
func pendingWithLinks(t *testing.T, s *store.Store, n int) (*access.Request, []store.Link) {
	t.Helper()
	r := mustCreate(t, s, unique(t, "alice"), t0)
	links := newLinks(t, r.ID, n, linkCreated, time.Hour)
	if err := s.RequestApproval(testContext(t), r, 1, "task-token-"+r.ID, links, linkCreated); err != nil {
		t.Fatalf("RequestApproval: %v", err)
	}
	return r, links
}

// linkCreated is when pendingWithLinks sends its links; they expire an
// hour later.
var linkCreated = t0.Add(time.Second)

// stepAt is when step i of a fixture's path happens.
func stepAt(i int) time.Time { return t0.Add(time.Duration(i+1) * time.Minute) }

// walk moves request id along path with the public API: approved and
// denied through Decide with the next unused link, active through Activate,
// any other (final) status through End. It returns the links left unused.
func walk(t *testing.T, s *store.Store, id string, links []store.Link, path []access.Status) []store.Link {
	t.Helper()
	ctx := testContext(t)
	for i, to := range path {
		at := stepAt(i)
		var err error
		switch to {
		case access.Approved, access.Denied:
			_, err = s.Decide(ctx, &links[0], nil, to, at, "")
			links = links[1:]
		case access.Active:
			err = s.Activate(ctx, read(t, s, id), at, at.Add(90*time.Minute), nil)
		default:
			err = s.End(ctx, read(t, s, id), to, at, access.System, nil)
		}
		if err != nil {
			t.Fatalf("setup: move %s to %s: %v", id, to, err)
		}
	}
	return links
}

// read is the request as stored now.
func read(t *testing.T, s *store.Store, id string) *access.Request {
	t.Helper()
	r, err := s.GetRequest(testContext(t), id)
	if err != nil {
		t.Fatalf("setup: read %s: %v", id, err)
	}
	return r
}

// ---- raw reads ----

func rawItem(t *testing.T, table, pk, sk string) map[string]any {
	t.Helper()
	out, err := emu.db.GetItem(testContext(t), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk},
			"SK": &types.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil {
		t.Fatalf("GetItem %s/%s: %v", pk, sk, err)
	}
	if out.Item == nil {
		return nil
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// partition returns every item under pk, in sort-key order.
func partition(t *testing.T, pk string) []map[string]any {
	t.Helper()
	p := dynamodb.NewQueryPaginator(emu.db, &dynamodb.QueryInput{
		TableName:                 aws.String(emu.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	var items []map[string]any
	for p.HasMorePages() {
		page, err := p.NextPage(testContext(t))
		if err != nil {
			t.Fatalf("query %s: %v", pk, err)
		}
		for _, raw := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
				t.Fatal(err)
			}
			items = append(items, m)
		}
	}
	return items
}

// snapshot is every stored item a request owns: its partition (request and
// events) and its links.
type snapshot struct {
	Request []map[string]any
	Links   []map[string]any
}

func snap(t *testing.T, id string, links []store.Link) snapshot {
	t.Helper()
	s := snapshot{Request: partition(t, "REQ#"+id)}
	for _, l := range links {
		s.Links = append(s.Links, rawItem(t, emu.table, "LINK#"+l.Hash, "LINK"))
	}
	return s
}

func assertUnchanged(t *testing.T, what string, before, after snapshot) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		b, _ := json.MarshalIndent(before, "", "  ")
		a, _ := json.MarshalIndent(after, "", "  ")
		t.Errorf("%s changed stored items:\nbefore: %s\nafter:  %s", what, b, a)
	}
}

func stored(at time.Time) string { return at.UTC().Format(storedTime) }

func history(t *testing.T, s *store.Store, id string) []access.Event {
	t.Helper()
	evs, err := s.History(testContext(t), id)
	if err != nil {
		t.Fatalf("History(%s): %v", id, err)
	}
	return evs
}

func getRequest(t *testing.T, s *store.Store, id string) *access.Request {
	t.Helper()
	r, err := s.GetRequest(testContext(t), id)
	if err != nil {
		t.Fatalf("GetRequest(%s): %v", id, err)
	}
	return r
}

func countType(evs []access.Event, types ...string) int {
	n := 0
	for _, e := range evs {
		if slices.Contains(types, e.Type) {
			n++
		}
	}
	return n
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- 1. create ----

func TestCreateRequestRoundTrip(t *testing.T) {
	s := newStore()
	tests := []struct {
		name string
		give func(r *access.Request)
		// want adjusts the expected read-back (default: equal to give).
		want func(r *access.Request)
	}{
		{name: "every field"},
		{
			name: "no role and no approvers",
			give: func(r *access.Request) { r.Target = access.Target{Provider: "group"}; r.Approvers = nil },
		},
		{
			name: "empty approvers list",
			give: func(r *access.Request) { r.Approvers = []string{} },
		},
		{
			name: "empty reason and unicode",
			give: func(r *access.Request) { r.Reason = ""; r.Resource = "données-prod/ü" },
		},
		{
			name: "zone and sub-microsecond times are stored as UTC microseconds",
			give: func(r *access.Request) {
				loc := time.FixedZone("CEST", 2*3600)
				r.CreatedAt = time.Date(2031, 6, 1, 12, 0, 0, 123456789, loc)
				r.UpdatedAt = r.CreatedAt.Add(time.Nanosecond)
			},
			want: func(r *access.Request) {
				r.CreatedAt = time.Date(2031, 6, 1, 10, 0, 0, 123456000, time.UTC)
				r.UpdatedAt = r.CreatedAt
			},
		},
		{
			name: "long duration",
			give: func(r *access.Request) { r.Duration = 36 * time.Hour },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			give := newRequest(t, unique(t, "alice"), t0)
			if tt.give != nil {
				tt.give(give)
			}
			want := *give
			if tt.want != nil {
				tt.want(&want)
			}
			ev := createdEvent(give)
			if err := s.CreateRequest(ctx, give, ev); err != nil {
				t.Fatalf("CreateRequest: %v", err)
			}

			got := getRequest(t, s, give.ID)
			if !requestsEqual(got, &want) {
				t.Errorf("GetRequest round trip:\n got  %s\n want %s", jsonOf(got), jsonOf(&want))
			}
			if got.Duration != want.Duration {
				t.Errorf("Duration = %v, want %v", got.Duration, want.Duration)
			}

			evs := history(t, s, give.ID)
			wantEv := ev.About(&want)
			wantEv.At = want.CreatedAt
			if len(evs) != 1 || !eventsEqual(evs[0], wantEv) {
				t.Fatalf("History = %s, want [%s]", jsonOf(evs), jsonOf(wantEv))
			}

			// The index keys the lists rely on.
			raw := rawItem(t, emu.table, "REQ#"+give.ID, "REQUEST")
			for attr, want := range map[string]string{
				"GSI1PK": "REQUESTER#" + give.Requester,
				"GSI1SK": stored(want.CreatedAt) + "#" + give.ID,
				"GSI2PK": "RESOURCE#" + give.Resource,
				"GSI2SK": stored(want.CreatedAt) + "#" + give.ID,
				"GSI3SK": stored(want.CreatedAt) + "#" + give.ID,
			} {
				if raw[attr] != want {
					t.Errorf("stored %s = %v, want %q", attr, raw[attr], want)
				}
			}
			if g, _ := raw["GSI3PK"].(string); !strings.HasPrefix(g, "STATUS#pending#") {
				t.Errorf("stored GSI3PK = %q, want STATUS#pending#<shard>", g)
			}

			// The same id again, whatever its event, conflicts and writes
			// nothing.
			before := snap(t, give.ID, nil)
			again := newRequest(t, "mallory", t0.Add(time.Hour))
			again.ID = give.ID
			for _, ev := range []access.Event{createdEvent(again), ev} {
				err := s.CreateRequest(ctx, again, ev)
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("second CreateRequest(%s) = %v, want ErrConflict", give.ID, err)
				}
			}
			assertUnchanged(t, "second CreateRequest", before, snap(t, give.ID, nil))
			if n := len(history(t, s, give.ID)); n != 1 {
				t.Errorf("History has %d events after the conflicting create, want 1", n)
			}
		})
	}
}

func TestGetRequestNotFound(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	id, _ := access.NewID(t0, nil)
	if _, err := s.GetRequest(ctx, id); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("GetRequest(missing) = %v, want access.ErrNotFound", err)
	}
	if _, err := s.TaskToken(ctx, id); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("TaskToken(missing) = %v, want access.ErrNotFound", err)
	}
	if evs, err := s.History(ctx, id); err != nil || len(evs) != 0 {
		t.Errorf("History(missing) = %v, %v; want no events, no error", evs, err)
	}
	if _, err := s.GetLink(ctx, randHex(t, 32)); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("GetLink(missing) = %v, want access.ErrNotFound", err)
	}
}

func requestsEqual(a, b *access.Request) bool {
	// Times compare with Equal; everything else by JSON (which holds every
	// field but Duration, compared separately).
	return jsonOf(normalize(a)) == jsonOf(normalize(b))
}

func normalize(r *access.Request) *access.Request {
	c := *r
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	for _, p := range []**time.Time{&c.DecidedAt, &c.GrantedAt, &c.ExpiresAt, &c.EndedAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	return &c
}

func eventsEqual(a, b access.Event) bool {
	a.At, b.At = a.At.UTC(), b.At.UTC()
	if len(a.Detail) == 0 {
		a.Detail = nil
	}
	if len(b.Detail) == 0 {
		b.Detail = nil
	}
	return reflect.DeepEqual(a, b)
}

// ---- 2. transitions ----

// op is one store call moving request r; links are its unused links.
type op func(ctx context.Context, s *store.Store, r *access.Request, links []store.Link, at time.Time) error

func decide(outcome access.Status) op {
	return func(ctx context.Context, s *store.Store, _ *access.Request, links []store.Link, at time.Time) error {
		_, err := s.Decide(ctx, &links[0], nil, outcome, at, "looks fine")
		return err
	}
}

func activate(ctx context.Context, s *store.Store, r *access.Request, _ []store.Link, at time.Time) error {
	return s.Activate(ctx, r, at, at.Add(r.Duration), map[string]string{"session": "s-1"})
}

func end(to access.Status, actor string) op {
	return func(ctx context.Context, s *store.Store, r *access.Request, _ []store.Link, at time.Time) error {
		return s.End(ctx, r, to, at, actor, map[string]string{"why": string(to)})
	}
}

func TestTransitionsAllowed(t *testing.T) {
	s := newStore()
	tests := []struct {
		name  string
		path  []access.Status // setup: where the request is before do
		do    op
		want  access.Status
		actor string // "" means the link's approver
		// wantSet are the attributes do must write, by name, as a function
		// of the move's time; wantUnset must stay absent.
		wantSet   func(at time.Time, l store.Link) map[string]any
		wantUnset []string
	}{
		{
			name: "pending to approved", do: decide(access.Approved), want: access.Approved,
			wantSet:   decided,
			wantUnset: []string{"ended_at", "granted_at", "expires_at"},
		},
		{
			name: "pending to denied", do: decide(access.Denied), want: access.Denied,
			wantSet:   func(at time.Time, l store.Link) map[string]any { return with(decided(at, l), ended(at)) },
			wantUnset: []string{"granted_at", "expires_at"},
		},
		{
			name: "pending to timed_out", do: end(access.TimedOut, access.System), want: access.TimedOut, actor: access.System,
			wantSet:   func(at time.Time, _ store.Link) map[string]any { return ended(at) },
			wantUnset: []string{"decided_by", "decided_at", "granted_at"},
		},
		{
			name: "pending to cancelled", do: end(access.Cancelled, "alice"), want: access.Cancelled, actor: "alice",
			wantSet:   func(at time.Time, _ store.Link) map[string]any { return ended(at) },
			wantUnset: []string{"decided_by", "granted_at"},
		},
		{
			name: "pending to failed", do: end(access.Failed, access.System), want: access.Failed, actor: access.System,
			wantSet: func(at time.Time, _ store.Link) map[string]any { return ended(at) },
		},
		{
			name: "approved to active", path: []access.Status{access.Approved}, do: activate, want: access.Active, actor: access.System,
			wantSet: func(at time.Time, _ store.Link) map[string]any {
				return map[string]any{"granted_at": stored(at), "expires_at": stored(at.Add(90 * time.Minute))}
			},
			wantUnset: []string{"ended_at"},
		},
		{
			name: "approved to failed", path: []access.Status{access.Approved}, do: end(access.Failed, access.System), want: access.Failed, actor: access.System,
			wantSet:   func(at time.Time, _ store.Link) map[string]any { return ended(at) },
			wantUnset: []string{"granted_at"},
		},
		{
			name: "approved to revoked", path: []access.Status{access.Approved}, do: end(access.Revoked, "sec-team"), want: access.Revoked, actor: "sec-team",
			wantSet: func(at time.Time, _ store.Link) map[string]any { return ended(at) },
		},
		{
			// A scheduled request may be cancelled before its start.
			name: "approved to cancelled", path: []access.Status{access.Approved}, do: end(access.Cancelled, "alice"), want: access.Cancelled, actor: "alice",
			wantSet: func(at time.Time, _ store.Link) map[string]any { return ended(at) },
		},
		{
			name: "active to expired", path: []access.Status{access.Approved, access.Active}, do: end(access.Expired, access.System), want: access.Expired, actor: access.System,
			wantSet: func(at time.Time, _ store.Link) map[string]any { return ended(at) },
		},
		{
			name: "active to revoked", path: []access.Status{access.Approved, access.Active}, do: end(access.Revoked, "sec-team"), want: access.Revoked, actor: "sec-team",
			wantSet: func(at time.Time, _ store.Link) map[string]any { return ended(at) },
		},
		{
			name: "active to failed", path: []access.Status{access.Approved, access.Active}, do: end(access.Failed, access.System), want: access.Failed, actor: access.System,
			wantSet: func(at time.Time, _ store.Link) map[string]any { return ended(at) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			r, links := pendingWithLinks(t, s, 2)
			links = walk(t, s, r.ID, links, tt.path)
			from := access.Pending
			if len(tt.path) > 0 {
				from = tt.path[len(tt.path)-1]
			}
			before := history(t, s, r.ID)
			beforeRaw := rawItem(t, emu.table, "REQ#"+r.ID, "REQUEST")
			at := stepAt(len(tt.path))

			if err := tt.do(ctx, s, r, links, at); err != nil {
				t.Fatalf("%s → %s: %v", from, tt.want, err)
			}

			raw := rawItem(t, emu.table, "REQ#"+r.ID, "REQUEST")
			want := map[string]any{"status": string(tt.want), "updated_at": stored(at)}
			maps.Copy(want, tt.wantSet(at, links[0]))
			for attr, v := range want {
				if raw[attr] != v {
					t.Errorf("stored %s = %v, want %v", attr, raw[attr], v)
				}
			}
			for _, attr := range tt.wantUnset {
				if v, ok := raw[attr]; ok {
					t.Errorf("stored %s = %v, want it absent", attr, v)
				}
			}
			if g, _ := raw["GSI3PK"].(string); !strings.HasPrefix(g, "STATUS#"+string(tt.want)+"#") {
				t.Errorf("stored GSI3PK = %q, want the %s status partition", g, tt.want)
			}
			// Attributes the move does not own are kept as they were. A
			// decision also counts the approval and spends the task token.
			for attr, v := range beforeRaw {
				if _, owned := want[attr]; owned || attr == "GSI3PK" {
					continue
				}
				if (tt.want == access.Approved || tt.want == access.Denied) && (attr == "approvals" || attr == "task_token") {
					continue
				}
				if !reflect.DeepEqual(raw[attr], v) {
					t.Errorf("stored %s changed from %v to %v", attr, v, raw[attr])
				}
			}

			got := getRequest(t, s, r.ID)
			if got.Status != tt.want || !got.UpdatedAt.Equal(at) {
				t.Errorf("GetRequest: status %s updated %v, want %s at %v", got.Status, got.UpdatedAt, tt.want, at)
			}
			if tt.want.Terminal() != (got.EndedAt != nil) {
				t.Errorf("GetRequest: EndedAt = %v for %s", got.EndedAt, tt.want)
			}

			after := history(t, s, r.ID)
			if len(after) != len(before)+1 {
				t.Fatalf("History grew from %d to %d events, want exactly one more: %s", len(before), len(after), jsonOf(after))
			}
			actor := tt.actor
			if actor == "" {
				actor = links[0].Approver
			}
			ev := after[len(after)-1]
			if ev.Type != string(tt.want) || ev.From != from || ev.To != tt.want || ev.Actor != actor || !ev.At.Equal(at) {
				t.Errorf("new event = %s, want type %s from %s to %s by %s at %v", jsonOf(ev), tt.want, from, tt.want, actor, at)
			}
			if !reflect.DeepEqual(after[:len(before)], before) {
				t.Errorf("older events changed: before %s after %s", jsonOf(before), jsonOf(after))
			}
		})
	}
}

func decided(at time.Time, l store.Link) map[string]any {
	return map[string]any{"decided_by": l.Approver, "decided_at": stored(at)}
}

func ended(at time.Time) map[string]any { return map[string]any{"ended_at": stored(at)} }

func with(a, b map[string]any) map[string]any {
	c := maps.Clone(a)
	maps.Copy(c, b)
	return c
}

func TestTransitionsRefused(t *testing.T) {
	s := newStore()
	tests := []struct {
		name     string
		path     []access.Status
		do       op
		wantFrom access.Status
		wantTo   access.Status
	}{
		{"denied to approved", []access.Status{access.Denied}, decide(access.Approved), access.Denied, access.Approved},
		{"approved twice", []access.Status{access.Approved}, decide(access.Approved), access.Approved, access.Approved},
		{"approved to denied", []access.Status{access.Approved}, decide(access.Denied), access.Approved, access.Denied},
		{"active to denied", []access.Status{access.Approved, access.Active}, decide(access.Denied), access.Active, access.Denied},
		{"timed_out to approved", []access.Status{access.TimedOut}, decide(access.Approved), access.TimedOut, access.Approved},
		{"pending to active", nil, activate, access.Pending, access.Active},
		{"active to active", []access.Status{access.Approved, access.Active}, activate, access.Active, access.Active},
		{"expired to active", []access.Status{access.Approved, access.Active, access.Expired}, activate, access.Expired, access.Active},
		{"failed to active", []access.Status{access.Failed}, activate, access.Failed, access.Active},
		{"pending to expired", nil, end(access.Expired, access.System), access.Pending, access.Expired},
		{"pending to revoked", nil, end(access.Revoked, "sec-team"), access.Pending, access.Revoked},
		{"approved to timed_out", []access.Status{access.Approved}, end(access.TimedOut, access.System), access.Approved, access.TimedOut},
		{"revoked to revoked", []access.Status{access.Approved, access.Revoked}, end(access.Revoked, "sec-team"), access.Revoked, access.Revoked},
		{"expired to failed", []access.Status{access.Approved, access.Active, access.Expired}, end(access.Failed, access.System), access.Expired, access.Failed},
		{"cancelled to denied", []access.Status{access.Cancelled}, decide(access.Denied), access.Cancelled, access.Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			r, links := pendingWithLinks(t, s, 3)
			unused := walk(t, s, r.ID, links, tt.path)
			before := snap(t, r.ID, links)

			err := tt.do(ctx, s, r, unused, stepAt(len(tt.path)))
			var te *access.ErrTransition
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want *access.ErrTransition", err)
			}
			if te.ID != r.ID || te.From != tt.wantFrom || te.To != tt.wantTo {
				t.Errorf("ErrTransition = %+v, want {%s %s %s}", *te, r.ID, tt.wantFrom, tt.wantTo)
			}
			assertUnchanged(t, "refused move", before, snap(t, r.ID, links))
		})
	}
}

func TestTransitionBadInput(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	r, links := pendingWithLinks(t, s, 1)
	before := snap(t, r.ID, links)
	missing, _ := access.NewID(t0, nil)
	tests := []struct {
		name    string
		do      func() error
		wantErr error // nil: any error but ErrTransition
	}{
		{"end with a non-final status", func() error { return s.End(ctx, r, access.Active, t0, access.System, nil) }, nil},
		{"end with an unknown status", func() error { return s.End(ctx, r, "archived", t0, access.System, nil) }, nil},
		{"decide with a non-decision", func() error { _, err := s.Decide(ctx, &links[0], nil, access.Active, t0, ""); return err }, nil},
		{"activate a missing request", func() error {
			return s.Activate(ctx, &access.Request{ID: missing, Resource: "sandbox", Requester: "nobody", Status: access.Approved}, t0, t0.Add(time.Hour), nil)
		}, access.ErrNotFound},
		{"end a missing request", func() error {
			return s.End(ctx, &access.Request{ID: missing, Resource: "sandbox", Requester: "nobody", Status: access.Active}, access.Expired, t0, access.System, nil)
		}, access.ErrNotFound},
		{"ask approval of a missing request", func() error {
			return s.RequestApproval(ctx, &access.Request{ID: missing, Resource: "sandbox", Requester: "nobody"}, 1, "tok", newLinks(t, missing, 1, t0, time.Hour), t0)
		}, access.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			var te *access.ErrTransition
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("got %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && errors.As(err, &te):
				t.Errorf("got ErrTransition %v for invalid input", err)
			}
		})
	}
	assertUnchanged(t, "invalid calls", before, snap(t, r.ID, links))
	if items := partition(t, "REQ#"+missing); len(items) != 0 {
		t.Errorf("calls on a missing request wrote %s", jsonOf(items))
	}
}

// ---- 3. approval requests and decisions through links ----

func TestRequestApprovalStoresTokenAndLinks(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	r := mustCreate(t, s, unique(t, "alice"), t0)
	at := t0.Add(time.Second)
	links := newLinks(t, r.ID, 2, at, 24*time.Hour)
	links[1].Channel = "slack"

	if err := s.RequestApproval(ctx, r, 1, "tok-123", links, at); err != nil {
		t.Fatalf("RequestApproval: %v", err)
	}
	if tok, err := s.TaskToken(ctx, r.ID); err != nil || tok != "tok-123" {
		t.Errorf("TaskToken = %q, %v; want tok-123", tok, err)
	}
	raw := rawItem(t, emu.table, "REQ#"+r.ID, "REQUEST")
	if raw["level"] != float64(1) || raw["updated_at"] != stored(at) || raw["status"] != "pending" {
		t.Errorf("request after RequestApproval: level %v updated %v status %v; want 1, %s, pending",
			raw["level"], raw["updated_at"], raw["status"], stored(at))
	}
	for _, l := range links {
		got, err := s.GetLink(ctx, l.Hash)
		if err != nil {
			t.Fatalf("GetLink: %v", err)
		}
		if got.RequestID != r.ID || got.Level != l.Level || got.Approver != l.Approver || got.Channel != l.Channel ||
			!got.CreatedAt.Equal(l.CreatedAt) || !got.ExpiresAt.Equal(l.ExpiresAt) || got.UsedAt != nil || got.UsedOutcome != "" {
			t.Errorf("GetLink = %s, want %s unused", jsonOf(got), jsonOf(l))
		}
		lraw := rawItem(t, emu.table, "LINK#"+l.Hash, "LINK")
		if lraw["GSI1PK"] != "APPROVER#"+strings.ToLower(l.Approver) {
			t.Errorf("link GSI1PK = %v, want the approver's lower-cased partition", lraw["GSI1PK"])
		}
		if want := float64(l.ExpiresAt.Add(7 * 24 * time.Hour).Unix()); lraw["ttl"] != want {
			t.Errorf("link ttl = %v, want %v (a week after expiry, epoch seconds)", lraw["ttl"], want)
		}
	}
	evs := history(t, s, r.ID)
	want := access.Event{
		Type: access.EventApprovalRequested, Actor: access.System, At: at,
		Detail: map[string]string{"level": "1", "sent_to": links[0].Approver + " (email), " + links[1].Approver + " (slack)"},
	}.About(r)
	if len(evs) != 2 || !eventsEqual(evs[1], want) {
		t.Errorf("History = %s, want created then %s", jsonOf(evs), jsonOf(want))
	}

	// Asking again once decided is refused and stores no link.
	if _, err := s.Decide(ctx, &links[0], nil, access.Approved, at.Add(time.Minute), ""); err != nil {
		t.Fatalf("Decide: %v", err)
	}
	more := newLinks(t, r.ID, 1, at.Add(2*time.Minute), time.Hour)
	before := snap(t, r.ID, links)
	err := s.RequestApproval(ctx, r, 3, "tok-456", more, at.Add(2*time.Minute))
	var te *access.ErrTransition
	if !errors.As(err, &te) || te.From != access.Approved {
		t.Errorf("RequestApproval on an approved request = %v, want ErrTransition from approved", err)
	}
	assertUnchanged(t, "refused RequestApproval", before, snap(t, r.ID, links))
	if l := rawItem(t, emu.table, "LINK#"+more[0].Hash, "LINK"); l != nil {
		t.Errorf("refused RequestApproval stored link %v", l)
	}
}

// TestLinkOpenedOnce: the first load of a link's page is one event;
// reloads (a person, a scanner, a flood) write nothing more.
func TestLinkOpenedOnce(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	r := mustCreate(t, s, unique(t, "alice"), t0)
	at := t0.Add(time.Second)
	links := newLinks(t, r.ID, 1, at, time.Hour)
	if err := s.RequestApproval(ctx, r, 0, "tok", links, at); err != nil {
		t.Fatalf("RequestApproval: %v", err)
	}
	for i := 0; i < 3; i++ {
		l, err := s.GetLink(ctx, links[0].Hash)
		if err != nil {
			t.Fatal(err)
		}
		if (l.OpenedAt != nil) != (i > 0) {
			t.Fatalf("load %d: OpenedAt = %v", i, l.OpenedAt)
		}
		ev := access.Event{Type: access.EventLinkOpened, Actor: l.Approver, At: at.Add(time.Duration(i+1) * time.Second), Detail: map[string]string{"level": "0"}}.About(r)
		if err := s.LinkOpened(ctx, l, ev); err != nil {
			t.Fatalf("LinkOpened %d: %v", i, err)
		}
	}
	opened := 0
	for _, ev := range history(t, s, r.ID) {
		if ev.Type == access.EventLinkOpened {
			opened++
		}
	}
	if opened != 1 {
		t.Fatalf("%d link_opened events after three loads, want 1", opened)
	}
}

func TestDecideThroughLinks(t *testing.T) {
	s := newStore()
	at := stepAt(0)
	tests := []struct {
		name string
		// link returns the link to decide with, given the pending request's
		// own links and another pending request's links.
		link    func(own, other []store.Link) store.Link
		at      time.Time
		want    access.Status // outcome asked
		wantErr error         // nil: success
	}{
		{name: "approve", link: first, at: at, want: access.Approved},
		{name: "deny", link: first, at: at, want: access.Denied},
		{name: "last microsecond of validity", link: first, at: linkCreated.Add(time.Hour - time.Microsecond), want: access.Approved},
		{name: "expired link", link: first, at: linkCreated.Add(time.Hour + time.Second), want: access.Approved, wantErr: store.ErrLinkSpent},
		{name: "link expiring at that instant", link: first, at: linkCreated.Add(time.Hour), want: access.Approved, wantErr: store.ErrLinkSpent},
		{
			name: "link of another request, relabelled",
			link: func(own, other []store.Link) store.Link {
				l := other[0]
				l.RequestID = own[0].RequestID
				return l
			},
			at: at, want: access.Approved, wantErr: store.ErrLinkSpent,
		},
		{
			name: "unknown link",
			link: func(own, _ []store.Link) store.Link {
				l := own[0]
				l.Hash = strings.Repeat("0", 64)
				return l
			},
			at: at, want: access.Approved, wantErr: store.ErrLinkSpent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			r, own := pendingWithLinks(t, s, 2)
			o, other := pendingWithLinks(t, s, 1)
			all := append(slices.Clone(own), other...)
			l := tt.link(own, other)
			before, beforeOther := snap(t, r.ID, all), snap(t, o.ID, nil)

			_, err := s.Decide(ctx, &l, nil, tt.want, tt.at, "ok by me")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Decide = %v, want %v", err, tt.wantErr)
				}
				assertUnchanged(t, "refused Decide", before, snap(t, r.ID, all))
				assertUnchanged(t, "refused Decide (other request)", beforeOther, snap(t, o.ID, nil))
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			got := getRequest(t, s, r.ID)
			if got.Status != tt.want || got.DecidedBy != l.Approver || got.DecidedAt == nil || !got.DecidedAt.Equal(tt.at) {
				t.Errorf("request after Decide = %s, want %s by %s at %v", jsonOf(got), tt.want, l.Approver, tt.at)
			}
			gl, err := s.GetLink(ctx, l.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if gl.UsedAt == nil || !gl.UsedAt.Equal(tt.at) || gl.UsedOutcome != tt.want {
				t.Errorf("link after Decide = %s, want used at %v for %s", jsonOf(gl), tt.at, tt.want)
			}
			evs := history(t, s, r.ID)
			last := evs[len(evs)-1]
			wantEv := access.Event{
				Type: string(tt.want), Actor: l.Approver, At: tt.at, From: access.Pending, To: tt.want,
				Detail: map[string]string{"level": "1", "channel": "email", "comment": "ok by me"},
			}.About(r)
			if tt.want == access.Approved {
				wantEv.Detail["approvals"] = "1 of 1"
			}
			if !eventsEqual(last, wantEv) || countType(evs, "approved", "denied") != 1 {
				t.Errorf("History = %s, want one decision event %s", jsonOf(evs), jsonOf(wantEv))
			}
			assertUnchanged(t, "Decide (other request)", beforeOther, snap(t, o.ID, nil))

			// The same link again, and a sibling link, change nothing.
			after := snap(t, r.ID, all)
			for i, again := range []store.Link{l, own[1]} {
				for _, outcome := range []access.Status{access.Approved, access.Denied} {
					_, err := s.Decide(ctx, &again, nil, outcome, tt.at.Add(time.Second), "")
					var te *access.ErrTransition
					if !errors.Is(err, store.ErrLinkSpent) && !errors.As(err, &te) {
						t.Errorf("Decide again (link %d, %s) = %v, want ErrLinkSpent or ErrTransition", i, outcome, err)
					}
				}
			}
			assertUnchanged(t, "second Decide", after, snap(t, r.ID, all))
		})
	}
}

func first(own, _ []store.Link) store.Link { return own[0] }

// ---- 4. concurrent decisions ----

func TestDecideConcurrently(t *testing.T) {
	// A table of its own: moto snapshots the whole table on every
	// transaction, and this test sends a few hundred.
	s, wire := serialStore(ownTable(t, "ConcurrencyTable"))
	const goroutines = 50
	tests := []struct {
		name  string
		links int // distinct links of the request the goroutines share
		// readFirst holds every write until all goroutines have read the
		// pending request, so all 50 reach the conditional transaction.
		// Otherwise they interleave as they come.
		readFirst bool
		// seen passes every goroutine the pending request read before the
		// race, as the decision page does: Decide reads nothing, and a
		// loser learns the new state from its refused write.
		seen bool
	}{
		{"same link, all read first", 1, true, false},
		{"five links, all read first", 5, true, false},
		{"same link, free for all", 1, false, false},
		{"five links, free for all", 5, false, false},
		{"same link, the page's read", 1, true, true},
		{"five links, the page's read", 5, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			r, links := pendingWithLinks(t, s, tt.links)
			at := stepAt(0)
			sent := wire.transacts()
			if tt.readFirst {
				wire.holdWrites(goroutines)
			}

			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				mu      sync.Mutex
				wins    []int
				refused int
				other   []error
			)
			for i := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := links[i%len(links)]
					outcome := access.Approved
					if i%2 == 1 {
						outcome = access.Denied
					}
					var seen *access.Request
					if tt.seen {
						seen = r
					}
					<-start
					_, err := s.Decide(ctx, &l, seen, outcome, at.Add(time.Duration(i)*time.Microsecond), fmt.Sprint("goroutine ", i))
					var te *access.ErrTransition
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins = append(wins, i)
					case errors.Is(err, store.ErrLinkSpent) || errors.As(err, &te):
						refused++
					default:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()

			for _, err := range other {
				t.Errorf("a losing Decide failed with an error callers cannot recognise: %v", err)
			}
			// Losers that read "pending" before the winner committed reach
			// the conditional write; with readFirst, all of them do.
			sent = wire.transacts() - sent
			t.Logf("%d goroutines: %d won, %d refused, %d transactions sent", goroutines, len(wins), refused, sent)
			if tt.readFirst && sent != goroutines {
				t.Errorf("%d transactions sent, want %d: not every goroutine reached the conditional write", sent, goroutines)
			}
			if len(wins) != 1 {
				t.Fatalf("%d Decide calls succeeded (goroutines %v), want exactly 1; %d refused", len(wins), wins, refused)
			}
			w := wins[0]
			wantStatus := access.Approved
			if w%2 == 1 {
				wantStatus = access.Denied
			}
			winLink := links[w%len(links)]
			got := getRequest(t, s, r.ID)
			if got.Status != wantStatus || got.DecidedBy != winLink.Approver {
				t.Errorf("request is %s decided by %q, want %s by the winner %s", got.Status, got.DecidedBy, wantStatus, winLink.Approver)
			}
			evs := history(t, s, r.ID)
			if n := countType(evs, string(access.Approved), string(access.Denied)); n != 1 {
				t.Errorf("History has %d decision events, want 1: %s", n, jsonOf(evs))
			}
			if n := len(evs); n != 3 {
				t.Errorf("History has %d events, want created, approval_requested and the decision: %s", n, jsonOf(evs))
			}
			for _, l := range links {
				gl, err := s.GetLink(ctx, l.Hash)
				if err != nil {
					t.Fatal(err)
				}
				if used := gl.UsedAt != nil; used != (l.Hash == winLink.Hash) {
					t.Errorf("link of %s used=%v (outcome %q); only the winner's link may be used", l.Approver, used, gl.UsedOutcome)
				}
				if l.Hash == winLink.Hash && gl.UsedOutcome != wantStatus {
					t.Errorf("winning link's outcome = %q, want %s", gl.UsedOutcome, wantStatus)
				}
			}
		})
	}
}

// ---- 5. listing by requester ----

func TestListByRequesterPages(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	alice, bob := unique(t, "alice"), unique(t, "bob")
	var aliceIDs, bobIDs []string // oldest first
	for i := range 25 {
		at := t0.Add(time.Duration(i) * time.Second)
		aliceIDs = append(aliceIDs, mustCreate(t, s, alice, at).ID)
		if i%5 == 2 {
			bobIDs = append(bobIDs, mustCreate(t, s, bob, at.Add(time.Millisecond)).ID)
		}
	}
	slices.Reverse(aliceIDs)
	slices.Reverse(bobIDs)

	var got []string
	var sizes []int
	cursor := ""
	var cursors []string
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		p, err := s.ListByRequester(ctx, alice, 10, cursor)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		sizes = append(sizes, len(p.Requests))
		for _, r := range p.Requests {
			if r.Requester != alice {
				t.Errorf("page %d holds %s's request %s", page, r.Requester, r.ID)
			}
			got = append(got, r.ID)
		}
		if p.Next == "" {
			break
		}
		cursors = append(cursors, p.Next)
		cursor = p.Next
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes = %v, want [10 10 5]", sizes)
	}
	if !slices.Equal(got, aliceIDs) {
		t.Errorf("listed ids (newest first) =\n %v\nwant\n %v", got, aliceIDs)
	}

	p, err := s.ListByRequester(ctx, bob, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var bobGot []string
	for _, r := range p.Requests {
		bobGot = append(bobGot, r.ID)
	}
	if !slices.Equal(bobGot, bobIDs) || p.Next != "" {
		t.Errorf("bob's list = %v next %q, want %v and no cursor", bobGot, p.Next, bobIDs)
	}
	if p, err := s.ListByRequester(ctx, unique(t, "nobody"), 10, ""); err != nil || len(p.Requests) != 0 || p.Next != "" {
		t.Errorf("empty list = %+v, %v; want no requests, no cursor", p, err)
	}

	// Cursors.
	if len(cursors) == 0 {
		t.Fatal("no cursor issued")
	}
	valid := cursors[0]
	plain := decodeCursor(t, valid)
	tests := []struct {
		name    string
		give    string
		list    string // requester listed with the cursor
		want    []string
		wantErr error
	}{
		{name: "garbage", give: "%%%not a cursor%%%", list: alice, wantErr: store.ErrBadCursor},
		{name: "base64 but not JSON", give: base64.RawURLEncoding.EncodeToString([]byte("hello")), list: alice, wantErr: store.ErrBadCursor},
		{name: "padded base64", give: base64.URLEncoding.EncodeToString([]byte(`{"a":`)), list: alice, wantErr: store.ErrBadCursor},
		{name: "alice's cursor on bob's list", give: valid, list: bob, wantErr: store.ErrBadCursor},
		{name: "edited to bob's partition", give: editCursor(t, plain, func(m map[string]string) { m["GSI1PK"] = "REQUESTER#" + bob }), list: alice, wantErr: store.ErrBadCursor},
		{
			// Not detectable without signing cursors, but harmless: the
			// list stays within bob's partition, after the edited position.
			name: "edited to bob's partition, listed as bob", give: editCursor(t, plain, func(m map[string]string) { m["GSI1PK"] = "REQUESTER#" + bob }),
			list: bob, want: bobIDs[2:],
		},
		{name: "extra attribute", give: editCursor(t, plain, func(m map[string]string) { m["x"] = "y" }), list: alice, wantErr: store.ErrBadCursor},
		{
			name: "missing key attributes", give: editCursor(t, plain, func(m map[string]string) { delete(m, "PK"); delete(m, "SK") }),
			list: alice, wantErr: store.ErrBadCursor,
		},
		{
			name: "foreign attribute instead of a key attribute", give: editCursor(t, plain, func(m map[string]string) { delete(m, "SK"); m["status"] = "x" }),
			list: alice, wantErr: store.ErrBadCursor,
		},
		{name: "empty key attribute", give: editCursor(t, plain, func(m map[string]string) { m["GSI1SK"] = "" }), list: alice, wantErr: store.ErrBadCursor},
		{name: "valid", give: valid, list: alice, want: aliceIDs[10:20]},
	}
	for _, tt := range tests {
		t.Run("cursor "+tt.name, func(t *testing.T) {
			p, err := s.ListByRequester(ctx, tt.list, 10, tt.give)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ListByRequester(%s, %q) = %v, %v; want %v", tt.list, tt.give, p, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range p.Requests {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("page = %v, want %v", ids, tt.want)
			}
		})
	}
}

func decodeCursor(t *testing.T, c string) map[string]string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatalf("cursor %q is not raw URL base64: %v", c, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("cursor %q is not a JSON object of strings: %v", c, err)
	}
	return m
}

func editCursor(t *testing.T, plain map[string]string, edit func(map[string]string)) string {
	t.Helper()
	m := maps.Clone(plain)
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ---- 6. policy versions ----

func TestPolicyVersions(t *testing.T) {
	// Policy items are global to a table: use a table of our own, with the
	// template's definition, so no other test can see or change them.
	ctx := testContext(t)
	table := ownTable(t, "PolicyTable")
	s, _ := serialStore(table)

	if _, err := s.CurrentPolicy(ctx); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("CurrentPolicy before any = %v, want access.ErrNotFound", err)
	}
	steps := []struct {
		name     string
		previous int
		give     string
		want     int // version made current
		wantErr  error
	}{
		{name: "first", previous: 0, give: "v1", want: 1},
		{name: "first again", previous: 0, give: "v1-bis", wantErr: store.ErrConflict},
		{name: "second", previous: 1, give: "v2", want: 2},
		{name: "stale previous", previous: 1, give: "v2-bis", wantErr: store.ErrConflict},
		{name: "previous from the future", previous: 5, give: "v6", wantErr: store.ErrConflict},
		{name: "stale zero", previous: 0, give: "v1-ter", wantErr: store.ErrConflict},
		{name: "third", previous: 2, give: "v3", want: 3},
	}
	current := 0
	docs := map[int]string{}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			at := t0.Add(time.Duration(i) * time.Minute)
			by := fmt.Sprintf("admin%d@example.com", i)
			got, err := s.ApplyPolicy(ctx, st.previous, []byte(st.give), by, at, nil)
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("ApplyPolicy(%d) = %d, %v; want %v", st.previous, got, err, st.wantErr)
				}
			} else {
				if err != nil || got != st.want {
					t.Fatalf("ApplyPolicy(%d) = %d, %v; want %d", st.previous, got, err, st.want)
				}
				current = got
				docs[got] = st.give
			}
			cur, err := s.CurrentPolicy(ctx)
			if err != nil {
				t.Fatalf("CurrentPolicy: %v", err)
			}
			if cur.Version != current || string(cur.Document) != docs[current] {
				t.Errorf("CurrentPolicy = v%d %q, want v%d %q", cur.Version, cur.Document, current, docs[current])
			}
			if st.wantErr == nil && (cur.AppliedBy != by || !cur.AppliedAt.Equal(at)) {
				t.Errorf("CurrentPolicy applied by %q at %v, want %q at %v", cur.AppliedBy, cur.AppliedAt, by, at)
			}
		})
	}
	// Every version is kept under its own item.
	for v, doc := range docs {
		raw := rawItem(t, table, fmt.Sprintf("POLICY#%08d", v), "POLICY")
		if raw == nil || raw["document"] != doc || raw["version"] != float64(v) {
			t.Errorf("stored version %d = %v, want document %q", v, raw, doc)
		}
	}
	if raw := rawItem(t, table, fmt.Sprintf("POLICY#%08d", 6), "POLICY"); raw != nil {
		t.Errorf("a refused apply left version 6 behind: %v", raw)
	}

	// Concurrent admins: exactly one of them makes version 4.
	t.Run("concurrent", func(t *testing.T) {
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won       []int
			conflicts int
			other     []error
		)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := s.ApplyPolicy(ctx, current, []byte(fmt.Sprint("v4 by ", i)), "admin", t0.Add(time.Hour), nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, i)
					if v != current+1 {
						t.Errorf("ApplyPolicy = %d, want %d", v, current+1)
					}
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					other = append(other, err)
				}
			}()
		}
		wg.Wait()
		for _, err := range other {
			t.Errorf("a losing ApplyPolicy failed with an error callers cannot recognise: %v", err)
		}
		if len(won) != 1 {
			t.Fatalf("%d ApplyPolicy calls won (%v), want exactly 1", len(won), won)
		}
		cur, err := s.CurrentPolicy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("v4 by ", won[0]); cur.Version != current+1 || string(cur.Document) != want {
			t.Errorf("CurrentPolicy = v%d %q, want v%d %q", cur.Version, cur.Document, current+1, want)
		}
	})
}

// TestAuditSessionSignInAndOut: a sign-in link opens one session, which
// signing out ends before its expiry.
func TestAuditSessionSignInAndOut(t *testing.T) {
	ctx := testContext(t)
	s := newStore()
	at := stepAt(0)
	signIn, sess := strings.Repeat("a", 64), strings.Repeat("b", 64)
	if err := s.CreateSignIn(ctx, signIn, "arn:aws:sts::1:assumed-role/Auditor/frank", at, at.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSignIn(ctx, signIn, at); err != nil {
		t.Fatalf("CheckSignIn of a fresh link = %v", err)
	}
	if err := s.CheckSignIn(ctx, signIn, at.Add(5*time.Minute)); !errors.Is(err, store.ErrSignInSpent) {
		t.Errorf("CheckSignIn at expiry = %v, want ErrSignInSpent", err)
	}
	if err := s.CheckSignIn(ctx, strings.Repeat("e", 64), at); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("CheckSignIn of a link never issued = %v, want ErrNotFound", err)
	}
	if p, err := s.RedeemSignIn(ctx, signIn, sess, at, at.Add(time.Hour)); err != nil || p != "arn:aws:sts::1:assumed-role/Auditor/frank" {
		t.Fatalf("RedeemSignIn = %q, %v", p, err)
	}
	if _, err := s.RedeemSignIn(ctx, signIn, strings.Repeat("c", 64), at, at.Add(time.Hour)); !errors.Is(err, store.ErrSignInSpent) {
		t.Errorf("second RedeemSignIn = %v, want ErrSignInSpent", err)
	}
	if err := s.CheckSignIn(ctx, signIn, at); !errors.Is(err, store.ErrSignInSpent) {
		t.Errorf("CheckSignIn of a spent link = %v, want ErrSignInSpent", err)
	}
	if _, err := s.AuditSession(ctx, sess, at.Add(time.Minute)); err != nil {
		t.Fatalf("AuditSession = %v", err)
	}
	if err := s.EndAuditSession(ctx, sess, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuditSession(ctx, sess, at.Add(2*time.Minute)); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("AuditSession after sign-out = %v, want ErrNotFound", err)
	}
	// Ending it again, or a session that never was, is not an error.
	for _, h := range []string{sess, strings.Repeat("d", 64)} {
		if err := s.EndAuditSession(ctx, h, at.Add(3*time.Minute)); err != nil {
			t.Errorf("EndAuditSession(%s…) = %v", h[:4], err)
		}
	}
}

// TestMoveOn: a level's timeout escalates once, then moves to the next
// level; each step only from the state it expects.
func TestMoveOn(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	r := mustCreate(t, s, unique(t, "alice"), t0)
	at := t0.Add(time.Minute)
	if err := s.RequestApproval(ctx, r, 0, "tok-0", newLinks(t, r.ID, 1, at, time.Hour), at); err != nil {
		t.Fatalf("RequestApproval: %v", err)
	}
	if err := s.MoveOn(ctx, r, 0, access.TimeoutStep{Action: access.StepEscalate, Level: 0}, at.Add(time.Second)); err != nil {
		t.Fatalf("escalate: %v", err)
	}
	raw := rawItem(t, emu.table, "REQ#"+r.ID, "REQUEST")
	if raw["escalated"] != true || raw["level"] != float64(0) || raw["task_token"] != nil {
		t.Fatalf("after escalation: escalated %v level %v token %v", raw["escalated"], raw["level"], raw["task_token"])
	}
	if err := s.MoveOn(ctx, r, 0, access.TimeoutStep{Action: access.StepEscalate, Level: 0}, at.Add(2*time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("escalating twice = %v, want ErrConflict", err)
	}
	if err := s.MoveOn(ctx, r, 0, access.TimeoutStep{Action: access.StepNext, Level: 1}, at.Add(3*time.Second)); err != nil {
		t.Fatalf("next level: %v", err)
	}
	raw = rawItem(t, emu.table, "REQ#"+r.ID, "REQUEST")
	if raw["escalated"] != false || raw["level"] != float64(1) || raw["approvals"] != float64(0) {
		t.Fatalf("after moving on: escalated %v level %v approvals %v", raw["escalated"], raw["level"], raw["approvals"])
	}
	if err := s.MoveOn(ctx, r, 0, access.TimeoutStep{Action: access.StepNext, Level: 1}, at.Add(4*time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("moving on from a level the request left = %v, want ErrConflict", err)
	}
	var kinds []string
	for _, ev := range history(t, s, r.ID) {
		kinds = append(kinds, ev.Type)
	}
	if got := strings.Join(kinds, " "); got != "created approval_requested escalated level_timed_out" {
		t.Fatalf("history = %s", got)
	}
}
