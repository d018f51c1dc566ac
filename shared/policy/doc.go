// Package policy owns the policy document: per-resource rules for who may
// request what, for how long, and who must approve. It parses and validates
// the YAML an admin applies, with errors that name the line and field, and
// answers questions about it (which resource, may this principal request it,
// is this duration allowed).
//
// It must not store documents or call AWS; the store package keeps versions.
package policy
