package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// response is an HTTP response ready to write.
type response struct {
	status int
	header http.Header
	body   []byte
}

// defaultContentType is what HTTP API sends when a structured response names
// no content type.
const defaultContentType = "text/plain; charset=utf-8"

// mapResult turns a function's result into the HTTP response, following
// payload format 2.0: a JSON object with a statusCode is a structured
// response; any other valid JSON is the body of a 200 application/json
// response. Anything else is an error, which API Gateway turns into a 500.
func mapResult(result []byte) (response, error) {
	result = bytes.TrimSpace(result)
	if !json.Valid(result) {
		return response{}, errors.New("function result is not valid JSON")
	}
	if !hasStatusCode(result) {
		return response{
			status: http.StatusOK,
			header: http.Header{"Content-Type": {"application/json"}},
			body:   result,
		}, nil
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(result, &res); err != nil {
		return response{}, fmt.Errorf("function result is not a valid response: %w", err)
	}
	return structuredResponse(res)
}

func hasStatusCode(result []byte) bool {
	if len(result) == 0 || result[0] != '{' {
		return false
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(result, &probe); err != nil {
		return false
	}
	_, ok := probe["statusCode"]
	return ok
}

func structuredResponse(res events.APIGatewayV2HTTPResponse) (response, error) {
	// A missing or zero statusCode is a malformed response to API Gateway;
	// 1xx codes cannot be a final response.
	if res.StatusCode < 200 || res.StatusCode > 599 {
		return response{}, fmt.Errorf("function returned invalid statusCode %d", res.StatusCode)
	}
	header, err := responseHeader(res)
	if err != nil {
		return response{}, err
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return response{}, fmt.Errorf("function returned isBase64Encoded with an invalid base64 body: %w", err)
		}
	}
	return response{status: res.StatusCode, header: header, body: body}, nil
}

// responseHeader merges headers, multiValueHeaders and cookies. Framing
// headers are the gateway's to set, as in AWS, so the function's are dropped.
func responseHeader(res events.APIGatewayV2HTTPResponse) (http.Header, error) {
	header := make(http.Header, len(res.Headers)+len(res.MultiValueHeaders)+2)
	for name, value := range res.Headers {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("function returned invalid header name %q", name)
		}
		header.Set(name, value)
	}
	for name, values := range res.MultiValueHeaders {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("function returned invalid header name %q", name)
		}
		for _, v := range values {
			if !slices.Contains(header.Values(name), v) {
				header.Add(name, v)
			}
		}
	}
	for _, c := range res.Cookies {
		header.Add("Set-Cookie", c)
	}
	for _, name := range []string{"Content-Length", "Transfer-Encoding", "Connection"} {
		header.Del(name)
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", defaultContentType)
	}
	return header, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return true
}

// functionErrorDetail extracts Lambda's error document ({"errorType",
// "errorMessage"}) for the log; the rest of the result is not logged.
func functionErrorDetail(result []byte) (errorType, errorMessage string) {
	var doc struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(result, &doc)
	return doc.ErrorType, doc.ErrorMessage
}
