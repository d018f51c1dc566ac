package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// DynamoDB is the part of the DynamoDB API the store uses.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// maxTransactItems is how many actions DynamoDB takes in one
// TransactWriteItems.
const maxTransactItems = 100

// ErrConflict is returned when a conditional write lost: the item was not
// in the state the caller expected.
var ErrConflict = errors.New("conflicting update")

// Store reads and writes one table.
type Store struct {
	db    DynamoDB
	table string
}

// New returns a store over table.
func New(db DynamoDB, table string) *Store {
	return &Store{db: db, table: table}
}

// CreateRequest writes a new request and its "created" event in one
// transaction. It fails with ErrConflict if the id is taken.
// Further events (an auto-approval, a break-glass) go in the same
// transaction.
func (s *Store) CreateRequest(ctx context.Context, r *access.Request, ev access.Event, more ...access.Event) error {
	return s.create(ctx, r, append([]access.Event{ev}, more...), nil)
}

// Idempotency makes a create safe to retry: the first create with Key (per
// requester) wins, and Fingerprint tells a true retry (same request) from
// a reused key.
type Idempotency struct {
	Key         string
	Fingerprint string
}

// DuplicateError is returned by CreateRequestOnce when the requester
// already used the key: ExistingID is the request it created.
type DuplicateError struct {
	ExistingID  string
	SameRequest bool
}

func (e *DuplicateError) Error() string {
	return "idempotency key already used for request " + e.ExistingID
}

// CreateRequestOnce is CreateRequest guarded by an idempotency key, all in
// one transaction: concurrent retries create exactly one request.
func (s *Store) CreateRequestOnce(ctx context.Context, r *access.Request, ev access.Event, idem Idempotency, more ...access.Event) error {
	evs := append([]access.Event{ev}, more...)
	err := s.create(ctx, r, evs, &idem)
	if err == nil || !(conditionFailed(err, 1+len(evs)) || errors.Is(err, ErrConflict)) {
		return err
	}
	out, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(idempotencyPK(r.Requester, idem.Key), skIdempotency), ConsistentRead: aws.Bool(true),
	})
	if gerr != nil {
		return fmt.Errorf("read idempotency key: %w", gerr)
	}
	var it idempotencyItem
	if out.Item == nil {
		return err
	}
	if uerr := attributevalue.UnmarshalMap(out.Item, &it); uerr != nil || it.RequestID == "" {
		return fmt.Errorf("read idempotency key: %w", ErrConflict)
	}
	return &DuplicateError{ExistingID: it.RequestID, SameRequest: it.Fingerprint == idem.Fingerprint}
}

func (s *Store) create(ctx context.Context, r *access.Request, evs []access.Event, idem *Idempotency) error {
	item, err := attributevalue.MarshalMap(newRequestItem(r))
	if err != nil {
		return fmt.Errorf("create request %s: %w", r.ID, err)
	}
	items := []types.TransactWriteItem{createPut(s.table, item)}
	for _, ev := range evs {
		// The events of a new request are about it.
		put, err := s.putEvent(ctx, ev.About(r))
		if err != nil {
			return fmt.Errorf("create request %s: %w", r.ID, err)
		}
		items = append(items, put)
	}
	if idem != nil {
		it, err := attributevalue.MarshalMap(idempotencyItem{
			PK: idempotencyPK(r.Requester, idem.Key), SK: skIdempotency, Kind: kindIdempotency,
			RequestID: r.ID, Fingerprint: idem.Fingerprint,
			// A retry a day later is a new request.
			TTL: r.CreatedAt.Add(24 * time.Hour).Unix(),
		})
		if err != nil {
			return fmt.Errorf("create request %s: %w", r.ID, err)
		}
		items = append(items, createPut(s.table, it))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		if conditionFailed(err, 0) || transactionConflict(err) {
			return fmt.Errorf("create request %s: %w", r.ID, ErrConflict)
		}
		return fmt.Errorf("create request %s: %w", r.ID, err)
	}
	return nil
}

// GetRequest reads one request. It returns access.ErrNotFound if there is
// none.
func (s *Store) GetRequest(ctx context.Context, id string) (*access.Request, error) {
	it, err := s.getRequestItem(ctx, id)
	if err != nil {
		return nil, err
	}
	return it.request()
}

// TaskToken returns the Step Functions token the request's workflow waits
// on, or "" when it waits on none.
func (s *Store) TaskToken(ctx context.Context, id string) (string, error) {
	it, err := s.getRequestItem(ctx, id)
	if err != nil {
		return "", err
	}
	return it.TaskToken, nil
}

func (s *Store) getRequestItem(ctx context.Context, id string) (*requestItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(requestPK(id), skRequest),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get request %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("request %s: %w", id, access.ErrNotFound)
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", id, err)
	}
	return &it, nil
}

// History returns a request's audit events, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]access.Event, error) {
	var events []access.Event
	kc := partition(attrPK, eventPK(id))
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   kc.KeyCondition(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		for _, raw := range page.Items {
			var it eventItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("decode event of %s: %w", id, err)
			}
			ev, err := it.event()
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
	}
	return events, nil
}

