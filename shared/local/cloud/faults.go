package cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Fault makes matching AWS calls through the edge fail the way AWS fails
// them: throttling, a service failure, a conflict. Only the local cloud
// has it; it exists to test retries, failed grants and revokes, and the
// reconciler.
type Fault struct {
	// Service is the SigV4 service (iam, dynamodb, states, ses, lambda).
	Service string `json:"service"`
	// Operation is the API operation (UpdateAssumeRolePolicy, PutItem, ...).
	Operation string `json:"operation"`
	// Code is the AWS error code returned, e.g. Throttling, ServiceFailure.
	Code string `json:"code"`
	// Status is the HTTP status; default 500 (400 for throttling codes).
	Status int `json:"status,omitempty"`
	// Count is how many calls fail; 0 or less means until cleared.
	Count int `json:"count,omitempty"`
}

// Faults holds the active fault rules.
type Faults struct {
	mu    sync.Mutex
	rules []*Fault
}

// Add makes calls matching f fail.
func (fs *Faults) Add(f Fault) {
	if f.Status == 0 {
		f.Status = http.StatusInternalServerError
		if f.Code == "Throttling" || f.Code == "ThrottlingException" {
			f.Status = http.StatusBadRequest
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &f)
}

// Pending counts the calls counted faults will still fail (0 when all
// were used up; unlimited faults are not counted).
func (fs *Faults) Pending() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, f := range fs.rules {
		if f.Count > 0 {
			n += f.Count
		}
	}
	return n
}

// Clear removes every fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// match returns the fault for a call, counting it down.
func (fs *Faults) match(service, op string) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.rules {
		if f.Service != service || f.Operation != op {
			continue
		}
		hit := *f
		if f.Count > 0 {
			if f.Count--; f.Count == 0 {
				fs.rules = append(fs.rules[:i], fs.rules[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

// wrap serves the control endpoint and fails matching calls before they
// reach the edge.
func (fs *Faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_local/faults" {
			fs.control(w, r)
			return
		}
		fs.mu.Lock()
		active := len(fs.rules) > 0
		fs.mu.Unlock()
		if !active {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, MaxObservedBody+1))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
			if err == nil {
				body = b
			}
		}
		op, _ := operation(r, body)
		f := fs.match(signingService(r.Header.Get("Authorization")), op)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		writeAWSError(w, f)
	})
}

func (fs *Faults) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var f Fault
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&f); err != nil || f.Service == "" || f.Operation == "" || f.Code == "" {
			http.Error(w, `{"message":"want {\"service\",\"operation\",\"code\",\"status\"?,\"count\"?}"}`, http.StatusBadRequest)
			return
		}
		fs.Add(f)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		fs.Clear()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, `{"message":"POST a fault or DELETE them all"}`, http.StatusMethodNotAllowed)
	}
}

// writeAWSError answers in the failing service's protocol, so the SDK
// parses the error code as it would from AWS.
func writeAWSError(w http.ResponseWriter, f *Fault) {
	msg := "injected by the local cloud: " + f.Code
	switch f.Service {
	case "iam", "sts", "sns":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>local-fault</RequestId></ErrorResponse>`, f.Code, msg)
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-ErrorType", f.Code)
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, f.Code, msg)
	}
}
