package access

import "testing"

func TestSourceOf(t *testing.T) {
	for ua, want := range map[string]string{
		"jit-cli/1.4.0 (linux/amd64)": SourceCLI,
		"jit-cli":                     SourceCLI,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)": SourceWeb,
		"curl/8.5.0":             SourceAPI,
		"aws-sdk-go-v2/1.30.0":   SourceAPI,
		"":                       SourceAPI,
		"my-jit-cli-wrapper/1.0": SourceAPI,
	} {
		if got := SourceOf(ua); got != want {
			t.Errorf("SourceOf(%q) = %q, want %q", ua, got, want)
		}
	}
}
