// Package iampolicy evaluates IAM policy documents the way AWS does, for
// the part of the policy language the local cloud enforces: Effect, Action
// and NotAction, Resource and NotResource, Principal and NotPrincipal, and
// the Condition operators for strings, dates, numbers, booleans, ARNs and
// Null, with the IfExists suffix and the ForAnyValue/ForAllValues set
// qualifiers. Explicit Deny beats Allow; nothing allowed is an implicit
// deny. Policy variables (${aws:userid}) in condition values and resources
// are replaced from the request context.
//
// It follows AWS's documented rules:
//   - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//   - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//   - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
//   - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
//
// It owns the evaluation of one document against one request. It must not
// fetch policies, decide which policies apply to a request (that is the
// caller's: a trust policy, the identity policies of a principal), or know
// any AWS service. Not evaluated: IP address and binary operators, and
// the wildcard forms of Principal that AWS itself rejects (a "*" inside an
// ARN matches nothing, as in AWS).
package iampolicy
