package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/access"
)

// The auditor page cannot sign requests with SigV4, so a signed API call
// (POST /v1/audit/sessions) creates a single-use sign-in link for the
// caller; opening it exchanges it for a session cookie. Only hashes of
// either token are stored, and both expire (TTL removes them later).

// ErrSignInSpent is returned for a sign-in link used before or expired.
var ErrSignInSpent = errors.New("sign-in link already used or expired")

type sessionItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Kind      string `dynamodbav:"kind"`
	Principal string `dynamodbav:"principal"`
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt string `dynamodbav:"expires_at"`
	UsedAt    string `dynamodbav:"used_at,omitempty"`
	TTL       int64  `dynamodbav:"ttl"`
}

const (
	kindSignIn  = "signin"
	kindSession = "session"
)

// CreateSignIn stores a sign-in link for principal, by the hash of its
// token, valid until expires.
func (s *Store) CreateSignIn(ctx context.Context, hash, principal string, at, expires time.Time) error {
	it, err := attributevalue.MarshalMap(sessionItem{PK: signInPK(hash), SK: skSignIn, Kind: kindSignIn, Principal: principal,
		CreatedAt: formatTime(at), ExpiresAt: formatTime(expires), TTL: expires.Add(24 * time.Hour).Unix()})
	if err != nil {
		return fmt.Errorf("encode sign-in: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{createPut(s.table, it)}})
	if err != nil {
		return fmt.Errorf("create sign-in: %w", err)
	}
	return nil
}

// RedeemSignIn spends the sign-in link signInHash and opens a session
// under sessionHash for its principal until sessionExpires, in one
// transaction: a link opens at most one session. It returns the
// principal, or ErrSignInSpent.
func (s *Store) RedeemSignIn(ctx context.Context, signInHash, sessionHash string, at, sessionExpires time.Time) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(signInPK(signInHash), skSignIn), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read sign-in: %w", err)
	}
	if out.Item == nil {
		return "", access.ErrNotFound
	}
	var in sessionItem
	if err := attributevalue.UnmarshalMap(out.Item, &in); err != nil {
		return "", fmt.Errorf("decode sign-in: %w", err)
	}
	session, err := attributevalue.MarshalMap(sessionItem{PK: sessionPK(sessionHash), SK: skSession, Kind: kindSession, Principal: in.Principal,
		CreatedAt: formatTime(at), ExpiresAt: formatTime(sessionExpires), TTL: sessionExpires.Add(24 * time.Hour).Unix()})
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	now := expression.Value(formatTime(at))
	spend, err := conditionalUpdate(s.table, key(signInPK(signInHash), skSignIn),
		expression.AttributeNotExists(expression.Name(attrUsedAt)).And(expression.Name(attrExpiresAt).GreaterThan(now)),
		expression.Set(expression.Name(attrUsedAt), now))
	if err != nil {
		return "", fmt.Errorf("spend sign-in: build expression: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		spend, createPut(s.table, session),
	}})
	if conditionFailed(err, 0) || transactionConflict(err) {
		return "", ErrSignInSpent
	}
	if err != nil {
		return "", fmt.Errorf("redeem sign-in: %w", err)
	}
	return in.Principal, nil
}

// CheckSignIn reports, without spending it, whether the sign-in link
// signInHash can still be used at at: nil, access.ErrNotFound when it was
// never issued, or ErrSignInSpent when it was used or has expired.
func (s *Store) CheckSignIn(ctx context.Context, signInHash string, at time.Time) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(signInPK(signInHash), skSignIn), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read sign-in: %w", err)
	}
	if out.Item == nil {
		return access.ErrNotFound
	}
	var in sessionItem
	if err := attributevalue.UnmarshalMap(out.Item, &in); err != nil {
		return fmt.Errorf("decode sign-in: %w", err)
	}
	expires, err := parseTime(in.ExpiresAt)
	if err != nil {
		return fmt.Errorf("sign-in expires_at: %w", err)
	}
	if in.UsedAt != "" || !at.Before(expires) {
		return ErrSignInSpent
	}
	return nil
}

// AuditSession returns the principal of the session sessionHash, or
// access.ErrNotFound when there is none or it expired by at.
func (s *Store) AuditSession(ctx context.Context, sessionHash string, at time.Time) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(sessionPK(sessionHash), skSession), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	if out.Item == nil {
		return "", access.ErrNotFound
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return "", fmt.Errorf("decode session: %w", err)
	}
	if exp, err := parseTime(it.ExpiresAt); err != nil || !at.Before(exp) {
		return "", access.ErrNotFound
	}
	return it.Principal, nil
}

// EndAuditSession ends the session sessionHash at at (signing out): its
// expiry becomes at, so AuditSession no longer finds it, and TTL removes
// it as it would have. A session that is not there is already ended.
func (s *Store) EndAuditSession(ctx context.Context, sessionHash string, at time.Time) error {
	now := expression.Value(formatTime(at))
	end, err := conditionalUpdate(s.table, key(sessionPK(sessionHash), skSession),
		expression.AttributeExists(expression.Name(attrPK)).And(expression.Name(attrExpiresAt).GreaterThan(now)),
		expression.Set(expression.Name(attrExpiresAt), now))
	if err != nil {
		return fmt.Errorf("end session: build expression: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{end}})
	if conditionFailed(err, 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
