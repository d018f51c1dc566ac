package channel

import "regexp"

// SMS reaches an approver by text message at an E.164 phone number.
const SMS = "sms"

var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func init() {
	Register(Kind{
		Name: SMS, Field: "phone", Want: "an E.164 phone number (e.g. +15555550100)",
		Valid: phonePattern.MatchString,
	})
}
