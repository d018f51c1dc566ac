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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Input starts an execution. Field names match the ASL's JSONPaths.
type Input struct {
	RequestID string `json:"request_id"`
	// Mode routes the execution: ModeApproval waits for the chain,
	// ModeAuto and ModeBreakGlass go straight to granting.
	Mode string `json:"mode"`
	// LinkBaseURL is where decision links point (the API's public URL).
	LinkBaseURL string `json:"link_base_url"`
	// Await is the level the execution waits on first.
	Await Await `json:"await"`
	// StartAt, when set, is when access should begin (Wait TimestampPath).
	StartAt string `json:"start_at,omitempty"`
}

// Modes of an execution.
const (
	ModeApproval   = "approval"
	ModeAuto       = "auto"
	ModeBreakGlass = "break_glass"
)

// Await says which level AwaitApproval waits on, for how long, and
// whether its escalation approvers are being asked.
type Await struct {
	Level          int   `json:"level"`
	TimeoutSeconds int64 `json:"timeout_seconds"`
	Escalated      bool  `json:"escalated"`
}

// ApprovalTask is the notify function's payload in AwaitApproval.
type ApprovalTask struct {
	Action      string `json:"action"`
	RequestID   string `json:"request_id"`
	LinkBaseURL string `json:"link_base_url"`
	Await       Await  `json:"await"`
	TaskToken   Secret `json:"task_token,omitempty"`
}

// Actions of the notify function.
const (
	ActionRequestApproval = "request_approval"
	ActionLevelTimeout    = "level_timeout"
	ActionBreakGlass      = "break_glass"
)

// Decision is what the decide function sends to complete AwaitApproval;
// the ASL's Choice reads Outcome, and for OutcomeNextLevel takes Await as
// the level to wait on next.
type Decision struct {
	Outcome string `json:"outcome"`
	By      string `json:"by"`
	Await   *Await `json:"await,omitempty"`
}

// Outcomes of AwaitApproval.
const (
	OutcomeApproved  = "approved"
	OutcomeDenied    = "denied"
	OutcomeNextLevel = "next_level"
	OutcomeCancelled = "cancelled"
)

// TimeoutTask is the payload of LevelTimedOut: the level that timed out.
type TimeoutTask struct {
	Action    string `json:"action"`
	RequestID string `json:"request_id"`
	Level     int    `json:"level"`
}

// TimeoutResult tells the ASL what follows a level timeout: Action "await"
// (wait on Await: escalated, or the next level) or "timed_out".
type TimeoutResult struct {
	Action string `json:"action"`
	// Await is always present (the ASL's ResultSelector reads it).
	Await Await `json:"await"`
}

// Timeout actions.
const (
	TimeoutAwait    = "await"
	TimeoutTimedOut = "timed_out"
	// TimeoutApproved: the request was approved just as the level timed
	// out (the signal came too late); go on to grant.
	TimeoutApproved = "approved"
	// TimeoutEnded: the request already ended (denied, cancelled).
	TimeoutEnded = "ended"
)

// GrantTask is the grant function's payload. Action is "grant" (the
// default) or "refresh" (re-apply the grant with the request's current
// window, after an extension); "hold" (store TaskToken) is what the Hold
// task sent the grant function before the notify function ran it (see
// HoldTask), still served for executions started then.
type GrantTask struct {
	Action    string `json:"action,omitempty"`
	RequestID string `json:"request_id"`
	TaskToken Secret `json:"task_token,omitempty"`
}

// Grant function actions.
const (
	ActionGrant   = "grant"
	ActionHold    = "hold"
	ActionRefresh = "refresh"
)

// GrantResult is what the grant function returns; Hold waits
// RemainingSeconds (its timeout), which ends at ExpiresAt.
type GrantResult struct {
	ExpiresAt        string `json:"expires_at"`
	RemainingSeconds int64  `json:"remaining_seconds"`
}

// HoldTask is the payload of the Hold task, run by the notify function:
// store TaskToken on the active request (the Hold task waits on it until
// the window ends, or a revoke or extend signals it), then tell the
// requester Notice, if any: "granted" after the grant, nothing after an
// extension's regrant. Telling there rather than in a state of its own
// saves a state transition and a read of the request per grant.
type HoldTask struct {
	Action    string `json:"action"`
	RequestID string `json:"request_id"`
	TaskToken Secret `json:"task_token"`
	Notice    string `json:"notice,omitempty"`
}

// RevokeRequested ends a Hold at once: a revoke was asked for before the
// hold began, so it could not be signalled. Its type name is what the
// state machine's Catch matches (the Lambda runtime reports it as the
// error type).
type RevokeRequested struct{ ID, By string }

func (e *RevokeRequested) Error() string {
	return fmt.Sprintf("request %s: revoke requested by %s", e.ID, e.By)
}

// Signal is what the API sends to end a Hold early: Action "revoke" or
// "extend", by whom.
type Signal struct {
	Action string `json:"action"`
	By     string `json:"by"`
}

// Signals.
const (
	SignalRevoke = "revoke"
	SignalExtend = "extend"
)

// EndTask is the revoke function's payload: end the request with Outcome
// and remove any access it had.
type EndTask struct {
	Action    string          `json:"action,omitempty"`
	RequestID string          `json:"request_id"`
	Outcome   string          `json:"outcome"`
	By        string          `json:"by,omitempty"`
	Error     json.RawMessage `json:"error,omitempty"`
}

// ActionRevokeFailed records that revoking failed for good, for the
// reconciler and the alarm.
const ActionRevokeFailed = "revoke_failed"

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
	StopExecution(context.Context, *sfn.StopExecutionInput, ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
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

// Stop ends the execution of request id (e.g. when it is cancelled), so no
// execution is left waiting for a decision that will not come. Stopping an
// execution that already ended is harmless.
func (c *Client) Stop(ctx context.Context, id, cause string) error {
	arn := strings.Replace(c.stateMachine, ":stateMachine:", ":execution:", 1) + ":" + id
	_, err := c.api.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: &arn, Error: aws.String("Cancelled"), Cause: aws.String(cause)})
	var missing *types.ExecutionDoesNotExist
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("stop execution %s: %w", id, err)
	}
	return nil
}

// ErrTaskGone is returned when the task a token belongs to no longer waits
// (it timed out, or was already completed).
var ErrTaskGone = errors.New("workflow task no longer waiting")

// Complete sends d to the task waiting on token.
func (c *Client) Complete(ctx context.Context, token string, d Decision) error {
	return c.send(ctx, token, d)
}

// Signal wakes the Hold task waiting on token (revoke or extend).
func (c *Client) Signal(ctx context.Context, token string, s Signal) error {
	return c.send(ctx, token, s)
}

func (c *Client) send(ctx context.Context, token string, out any) error {
	body, err := json.Marshal(out)
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
