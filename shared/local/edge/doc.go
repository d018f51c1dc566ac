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
// It also owns, in IAM (NewIAM), the IAM decisions moto does not make,
// narrowly: the ones the product's promises rest on. The caller is the
// access key ID of the SigV4 signature (signatures are not verified; moto
// does not either): a local dev identity (its principal ARN), a session
// the edge saw sts:AssumeRole issue (the answer is read for its access
// key, ARN and expiration), or else one of the local cloud's own
// principals (the functions' and tools' dummy keys), whose calls are not
// evaluated, as if their identity policies allowed everything.
//
//   - sts:AssumeRole is allowed only as AWS would: the role's trust policy
//     (read from moto) is evaluated with aws:CurrentTime, aws:EpochTime,
//     sts:RoleSessionName, sts:SourceIdentity, aws:PrincipalArn,
//     aws:PrincipalAccount and the caller's session keys; an explicit
//     Deny in it or in the caller's identity policies refuses; a
//     statement naming the caller's session or user ARN (or "*") allows;
//     one naming only the account (arn:aws:iam::A:root) or the caller's
//     role delegates to the caller's identity policies, i.e. the inline
//     policies of the caller's role if moto has that role (the local
//     identities' roles, Engineer etc., do not exist there by default, so
//     the baseline root statement admits none of them). DurationSeconds
//     over the role's MaxSessionDuration is a ValidationError.
//   - A call signed by such a session is refused when an inline policy
//     of its role explicitly denies it (aws:userid = ROLEID:SESSION,
//     aws:TokenIssueTime, aws:SourceIdentity, aws:CurrentTime), except
//     sts:GetCallerIdentity, which AWS never denies. Past its expiration
//     every call of the session is refused with ExpiredToken.
//   - Refusals are AWS's: 403 AccessDenied in the query protocol's XML
//     (STS, IAM), 400 AccessDeniedException in the JSON protocol
//     (DynamoDB, Step Functions), 403 with X-Amzn-ErrorType otherwise.
//   - Trust and inline-policy writes passing the edge (CreateRole,
//     UpdateAssumeRolePolicy, Put/DeleteRolePolicy, DeleteRole) are
//     recorded with their time; with a propagation delay N the decisions
//     above use the versions in effect N ago (GET/POST ControlPath).
//
// Not evaluated: the missing Allow of a session (a session may call what
// its role's policies do not grant), attached managed policies, session
// policies, permissions boundaries, SCPs, resource policies other than
// trust policies, the resource of REST calls other than Lambda Invoke
// (they are matched as "*"), the functions' own IAM policies (test/iam
// checks those in the template), signatures. Policies follow AWS's
// documented evaluation logic; see package iampolicy for the policy
// language covered and the references.
//
// It must not interpret, rewrite or fake any other AWS API, start the
// emulator or functions, or hold state beyond the in-flight requests,
// the sessions it saw issued and the policy versions it saw written.
// Asynchronous invocations are fire-and-forget: Lambda's retries and
// destinations for Event invocations are not emulated.
package edge
