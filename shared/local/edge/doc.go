// Package edge is the local cloud's single AWS endpoint: the address that
// the SDKs, the CLI and moto's own Step Functions interpreter are pointed
// at (AWS_ENDPOINT_URL).
//
// It owns one routing decision. Lambda's synchronous and asynchronous
// Invoke (POST /2015-03-31/functions/{name}/invocations) is answered by an
// InvokeFunc, normally the local runner, with Lambda's wire behaviour
// (X-Amz-Function-Error, X-Amz-Executed-Version, 202 for Event, 204 for
// DryRun, ResourceNotFoundException for unknown functions). Every other
// request is reverse-proxied unchanged (method, path, query, headers incl.
// Host and Authorization, body, streamed response) to the AWS emulator
// (moto), except DynamoDB requests that DynamoDB would refuse: those are
// answered with DynamoDB's ValidationException (package ddbcheck; the
// LaxDynamoDB option turns that off). A dead or hung emulator is reported as a clear 502/504 JSON
// error, never as a hang.
//
// It must not interpret, rewrite or fake any other AWS API, start the
// emulator or functions, or hold state beyond the in-flight requests.
// Asynchronous invocations are fire-and-forget: Lambda's retries and
// destinations for Event invocations are not emulated.
package edge
