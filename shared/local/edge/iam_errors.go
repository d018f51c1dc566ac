package edge

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// writeError answers a refused call in its service's protocol, as AWS
// does, so that the SDKs parse the code and message: the query protocol's
// <ErrorResponse> (STS, IAM), the JSON protocol's {"__type","message"}
// (DynamoDB, Step Functions), and REST-JSON's X-Amzn-ErrorType (Lambda).
func writeError(w http.ResponseWriter, _ *http.Request, p protocol, status int, code, message string) {
	requestID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	switch p {
	case protocolQuery:
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			xmlText(typ), xmlText(code), xmlText(message), xmlText(requestID))
	case protocolJSON:
		b, _ := json.Marshal(map[string]string{"__type": "com.amazon.coral.service#" + code, "message": message})
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	default:
		b, _ := json.Marshal(map[string]string{"Message": message})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// accessDeniedCode is the error code of an authorization failure: the
// query protocol's AccessDenied, AccessDeniedException elsewhere.
func accessDeniedCode(p protocol) string {
	if p == protocolQuery {
		return "AccessDenied"
	}
	return "AccessDeniedException"
}

// accessDeniedStatus: the JSON-protocol services (DynamoDB, Step
// Functions) answer an authorization failure with 400, the others 403.
func accessDeniedStatus(p protocol) int {
	if p == protocolJSON {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

// expiredCode is the code for a call signed with expired session
// credentials; the SDKs treat both as an expired token.
func expiredCode(p protocol) string {
	if p == protocolQuery {
		return "ExpiredToken"
	}
	return "ExpiredTokenException"
}
