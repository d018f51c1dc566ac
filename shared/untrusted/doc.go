// Package untrusted prepares text that a person typed (a request's reason,
// its ticket, an approver's comment, a principal name) for showing to
// someone else in a message or on a page.
//
// It removes what would let such text pass for the message's own content
// or change what the reader sees: line breaks that start a line of the
// message's own (a forged "Approve: https://…" line in a plain-text
// email), control characters, and invisible Unicode format characters
// (bidirectional overrides, zero-width characters).
//
// It does not escape anything for a markup: each channel escapes for its
// own format (html/template, slack.Escape), after this.
package untrusted
