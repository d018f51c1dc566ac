// Package grant owns giving and taking away access on a target. A Provider
// knows one kind of target; IAMRoleTrust (the default) grants by adding a
// statement to a role's trust policy that lets the requester assume it
// until the expiry, and revokes by removing that statement.
//
// Providers must be idempotent: granting twice leaves one statement,
// revoking what is not there succeeds. They must refuse any role not tagged
// jit:managed=true. They do not record status; the functions do that
// through the store after a provider returns.
package grant
