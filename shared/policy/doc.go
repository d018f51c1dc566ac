// Package policy owns the policy document: per-resource rules for who may
// request what, for how long, and who must approve, and the identities
// that say which principals are which person. It parses and validates the
// YAML an admin applies, with errors (and warnings) that name the line and
// field, and answers questions about the document's own data (which
// resource, is this ticket or start allowed, is a time inside a window,
// does a pattern match a string).
//
// It must not store documents, call AWS or decide about principals and
// requests: package access applies the document to a caller.
package policy
