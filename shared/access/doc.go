// Package access owns the access request and the rules of its life: who
// a principal is (Directory, Principal), what each may do (Actor),
// whether a request may open and what it becomes (Open: duration, reason,
// ticket, start, approval chain, auto-approval, break-glass), the
// statuses and the moves between them, what a level's timeout leads to,
// and the audit events that record each move. Its refusals are *Error
// values of a Kind (and *ValidationError naming a field) that each edge
// maps to its own form in one place.
//
// It is pure domain code: it reads the policy document (package policy)
// but must not call AWS, read the environment, speak HTTP or know how
// requests are stored; the store package persists what this package
// decides, and the workflow sequences it.
package access
