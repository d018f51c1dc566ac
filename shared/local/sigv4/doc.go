// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) signed
// HTTP requests for the local cloud's API gateway.
//
// It owns exactly one job: deciding, for the local stand-in of API Gateway's
// IAM authorizer, whether a request was signed with the secret of a known
// access key, for the expected region and service, recently enough. In AWS
// this is done by API Gateway itself and nothing in the deployed system uses
// this package; it exists so that the local cloud rejects the same requests
// AWS would (unsigned, tampered, wrong scope, skewed) instead of trusting any
// caller.
//
// A request is first signed again with the SDK's own signer
// (aws-sdk-go-v2/aws/signer/v4), reduced to its target and the headers it
// signed: that is how every SDK client signs, the way AWS builds the
// canonical request for services other than S3 (the path URI-encoded a
// second time, the query decoded, re-encoded and sorted). Some clients do
// not follow that to the letter (curl 7.88's --aws-sigv4 signs the path
// and query string exactly as sent, and signs headers the SDK leaves out),
// so when the SDK's signature differs Verify also accepts a signature over
// the path and query string as they appeared on the wire (canonical.go). Every accepted form covers the exact bytes of the request target, so
// this leniency does not let a tampered request through.
//
// Errors are *Error values whose Code and Message mirror what API Gateway
// returns and are safe to show to the client: they never contain the secret
// key or the expected signature.
package sigv4
