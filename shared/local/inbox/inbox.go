// Package inbox is the local cloud's view of what the system sent: it reads
// the emails (SES v1 and v2) and text messages (SNS Publish to a phone
// number) recorded by the AWS emulator and serves them at /_local/inbox (a
// page to click through) and /_local/inbox.json.
//
// It only reads the emulator's record of real SES/SNS API calls; it must
// never be a way for the functions to send messages.
package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Message is one message the system sent.
type Message struct {
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Links   []string  `json:"links"`
	SentAt  time.Time `json:"sent_at"`
}

// Inbox polls the emulator and remembers messages in the order it first
// saw them. The emulator keeps no send time, so SentAt is when the inbox
// first saw the message: at most one poll interval late.
type Inbox struct {
	emulator string
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger

	mu   sync.Mutex
	seen map[string]bool
	msgs []Message

	// polling serializes reads of the emulator; lastRead is when the
	// last one started.
	polling  sync.Mutex
	lastRead time.Time
}

// MinPollInterval is how soon after a read of the emulator another Poll
// reads again; one sooner returns what that read found. moto serializes
// its whole state for each read, so many waiters polling at once (tests
// waiting for their emails, the cloud's own poller) would otherwise keep
// it busy and slow every other call.
const MinPollInterval = 500 * time.Millisecond

// New reads from the emulator (moto) at baseURL.
func New(baseURL string, log *slog.Logger) *Inbox {
	return &Inbox{
		emulator: strings.TrimRight(baseURL, "/"),
		client:   &http.Client{Timeout: 20 * time.Second},
		now:      time.Now,
		log:      log,
		seen:     map[string]bool{},
	}
}

// motoData is the part of moto's /moto-api/data.json the inbox reads.
type motoData struct {
	SES map[string][]struct {
		ID           string              `json:"id"`
		Source       string              `json:"source"`
		Subject      string              `json:"subject"`
		Body         string              `json:"body"`
		Destinations map[string][]string `json:"destinations"`
	} `json:"ses"`
	// SNS["SMS"] holds moto's sns.models.SMS objects: one per Publish
	// with a PhoneNumber, in the order they were sent.
	SNS map[string][]struct {
		MessageID   string `json:"message_id"`
		PhoneNumber string `json:"phone_number"`
		Message     string `json:"message"`
	} `json:"sns"`
}

// Poll records new messages: it reads the emulator, unless a read started
// less than MinPollInterval ago (concurrent calls wait for the one under
// way and share it).
func (in *Inbox) Poll(ctx context.Context) error {
	in.polling.Lock()
	defer in.polling.Unlock()
	start := in.now()
	if start.Sub(in.lastRead) < MinPollInterval {
		return nil
	}
	in.lastRead = start
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.emulator+"/moto-api/data.json", nil)
	if err != nil {
		return err
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return fmt.Errorf("read emulator messages: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("read emulator messages: %s: %s", resp.Status, b)
	}
	var data motoData
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		return fmt.Errorf("decode emulator messages: %w", err)
	}
	now := in.now().UTC()
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, m := range data.SES["Message"] {
		if in.seen[m.ID] {
			continue
		}
		in.seen[m.ID] = true
		for _, to := range append(m.Destinations["ToAddresses"], m.Destinations["CcAddresses"]...) {
			in.msgs = append(in.msgs, Message{
				Channel: "email", To: to, Subject: m.Subject,
				Body: text(m.Body), Links: links(m.Body), SentAt: now,
			})
		}
	}
	for _, m := range data.SNS["SMS"] {
		key := "sms:" + m.MessageID
		if in.seen[key] {
			continue
		}
		in.seen[key] = true
		in.msgs = append(in.msgs, Message{
			Channel: "sms", To: m.PhoneNumber, Body: m.Message, Links: textLinks(m.Message), SentAt: now,
		})
	}
	return nil
}

// Run polls every interval until ctx ends.
func (in *Inbox) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := in.Poll(ctx); err != nil && ctx.Err() == nil {
			in.log.Warn("inbox poll", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Messages returns what was sent so far, oldest first.
func (in *Inbox) Messages() []Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	// Never nil, so the JSON is [] rather than null before the first send.
	return append(make([]Message, 0, len(in.msgs)), in.msgs...)
}

var (
	hrefPattern = regexp.MustCompile(`href="([^"]+)"`)
	urlPattern  = regexp.MustCompile(`https?://[^\s"'<>]+`)
	tagPattern  = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]+>`)
	blankLines  = regexp.MustCompile(`\n\s*\n+`)
)

// links returns the distinct http(s) links of an HTML body, in order.
func links(body string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, m := range hrefPattern.FindAllStringSubmatch(body, -1) {
		u := html.UnescapeString(m[1])
		if (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// textLinks returns the distinct http(s) links of a plain-text body, in
// order, without trailing punctuation.
func textLinks(body string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, u := range urlPattern.FindAllString(body, -1) {
		u = strings.TrimRight(u, ".,;:!?)")
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// text renders an HTML body as readable plain text.
func text(body string) string {
	if !strings.Contains(body, "<") {
		return body
	}
	s := strings.NewReplacer("<br>", "\n", "</p>", "\n", "</tr>", "\n", "</td>", " ").Replace(body)
	s = html.UnescapeString(tagPattern.ReplaceAllString(s, ""))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n"))
}

// ServeHTTP serves /_local/inbox and /_local/inbox.json, polling first so
// the view is current.
func (in *Inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := in.Poll(r.Context()); err != nil {
		in.log.Warn("inbox poll", "error", err.Error())
	}
	msgs := in.Messages()
	switch r.URL.Path {
	case "/_local/inbox.json":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msgs)
	case "/_local/inbox":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// Newest first on the page.
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		if err := page.Execute(w, msgs); err != nil {
			in.log.Error("render inbox", "error", err.Error())
		}
	default:
		http.NotFound(w, r)
	}
}

var page = template.Must(template.New("inbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5">
<title>Local inbox · jit</title>
<style>
body{font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}
main{max-width:48rem;margin:0 auto;padding:1rem}
article{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
pre{white-space:pre-wrap;font:inherit;margin:.5rem 0}
small{color:#57606a}
a{display:inline-block;margin:.25rem .5rem .25rem 0;overflow-wrap:anywhere}
</style></head>
<body><main>
<h1>Local inbox</h1>
<p><small>Messages the local cloud sent, newest first. Refreshes every 5 seconds. JSON: <a href="/_local/inbox.json">/_local/inbox.json</a></small></p>
{{range .}}
<article>
<small>{{.Channel}} to <strong>{{.To}}</strong> at {{.SentAt.Format "15:04:05"}}</small>
{{with .Subject}}<h2>{{.}}</h2>{{end}}
<pre>{{.Body}}</pre>
{{range .Links}}<a href="{{.}}">{{.}}</a>{{end}}
</article>
{{else}}
<p>Nothing sent yet.</p>
{{end}}
</main></body></html>
`))
