// Package slack speaks the parts of Slack's platform jit uses: Block Kit
// messages asking an approver to decide, the two ways of posting them (an
// incoming webhook, or a bot token calling chat.postMessage to the
// approver's user id), the verification of requests Slack signs with the
// app's signing secret, and the parsing of an interactivity payload (a
// button click) into the decision it asks for.
//
// It must not decide anything or look anything up: mapping a Slack user to
// an approver and committing the decision belong to the caller, which must
// verify the request (Verify) before it parses it (ParseInteraction).
package slack