// Page is one page of a list, with the cursor for the next page ("" at the
// end).
type Page struct {
	Requests []*access.Request
	Next     string
}

// ErrBadCursor is returned for a cursor this store did not issue for the
// same list.
var ErrBadCursor = errors.New("invalid cursor")

// ListByRequester lists a requester's requests, newest first.
func (s *Store) ListByRequester(ctx context.Context, requester string, limit int32, cursor string) (*Page, error) {
	pk := requesterKey(requester)
	start, err := decodeCursor(cursor, attrGSI1PK, pk, attrPK, attrSK, attrGSI1PK, attrGSI1SK)
	if err != nil {
		return nil, err
	}
	kc := partition(attrGSI1PK, pk)
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		IndexName:                aws.String(gsi1),
		KeyConditionExpression:   kc.KeyCondition(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
		ScanIndexForward:  aws.Bool(false),
		Limit:             aws.Int32(limit),
		ExclusiveStartKey: start,
	})
	if err != nil {
		return nil, fmt.Errorf("list requests of %s: %w", requester, err)
	}
	page := &Page{}
	for _, raw := range out.Items {
		var it requestItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("decode request: %w", err)
		}
		r, err := it.request()
		if err != nil {
			return nil, err
		}
		page.Requests = append(page.Requests, r)
	}
	if page.Next, err = encodeCursor(out.LastEvaluatedKey); err != nil {
		return nil, err
	}
	return page, nil
}

// FirstRequest returns when requester made their first request, the zero
// time if they never did: one read of the requester index, oldest first,
// that only needs the item's key.
func (s *Store) FirstRequest(ctx context.Context, requester string) (time.Time, error) {
	kc := partition(attrGSI1PK, requesterKey(requester))
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		IndexName:                aws.String(gsi1),
		KeyConditionExpression:   kc.KeyCondition(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
		ScanIndexForward: aws.Bool(true),
		Limit:            aws.Int32(1),
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("first request of %s: %w", requester, err)
	}
	if len(out.Items) == 0 {
		return time.Time{}, nil
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Items[0], &it); err != nil {
		return time.Time{}, fmt.Errorf("decode request: %w", err)
	}
	return parseTime(it.CreatedAt)
}

// encodeCursor turns a LastEvaluatedKey (all string attributes here) into
// an opaque URL-safe string.
func encodeCursor(lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	plain := map[string]string{}
	for k, v := range lek {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("cursor: key attribute %s is not a string", k)
		}
		plain[k] = sv.Value
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", fmt.Errorf("cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor reverses encodeCursor and checks that the cursor holds
// exactly the index's key attributes and belongs to the partition being
// listed, so a cursor cannot be edited into someone else's list or into a
// malformed start key.
func decodeCursor(cursor, partitionAttr, partition string, keyAttrs ...string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, ErrBadCursor
	}
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err != nil || plain[partitionAttr] != partition || len(plain) != len(keyAttrs) {
		return nil, ErrBadCursor
	}
	for _, k := range keyAttrs {
		if plain[k] == "" {
			return nil, ErrBadCursor
		}
	}
	start := map[string]types.AttributeValue{}
	for k, v := range plain {
		start[k] = &types.AttributeValueMemberS{Value: v}
	}
	return start, nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// putEvent is the transaction item that appends ev, with the origin of
// the call ctx carries. Events are immutable: the condition refuses to
// overwrite one (and the template's IAM denies updating or deleting one).
// A request's event must name its resource and requester, or audit search
// could not find it.
func (s *Store) putEvent(ctx context.Context, ev access.Event) (types.TransactWriteItem, error) {
	if ev.RequestID == "" || ev.Type == "" || ev.Actor == "" || ev.At.IsZero() {
		return types.TransactWriteItem{}, fmt.Errorf("event %q of %q: request, type, actor and time are required", ev.Type, ev.RequestID)
	}
	if ev.Resource == "" || ev.Requester == "" {
		return types.TransactWriteItem{}, fmt.Errorf("event %s of %s: resource and requester are required", ev.Type, ev.RequestID)
	}
	if o := access.OriginOf(ctx); ev.SourceIP == "" && ev.UserAgent == "" {
		ev.SourceIP, ev.UserAgent = o.SourceIP, o.UserAgent
	}
	item, err := attributevalue.MarshalMap(newEventItem(ev))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode event: %w", err)
	}
	return createPut(s.table, item), nil
}

// transactionConflict reports whether DynamoDB cancelled a transaction
// because another one was changing the same items.
func transactionConflict(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
	}
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
}

// conditionFailed reports whether err is a cancelled transaction whose item
// at index i failed its condition.
func conditionFailed(err error, i int) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var ccf *types.ConditionalCheckFailedException
		return errors.As(err, &ccf)
	}
	if i >= len(tce.CancellationReasons) {
		return false
	}
	return aws.ToString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed"
}

// timeValue is a stored time attribute value.
func timeValue(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: formatTime(t)}
}

func unmarshalItem(raw map[string]types.AttributeValue, v any) error {
	if err := attributevalue.UnmarshalMap(raw, v); err != nil {
		return fmt.Errorf("decode item: %w", err)
	}
	return nil
}
