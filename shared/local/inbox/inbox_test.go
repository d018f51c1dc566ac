package inbox

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMoto serves /moto-api/data.json with what the test put there, in
// moto's shape (service → model → instances).
type fakeMoto struct {
	mu    sync.Mutex
	ses   []map[string]any
	sms   []map[string]any
	reads int
}

func (f *fakeMoto) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/moto-api/data.json" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ses":      map[string]any{"Message": f.ses, "Template": []any{}},
		"sns":      map[string]any{"SMS": f.sms, "Topic": []any{}, "Subscription": []any{}},
		"dynamodb": map[string]any{"Table": []any{map[string]any{"name": "AccessTable"}}},
	})
}

func TestPollReadsEmailAndSMS(t *testing.T) {
	moto := &fakeMoto{}
	srv := httptest.NewServer(moto)
	defer srv.Close()
	in := New(srv.URL, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in.now = func() time.Time { return now }

	moto.ses = append(moto.ses, map[string]any{
		"id": "ses-1", "source": "jit@example.com", "subject": "Approve 1h access?",
		"body":         `<p>Alice asks.</p><a href="http://127.0.0.1:3000/d/TOKEN1?decision=approve">Approve</a><a href="http://127.0.0.1:3000/d/TOKEN1?decision=deny">Deny</a>`,
		"destinations": map[string]any{"ToAddresses": []string{"carol@example.com"}, "CcAddresses": []string{}},
	})
	if err := in.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	moto.sms = append(moto.sms, map[string]any{
		"message_id": "5f0c-1", "phone_number": "+15555550102",
		"message": "jit: alice@example.com asks for sandbox-admin for 1h: http://127.0.0.1:3000/d/TOKEN2.",
	}, map[string]any{
		"message_id": "5f0c-2", "phone_number": "+15555550103", "message": "no link here",
	})
	if err := in.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Polling again adds nothing.
	if err := in.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := in.Messages()
	if len(msgs) != 3 {
		t.Fatalf("messages = %+v", msgs)
	}
	if msgs[0].Channel != "email" || msgs[0].To != "carol@example.com" || len(msgs[0].Links) != 2 {
		t.Errorf("email = %+v", msgs[0])
	}
	sms := msgs[1]
	if sms.Channel != "sms" || sms.To != "+15555550102" || sms.Subject != "" || !strings.HasPrefix(sms.Body, "jit: alice") || !sms.SentAt.Equal(now) {
		t.Errorf("sms = %+v", sms)
	}
	if len(sms.Links) != 1 || sms.Links[0] != "http://127.0.0.1:3000/d/TOKEN2" {
		t.Errorf("sms links = %q (trailing full stop must not be part of the link)", sms.Links)
	}
	if msgs[2].Links == nil || len(msgs[2].Links) != 0 {
		t.Errorf("a message without links has links %#v, want []", msgs[2].Links)
	}
}

func TestServeJSONAndPage(t *testing.T) {
	moto := &fakeMoto{sms: []map[string]any{{"message_id": "1", "phone_number": "+15555550102", "message": "approve: http://127.0.0.1:3000/d/T <b>"}}}
	srv := httptest.NewServer(moto)
	defer srv.Close()
	in := New(srv.URL, slog.New(slog.DiscardHandler))

	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, httptest.NewRequest("GET", "/_local/inbox.json", nil))
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("inbox.json = %s", rec.Body)
	}
	for _, k := range []string{"channel", "to", "subject", "body", "links", "sent_at"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("inbox.json entry lacks %q: %v", k, got[0])
		}
	}
	if len(got[0]) != 6 {
		t.Errorf("inbox.json entry has other fields: %v", got[0])
	}

	rec = httptest.NewRecorder()
	in.ServeHTTP(rec, httptest.NewRequest("GET", "/_local/inbox", nil))
	body, _ := io.ReadAll(rec.Body)
	page := string(body)
	if !strings.Contains(page, "sms to <strong>&#43;15555550102</strong>") || strings.Contains(page, "<b>") || strings.Contains(page, "<h2></h2>") {
		t.Errorf("page = %s", page)
	}
}

func TestEmptyInboxIsEmptyList(t *testing.T) {
	srv := httptest.NewServer(&fakeMoto{})
	defer srv.Close()
	in := New(srv.URL, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, httptest.NewRequest("GET", "/_local/inbox.json", nil))
	if strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("empty inbox = %q", rec.Body)
	}
}

// TestPollsShareReads: many waiters polling at once, and polls in quick
// succession, read the emulator once per MinPollInterval.
func TestPollsShareReads(t *testing.T) {
	moto := &fakeMoto{}
	srv := httptest.NewServer(moto)
	defer srv.Close()
	in := New(srv.URL, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	in.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.Poll(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if moto.reads != 1 {
		t.Fatalf("20 concurrent polls read the emulator %d times, want 1", moto.reads)
	}
	clock.Lock()
	now = now.Add(MinPollInterval)
	clock.Unlock()
	if err := in.Poll(context.Background()); err != nil || moto.reads != 2 {
		t.Fatalf("a poll MinPollInterval later: %v, reads %d, want 2", err, moto.reads)
	}
}
