package e2e

// Reliability tests: concurrent decisions, abused decision links and bad
// input on every route, each checked against what the table, the trust
// policy and the audit trail hold afterwards.
//
// Tests that approve (and so edit a role's trust policy) run on a second,
// private local cloud (see privateCloud), so that the trust statements they
// count are theirs alone and the role's size quota is theirs to fill.
// Everything on the shared cloud here only denies or changes nothing.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/gateway"
	"github.com/jitaccess/jit/shared/local/provision"
)

// ---------------------------------------------------------------------------
// Helpers. Everything that may run on a goroutine other than the test's
// returns an error instead of calling t.Fatal.

// reply is one HTTP response, read whole.
type reply struct {
	Code   int
	Header http.Header
	Body   string
}

// JSON decodes the body as an object; nil when it is not one.
func (r reply) JSON() map[string]any { return cloud.Reply{Body: []byte(r.Body)}.JSON() }

// signing says how doHTTP signs a request. The zero value sends it unsigned.
type signing struct {
	id *gateway.Identity
	// Faults: a wrong secret or access key, another signing time, region or
	// service, or a change to the request after it was signed.
	secret, akid    string
	at              time.Time
	region, service string
	after           func(*http.Request)
}

func signedAs(id gateway.Identity) signing { return signing{id: &id} }

// doHTTP sends one request to base+path.
func doHTTP(base, method, path string, body []byte, headers map[string]string, s signing) (reply, error) {
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if s.id != nil {
		id := *s.id
		if s.secret != "" {
			id.SecretAccessKey = s.secret
		}
		if s.akid != "" {
			id.AccessKeyID = s.akid
		}
		at, region, service := time.Now(), cloud.Region, "execute-api"
		if !s.at.IsZero() {
			at = s.at
		}
		if s.region != "" {
			region = s.region
		}
		if s.service != "" {
			service = s.service
		}
		if err := cloud.SignFor(req, body, id, service, region, at); err != nil {
			return reply{}, err
		}
	}
	if s.after != nil {
		s.after(req)
	}
	r, err := cloud.Send(req)
	return reply{Code: r.Code, Header: r.Header, Body: string(r.Body)}, err
}

