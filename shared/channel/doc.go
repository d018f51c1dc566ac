// Package channel names the ways an approver is reached (email, SMS,
// Slack) and says what an approver's address on each looks like, so that
// the policy validates addresses and the notifier finds them without
// either spelling a channel out.
//
// A channel is one Kind, registered from its own file here (email.go,
// sms.go, slack.go). In a policy, a resource lists the channels it uses
// (channels: [email, sms]) and each approver gives an address per channel
// under the Kind's Field (phone: "+15555550100"). Rendering and sending
// a message on the channel live in shared/notify, also one file per
// channel; README's "Where to change what" lists the steps.
package channel
