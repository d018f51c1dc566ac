// Package api is the requester HTTP API behind API Gateway's IAM
// authorizer: create, get and list access requests, revoke, extend and
// cancel them, the policy and the audit trail. The caller is the principal
// ARN API Gateway verified; nothing in the body can claim to be someone
// else, and who that principal is (a person, an admin, an approver) is
// decided by package access from the current policy's identities.
//
// It adapts API Gateway v2 events to the access rules, the store and the
// workflow, and maps every error kind to an HTTP status in one place
// (errors.go). It must not decide lifecycle rules, build DynamoDB keys or
// talk to AWS itself.
package api
