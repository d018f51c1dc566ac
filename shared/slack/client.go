package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client posts messages. Webhook URLs and bot tokens are secrets: they
// never appear in its errors.
type Client struct {
	// HTTP defaults to a client with a 10-second timeout.
	HTTP *http.Client
	// APIBase defaults to https://slack.com/api.
	APIBase string
}

const defaultAPIBase = "https://slack.com/api"

// IsBotToken reports whether secret is a bot token (chat.postMessage)
// rather than an incoming-webhook URL.
func IsBotToken(secret string) bool { return strings.HasPrefix(secret, "xoxb-") }

// IsWebhookURL reports whether secret is an incoming-webhook URL.
func IsWebhookURL(secret string) bool {
	u, err := url.Parse(secret)
	return err == nil && u.Scheme == "https" && u.Host == "hooks.slack.com" && strings.HasPrefix(u.Path, "/services/")
}

// PostWebhook posts m through an incoming webhook. Slack answers "ok" or
// an error word such as invalid_payload or channel_not_found.
func (c *Client) PostWebhook(ctx context.Context, webhookURL string, m Message) error {
	body, err := c.post(ctx, webhookURL, "", m)
	if err != nil {
		return fmt.Errorf("slack webhook: %w", err)
	}
	if s := strings.TrimSpace(string(body)); s != "ok" {
		return fmt.Errorf("slack webhook: %s", clip(s))
	}
	return nil
}

// PostMessage calls chat.postMessage with a bot token; m.Channel is a
// channel id or, for a direct message from the app, a user id.
func (c *Client) PostMessage(ctx context.Context, botToken string, m Message) error {
	base := c.APIBase
	if base == "" {
		base = defaultAPIBase
	}
	body, err := c.post(ctx, strings.TrimRight(base, "/")+"/chat.postMessage", botToken, m)
	if err != nil {
		return fmt.Errorf("slack chat.postMessage: %w", err)
	}
	var out struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("slack chat.postMessage: unreadable answer: %s", clip(string(body)))
	}
	if !out.OK {
		return fmt.Errorf("slack chat.postMessage: %s", out.Error)
	}
	return nil
}

func (c *Client) post(ctx context.Context, target, bearer string, m Message) ([]byte, error) {
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return nil, errors.New("invalid URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// *url.Error prints the URL, which for a webhook is the secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusTooManyRequests {
		return nil, fmt.Errorf("rate limited (retry after %ss)", resp.Header.Get("Retry-After"))
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: %s", resp.Status, clip(string(body)))
	}
	return body, nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
