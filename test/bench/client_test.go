package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/local/cloud"
)

// httpClient keeps enough idle connections for 32 concurrent clients, so
// the gateway figures do not include connection setup.
var httpClient = &http.Client{
	Transport: &http.Transport{Proxy: nil, MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute},
	Timeout:   60 * time.Second,
}

// apiCall sends a SigV4-signed request to the local HTTP API as who and
// returns the status and body.
func apiCall(ctx context.Context, who, method, path string, body any) (int, []byte, error) {
	code, _, b, err := apiCallHeader(ctx, who, method, path, body)
	return code, b, err
}

// apiCallHeader is apiCall that also returns the response's headers.
func apiCallHeader(ctx context.Context, who, method, path string, body any) (int, http.Header, []byte, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return 0, nil, nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, lc.APIURL+path, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	id, err := lc.Identity(who)
	if err != nil {
		return 0, nil, nil, err
	}
	if err := cloud.Sign(req, raw, id); err != nil {
		return 0, nil, nil, err
	}
	// Its own client rather than cloud.Send's: enough idle connections
	// for the concurrent benchmarks.
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// requestView is the part of the API's request JSON the benchmarks read.
type requestView struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expires_at"`
	GrantedAt *time.Time `json:"granted_at"`
}

// create asks for resource as who and returns the new request's id.
func create(ctx context.Context, who, resource, duration string) (string, error) {
	code, b, err := apiCall(ctx, who, "POST", "/v1/requests", map[string]string{
		"resource": resource, "duration": duration, "reason": "benchmark request",
	})
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated {
		return "", fmt.Errorf("create: %d %s", code, b)
	}
	var v requestView
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("create: %w: %s", err, b)
	}
	return v.ID, nil
}

func getRequest(ctx context.Context, who, id string) (*requestView, error) {
	code, b, err := apiCall(ctx, who, "GET", "/v1/requests/"+id, nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("get %s: %d %s", id, code, b)
	}
	var v requestView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// decide posts an approver's decision to a link, as the decision page's
// form does, and checks the page says it was recorded.
func decide(ctx context.Context, link, decision string) error {
	form := url.Values{"decision": {decision}}
	req, err := http.NewRequestWithContext(ctx, "POST", link, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := "You approved"
	if decision == "deny" {
		want = "You denied"
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(want)) {
		return fmt.Errorf("%s %s: %d\n%.300s", decision, link, resp.StatusCode, b)
	}
	return nil
}
