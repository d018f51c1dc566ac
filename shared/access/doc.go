// Package access owns the access request: its fields, its lifecycle and the
// rules for moving between statuses, and the audit events that record each
// move.
//
// It is pure domain code. It must not call AWS, read the environment or know
// how requests are stored; the store package persists what this package
// decides, and the workflow sequences it.
package access
