package access

import "strings"

// Sources a request is made from, as adoption figures count them.
const (
	// SourceCLI is the jit CLI (its User-Agent starts jit-cli/).
	SourceCLI = "cli"
	// SourceWeb is a browser.
	SourceWeb = "web"
	// SourceSlack is Slack (a slash command or modal).
	SourceSlack = "slack"
	// SourceAPI is any other caller of the HTTP API: scripts and CI jobs.
	SourceAPI = "api"
)

// SourceOf tells the source of a call by its User-Agent.
func SourceOf(userAgent string) string {
	switch ua := strings.TrimSpace(userAgent); {
	case strings.HasPrefix(ua, "jit-cli/") || ua == "jit-cli":
		return SourceCLI
	case strings.HasPrefix(ua, "Mozilla/"):
		return SourceWeb
	}
	return SourceAPI
}
