package channel

import (
	"net/mail"
	"strings"
)

// Email is the channel every approver has: their email address is who
// they are in a request's chain.
const Email = "email"

func init() {
	Register(Kind{
		Name: Email, Field: "email", Want: "an email address",
		Valid: func(a string) bool {
			_, err := mail.ParseAddress(a)
			// A bare address only, not "Name <address>".
			return err == nil && !strings.ContainsAny(a, "<> ")
		},
	})
}
