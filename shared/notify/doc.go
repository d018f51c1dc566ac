// Package notify asks approvers to decide: for each approver of the
// current level it creates a single-use decision link, records the link
// hashes and the workflow's task token, then sends the message.
//
// Records come before sends, so a link works the moment it arrives. The
// token itself is never stored or logged. The package renders and sends
// messages; it must not decide who approves (the request carries that) or
// change a request's status.
package notify
