package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// chainRequest is a pending request with a two-level chain: two of two
// approvers at level 0, then one at level 1.
func chainRequest(t *testing.T, s *store.Store) *access.Request {
	t.Helper()
	r := newRequest(t, unique(t, "alice"), t0)
	r.Approvers = nil
	r.Chain = []access.Level{
		{Name: "team", Approvers: []string{"bob@example.com", "carol@example.com"}, MinApprovals: 2, OnTimeout: "next"},
		{Name: "security", Approvers: []string{"dave@example.com"}, MinApprovals: 1},
	}
	if err := s.CreateRequest(testContext(t), r, createdEvent(r)); err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return r
}

// askLevel sends one email link to each approver of the request's level.
func askLevel(t *testing.T, s *store.Store, r *access.Request, level int, at time.Time) map[string]store.Link {
	t.Helper()
	links := map[string]store.Link{}
	var all []store.Link
	for _, a := range r.Chain[level].Approvers {
		l := store.Link{
			Hash: randHex(t, 32), RequestID: r.ID, Level: level, Approver: a, Channel: "email",
			CreatedAt: at, ExpiresAt: at.Add(time.Hour),
		}
		links[a] = l
		all = append(all, l)
	}
	if err := s.RequestApproval(testContext(t), r, level, fmt.Sprintf("token-%s-%d", r.ID, level), all, at); err != nil {
		t.Fatalf("RequestApproval level %d: %v", level, err)
	}
	return links
}

// A request goes through every step of a multi-level chain: an approval
// that counts, one that completes a level that is not the last (the
// request moves to the next level), a stale link of the finished level,
// and the final approval. Through the edge, each write is held to
// DynamoDB's validation: completing a non-final level once sent an
// unused placeholder, which DynamoDB refuses.
func TestDecideMultiLevelChain(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	r := chainRequest(t, s)
	level0 := askLevel(t, s, r, 0, stepAt(0))

	steps := []struct {
		name          string
		give          store.Link
		at            time.Time
		wantOutcome   access.Status
		wantNextLevel *int
		wantLevel     int // the request's level afterwards
		wantApprovals int // and its count
		wantToken     bool
	}{
		{
			name: "first of two at level 0", give: level0["bob@example.com"], at: stepAt(1),
			wantOutcome: access.Pending, wantLevel: 0, wantApprovals: 1, wantToken: true,
		},
		{
			name: "second of two completes level 0", give: level0["carol@example.com"], at: stepAt(2),
			wantOutcome: access.Pending, wantNextLevel: ptr(1), wantLevel: 1, wantApprovals: 0,
		},
	}
	for _, st := range steps {
		d, err := s.Decide(ctx, &st.give, nil, access.Approved, st.at, "")
		if err != nil {
			t.Fatalf("%s: Decide: %v", st.name, err)
		}
		if d.Outcome != st.wantOutcome || !equalPtr(d.NextLevel, st.wantNextLevel) || d.Level != 0 {
			t.Errorf("%s: decision = %s, want outcome %s, next level %v at level 0", st.name, jsonOf(d), st.wantOutcome, st.wantNextLevel)
		}
		got := getRequest(t, s, r.ID)
		token, err := s.TaskToken(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != access.Pending || got.Level != st.wantLevel || got.Approvals != st.wantApprovals || (token != "") != st.wantToken {
			t.Errorf("%s: request = %s, task token %q; want pending at level %d with %d approvals, token kept %v",
				st.name, jsonOf(got), token, st.wantLevel, st.wantApprovals, st.wantToken)
		}
	}

	// A link of level 0 that was not used is stale now.
	stale := level0["bob@example.com"]
	stale.Hash = randHex(t, 32)
	if _, err := s.Decide(ctx, &stale, nil, access.Approved, stepAt(3), ""); !errors.Is(err, store.ErrLinkStale) {
		t.Errorf("Decide with a level 0 link at level 1 = %v, want ErrLinkStale", err)
	}

	r = getRequest(t, s, r.ID)
	level1 := askLevel(t, s, r, 1, stepAt(4))
	last := level1["dave@example.com"]
	d, err := s.Decide(ctx, &last, nil, access.Approved, stepAt(5), "")
	if err != nil {
		t.Fatalf("final approval: %v", err)
	}
	if d.Outcome != access.Approved || d.Level != 1 || d.Approvals != 1 || d.Needed != 1 {
		t.Errorf("final decision = %s, want approved at level 1, 1 of 1", jsonOf(d))
	}
	got := getRequest(t, s, r.ID)
	if got.Status != access.Approved || got.DecidedBy != "dave@example.com" {
		t.Errorf("request = %s, want approved by dave", jsonOf(got))
	}
	evs := history(t, s, r.ID)
	if n := countType(evs, access.EventApproval, access.EventLevelApproved, string(access.Approved)); n != 3 {
		t.Errorf("history = %s, want one approval, one level_approved and one approved event", jsonOf(evs))
	}
}

func ptr(i int) *int { return &i }

func equalPtr(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// The edge answers a request DynamoDB refuses with DynamoDB's error, so a
// store call that builds one fails here as it would on AWS.
func TestEdgeRefusesWhatDynamoDBRefuses(t *testing.T) {
	_, err := emu.db.GetItem(testContext(t), &dynamodb.GetItemInput{
		TableName:                aws.String(emu.table),
		Key:                      map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "REQ#none"}, "SK": &types.AttributeValueMemberS{Value: "REQUEST"}},
		ProjectionExpression:     aws.String("#pk"),
		ExpressionAttributeNames: map[string]string{"#pk": "PK", "#unused": "status"},
	})
	var apiErr smithy.APIError
	want := "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" || apiErr.ErrorMessage() != want {
		t.Fatalf("GetItem with an unused name = %v, want ValidationException %q", err, want)
	}
}
