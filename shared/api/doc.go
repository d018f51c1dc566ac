// Package api is the requester HTTP API behind API Gateway's IAM
// authorizer: create, get and list access requests. The caller is the
// principal ARN API Gateway verified; nothing in the body can claim to be
// someone else.
//
// It adapts API Gateway v2 events to the access rules, the policy, the
// store and the workflow, and maps every error to an HTTP status in one
// place (errors.go). It must not build DynamoDB keys or talk to AWS itself.
package api
