package cloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Fault makes matching AWS calls through the edge fail the way AWS fails
// them: throttling, a service failure, a conflict. Only the local cloud
// has it; it exists to test retries, failed grants and revokes, and the
// reconciler.
//
// One kind is not an AWS error: Code CodeCrash with Service "lambda" and
// Operation "Invoke" makes the function's process die mid-invocation
// (runner.Crash), however it is invoked (by the Step Functions
// interpreter, through the edge, or by the HTTP API), and the invoke
// answers as Lambda does for a crashed runtime: a Runtime.ExitError
// function error, which a state's Retry can match.
type Fault struct {
	// Service is the SigV4 service (iam, dynamodb, states, ses, sns,
	// lambda).
	Service string `json:"service"`
	// Operation is the API operation (UpdateAssumeRolePolicy, PutItem,
	// SendEmail, Publish, Invoke, ...).
	Operation string `json:"operation"`
	// Code is the AWS error code returned, e.g. Throttling, ServiceFailure,
	// or CodeCrash.
	Code string `json:"code"`
	// Function limits a lambda Invoke fault to one function (its name,
	// e.g. GrantFunction); empty means every function. Required for
	// CodeCrash.
	Function string `json:"function,omitempty"`
	// Status is the HTTP status; default 500 (400 for throttling codes).
	Status int `json:"status,omitempty"`
	// Count is how many calls fail; 0 or less means until cleared.
	Count int `json:"count,omitempty"`
}

// CodeCrash is the Fault code that crashes a function mid-invocation
// instead of answering with an AWS error.
const CodeCrash = "Crash"

// validate reports what is wrong with a fault rule.
func (f Fault) validate() error {
	switch {
	case f.Service == "" || f.Operation == "" || f.Code == "":
		return errors.New(`want {"service","operation","code","function"?,"status"?,"count"?}`)
	case f.Code == CodeCrash && (f.Service != "lambda" || f.Operation != "Invoke" || f.Function == ""):
		return errors.New(`a crash needs {"service":"lambda","operation":"Invoke","code":"Crash","function":NAME}`)
	case f.Function != "" && (f.Service != "lambda" || f.Operation != "Invoke"):
		return errors.New(`"function" applies only to service lambda, operation Invoke`)
	}
	return nil
}

// Faults holds the active fault rules.
type Faults struct {
	mu    sync.Mutex
	rules []*Fault
}

// Add makes calls matching f fail. It refuses a rule that could never
// match as intended (see Fault).
func (fs *Faults) Add(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("fault: %w", err)
	}
	if f.Status == 0 {
		f.Status = http.StatusInternalServerError
		if f.Code == "Throttling" || f.Code == "ThrottlingException" {
			f.Status = http.StatusBadRequest
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &f)
	return nil
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

// match returns the error fault for a call, counting it down; resource
// is the function of a lambda Invoke. Crash faults are not answered here
// but where the function runs (see crashes).
func (fs *Faults) match(service, op, resource string) *Fault {
	return fs.take(func(f *Fault) bool {
		return f.Code != CodeCrash && f.Service == service && f.Operation == op &&
			(f.Function == "" || f.Function == resource)
	})
}

// crashes reports whether this invocation of function (a name or ARN)
// must crash, counting the fault down.
func (fs *Faults) crashes(function string) bool {
	name := functionOf(function)
	return fs.take(func(f *Fault) bool { return f.Code == CodeCrash && f.Function == name }) != nil
}

// take returns a copy of the first rule that hits, counting it down.
func (fs *Faults) take(hits func(*Fault) bool) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.rules {
		if !hits(f) {
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
		op, resource := operation(r, body)
		f := fs.match(signingService(r.Header.Get("Authorization")), op, resource)
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
		err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&f)
		if err == nil {
			err = fs.Add(f)
		}
		if err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		fs.Clear()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeMessage(w, http.StatusMethodNotAllowed, "POST a fault or DELETE them all")
	}
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg}) // a map of strings always marshals
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
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
