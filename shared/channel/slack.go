package channel

import "regexp"

// Slack reaches an approver by Slack user id: a direct message from the
// app's bot, or a mention in the webhook's channel.
const Slack = "slack"

var slackPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

func init() {
	Register(Kind{
		Name: Slack, Field: "slack", Want: "a Slack user id (e.g. U024BE7LH)",
		Valid: slackPattern.MatchString,
	})
}
