// Package decision serves the public decision links an approver taps:
// GET /d/{token} shows the request and asks for confirmation, and changes
// nothing (mail scanners prefetch links); POST /d/{token} commits approve
// or deny and resumes the waiting workflow.
//
// The link token is the only credential. It is looked up by hash, is bound
// to one request, level and approver, and is spent in the same transaction
// that records the decision. Every outcome is a readable page, never a raw
// error; all user-supplied text is escaped by html/template.
package decision
