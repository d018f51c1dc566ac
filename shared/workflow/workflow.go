// Package workflow is the contract between the functions and the state
// machine in statemachine/access.asl.json: the execution input, the payload
// each task sends, what each task returns, and the two calls the functions
// make into Step Functions (start an execution, complete a waiting task).
//
// Sequencing lives in the ASL, not here; this package must not decide what
// happens next.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Input starts an execution. Field names match the ASL's JSONPaths.
type Input struct {
	RequestID string `json:"request_id"`
	// LinkBaseURL is where decision links point (the API's public URL).
	LinkBaseURL string `json:"link_base_url"`
	// ApprovalTimeoutSeconds bounds the wait for a decision.
	ApprovalTimeoutSeconds int64 `json:"approval_timeout_seconds"`
}

// ApprovalTask is the notify function's payload in AwaitApproval.
type ApprovalTask struct {
	Action      string `json:"action"`
	RequestID   string `json:"request_id"`
	Level       int    `json:"level"`
	LinkBaseURL string `json:"link_base_url"`
	// TimeoutSeconds is how long the level waits; its links expire then.
	TimeoutSeconds int64  `json:"timeout_seconds"`
	TaskToken      Secret `json:"task_token"`
}

// Decision is what the decide function sends to complete AwaitApproval;
// the ASL's Choice reads Outcome.
type Decision struct {
	Outcome string `json:"outcome"`
	By      string `json:"by"`
}

// GrantTask is the grant function's payload.
type GrantTask struct {
	RequestID string `json:"request_id"`
}

// GrantResult is what the grant function returns; Hold waits until
// ExpiresAt.
type GrantResult struct {
	ExpiresAt string `json:"expires_at"`
}

// EndTask is the revoke function's payload: end the request with Outcome
// and remove any access it had.
type EndTask struct {
	RequestID string          `json:"request_id"`
	Outcome   string          `json:"outcome"`
	Error     json.RawMessage `json:"error,omitempty"`
}

// Timestamp formats t for a Wait state's TimestampPath: UTC, seconds, "Z"
// (emulators reject "+00:00").
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Secret is a string that must not reach logs: a task token is a bearer
// credential for completing a workflow step.
type Secret string

// LogValue redacts the secret in slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String redacts the secret in fmt output.
func (Secret) String() string { return "[redacted]" }

// API is the part of Step Functions the functions use.
type API interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Client starts executions of one state machine and completes its tasks.
type Client struct {
	api          API
	stateMachine string
}

// New returns a client for the state machine with ARN stateMachine.
func New(api API, stateMachine string) *Client {
	return &Client{api: api, stateMachine: stateMachine}
}

// Start begins the execution for in.RequestID, named after it. Starting the
// same request twice is harmless: Step Functions refuses a second execution
// with the same name and input, which counts as success here.
func (c *Client) Start(ctx context.Context, in Input) (string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("start %s: %w", in.RequestID, err)
	}
	out, err := c.api.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: &c.stateMachine,
		Name:            &in.RequestID,
		Input:           aws.String(string(body)),
	})
	if err != nil {
		var exists *types.ExecutionAlreadyExists
		if errors.As(err, &exists) {
			return "", nil
		}
		return "", fmt.Errorf("start execution %s: %w", in.RequestID, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// ErrTaskGone is returned when the task a token belongs to no longer waits
// (it timed out, or was already completed).
var ErrTaskGone = errors.New("workflow task no longer waiting")

// Complete sends d to the task waiting on token.
func (c *Client) Complete(ctx context.Context, token string, d Decision) error {
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("complete task: %w", err)
	}
	_, err = c.api.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(string(body))})
	if err != nil {
		var timedOut *types.TaskTimedOut
		var invalid *types.InvalidToken
		var missing *types.TaskDoesNotExist
		if errors.As(err, &timedOut) || errors.As(err, &invalid) || errors.As(err, &missing) {
			return fmt.Errorf("complete task: %w", ErrTaskGone)
		}
		return fmt.Errorf("complete task: %w", err)
	}
	return nil
}