// identityOf finds a local identity by name in c.
func identityOf(t testing.TB, c *cloud.Cloud, name string) gateway.Identity {
	t.Helper()
	id, err := c.Identity(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// apiCall is a signed JSON call on c that must get an answer.
func apiCall(t testing.TB, c *cloud.Cloud, who, method, path string, body any) reply {
	t.Helper()
	var raw []byte
	headers := map[string]string{}
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		headers["Content-Type"] = "application/json"
	}
	r, err := doHTTP(c.APIURL, method, path, raw, headers, signedAs(identityOf(t, c, who)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// createOn asks for resource on c as who and returns the new request's id.
func createOn(t testing.TB, c *cloud.Cloud, who, resource, duration, reason string) string {
	t.Helper()
	r := apiCall(t, c, who, "POST", "/v1/requests", map[string]string{"resource": resource, "duration": duration, "reason": reason})
	if r.Code != http.StatusCreated {
		t.Fatalf("create %s as %s: %d %s", resource, who, r.Code, r.Body)
	}
	return r.JSON()["id"].(string)
}

// snapshot is what a request looks like to its requester.
type snapshot struct {
	Status string
	Events []string // event types, oldest first
	Actors []string
}

func (s snapshot) count(typ string) int {
	n := 0
	for _, e := range s.Events {
		if e == typ {
			n++
		}
	}
	return n
}

func snapshotOf(t testing.TB, c *cloud.Cloud, who, id string) snapshot {
	t.Helper()
	r := apiCall(t, c, who, "GET", "/v1/requests/"+id, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("get %s as %s: %d %s", id, who, r.Code, r.Body)
	}
	body := r.JSON()
	s := snapshot{Status: fmt.Sprint(body["status"])}
	hist, _ := body["history"].([]any)
	for _, ev := range lifecycle(hist) {
		s.Events = append(s.Events, fmt.Sprint(ev["type"]))
		s.Actors = append(s.Actors, fmt.Sprint(ev["actor"]))
	}
	return s
}

func waitStatus(t testing.TB, c *cloud.Cloud, who, id, want string, limit time.Duration) snapshot {
	t.Helper()
	var s snapshot
	waitFor(t, id+" "+want, limit, func() bool {
		s = snapshotOf(t, c, who, id)
		return s.Status == want
	})
	return s
}

// linksFor waits until every one of emails got the approval email about id
// on c and returns each one's decision link (without the query string).
func linksFor(t testing.TB, c *cloud.Cloud, id string, emails ...string) map[string]string {
	t.Helper()
	links := map[string]string{}
	waitFor(t, "approval emails for "+id, 30*time.Second, func() bool {
		// moto's /moto-api/data.json now and then answers 500 while other
		// requests change its state; the next poll reads it fine.
		if err := c.Inbox.Poll(context.Background()); err != nil {
			t.Logf("inbox poll (will retry): %.120s", err)
			return false
		}
		for _, m := range c.Inbox.Messages() {
			if strings.Contains(m.Body, id) && len(m.Links) > 0 {
				links[m.To] = strings.SplitN(m.Links[0], "?", 2)[0]
			}
		}
		for _, e := range emails {
			if links[e] == "" {
				return false
			}
		}
		return true
	})
	return links
}

// postDecision submits the decision form as a same-origin browser would.
func postDecision(link string, form url.Values) (reply, error) {
	u, err := url.Parse(link)
	if err != nil {
		return reply{}, err
	}
	return doHTTP(u.Scheme+"://"+u.Host, "POST", u.EscapedPath(), []byte(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, signing{})
}

func getPage(link string) (reply, error) {
	u, err := url.Parse(link)
	if err != nil {
		return reply{}, err
	}
	return doHTTP(u.Scheme+"://"+u.Host, "GET", u.RequestURI(), nil, nil, signing{})
}

// trustStatements counts the statements with sid in role's trust policy
// on c.
func trustStatements(t testing.TB, c *cloud.Cloud, role, sid string) int {
	t.Helper()
	out, err := iam.NewFromConfig(provision.EmulatorConfig(c.EdgeURL, cloud.Region)).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("trust policy of %s: %v\n%s", role, err, raw)
	}
	var list []map[string]any
	if err := json.Unmarshal(doc.Statement, &list); err != nil {
		var one map[string]any
		if json.Unmarshal(doc.Statement, &one) == nil {
			list = []map[string]any{one}
		}
	}
	n := 0
	for _, s := range list {
		if s["Sid"] == sid {
			n++
		}
	}
	return n
}

// linkItem reads a decision link's item straight from the table.
func linkItem(t testing.TB, c *cloud.Cloud, link string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	token := link[strings.LastIndex(link, "/")+1:]
	sum := sha256.Sum256([]byte(token))
	out, err := tableClient(c).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(c.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"PK": &ddbtypes.AttributeValueMemberS{Value: "LINK#" + hex.EncodeToString(sum[:])},
			"SK": &ddbtypes.AttributeValueMemberS{Value: "LINK"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatalf("no link item for %s", link)
	}
	return out.Item
}

func linkUsed(t testing.TB, c *cloud.Cloud, link string) bool {
	_, used := linkItem(t, c, link)["used_at"]
	return used
}

func tableClient(c *cloud.Cloud) *dynamodb.Client {
	return dynamodb.NewFromConfig(provision.EmulatorConfig(c.EdgeURL, cloud.Region))
}

// scanTable reads every item of c's table (test-only: the product never
// scans), keyed by PK|SK, each rendered as canonical JSON.
func scanTable(t testing.TB, c *cloud.Cloud) map[string]string {
	t.Helper()
	items := map[string]string{}
	p := dynamodb.NewScanPaginator(tableClient(c), &dynamodb.ScanInput{TableName: aws.String(c.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			k := attrString(it["PK"]) + "|" + attrString(it["SK"])
			items[k] = canonical(it)
		}
	}
	return items
}

func attrString(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return fmt.Sprint(v)
}

// canonical renders an item with sorted attribute names.
func canonical(it map[string]ddbtypes.AttributeValue) string {
	names := make([]string, 0, len(it))
	for k := range it {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%s;", k, renderAttr(it[k]))
	}
	return b.String()
}

func renderAttr(v ddbtypes.AttributeValue) string {
	switch a := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return fmt.Sprintf("S%q", a.Value)
	case *ddbtypes.AttributeValueMemberN:
		return "N" + a.Value
	case *ddbtypes.AttributeValueMemberBOOL:
		return fmt.Sprintf("B%v", a.Value)
	case *ddbtypes.AttributeValueMemberL:
		parts := make([]string, len(a.Value))
		for i, e := range a.Value {
			parts[i] = renderAttr(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *ddbtypes.AttributeValueMemberM:
		return "{" + canonical(a.Value) + "}"
	case *ddbtypes.AttributeValueMemberSS:
		s := append([]string(nil), a.Value...)
		sort.Strings(s)
		return fmt.Sprintf("SS%q", s)
	case *ddbtypes.AttributeValueMemberNULL:
		return "NULL"
	}
	return fmt.Sprintf("%T", v)
}

// randomToken is a well-formed decision token that was never issued.
func randomToken(t testing.TB) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decisionResult is one of many concurrent decision POSTs.
type decisionResult struct {
	link, decision string
	reply          reply
	err            error
}

// fireDecisions posts every (link, decision) pair at once, released
// together, and returns the replies in order.
func fireDecisions(links, decisions []string) []decisionResult {
	out := make([]decisionResult, len(links))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range links {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r, err := postDecision(links[i], url.Values{"decision": {decisions[i]}, "comment": {fmt.Sprintf("tap %d", i)}})
			out[i] = decisionResult{link: links[i], decision: decisions[i], reply: r, err: err}
		}(i)
	}
	close(start)
	wg.Wait()
	return out
}

// oneWinner checks that exactly one of results committed (200 with "You
// approved" or "You denied") and every other one got a 409 page saying the
// request is already decided. It returns the winner.
func oneWinner(t *testing.T, results []decisionResult) decisionResult {
	t.Helper()
	var winners []decisionResult
	codes := map[int]int{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("decision %d: %v", i, r.err)
		}
		codes[r.reply.Code]++
		switch r.reply.Code {
		case http.StatusOK:
			want := map[string]string{"approve": "You approved", "deny": "You denied"}[r.decision]
			if !strings.Contains(r.reply.Body, want) {
				t.Errorf("decision %d (%s): 200 without %q:\n%s", i, r.decision, want, r.reply.Body)
			}
			winners = append(winners, r)
		case http.StatusConflict:
			if !strings.Contains(r.reply.Body, "Already decided") && !strings.Contains(r.reply.Body, "No decision needed") {
				t.Errorf("decision %d: 409 page does not say the request is decided:\n%s", i, r.reply.Body)
			}
			if !strings.HasPrefix(r.reply.Header.Get("Content-Type"), "text/html") {
				t.Errorf("decision %d: 409 is %s, want an HTML page", i, r.reply.Header.Get("Content-Type"))
			}
		default:
			t.Errorf("decision %d (%s): %d\n%s", i, r.decision, r.reply.Code, r.reply.Body)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d concurrent decisions: status counts %v, %d committed; want exactly one 200", len(results), codes, len(winners))
	}
	t.Logf("%d concurrent decisions: status counts %v", len(results), codes)
	return winners[0]
}

// ---------------------------------------------------------------------------
// The private cloud: its own moto, functions and policy, so that tests that
// grant can do so without racing the shared cloud's tests on one role.

const privatePolicy = `# reliability_test.go: a resource with three approvers at level 0.
# The Engineer and Approver roles stand for Identity Center roles: their
# sessions are the people they name.
identities:
  trusted_roles:
    - arn:aws:iam::123456789012:role/Engineer
    - arn:aws:iam::123456789012:role/Approver
resources:
  - name: team-admin
    description: Sandbox administrator approved by any one of three people.
    target:
      provider: iam_role_trust
      role_arn: arn:aws:iam::123456789012:role/jit-sandbox-admin
    requesters:
      - arn:aws:sts::123456789012:assumed-role/Engineer/*
    min_duration: 2s
    max_duration: 1h
    reason_min_length: 5
    approval:
      levels:
        - name: team owners
          approvers:
            - name: Carol
              email: carol@example.com
            - name: Dave
              email: dave@example.com
            - name: Erin
              email: erin@example.com
          timeout: 1h
  - name: readonly
    description: Read-only, approved by Carol.
    target:
      provider: iam_role_trust
      role_arn: arn:aws:iam::123456789012:role/jit-prod-readonly
    requesters:
      - arn:aws:sts::123456789012:assumed-role/Engineer/*
    min_duration: 2s
    max_duration: 1h
    reason_min_length: 5
    approval:
      levels:
        - approvers:
            - email: carol@example.com
          timeout: 1h
`

// privateCloud starts a local cloud with privatePolicy for t and stops it
// when t ends.
func privateCloud(t *testing.T) *cloud.Cloud {
	t.Helper()
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := sharedBuildDir(root)
	t.Logf("private cloud: functions from %q (empty: built anew)", build)
	if build == "" {
		build = filepath.Join(dir, "build")
		if err := cloud.BuildFunctions(ctx, root, build); err != nil {
			t.Fatal(err)
		}
	}
	pol := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(pol, []byte(privatePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := cloud.Start(ctx, cloud.Options{Root: root, BuildDir: build, Policy: pol})
	if err != nil {
		t.Fatalf("start private local cloud: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sharedBuildDir finds the functions TestMain built for the shared cloud,
// so the private cloud need not build them again: the runner's bootstrap
// processes are this process's children, and their executables live in
// <build>/<function>/bootstrap. It returns "" when they cannot be found
// (not Linux, or not every function there), and the caller builds.
func sharedBuildDir(root string) string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return ""
	}
	me := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at ")".
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != me {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || filepath.Base(exe) != "bootstrap" {
			continue
		}
		build := filepath.Dir(filepath.Dir(exe))
		fns, err := os.ReadDir(filepath.Join(root, "functions"))
		if err != nil {
			return ""
		}
		for _, f := range fns {
			if _, err := os.Stat(filepath.Join(build, f.Name(), "bootstrap")); f.IsDir() && err != nil {
				return ""
			}
		}
		return build
	}
	return ""
}

// TestConcurrentDecisions races many decision POSTs on a private cloud:
// one link hammered with approvals, one with approvals and denials mixed,
// and three approvers' distinct links at once. Each time exactly one POST
// commits, the audit trail has exactly one decision, and an approval is
// granted exactly once (one trust statement, one "active", then
// "expired").
func TestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	c := privateCloud(t)
	const n = 50

	// approved checks the life of a request an approval won: one grant,
	// one statement, then expiry.
	approved := func(t *testing.T, id, role, approver string) {
		t.Helper()
		s := waitStatus(t, c, "alice", id, "active", 30*time.Second)
		if got := trustStatements(t, c, role, "Jit"+id); got != 1 {
			t.Fatalf("trust policy of %s has %d statements for %s, want 1", role, got, id)
		}
		s = waitStatus(t, c, "alice", id, "expired", 60*time.Second)
		want := "created policy_evaluated approval_requested approved active expired"
		if got := strings.Join(s.Events, " "); got != want {
			t.Fatalf("history = %s, want %s", got, want)
		}
		if s.Actors[3] != approver {
			t.Fatalf("approved by %s, want %s (the POST that won)", s.Actors[3], approver)
		}
		if got := trustStatements(t, c, role, "Jit"+id); got != 0 {
			t.Fatalf("after expiry the trust policy still has %d statements for %s", got, id)
		}
	}
	denied := func(t *testing.T, id, role, approver string) {
		t.Helper()
		s := snapshotOf(t, c, "alice", id)
		want := "created policy_evaluated approval_requested denied"
		if got := strings.Join(s.Events, " "); s.Status != "denied" || got != want {
			t.Fatalf("status %s, history %s; want denied, %s", s.Status, got, want)
		}
		if s.Actors[3] != approver {
			t.Fatalf("denied by %s, want %s", s.Actors[3], approver)
		}
		// Nothing is granted later either.
		time.Sleep(2 * time.Second)
		if s := snapshotOf(t, c, "alice", id); s.Status != "denied" || len(s.Events) != 4 {
			t.Fatalf("after the denial: %+v", s)
		}
		if got := trustStatements(t, c, role, "Jit"+id); got != 0 {
			t.Fatalf("denied request has %d trust statements", got)
		}
	}

	t.Run("same link, all approve", func(t *testing.T) {
		id := createOn(t, c, "alice", "readonly", "8s", "concurrent approvals of one link")
		link := linksFor(t, c, id, "carol@example.com")["carol@example.com"]
		results := fireDecisions(repeatString(link, n), repeatString("approve", n))
		oneWinner(t, results)
		for i, r := range results {
			if r.reply.Code == http.StatusConflict && !strings.Contains(r.reply.Body, "already approved") {
				t.Errorf("decision %d: 409 page does not say \"already approved\":\n%s", i, r.reply.Body)
			}
		}
		s := snapshotOf(t, c, "alice", id)
		if s.count("approved") != 1 {
			t.Fatalf("history has %d approved events: %v", s.count("approved"), s.Events)
		}
		approved(t, id, "jit-prod-readonly", "carol@example.com")
	})

	t.Run("same link, approve and deny mixed", func(t *testing.T) {
		id := createOn(t, c, "alice", "readonly", "8s", "concurrent approve and deny on one link")
		link := linksFor(t, c, id, "carol@example.com")["carol@example.com"]
		decisions := make([]string, n)
		for i := range decisions {
			decisions[i] = []string{"approve", "deny"}[i%2]
		}
		w := oneWinner(t, fireDecisions(repeatString(link, n), decisions))
		s := snapshotOf(t, c, "alice", id)
		if got := s.count("approved") + s.count("denied"); got != 1 {
			t.Fatalf("history has %d decisions: %v", got, s.Events)
		}
		if item := linkItem(t, c, link); attrString(item["used_outcome"]) != map[string]string{"approve": "approved", "deny": "denied"}[w.decision] {
			t.Fatalf("link records outcome %s, but the %s POST won", attrString(item["used_outcome"]), w.decision)
		}
		if w.decision == "approve" {
			approved(t, id, "jit-prod-readonly", "carol@example.com")
		} else {
			denied(t, id, "jit-prod-readonly", "carol@example.com")
		}
	})

	t.Run("three approvers, distinct links", func(t *testing.T) {
		id := createOn(t, c, "alice", "team-admin", "8s", "three approvers tap at once")
		emails := []string{"carol@example.com", "dave@example.com", "erin@example.com"}
		byEmail := linksFor(t, c, id, emails...)
		owner := map[string]string{}
		for e, l := range byEmail {
			owner[l] = e
		}
		var links, decisions []string
		for i := 0; i < 51; i++ {
			links = append(links, byEmail[emails[i%3]])
			decisions = append(decisions, []string{"approve", "approve", "deny"}[(i/3)%3])
		}
		w := oneWinner(t, fireDecisions(links, decisions))
		winner := owner[w.link]
		// Only the winner's link is spent; the others stay unused and now
		// show that no decision is needed.
		for _, e := range emails {
			if used := linkUsed(t, c, byEmail[e]); used != (e == winner) {
				t.Errorf("link of %s used = %v (winner %s)", e, used, winner)
			}
		}
		for _, e := range emails {
			if e == winner {
				continue
			}
			r, err := getPage(byEmail[e])
			if err != nil || r.Code != http.StatusOK || !strings.Contains(r.Body, "No decision needed") {
				t.Errorf("loser %s's link page: %v %d\n%s", e, err, r.Code, r.Body)
			}
		}
		s := snapshotOf(t, c, "alice", id)
		if got := s.count("approved") + s.count("denied"); got != 1 {
			t.Fatalf("history has %d decisions: %v", got, s.Events)
		}
		if w.decision == "approve" {
			approved(t, id, "jit-sandbox-admin", winner)
		} else {
			denied(t, id, "jit-sandbox-admin", winner)
		}
	})

	t.Run("grants on one role at once", func(t *testing.T) { concurrentGrantsSameRole(t, c) })
}

// concurrentGrantsSameRole approves several requests for one role at once.
// Trust-policy edits are a read-modify-write of one document, serialized by
// a per-role lease (shared/grant/iamrole.go); without it concurrent grants
// overwrote each other's statements (1-2 of 8 lost in this test before the
// lease). Every request must end up active with exactly its one statement,
// or failed (the role's trust-policy size quota) with none: no grant may be
// recorded active without its statement.
func concurrentGrantsSameRole(t *testing.T, c *cloud.Cloud) {
	const k = 6
	ids := make([]string, k)
	links := make([]string, k)
	for i := range ids {
		ids[i] = createOn(t, c, "alice", "team-admin", "30s", fmt.Sprintf("parallel grant %d", i))
	}
	for i, id := range ids {
		links[i] = linksFor(t, c, id, "carol@example.com")["carol@example.com"]
	}
	for i, r := range fireDecisions(links, repeatString("approve", k)) {
		if r.err != nil || r.reply.Code != http.StatusOK {
			t.Fatalf("approve %d: %v %d %s", i, r.err, r.reply.Code, r.reply.Body)
		}
	}
	active := 0
	for _, id := range ids {
		var s snapshot
		waitFor(t, id+" granted or failed", 90*time.Second, func() bool {
			s = snapshotOf(t, c, "alice", id)
			return s.Status == "active" || s.Status == "failed" || s.Status == "expired"
		})
		got := trustStatements(t, c, "jit-sandbox-admin", "Jit"+id)
		switch s.Status {
		case "active":
			active++
			if got != 1 {
				t.Errorf("request %s is active with %d trust statements, want 1", id, got)
			}
		case "failed":
			if got != 0 {
				t.Errorf("request %s failed but has %d trust statements", id, got)
			}
		default:
			t.Errorf("request %s already %s: the 30s window ran out before the check (machine too slow?)", id, s.Status)
		}
		if s.count("active") > 1 {
			t.Errorf("request %s was granted %d times: %v", id, s.count("active"), s.Events)
		}
	}
	if active == 0 {
		t.Fatalf("none of %d concurrent grants became active", k)
	}
	t.Logf("%d concurrent grants on one role: %d active, %d refused by the quota", k, active, k-active)
}

func repeatString(s string, k int) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = s
	}
	return out
}

// ---------------------------------------------------------------------------
// Decision links on the shared cloud. Nothing here approves.

// TestLinkAbuse sends abused decision links: tampered, truncated, extended,
// random, replayed, another request's spent link, and an expired one. Each
// gets an HTML page (404 "Link not valid" or 409) and changes nothing.
func TestLinkAbuse(t *testing.T) {
	t.Parallel()
	a := createOn(t, lc, "alice", "sandbox-admin", "10m", "link abuse target "+t.Name())
	b := createOn(t, lc, "alice", "sandbox-admin", "10m", "link abuse other "+t.Name())
	linkA := linksFor(t, lc, a, "carol@example.com")["carol@example.com"]
	linkB := linksFor(t, lc, b, "carol@example.com")["carol@example.com"]
	// b is decided (denied: nothing on the shared cloud approves).
	if r, err := postDecision(linkB, url.Values{"decision": {"deny"}}); err != nil || r.Code != http.StatusOK {
		t.Fatalf("deny b: %v %d %s", err, r.Code, r.Body)
	}
	base := linkA[:strings.LastIndex(linkA, "/")+1]
	tok := linkA[len(base):]
	if len(tok) != 43 {
		t.Fatalf("token %q is not 43 characters", tok)
	}
	// flip changes the character at i to another of the alphabet that
	// keeps the token canonical (the last character carries 2 spare bits).
	flip := func(i int) string {
		c := byte('A')
		if tok[i] == 'A' {
			c = 'Q'
		}
		return tok[:i] + string(c) + tok[i+1:]
	}
	beforeA, beforeB := snapshotOf(t, lc, "alice", a), snapshotOf(t, lc, "alice", b)
	itemA, itemB := canonical(linkItem(t, lc, linkA)), canonical(linkItem(t, lc, linkB))

	invalid := []struct{ name, token string }{
		{"one character changed", flip(20)},
		{"first character changed", flip(0)},
		{"last character non-canonical", tok[:42] + "B"},
		{"truncated", tok[:42]},
		{"truncated by half", tok[:21]},
		{"extra character", tok + "A"},
		{"padded", tok + "="},
		{"random well-formed", randomToken(t)},
		{"upper-cased", strings.ToUpper(tok)},
		{"percent-encoded dot dot", "..%2F..%2Fv1%2Frequests"},
		{"plus sign", tok[:20] + "+" + tok[21:]},
	}
	for _, tt := range invalid {
		if tt.token == tok {
			continue // the mutation happened to be a no-op
		}
		for _, method := range []string{"GET", "POST"} {
			var r reply
			var err error
			if method == "GET" {
				r, err = getPage(base + tt.token)
			} else {
				r, err = postDecision(base+tt.token, url.Values{"decision": {"approve"}})
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != http.StatusNotFound || !strings.Contains(r.Body, "Link not valid") || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s: %d %s\n%s", method, tt.name, r.Code, r.Header.Get("Content-Type"), r.Body)
			}
		}
	}

	// Another request's link, spent, used again: a 409 about that request.
	for _, d := range []string{"approve", "deny"} {
		r, err := postDecision(linkB, url.Values{"decision": {d}})
		if err != nil || r.Code != http.StatusConflict || !strings.Contains(r.Body, "already denied") || strings.Contains(r.Body, a) {
			t.Errorf("replay of b's spent link (%s): %v %d\n%s", d, err, r.Code, r.Body)
		}
	}

	// Nothing above touched a or b.
	if got := snapshotOf(t, lc, "alice", a); got.Status != "pending" || len(got.Events) != len(beforeA.Events) {
		t.Fatalf("a changed: before %+v, after %+v", beforeA, got)
	}
	if got := snapshotOf(t, lc, "alice", b); got.Status != beforeB.Status || len(got.Events) != len(beforeB.Events) {
		t.Fatalf("b changed: before %+v, after %+v", beforeB, got)
	}
	if canonical(linkItem(t, lc, linkA)) != itemA || canonical(linkItem(t, lc, linkB)) != itemB {
		t.Fatal("a link item changed")
	}

	// Replay: a's link decides once, then every replay is a 409 that
	// changes nothing.
	if r, err := postDecision(linkA, url.Values{"decision": {"deny"}, "comment": {"first and only"}}); err != nil || r.Code != http.StatusOK || !strings.Contains(r.Body, "You denied") {
		t.Fatalf("deny a: %v %d\n%s", err, r.Code, r.Body)
	}
	decided := snapshotOf(t, lc, "alice", a)
	spent := canonical(linkItem(t, lc, linkA))
	for i, d := range []string{"approve", "deny", "approve"} {
		r, err := postDecision(linkA, url.Values{"decision": {d}})
		if err != nil || r.Code != http.StatusConflict || !strings.Contains(r.Body, "already denied") {
			t.Errorf("replay %d (%s): %v %d\n%s", i, d, err, r.Code, r.Body)
		}
	}
	if r, err := getPage(linkA); err != nil || r.Code != http.StatusOK || !strings.Contains(r.Body, "already denied") || strings.Contains(r.Body, `value="approve"`) {
		t.Errorf("GET of a spent link: %v %d\n%s", err, r.Code, r.Body)
	}
	if got := snapshotOf(t, lc, "alice", a); got.Status != "denied" || len(got.Events) != len(decided.Events) {
		t.Fatalf("replays changed a: %+v → %+v", decided, got)
	}
	if canonical(linkItem(t, lc, linkA)) != spent {
		t.Fatal("replays changed a's link item")
	}
}

// TestExpiredLink: link expiry equals the level timeout (1m at the least,
// 1h in the test policy), too long to wait for, so the link item's
// expires_at is moved into the past directly in the table. The page says
// the link expired, a POST is refused with 409, and nothing changes; the
// store's own condition (expires_at > now) is what refuses it even if the
// handler's check were skipped.
func TestExpiredLink(t *testing.T) {
	t.Parallel()
	id := createOn(t, lc, "alice", "sandbox-admin", "10m", "expired link "+t.Name())
	link := linksFor(t, lc, id, "carol@example.com")["carol@example.com"]
	item := linkItem(t, lc, link)
	past := time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z")
	_, err := tableClient(lc).UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(lc.Table),
		Key:       map[string]ddbtypes.AttributeValue{"PK": item["PK"], "SK": item["SK"]},
		// test-only: age the link
		UpdateExpression:          aws.String("SET expires_at = :past"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":past": &ddbtypes.AttributeValueMemberS{Value: past}},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, lc, "alice", id)
	aged := canonical(linkItem(t, lc, link))
	if r, err := getPage(link); err != nil || r.Code != http.StatusOK || !strings.Contains(r.Body, "Link expired") || strings.Contains(r.Body, `value="approve"`) {
		t.Errorf("GET expired link: %v %d\n%s", err, r.Code, r.Body)
	}
	for _, d := range []string{"approve", "deny"} {
		if r, err := postDecision(link, url.Values{"decision": {d}}); err != nil || r.Code != http.StatusConflict || !strings.Contains(r.Body, "Link expired") {
			t.Errorf("POST %s on expired link: %v %d\n%s", d, err, r.Code, r.Body)
		}
	}
	if got := snapshotOf(t, lc, "alice", id); got.Status != "pending" || len(got.Events) != len(before.Events) {
		t.Fatalf("expired link changed the request: %+v → %+v", before, got)
	}
	if canonical(linkItem(t, lc, link)) != aged {
		t.Fatal("expired link item changed")
	}
}

// ---------------------------------------------------------------------------
// Bad input on every route.

// TestBadInputChangesNothing sends every kind of bad input to every route
// and checks each gets its 4xx with a specific message, then that the
// table holds nothing new from it. bob is this test's requester (other
// tests only read as bob), frank may never create, and every body carries
// a marker (policy documents in a comment): an added or changed item
// mentioning any of them, or any change to the fixture requests or their
// links, is a failure. Items other tests write meanwhile (including policy
// versions they apply) are ignored, so the test can run in parallel.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	marker := fmt.Sprintf("badinput%d", time.Now().UnixNano())
	bob, frank := identityOf(t, lc, "bob"), identityOf(t, lc, "frank")
	alice := identityOf(t, lc, "alice")

	// Fixtures: a pending request of bob's with a live link, and one of
	// alice's that bob must not see.
	fixture := createOn(t, lc, "bob", "sandbox-admin", "10m", "fixture "+marker)
	link := linksFor(t, lc, fixture, "carol@example.com")["carol@example.com"]
	alices := createOn(t, lc, "alice", "sandbox-admin", "10m", "not bob's")
	linksFor(t, lc, alices, "carol@example.com")
	linkPath := link[strings.Index(link, "/d/"):]
	fixtureBefore := snapshotOf(t, lc, "bob", fixture)

	before := scanTable(t, lc)

	valid := func(mod func(m map[string]any)) []byte {
		m := map[string]any{"resource": "sandbox-admin", "duration": "10m", "reason": "valid reason " + marker}
		if mod != nil {
			mod(m)
		}
		b, _ := json.Marshal(m)
		return b
	}
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	cursor := func(m map[string]string) string {
		b, _ := json.Marshal(m)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range h {
			out[a] = b
		}
		return out
	}
	asBob, asFrank, asErin := signedAs(bob), signedAs(frank), signedAs(identityOf(t, lc, "erin"))
	yamlCT := map[string]string{"Content-Type": "application/yaml"}
	pol := apiCall(t, lc, "erin", "GET", "/v1/policy", nil)
	if pol.Code != http.StatusOK {
		t.Fatalf("read the policy as erin: %d %s", pol.Code, pol.Body)
	}
	// The policy in force plus a comment with the marker: were any of the
	// refused applies below applied after all, the stored copy would show.
	currentPolicy := []byte(fmt.Sprint(pol.JSON()["document"]) + "\n# " + marker + "\n")
	big := strings.Repeat("x", 17<<10)

	type badCase struct {
		name    string
		method  string
		path    string
		body    []byte
		headers map[string]string
		sign    signing
		code    int
		want    []string // substrings of the body
		field   string   // the JSON error's field, when it names one
		errType string   // x-amzn-ErrorType, for the gateway's refusals
		html    bool     // the answer is an HTML page
	}
	cases := []badCase{
		// POST /v1/requests: body shape.
		{name: "create: empty body", method: "POST", path: "/v1/requests", headers: jsonCT, sign: asBob, code: 400, want: []string{"body is required"}},
		{name: "create: whitespace body", method: "POST", path: "/v1/requests", body: []byte(" \n\t "), headers: jsonCT, sign: asBob, code: 400, want: []string{"body is required"}},
		{name: "create: truncated JSON", method: "POST", path: "/v1/requests", body: []byte(`{"resource":"sandbox-admin",`), headers: jsonCT, sign: asBob, code: 400, want: []string{"JSON ends too early"}},
		{name: "create: syntax error", method: "POST", path: "/v1/requests", body: []byte(`{"resource" "sandbox-admin"}`), headers: jsonCT, sign: asBob, code: 400, want: []string{"malformed JSON at byte"}},
		{name: "create: not JSON at all", method: "POST", path: "/v1/requests", body: []byte(`resource=sandbox-admin`), headers: jsonCT, sign: asBob, code: 400, want: []string{"malformed JSON"}},
		{name: "create: array body", method: "POST", path: "/v1/requests", body: []byte(`[` + string(valid(nil)) + `]`), headers: jsonCT, sign: asBob, code: 400, want: []string{"body is not valid", "not array"}},
		{name: "create: string body", method: "POST", path: "/v1/requests", body: []byte(`"sandbox-admin"`), headers: jsonCT, sign: asBob, code: 400, want: []string{"body is not valid"}},
		{name: "create: null body", method: "POST", path: "/v1/requests", body: []byte(`null`), headers: jsonCT, sign: asBob, code: 400, want: []string{"resource: is required"}, field: "resource"},
		{name: "create: two objects", method: "POST", path: "/v1/requests", body: append(valid(nil), valid(nil)...), headers: jsonCT, sign: asBob, code: 400, want: []string{"single JSON object"}},
		{name: "create: trailing garbage", method: "POST", path: "/v1/requests", body: append(valid(nil), []byte(` x`)...), headers: jsonCT, sign: asBob, code: 400, want: []string{"single JSON object"}},
		// Wrong types.
		{name: "create: duration is a number", method: "POST", path: "/v1/requests", body: valid(set("duration", 600)), headers: jsonCT, sign: asBob, code: 400, want: []string{`field "duration" must be a string, not number`}},
		{name: "create: resource is an array", method: "POST", path: "/v1/requests", body: valid(set("resource", []string{"sandbox-admin"})), headers: jsonCT, sign: asBob, code: 400, want: []string{`field "resource" must be a string, not array`}},
		{name: "create: reason is an object", method: "POST", path: "/v1/requests", body: valid(set("reason", map[string]string{"why": marker})), headers: jsonCT, sign: asBob, code: 400, want: []string{`field "reason" must be a string, not object`}},
		{name: "create: reason is a bool", method: "POST", path: "/v1/requests", body: valid(set("reason", true)), headers: jsonCT, sign: asBob, code: 400, want: []string{`field "reason" must be a string, not bool`}},
		// Missing and unknown fields.
		{name: "create: empty object", method: "POST", path: "/v1/requests", body: []byte(`{}`), headers: jsonCT, sign: asBob, code: 400, want: []string{"resource: is required"}, field: "resource"},
		{name: "create: no resource", method: "POST", path: "/v1/requests", body: valid(del("resource")), headers: jsonCT, sign: asBob, code: 400, want: []string{"resource: is required"}, field: "resource"},
		{name: "create: no reason", method: "POST", path: "/v1/requests", body: valid(del("reason")), headers: jsonCT, sign: asBob, code: 400, want: []string{"reason: is required"}, field: "reason"},
		{name: "create: unknown field", method: "POST", path: "/v1/requests", body: valid(set("role_arn", "arn:aws:iam::123456789012:role/x")), headers: jsonCT, sign: asBob, code: 400, want: []string{`unknown field "role_arn"`}},
		{name: "create: requester in body", method: "POST", path: "/v1/requests", body: valid(set("requester", alice.PrincipalARN)), headers: jsonCT, sign: asBob, code: 400, want: []string{`unknown field "requester"`}},
		{name: "create: field name case", method: "POST", path: "/v1/requests", body: []byte(`{"Resource":"sandbox-admin","duration":"10m","reason":"valid reason ` + marker + `","RESOURCE":"x","Extra":1}`), headers: jsonCT, sign: asBob, code: 400, want: []string{`unknown field "Extra"`}},
		// Size.
		{name: "create: body over 16 KiB", method: "POST", path: "/v1/requests", body: valid(set("reason", big)), headers: jsonCT, sign: asBob, code: 413, want: []string{"the limit is 16384"}},
		{name: "create: reason over 1000 characters", method: "POST", path: "/v1/requests", body: valid(set("reason", marker+strings.Repeat("é", 1000))), headers: jsonCT, sign: asBob, code: 400, want: []string{"the limit is 1000"}, field: "reason"},
		{name: "create: resource of 10000 characters", method: "POST", path: "/v1/requests", body: valid(set("resource", strings.Repeat("a", 10000))), headers: jsonCT, sign: asBob, code: 400, want: []string{"is not a resource in the policy"}, field: "resource"},
		{name: "create: duration of 5000 characters", method: "POST", path: "/v1/requests", body: valid(set("duration", strings.Repeat("9", 5000))), headers: jsonCT, sign: asBob, code: 400, want: []string{"is not a duration"}, field: "duration"},
		// Policy rules.
		{name: "create: unknown resource", method: "POST", path: "/v1/requests", body: valid(set("resource", "prod-root")), headers: jsonCT, sign: asBob, code: 400, want: []string{`"prod-root" is not a resource in the policy`}, field: "resource"},
		{name: "create: duration zero", method: "POST", path: "/v1/requests", body: valid(set("duration", "0s")), headers: jsonCT, sign: asBob, code: 400, want: []string{"must be positive"}, field: "duration"},
		{name: "create: duration 0", method: "POST", path: "/v1/requests", body: valid(set("duration", "0")), headers: jsonCT, sign: asBob, code: 400, want: []string{"must be positive"}, field: "duration"},
		{name: "create: duration negative", method: "POST", path: "/v1/requests", body: valid(set("duration", "-10m")), headers: jsonCT, sign: asBob, code: 400, want: []string{"must be positive"}, field: "duration"},
		{name: "create: duration over max", method: "POST", path: "/v1/requests", body: valid(set("duration", "4h1s")), headers: jsonCT, sign: asBob, code: 400, want: []string{"exceeds the 4h maximum"}, field: "duration"},
		{name: "create: duration under min", method: "POST", path: "/v1/requests", body: valid(set("duration", "4s")), headers: jsonCT, sign: asBob, code: 400, want: []string{"shorter than the 5s minimum"}, field: "duration"},
		{name: "create: duration overflow", method: "POST", path: "/v1/requests", body: valid(set("duration", "9999999999h")), headers: jsonCT, sign: asBob, code: 400, want: []string{"is not a duration"}, field: "duration"},
		{name: "create: duration fractional second", method: "POST", path: "/v1/requests", body: valid(set("duration", "90.5s")), headers: jsonCT, sign: asBob, code: 400, want: []string{"whole number of seconds"}, field: "duration"},
		{name: "create: duration unparseable", method: "POST", path: "/v1/requests", body: valid(set("duration", "a while")), headers: jsonCT, sign: asBob, code: 400, want: []string{`"a while" is not a duration`}, field: "duration"},
		{name: "create: duration in days", method: "POST", path: "/v1/requests", body: valid(set("duration", "1d")), headers: jsonCT, sign: asBob, code: 400, want: []string{"is not a duration"}, field: "duration"},
		{name: "create: reason too short", method: "POST", path: "/v1/requests", body: valid(set("reason", "fix")), headers: jsonCT, sign: asBob, code: 400, want: []string{"at least 5 characters"}, field: "reason"},
		{name: "create: reason only spaces", method: "POST", path: "/v1/requests", body: valid(set("reason", "      \t\n ")), headers: jsonCT, sign: asBob, code: 400, want: []string{"reason: is required"}, field: "reason"},
		// Headers.
		{name: "create: text/plain", method: "POST", path: "/v1/requests", body: valid(nil), headers: map[string]string{"Content-Type": "text/plain"}, sign: asBob, code: 415, want: []string{"Content-Type must be application/json"}},
		{name: "create: form content type", method: "POST", path: "/v1/requests", body: valid(nil), headers: formCT, sign: asBob, code: 415, want: []string{"Content-Type must be application/json"}},
		{name: "create: Idempotency-Key with a space", method: "POST", path: "/v1/requests", body: valid(nil), headers: with(jsonCT, "Idempotency-Key", marker+" x"), sign: asBob, code: 400, want: []string{"Idempotency-Key: must be 1 to 128"}, field: "Idempotency-Key"},
		{name: "create: Idempotency-Key of 129 characters", method: "POST", path: "/v1/requests", body: valid(nil), headers: with(jsonCT, "Idempotency-Key", marker+strings.Repeat("k", 129)), sign: asBob, code: 400, want: []string{"Idempotency-Key: must be 1 to 128"}, field: "Idempotency-Key"},
		{name: "create: Idempotency-Key with a slash", method: "POST", path: "/v1/requests", body: valid(nil), headers: with(jsonCT, "Idempotency-Key", marker+"/../x"), sign: asBob, code: 400, want: []string{"Idempotency-Key: must be 1 to 128"}, field: "Idempotency-Key"},
		// Who may ask.
		{name: "create: requester not in policy", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: asFrank, code: 403, want: []string{"may not request \"sandbox-admin\""}},
		{name: "create: legacy-admin not allowed to ci-bot", method: "POST", path: "/v1/requests", body: valid(set("resource", "legacy-admin")), headers: jsonCT, sign: signedAs(identityOf(t, lc, "ci-bot")), code: 403, want: []string{"may not request \"legacy-admin\""}},
		// Signatures.
		{name: "create: unsigned", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "create: wrong secret", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: signing{id: &bob, secret: "not-bobs-secret"}, code: 403, errType: "InvalidSignatureException", want: []string{"signature we calculated does not match"}},
		{name: "create: unknown access key", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: signing{id: &bob, akid: "AKIAJITLOCALNOBODY99"}, code: 403, errType: "UnrecognizedClientException"},
		{name: "create: body changed after signing", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: signing{id: &bob, after: func(r *http.Request) {
			b := valid(set("duration", "4h"))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}}, code: 403, errType: "InvalidSignatureException"},
		{name: "create: signed an hour ago", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: signing{id: &bob, at: time.Now().Add(-time.Hour)}, code: 403, errType: "InvalidSignatureException", want: []string{"Signature expired"}},
		{name: "create: signed for another region", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: signing{id: &bob, region: "eu-west-1"}, code: 403, errType: "InvalidSignatureException"},
		{name: "create: signed for another service", method: "POST", path: "/v1/requests", body: valid(nil), headers: jsonCT, sign: signing{id: &bob, service: "iam"}, code: 403, errType: "InvalidSignatureException"},
		{name: "create: garbage Authorization", method: "POST", path: "/v1/requests", body: valid(nil), headers: with(jsonCT, "Authorization", "AWS4-HMAC-SHA256 nonsense"), code: 403, errType: "IncompleteSignatureException"},
		{name: "create: Authorization of another scheme", method: "POST", path: "/v1/requests", body: valid(nil), headers: with(jsonCT, "Authorization", "Bearer "+marker), code: 403},

		// GET /v1/requests.
		{name: "list: limit 0", method: "GET", path: "/v1/requests?limit=0", sign: asBob, code: 400, want: []string{"limit: must be a whole number from 1 to 100"}, field: "limit"},
		{name: "list: limit negative", method: "GET", path: "/v1/requests?limit=-1", sign: asBob, code: 400, field: "limit"},
		{name: "list: limit 101", method: "GET", path: "/v1/requests?limit=101", sign: asBob, code: 400, field: "limit"},
		{name: "list: limit not a number", method: "GET", path: "/v1/requests?limit=ten", sign: asBob, code: 400, field: "limit"},
		{name: "list: limit fractional", method: "GET", path: "/v1/requests?limit=1.5", sign: asBob, code: 400, field: "limit"},
		{name: "list: limit empty", method: "GET", path: "/v1/requests?limit=", sign: asBob, code: 400, field: "limit"},
		{name: "list: limit huge", method: "GET", path: "/v1/requests?limit=99999999999999999999", sign: asBob, code: 400, field: "limit"},
		{name: "list: limit twice", method: "GET", path: "/v1/requests?limit=1&limit=2", sign: asBob, code: 400, field: "limit"},
		{name: "list: cursor not base64", method: "GET", path: "/v1/requests?cursor=%21%21%21", sign: asBob, code: 400, want: []string{"cursor: not a cursor returned by this list"}, field: "cursor"},
		{name: "list: cursor not JSON", method: "GET", path: "/v1/requests?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("hello")), sign: asBob, code: 400, field: "cursor"},
		{name: "list: cursor of another requester", method: "GET", path: "/v1/requests?cursor=" + cursor(map[string]string{"GSI1PK": "REQUESTER#" + alice.PrincipalARN, "GSI1SK": "x", "PK": "REQ#x", "SK": "REQUEST"}), sign: asBob, code: 400, field: "cursor"},
		{name: "list: cursor with extra keys", method: "GET", path: "/v1/requests?cursor=" + cursor(map[string]string{"GSI1PK": "REQUESTER#" + bob.PrincipalARN, "GSI1SK": "x", "PK": "REQ#x", "SK": "REQUEST", "GSI2PK": "y"}), sign: asBob, code: 400, field: "cursor"},
		{name: "list: cursor missing keys", method: "GET", path: "/v1/requests?cursor=" + cursor(map[string]string{"GSI1PK": "REQUESTER#" + bob.PrincipalARN}), sign: asBob, code: 400, field: "cursor"},
		{name: "list: unknown parameter", method: "GET", path: "/v1/requests?status=active", sign: asBob, code: 400, want: []string{"is not a known query parameter"}, field: "status"},
		{name: "list: unsigned", method: "GET", path: "/v1/requests", code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "list: wrong secret", method: "GET", path: "/v1/requests", sign: signing{id: &bob, secret: "x"}, code: 403, errType: "InvalidSignatureException"},

		// GET /v1/requests/{id}.
		{name: "get: malformed id", method: "GET", path: "/v1/requests/not-an-id", sign: asBob, code: 404, want: []string{"no request with id"}},
		{name: "get: upper-case id", method: "GET", path: "/v1/requests/" + strings.ToUpper(fixture), sign: asBob, code: 404},
		{name: "get: id one character short", method: "GET", path: "/v1/requests/" + fixture[:25], sign: asBob, code: 404},
		{name: "get: id with encoded slash", method: "GET", path: "/v1/requests/..%2F" + fixture, sign: asBob, code: 404},
		{name: "get: unknown well-formed id", method: "GET", path: "/v1/requests/01aaaaaaaaaaaaaaaaaaaaaaaa", sign: asBob, code: 404, want: []string{"no request with id"}},
		{name: "get: someone else's request", method: "GET", path: "/v1/requests/" + alices, sign: asBob, code: 404, want: []string{"no request with id"}},
		{name: "get: unsigned", method: "GET", path: "/v1/requests/" + fixture, code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "get: signed by another key", method: "GET", path: "/v1/requests/" + fixture, sign: signing{id: &bob, akid: alice.AccessKeyID}, code: 403, errType: "InvalidSignatureException"},

		// POST /v1/requests/{id}/cancel, /revoke, /extend.
		{name: "cancel: malformed id", method: "POST", path: "/v1/requests/nope/cancel", sign: asBob, code: 404, want: []string{"no request with id"}},
		{name: "cancel: someone else's request", method: "POST", path: "/v1/requests/" + alices + "/cancel", sign: asBob, code: 404, want: []string{"no request with id"}},
		{name: "cancel: unsigned", method: "POST", path: "/v1/requests/" + fixture + "/cancel", code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "revoke: a pending request", method: "POST", path: "/v1/requests/" + fixture + "/revoke", sign: asBob, code: 409, want: []string{"only active access can be revoked"}},
		{name: "revoke: someone else's request", method: "POST", path: "/v1/requests/" + alices + "/revoke", sign: asBob, code: 404},
		{name: "revoke: malformed id", method: "POST", path: "/v1/requests/" + fixture + "x/revoke", sign: asBob, code: 404},
		{name: "revoke: unsigned", method: "POST", path: "/v1/requests/" + fixture + "/revoke", code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "extend: a pending request", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":"5m"}`), headers: jsonCT, sign: asBob, code: 409, want: []string{"only active access can be extended"}},
		{name: "extend: no body", method: "POST", path: "/v1/requests/" + fixture + "/extend", headers: jsonCT, sign: asBob, code: 400, want: []string{"body is required"}},
		{name: "extend: truncated JSON", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":`), headers: jsonCT, sign: asBob, code: 400, want: []string{"JSON ends too early"}},
		{name: "extend: by missing", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{}`), headers: jsonCT, sign: asBob, code: 400, field: "by"},
		{name: "extend: by zero", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":"0s"}`), headers: jsonCT, sign: asBob, code: 400, want: []string{"must be positive"}, field: "by"},
		{name: "extend: by negative", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":"-5m"}`), headers: jsonCT, sign: asBob, code: 400, field: "by"},
		{name: "extend: by a number", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":300}`), headers: jsonCT, sign: asBob, code: 400, want: []string{`field "by" must be a string`}},
		{name: "extend: unknown field", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":"5m","until":"2030-01-01T00:00:00Z"}`), headers: jsonCT, sign: asBob, code: 400, want: []string{`unknown field "until"`}},
		{name: "extend: text/plain", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":"5m"}`), headers: map[string]string{"Content-Type": "text/plain"}, sign: asBob, code: 415},
		{name: "extend: body over 16 KiB", method: "POST", path: "/v1/requests/" + fixture + "/extend", body: []byte(`{"by":"` + big + `"}`), headers: jsonCT, sign: asBob, code: 413},
		{name: "extend: someone else's request", method: "POST", path: "/v1/requests/" + alices + "/extend", body: []byte(`{"by":"5m"}`), headers: jsonCT, sign: asBob, code: 404},

		// The policy routes.
		{name: "policy: read by a requester", method: "GET", path: "/v1/policy", sign: asBob, code: 403, want: []string{"only admins and auditors"}},
		{name: "policy: version 0", method: "GET", path: "/v1/policy?version=0", sign: asErin, code: 400, field: "version"},
		{name: "policy: version not a number", method: "GET", path: "/v1/policy?version=latest", sign: asErin, code: 400, field: "version"},
		{name: "policy: version that does not exist", method: "GET", path: "/v1/policy?version=99999", sign: asErin, code: 404, want: []string{"no such policy version"}},
		{name: "policy: unsigned", method: "GET", path: "/v1/policy", code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "apply: by a requester", method: "PUT", path: "/v1/policy", body: currentPolicy, headers: yamlCT, sign: asBob, code: 403, want: []string{"only admins"}},
		{name: "apply: by an auditor", method: "PUT", path: "/v1/policy", body: currentPolicy, headers: yamlCT, sign: asFrank, code: 403, want: []string{"only admins"}},
		{name: "apply: empty body", method: "PUT", path: "/v1/policy", headers: yamlCT, sign: asErin, code: 400, want: []string{"body is required"}},
		{name: "apply: not YAML", method: "PUT", path: "/v1/policy", body: []byte("# " + marker + "\nresources: [\n"), headers: yamlCT, sign: asErin, code: 400},
		{name: "apply: no resources", method: "PUT", path: "/v1/policy", body: []byte("# " + marker + "\nresources: []\n"), headers: yamlCT, sign: asErin, code: 400, want: []string{"at least one resource"}},
		{name: "apply: unknown field", method: "PUT", path: "/v1/policy", body: append(append([]byte{}, currentPolicy...), []byte("\nowner: "+marker+"\n")...), headers: yamlCT, sign: asErin, code: 400},
		{name: "apply: stale If-Match", method: "PUT", path: "/v1/policy", body: currentPolicy, headers: with(yamlCT, "If-Match", "99999"), sign: asErin, code: 412, want: []string{"the policy is at version"}},
		{name: "apply: If-Match not a number", method: "PUT", path: "/v1/policy", body: currentPolicy, headers: with(yamlCT, "If-Match", "v2"), sign: asErin, code: 400, field: "If-Match"},
		{name: "apply: over 256 KiB", method: "PUT", path: "/v1/policy", body: []byte("# " + marker + strings.Repeat("x", 257<<10) + "\n"), headers: yamlCT, sign: asErin, code: 413},
		{name: "validate: by a requester", method: "POST", path: "/v1/policy/validate", body: currentPolicy, headers: yamlCT, sign: asBob, code: 403},
		{name: "validate: garbage", method: "POST", path: "/v1/policy/validate", body: []byte("\x00\x01{{{" + marker), headers: yamlCT, sign: asErin, code: 400},
		{name: "validate: a JSON list", method: "POST", path: "/v1/policy/validate", body: []byte(`["` + marker + `"]`), headers: jsonCT, sign: asErin, code: 400},

		// Routes that do not exist.
		{name: "no route: DELETE a request", method: "DELETE", path: "/v1/requests/" + fixture, sign: asBob, code: 404, want: []string{"Not Found"}},
		{name: "no route: PUT a decision", method: "PUT", path: linkPath, body: []byte("decision=approve"), headers: formCT, code: 404, want: []string{"Not Found"}},

		// GET /d/{token}.
		{name: "page: malformed token", method: "GET", path: "/d/not-a-token", code: 404, want: []string{"Link not valid"}, html: true},
		{name: "page: unknown token", method: "GET", path: "/d/" + randomToken(t), code: 404, want: []string{"Link not valid"}, html: true},

		// POST /d/{token} on the fixture's live link.
		{name: "decide: no decision", method: "POST", path: linkPath, body: []byte("comment=" + marker), headers: formCT, code: 400, want: []string{"Choose approve or deny"}, html: true},
		{name: "decide: empty form", method: "POST", path: linkPath, headers: formCT, code: 400, want: []string{"Choose approve or deny"}, html: true},
		{name: "decide: unknown decision", method: "POST", path: linkPath, body: []byte("decision=maybe"), headers: formCT, code: 400, want: []string{"Choose approve or deny"}, html: true},
		{name: "decide: decision in capitals", method: "POST", path: linkPath, body: []byte("decision=APPROVE"), headers: formCT, code: 400, want: []string{"Choose approve or deny"}, html: true},
		{name: "decide: decision with spaces", method: "POST", path: linkPath, body: []byte("decision=+approve+"), headers: formCT, code: 400, want: []string{"Choose approve or deny"}, html: true},
		{name: "decide: decision in the query only", method: "POST", path: linkPath + "?decision=approve", headers: formCT, code: 400, want: []string{"Choose approve or deny"}, html: true},
		{name: "decide: JSON body", method: "POST", path: linkPath, body: []byte(`{"decision":"approve"}`), headers: jsonCT, code: 400, want: []string{"must be sent as application/x-www-form-urlencoded"}, html: true},
		{name: "decide: multipart body", method: "POST", path: linkPath, body: []byte("--b\r\nContent-Disposition: form-data; name=\"decision\"\r\n\r\napprove\r\n--b--\r\n"), headers: map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, code: 400, want: []string{"must be sent as application/x-www-form-urlencoded"}, html: true},
		{name: "decide: no content type", method: "POST", path: linkPath, body: []byte("decision=approve"), code: 400, want: []string{"must be sent as application/x-www-form-urlencoded"}, html: true},
		{name: "decide: malformed form", method: "POST", path: linkPath, body: []byte("decision=approve&%zz"), headers: formCT, code: 400, want: []string{"not readable"}, html: true},
		{name: "decide: comment over 500 characters", method: "POST", path: linkPath, body: []byte(url.Values{"decision": {"approve"}, "comment": {marker + strings.Repeat("ü", 500)}}.Encode()), headers: formCT, code: 400, want: []string{"Comment too long", "the limit is 500"}, html: true},
		{name: "decide: form over 4 KiB", method: "POST", path: linkPath, body: []byte(url.Values{"decision": {"approve"}, "comment": {marker + strings.Repeat("c", 5000)}}.Encode()), headers: formCT, code: 400, want: []string{"larger than 4096 bytes"}, html: true},
		{name: "decide: cross-site Origin", method: "POST", path: linkPath, body: []byte("decision=approve"), headers: with(formCT, "Origin", "https://evil.example"), code: 403, want: []string{"submitted from another site"}, html: true},
		{name: "decide: Sec-Fetch-Site cross-site", method: "POST", path: linkPath, body: []byte("decision=approve"), headers: with(formCT, "Sec-Fetch-Site", "cross-site"), code: 403, want: []string{"submitted from another site"}, html: true},
		{name: "decide: Sec-Fetch-Site same-site", method: "POST", path: linkPath, body: []byte("decision=approve"), headers: with(formCT, "Sec-Fetch-Site", "same-site"), code: 403, want: []string{"submitted from another site"}, html: true},
		{name: "decide: Origin null", method: "POST", path: linkPath, body: []byte("decision=approve"), headers: with(formCT, "Origin", "null"), code: 403, want: []string{"submitted from another site"}, html: true},
		{name: "decide: malformed Origin", method: "POST", path: linkPath, body: []byte("decision=approve"), headers: with(formCT, "Origin", "http://[::1"), code: 403, want: []string{"submitted from another site"}, html: true},
		{name: "decide: unknown token", method: "POST", path: "/d/" + randomToken(t), body: []byte("decision=approve"), headers: formCT, code: 404, want: []string{"Link not valid"}, html: true},
		{name: "decide: signed requester posts a token of the wrong shape", method: "POST", path: "/d/" + fixture, body: []byte("decision=approve"), headers: formCT, sign: asBob, code: 404, want: []string{"Link not valid"}, html: true},
		// Audit search, export, sign-in links and stats.
		{name: "audit: as a requester", method: "GET", path: "/v1/audit", sign: asBob, code: 403, want: []string{"only auditors and admins"}},
		{name: "audit: unsigned", method: "GET", path: "/v1/audit", code: 403, errType: "MissingAuthenticationTokenException"},
		{name: "audit: unknown parameter", method: "GET", path: "/v1/audit?colour=" + marker, sign: asFrank, code: 400, want: []string{`"colour" is not a parameter here`}, field: "colour"},
		{name: "audit: parameter without a name", method: "GET", path: "/v1/audit?=" + marker, sign: asFrank, code: 400, want: []string{"is not a parameter here"}, field: "query"},
		{name: "audit: from unparseable", method: "GET", path: "/v1/audit?from=yesterday", sign: asFrank, code: 400, want: []string{"RFC 3339"}, field: "from"},
		{name: "audit: to unparseable", method: "GET", path: "/v1/audit?to=2026-13-01T00:00:00Z", sign: asFrank, code: 400, want: []string{"RFC 3339"}, field: "to"},
		{name: "audit: period backwards", method: "GET", path: "/v1/audit?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", sign: asFrank, code: 400, want: []string{"must not be after to"}, field: "from"},
		{name: "audit: period over 400 days", method: "GET", path: "/v1/audit?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", sign: asFrank, code: 400, want: []string{"at most 400 days"}, field: "from"},
		{name: "audit: limit 0", method: "GET", path: "/v1/audit?limit=0", sign: asFrank, code: 400, want: []string{"from 1 to 200"}, field: "limit"},
		{name: "audit: limit 201", method: "GET", path: "/v1/audit?limit=201", sign: asFrank, code: 400, want: []string{"from 1 to 200"}, field: "limit"},
		{name: "audit: unknown status", method: "GET", path: "/v1/audit?status=gone", sign: asFrank, code: 400, want: []string{"must be one of"}, field: "status"},
		{name: "audit: action with capitals", method: "GET", path: "/v1/audit?action=Approved", sign: asFrank, code: 400, want: []string{"event type"}, field: "action"},
		{name: "audit: requester with a space", method: "GET", path: "/v1/audit?requester=alice%20x", sign: asFrank, code: 400, want: []string{"1 to 256 characters"}, field: "requester"},
		{name: "audit: resource of 300 characters", method: "GET", path: "/v1/audit?resource=" + strings.Repeat("r", 300), sign: asFrank, code: 400, want: []string{"1 to 256 characters"}, field: "resource"},
		{name: "audit: forged cursor", method: "GET", path: "/v1/audit?cursor=" + cursor(map[string]string{"b": "2026-11", "k": "x", "q": "0000"}), sign: asFrank, code: 400, want: []string{"not a cursor returned by this list"}, field: "cursor"},
		{name: "audit: cursor not base64", method: "GET", path: "/v1/audit?cursor=%25%25", sign: asFrank, code: 400, want: []string{"not a cursor returned by this list"}, field: "cursor"},
		{name: "export: unknown format", method: "GET", path: "/v1/audit/export?format=xml", sign: asFrank, code: 400, want: []string{"must be csv or json"}, field: "format"},
		{name: "export: limit 1001", method: "GET", path: "/v1/audit/export?limit=1001", sign: asFrank, code: 400, want: []string{"from 1 to 1000"}, field: "limit"},
		{name: "export: as a requester", method: "GET", path: "/v1/audit/export", sign: asBob, code: 403, want: []string{"only auditors and admins"}},
		{name: "sign-in link: as a requester", method: "POST", path: "/v1/audit/sessions", sign: asBob, code: 403, want: []string{"only auditors and admins"}},
		{name: "stats: as a requester", method: "GET", path: "/v1/stats", sign: asBob, code: 403, want: []string{"only auditors and admins"}},
		{name: "stats: unknown parameter", method: "GET", path: "/v1/stats?action=created", sign: asFrank, code: 400, want: []string{`"action" is not a parameter here`}, field: "action"},
		{name: "stats: period over 92 days", method: "GET", path: "/v1/stats?from=2026-01-01T00:00:00Z&to=2026-11-01T00:00:00Z", sign: asFrank, code: 400, want: []string{"at most 92 days"}, field: "from"},
		{name: "auditor page: no session", method: "GET", path: "/audit?resource=" + marker, code: 401, want: []string{"You are not signed in"}, html: true},
		{name: "auditor page: forged session cookie", method: "GET", path: "/audit", headers: map[string]string{"Cookie": "jit_audit=" + randomToken(t)}, code: 401, want: []string{"not valid"}, html: true},
		{name: "auditor page: export without a session", method: "GET", path: "/audit/export", code: 401, want: []string{"You are not signed in"}, html: true},
		{name: "auditor page: unknown sign-in link, posted", method: "POST", path: "/audit/session/" + randomToken(t), code: 404, want: []string{"Sign-in link not valid"}, html: true},
		{name: "auditor page: unknown sign-in link, opened", method: "GET", path: "/audit/session/" + randomToken(t), code: 404, want: []string{"Sign-in link not valid"}, html: true},
		{name: "auditor page: malformed sign-in link", method: "GET", path: "/audit/session/nope", code: 404, want: []string{"Sign-in link not valid"}, html: true},
	}

	for _, tc := range cases {
		r, err := doHTTP(lc.APIURL, tc.method, tc.path, tc.body, tc.headers, tc.sign)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var problems []string
		if r.Code != tc.code {
			problems = append(problems, fmt.Sprintf("status %d, want %d", r.Code, tc.code))
		}
		text := r.Body // for JSON answers, the decoded message
		if m, ok := r.JSON()["message"].(string); ok {
			text = m
		}
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				problems = append(problems, fmt.Sprintf("message lacks %q", w))
			}
		}
		ct := r.Header.Get("Content-Type")
		switch {
		case tc.html:
			if !strings.HasPrefix(ct, "text/html") {
				problems = append(problems, "Content-Type "+ct+", want an HTML page")
			}
			if r.Header.Get("Content-Security-Policy") == "" || r.Header.Get("Cache-Control") != "no-store" {
				problems = append(problems, "page lacks its security headers")
			}
		default:
			body := r.JSON()
			switch {
			case !strings.HasPrefix(ct, "application/json") || body == nil:
				problems = append(problems, "not a JSON error: "+ct)
			case tc.errType != "" || r.Code == 404 && strings.HasPrefix(tc.name, "no route"):
				// The gateway's own refusal: {"message": ...}.
				if got := r.Header.Get("X-Amzn-Errortype"); tc.errType != "" && got != tc.errType {
					problems = append(problems, fmt.Sprintf("x-amzn-ErrorType %q, want %q", got, tc.errType))
				}
				if body["message"] == nil || body["message"] == "" {
					problems = append(problems, "no message")
				}
			case r.Code == 403 && tc.sign.id == nil:
				// unsigned with some Authorization header: the gateway's 403
			default:
				// The API's own error: {"error", "message"[, "field"]}.
				if body["error"] == nil || body["message"] == nil || body["message"] == "" {
					problems = append(problems, "error body lacks error/message")
				}
				if tc.field != "" && body["field"] != tc.field {
					problems = append(problems, fmt.Sprintf("field %v, want %q", body["field"], tc.field))
				}
			}
		}
		if len(r.Body) > 64<<10 {
			problems = append(problems, fmt.Sprintf("answer of %d bytes echoes the input", len(r.Body)))
		}
		if len(problems) > 0 {
			b := r.Body
			if len(b) > 600 {
				b = b[:600] + "…"
			}
			t.Errorf("%s: %s\n%s", tc.name, strings.Join(problems, "; "), b)
		}
	}
	t.Logf("%d bad inputs sent", len(cases))

	// The fixture is exactly as it was, and the table holds nothing from
	// the bad inputs.
	if got := snapshotOf(t, lc, "bob", fixture); got.Status != "pending" || len(got.Events) != len(fixtureBefore.Events) {
		t.Errorf("fixture changed: %+v → %+v", fixtureBefore, got)
	}
	after := scanTable(t, lc)
	ours := []string{bob.PrincipalARN, frank.PrincipalARN, marker, fixture, alices}
	mentionsOurs := func(item string) bool {
		for _, s := range ours {
			if strings.Contains(item, s) {
				return true
			}
		}
		return false
	}
	sum := sha256.Sum256([]byte(link[strings.LastIndex(link, "/")+1:]))
	fixtureLinkKey := "LINK#" + hex.EncodeToString(sum[:]) + "|LINK"
	others := 0
	for k, v := range after {
		old, existed := before[k]
		switch {
		case existed && old == v:
		case strings.HasPrefix(k, "LEASE#"):
			// A role's lease item keeps every grant statement of the role,
			// bob's included, and other tests' grants and revokes edit it
			// meanwhile. A bad input that granted or revoked anything
			// would also have changed a request or written an event, which
			// the other cases catch.
			others++
		case k == fixtureLinkKey, mentionsOurs(v), existed && mentionsOurs(old):
			t.Errorf("bad input changed the table: %s\n before: %s\n after:  %s", k, old, v)
		default:
			others++
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok && (mentionsOurs(v) || k == fixtureLinkKey) {
			t.Errorf("bad input removed %s: %s", k, v)
		}
	}
	t.Logf("table: %d items before, %d after (%d added or changed by other tests meanwhile)", len(before), len(after), others)
}

// TestGetDoesNotRevealOthersRequests: someone else's request is answered
// 404 so that ids cannot be probed, so its answer must not differ from the
// answer for an id that does not exist. (It did: an unknown id said "no
// such request", someone else's `no request with id "<id>"`.)
func TestGetDoesNotRevealOthersRequests(t *testing.T) {
	t.Parallel()
	theirs := createOn(t, lc, "alice", "sandbox-admin", "10m", "probe target "+t.Name())
	missing := "01aaaaaaaaaaaaaaaaaaaaaaaa"
	a := apiCall(t, lc, "bob", "GET", "/v1/requests/"+theirs, nil)
	b := apiCall(t, lc, "bob", "GET", "/v1/requests/"+missing, nil)
	if a.Code != http.StatusNotFound || b.Code != http.StatusNotFound {
		t.Fatalf("codes %d and %d, want 404 for both", a.Code, b.Code)
	}
	if x, y := strings.ReplaceAll(a.Body, theirs, "ID"), strings.ReplaceAll(b.Body, missing, "ID"); x != y {
		t.Fatalf("someone else's request and a missing one are told apart:\n theirs:  %s\n missing: %s", a.Body, b.Body)
	}
}
