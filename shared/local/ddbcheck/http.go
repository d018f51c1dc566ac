package ddbcheck

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// targetPrefix starts the X-Amz-Target of every DynamoDB JSON-protocol
// request.
const targetPrefix = "DynamoDB_20120810."

// maxBody bounds the body read for checking: DynamoDB's largest request
// (BatchWriteItem, TransactWriteItems) is well under it. A larger body is
// passed on unchecked.
const maxBody = 16 << 20

// Screen checks r if it is a DynamoDB request. When DynamoDB would refuse
// it, Screen answers as DynamoDB does (400, ValidationException) and
// returns true; the caller must then not forward it. Otherwise r's body is
// left for the caller to read, unchanged.
func Screen(w http.ResponseWriter, r *http.Request, log *slog.Logger) bool {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || !strings.HasPrefix(target, targetPrefix) || r.Body == nil || r.Body == http.NoBody {
		return false
	}
	op := strings.TrimPrefix(target, targetPrefix)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil || len(body) > maxBody {
		return false
	}
	verr := Check(op, body)
	if verr == nil {
		return false
	}
	if log != nil {
		log.Warn("DynamoDB would refuse this request", "operation", op, "message", verr.Message)
	}
	Write(w, verr)
	return true
}

// Write answers with err as DynamoDB does.
func Write(w http.ResponseWriter, err *ValidationError) {
	b, _ := json.Marshal(map[string]string{ // a map of strings always marshals
		"__type":  "com.amazon.coral.validate#ValidationException",
		"message": err.Message,
	})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}
