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

// errorBody is the JSON of every refusal.
type errorBody struct {
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// statuses is the one map from error kind to HTTP status, with the code
// an error of that kind carries when it names none.
var statuses = map[access.Kind]struct {
	status int
	code   string
}{
	access.KindInvalid:       {http.StatusBadRequest, "invalid_request"},
	access.KindForbidden:     {http.StatusForbidden, "forbidden"},
	access.KindNotFound:      {http.StatusNotFound, "not_found"},
	access.KindConflict:      {http.StatusConflict, "conflict"},
	access.KindBusy:          {http.StatusConflict, "busy"},
	access.KindUnprocessable: {http.StatusUnprocessableEntity, "unprocessable"},
	access.KindStale:         {http.StatusPreconditionFailed, "stale"},
	access.KindTooLarge:      {http.StatusRequestEntityTooLarge, "too_large"},
	access.KindUnsupported:   {http.StatusUnsupportedMediaType, "unsupported_media_type"},
	access.KindUnavailable:   {http.StatusServiceUnavailable, "unavailable"},
}

// toResponse maps any error to a response through statuses. Internal
// errors are logged and never echoed.
func (h *Handler) toResponse(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	body := errorBody{Message: err.Error()}
	var e *access.Error
	var ve *access.ValidationError
	switch {
	case errors.As(err, &e):
		body.Code = e.Code
	case errors.As(err, &ve):
		body.Field = ve.Field
	case errors.Is(err, access.ErrNotFound):
		body.Message = "no such request"
	case errors.Is(err, access.ErrForbidden):
		body.Message = "you are not allowed to do this"
	case errors.Is(err, store.ErrConflict):
		err = &access.Error{Kind: access.KindConflict}
		body.Message = "another change to the same request happened at the same moment; retry"
	case errors.Is(err, store.ErrBadCursor):
		err = access.Invalid("cursor", "not a cursor returned by this list")
		body = errorBody{Message: err.Error(), Field: "cursor"}
	}
	s, ok := statuses[access.KindOf(err)]
	if !ok {
		h.Logger.ErrorContext(ctx, "request failed", slog.String("error", err.Error()))
		return jsonResponse(http.StatusInternalServerError, errorBody{Code: "internal", Message: "internal error; the request was not changed"})
	}
	if body.Code == "" {
		body.Code = s.code
	}
	return jsonResponse(s.status, body)
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
