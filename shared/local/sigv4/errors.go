package sigv4

// Error codes, as API Gateway reports them in the x-amzn-ErrorType response
// header when IAM authorization fails.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
)

// Reason says which check a request failed. Several reasons share one AWS
// Code (a skewed clock and a wrong signature are both
// InvalidSignatureException), so callers and tests that need to tell them
// apart use Reason rather than parsing Message.
type Reason string

// Reasons a request can fail verification.
const (
	ReasonMissingAuthorization   Reason = "missing-authorization"
	ReasonMalformedAuthorization Reason = "malformed-authorization"
	ReasonMissingDate            Reason = "missing-date"
	ReasonUnknownAccessKey       Reason = "unknown-access-key"
	ReasonScopeDate              Reason = "scope-date-mismatch"
	ReasonScopeRegion            Reason = "scope-region-mismatch"
	ReasonScopeService           Reason = "scope-service-mismatch"
	ReasonScopeTerminator        Reason = "scope-terminator-mismatch"
	ReasonSkew                   Reason = "request-time-skewed"
	ReasonHostNotSigned          Reason = "host-not-signed"
	ReasonTokenNotSigned         Reason = "security-token-not-signed"
	ReasonSignedHeaderMissing    Reason = "signed-header-missing"
	ReasonPayloadHash            Reason = "payload-hash-mismatch"
	ReasonSignatureMismatch      Reason = "signature-mismatch"
)

// Error is a verification failure. Code and Message are what API Gateway
// would return to the client and are safe to send back verbatim; Reason is
// for programs.
type Error struct {
	Code    string
	Message string
	Reason  Reason
}

func (e *Error) Error() string {
	return e.Code + ": " + e.Message
}

func newError(code string, reason Reason, message string) *Error {
	return &Error{Code: code, Message: message, Reason: reason}
}
