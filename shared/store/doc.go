// Package store persists requests, their audit events, decision-link hashes
// and policy versions in one DynamoDB table.
//
// Keys are built in keys.go and nowhere else. Every status change is a
// conditional write on the expected previous status, made in the same
// transaction as the audit event that records it, so there are no lost
// updates, no double grants and no change without its event. Every list is
// a Query on the table or a GSI, never a Scan.
//
// The store does not decide anything: which transitions are allowed is the
// access package's rule; the store only makes them atomic.
package store
