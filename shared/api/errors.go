package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// apiError is an error with the status and body the caller should see.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func newError(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// toResponse maps any error to a response: domain errors to their status
// here, and *apiError (raised where the edge itself refuses a call) as it
// says. Internal errors are logged and never echoed.
func (h *Handler) toResponse(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	var ae *apiError
	var ve *access.ValidationError
	var te *access.ErrTransition
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ve):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: ve.Error(), Field: ve.Field}
	case errors.As(err, &te):
		ae = newError(http.StatusConflict, "conflict", te.Error())
	case errors.Is(err, access.ErrNotFound):
		ae = newError(http.StatusNotFound, "not_found", "no such request")
	case errors.Is(err, access.ErrForbidden):
		ae = newError(http.StatusForbidden, "forbidden", "you are not allowed to do this")
	case errors.Is(err, store.ErrConflict):
		ae = newError(http.StatusConflict, "conflict", "another change to the same request happened at the same moment; retry")
	case errors.Is(err, store.ErrBadCursor):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "cursor: not a cursor returned by this list", Field: "cursor"}
	default:
		h.Logger.ErrorContext(ctx, "request failed", slog.String("error", err.Error()))
		ae = newError(http.StatusInternalServerError, "internal", "internal error; the request was not changed")
	}
	return jsonResponse(ae.Status, ae)
}

func jsonResponse(status int, body any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"internal error"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/json",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(b),
	}
}
