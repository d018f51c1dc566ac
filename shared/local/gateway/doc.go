// Package gateway is the local cloud's stand-in for Amazon API Gateway v2
// (HTTP API) with the IAM (SigV4) authorizer in front of Lambda proxy
// integrations using payload format 2.0.
//
// New returns an http.Handler that, for each request:
//
//   - matches it against the configured routes the way HTTP API does
//     ("GET /v1/requests/{id}", greedy "{proxy+}", "ANY"), answering
//     404 {"message":"Not Found"} when nothing matches;
//   - for routes with IAM auth, verifies the SigV4 signature (package sigv4)
//     against the local identities and answers 403 with the specific reason
//     when it fails, without invoking anything;
//   - builds the events.APIGatewayV2HTTPRequest AWS would deliver, including
//     requestContext.authorizer.iam for the signing identity, and hands it to
//     the Invoke function;
//   - maps the function's result back to HTTP as API Gateway does (structured
//     response, or an inferred 200 JSON response), and any function error to
//     500 {"message":"Internal Server Error"}.
//
// The gateway knows nothing about template.yaml or how functions run: the
// caller reads the routes from the SAM template (their Path, Method and
// whether Auth.Authorizer is NONE) and supplies Invoke, which may call moto's
// Lambda, exec a local binary, or be a fake in tests. In AWS none of this code
// runs; API Gateway does the same work.
package gateway
