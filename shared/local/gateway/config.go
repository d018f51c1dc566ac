package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Route is one HTTP API route: "Method Path" invoking Function. Path is a
// template such as /v1/requests/{id}, /d/{token} or /static/{proxy+}; Method
// may be ANY. IAMAuth routes require a valid SigV4 signature.
type Route struct {
	Method, Path string
	Function     string
	IAMAuth      bool
}

// Key is the route key as API Gateway writes it, e.g. "GET /v1/requests/{id}".
func (r Route) Key() string {
	return r.Method + " " + r.Path
}

// Identity is a principal allowed to sign requests to the local gateway: the
// local equivalent of an IAM user or role session and its access key.
type Identity struct {
	Name            string `json:"name"`
	Kind            string `json:"kind"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	PrincipalARN    string `json:"principal_arn"`
	Email           string `json:"email"`
	Phone           string `json:"phone"`
}

// LoadIdentities reads a JSON array of identities and validates it: every
// identity needs a unique access key ID, a secret and a principal ARN.
func LoadIdentities(path string) ([]Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// A misspelt field would otherwise silently leave a credential empty.
	dec.DisallowUnknownFields()
	var ids []Identity
	if err := dec.Decode(&ids); err != nil {
		return nil, fmt.Errorf("load identities from %s: %w", path, err)
	}
	if err := validateIdentities(ids); err != nil {
		return nil, fmt.Errorf("load identities from %s: %w", path, err)
	}
	return ids, nil
}

// validateIdentities reports every problem at once, so a hand-edited file
// can be fixed in one go.
func validateIdentities(ids []Identity) error {
	var errs []error
	seen := make(map[string]string, len(ids))
	for i, id := range ids {
		label := fmt.Sprintf("identity %d (%q)", i, id.Name)
		switch prev, dup := seen[id.AccessKeyID]; {
		case id.AccessKeyID == "":
			errs = append(errs, fmt.Errorf("%s: access_key_id is empty", label))
		case dup:
			errs = append(errs, fmt.Errorf("%s: access_key_id %s is also used by %q", label, id.AccessKeyID, prev))
		default:
			seen[id.AccessKeyID] = id.Name
		}
		if id.SecretAccessKey == "" {
			errs = append(errs, fmt.Errorf("%s: secret_access_key is empty", label))
		}
		if _, err := parseARN(id.PrincipalARN); err != nil {
			errs = append(errs, fmt.Errorf("%s: principal_arn: %w", label, err))
		}
	}
	return errors.Join(errs...)
}

// InvokeFunc runs function with payload (the JSON event) and returns its
// result. functionError is Lambda's X-Amz-Function-Error ("Unhandled" etc.):
// the function ran but failed, and result holds its error document. err is
// for failures to invoke at all.
type InvokeFunc func(ctx context.Context, function string, payload []byte) (result []byte, functionError string, err error)

// Config configures the gateway. Zero values take the defaults noted.
type Config struct {
	Routes     []Route
	Identities []Identity
	Invoke     InvokeFunc
	// Region requests must be signed for; default us-east-1.
	Region string
	// AccountID is the API's account; default 123456789012 (moto's).
	AccountID string
	// APIID is the HTTP API's ID as it appears in events; default "local".
	APIID string
	// Stage is the stage name; default "$default", which has no path
	// prefix. Any other stage is served under /<stage>/.
	Stage string
	// Now is the gateway's clock; default time.Now.
	Now func() time.Time
	// Logger receives one line per request; default discards.
	Logger *slog.Logger
}

const (
	defaultRegion    = "us-east-1"
	defaultAccountID = "123456789012"
	defaultAPIID     = "local"
	defaultStage     = "$default"
)

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = defaultRegion
	}
	if c.AccountID == "" {
		c.AccountID = defaultAccountID
	}
	if c.APIID == "" {
		c.APIID = defaultAPIID
	}
	if c.Stage == "" {
		c.Stage = defaultStage
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// arn is the part of an ARN the gateway needs.
type arn struct {
	service, account, resource string
}

// parseARN splits "arn:partition:service:region:account:resource".
func parseARN(s string) (arn, error) {
	if s == "" {
		return arn{}, errors.New("is empty")
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] == "" || parts[5] == "" {
		return arn{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", s)
	}
	return arn{service: parts[2], account: parts[4], resource: parts[5]}, nil
}
