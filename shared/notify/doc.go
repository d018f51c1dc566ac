// Package notify asks approvers to decide and tells people what happened.
//
// For each approver of the current level it creates one single-use
// decision link per channel the approver can be reached on (email always;
// SMS and Slack when the resource lists the channel and the policy gives
// the approver a phone number or Slack id), records the link hashes and
// the workflow's task token, then sends the messages. It also announces
// break-glass access to every approver and emails requesters the outcome
// of their request (action "outcome").
//
// Records come before sends, so a link works the moment it arrives. The
// token itself is never stored or logged, nor put in audit events. One
// channel failing never stops the others; failed sends (and, with
// AuditEverySend, every send) are recorded as notification_sent events.
// The package renders and sends messages; it must not decide who approves
// (the request carries that) or change a request's status.
package notify
