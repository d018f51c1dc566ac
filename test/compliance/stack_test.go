package compliance

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The stack's template and its state machine, relative to this package.
const (
	stackTemplatePath = "../../template.yaml"
	definitionPath    = "../../statemachine/access.asl.json"
)

// stackResource is one resource of template.yaml, as far as these checks
// read it.
type stackResource struct {
	Type                string         `yaml:"Type"`
	DeletionPolicy      string         `yaml:"DeletionPolicy"`
	UpdateReplacePolicy string         `yaml:"UpdateReplacePolicy"`
	Properties          map[string]any `yaml:"Properties"`
}

// readStack reads template.yaml's resources. Short-form intrinsic tags
// (!Ref, !GetAtt, ...) decode as their plain values, enough for presence
// checks.
func readStack(t *testing.T) map[string]stackResource {
	t.Helper()
	raw, err := os.ReadFile(stackTemplatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]stackResource `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", stackTemplatePath, err)
	}
	if len(doc.Resources) == 0 {
		t.Fatalf("%s has no resources", stackTemplatePath)
	}
	return doc.Resources
}

func mapAt(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, _ := m[p].(map[string]any)
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

// TestAuditTableIsRetained: the table holding the audit trail survives a
// stack deletion or replacement and refuses DeleteTable.
func TestAuditTableIsRetained(t *testing.T) {
	res := readStack(t)
	table, ok := res["AccessTable"]
	if !ok || table.Type != "AWS::DynamoDB::Table" {
		t.Fatalf("no AccessTable DynamoDB table in %s", stackTemplatePath)
	}
	if table.DeletionPolicy != "Retain" {
		t.Errorf("AccessTable DeletionPolicy = %q, want Retain", table.DeletionPolicy)
	}
	if table.UpdateReplacePolicy != "Retain" {
		t.Errorf("AccessTable UpdateReplacePolicy = %q, want Retain", table.UpdateReplacePolicy)
	}
	if v, _ := table.Properties["DeletionProtectionEnabled"].(bool); !v {
		t.Errorf("AccessTable DeletionProtectionEnabled = %v, want true", table.Properties["DeletionProtectionEnabled"])
	}
	if v, _ := mapAt(table.Properties, "PointInTimeRecoverySpecification")["PointInTimeRecoveryEnabled"].(bool); !v {
		t.Error("AccessTable has no point-in-time recovery")
	}
}

// TestSchedulesAreUnnamed: a named schedule (SAM names a ScheduleV2 after
// its function and event unless told otherwise) makes a second stack in
// the same account and region fail.
func TestSchedulesAreUnnamed(t *testing.T) {
	found := 0
	for id, r := range readStack(t) {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		for name, ev := range mapAt(r.Properties, "Events") {
			e, _ := ev.(map[string]any)
			if e["Type"] != "ScheduleV2" && e["Type"] != "Schedule" {
				continue
			}
			found++
			props, _ := e["Properties"].(map[string]any)
			if _, named := props["Name"]; named {
				t.Errorf("%s event %s: a fixed Name collides between stacks; leave it out", id, name)
			}
			if e["Type"] == "ScheduleV2" && props["OmitName"] != true {
				t.Errorf("%s event %s: ScheduleV2 without OmitName: true is named %s%s", id, name, id, name)
			}
		}
	}
	if found == 0 {
		t.Fatal("no schedule found; the reconciler runs on one")
	}
}

// TestLogging: API access logs by route key (never the path, which holds
// link tokens), state machine logs without execution data (task tokens),
// a log group with retention for every function, throttled routes, and
// reserved concurrency for the grant and revoke functions.
func TestLogging(t *testing.T) {
	res := readStack(t)
	retained := func(id string) {
		t.Helper()
		g, ok := res[id]
		if !ok || g.Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s: no such log group", id)
			return
		}
		if g.Properties["RetentionInDays"] == nil {
			t.Errorf("log group %s has no RetentionInDays (logs kept forever)", id)
		}
	}

	api := res["HttpApi"].Properties
	logs := mapAt(api, "AccessLogSettings")
	format, _ := logs["Format"].(string)
	switch {
	case logs == nil:
		t.Error("HttpApi has no AccessLogSettings")
	case !strings.Contains(format, "$context.routeKey"):
		t.Errorf("HttpApi access log format %q lacks $context.routeKey", format)
	case strings.Contains(format, "$context.path"), strings.Contains(format, "$context.resourcePath"):
		t.Errorf("HttpApi access log format %q logs the path, which carries decision-link tokens", format)
	}
	if dest, _ := logs["DestinationArn"].(string); dest != "" {
		retained(strings.TrimSuffix(dest, ".Arn"))
	}
	throttle := mapAt(api, "DefaultRouteSettings")
	if throttle["ThrottlingRateLimit"] == nil || throttle["ThrottlingBurstLimit"] == nil {
		t.Errorf("HttpApi DefaultRouteSettings = %v, want ThrottlingRateLimit and ThrottlingBurstLimit", throttle)
	}

	sm := res["AccessStateMachine"].Properties
	logging := mapAt(sm, "Logging")
	if logging == nil || logging["Level"] == nil || logging["Level"] == "OFF" {
		t.Errorf("AccessStateMachine Logging = %v, want a level", logging)
	}
	if logging["IncludeExecutionData"] != false {
		t.Errorf("AccessStateMachine logs execution data (task tokens): IncludeExecutionData = %v", logging["IncludeExecutionData"])
	}
	dests, _ := logging["Destinations"].([]any)
	if len(dests) != 1 {
		t.Errorf("AccessStateMachine log destinations = %v", dests)
	} else if arn, _ := mapAt(dests[0].(map[string]any), "CloudWatchLogsLogGroup")["LogGroupArn"].(string); arn != "" {
		retained(strings.TrimSuffix(arn, ".Arn"))
	}

	functions := 0
	for id, r := range res {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		functions++
		group, _ := mapAt(r.Properties, "LoggingConfig")["LogGroup"].(string)
		if group == "" {
			t.Errorf("%s has no LoggingConfig.LogGroup: Lambda would create one that keeps logs forever", id)
			continue
		}
		retained(group)
		_, reserved := r.Properties["ReservedConcurrentExecutions"]
		if want := id == "GrantFunction" || id == "RevokeFunction"; reserved != want {
			t.Errorf("%s ReservedConcurrentExecutions set = %v, want %v", id, reserved, want)
		}
	}
	if functions != 6 {
		t.Errorf("%d functions, want 6", functions)
	}
}

// TestSMSPublishIsNotTopics: SMS publishing needs "*" (a phone number has
// no ARN), so the statement excludes every SNS ARN instead.
func TestSMSPublishIsNotTopics(t *testing.T) {
	raw, err := os.ReadFile(stackTemplatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies []yaml.Node `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	publishers := 0
	for id, r := range doc.Resources {
		for _, p := range r.Properties.Policies {
			var pol struct {
				Statement []struct {
					Effect      string    `yaml:"Effect"`
					Action      yaml.Node `yaml:"Action"`
					Resource    yaml.Node `yaml:"Resource"`
					NotResource yaml.Node `yaml:"NotResource"`
				} `yaml:"Statement"`
			}
			if p.Kind != yaml.MappingNode || p.Decode(&pol) != nil {
				continue
			}
			for _, st := range pol.Statement {
				var actions []string
				if st.Action.Kind == yaml.SequenceNode {
					_ = st.Action.Decode(&actions)
				} else {
					actions = []string{st.Action.Value}
				}
				if st.Effect != "Allow" || !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "sns:") }) {
					continue
				}
				publishers++
				if !slices.Equal(actions, []string{"sns:Publish"}) {
					t.Errorf("%s: SNS statement allows %v, want only sns:Publish", id, actions)
				}
				if st.Resource.Value == "*" {
					t.Errorf("%s: sns:Publish on Resource \"*\" reaches every topic", id)
				}
				if !strings.HasSuffix(st.NotResource.Value, ":sns:*:*:*") {
					t.Errorf("%s: sns:Publish NotResource = %q, want every SNS ARN (arn:${AWS::Partition}:sns:*:*:*)", id, st.NotResource.Value)
				}
			}
		}
	}
	if publishers != 1 {
		t.Errorf("%d statements allow SNS, want the notify function's one", publishers)
	}
}

// lambdaRetryErrors are the errors AWS recommends every Lambda task retry
// (Step Functions Developer Guide, "Handle transient Lambda service
// exceptions"), plus throttling and the unknown errors a crash reports.
var lambdaRetryErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.ClientExecutionTimeoutException",
	"Lambda.TooManyRequestsException",
	"Lambda.Unknown",
}

type aslState struct {
	Type     string `json:"Type"`
	Resource string `json:"Resource"`
	Retry    []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		MaxAttempts *int     `json:"MaxAttempts"`
	} `json:"Retry"`
	Branches      []aslMachine `json:"Branches"`
	Iterator      *aslMachine  `json:"Iterator"`
	ItemProcessor *aslMachine  `json:"ItemProcessor"`
}

type aslMachine struct {
	States map[string]aslState `json:"States"`
}

// lambdaTasks lists every Lambda Task state, nested ones (Parallel, Map)
// included, by name.
func lambdaTasks(m aslMachine, into map[string]aslState) {
	for name, s := range m.States {
		if s.Type == "Task" && strings.HasPrefix(s.Resource, "arn:aws:states:::lambda:invoke") {
			into[name] = s
		}
		for _, b := range s.Branches {
			lambdaTasks(b, into)
		}
		for _, sub := range []*aslMachine{s.Iterator, s.ItemProcessor} {
			if sub != nil {
				lambdaTasks(*sub, into)
			}
		}
	}
}

// retried reports whether some retrier of s catches err and retries it at
// least once. States.ALL and States.TaskFailed catch every Lambda error.
func retried(s aslState, err string) bool {
	for _, r := range s.Retry {
		if r.MaxAttempts != nil && *r.MaxAttempts == 0 {
			continue
		}
		for _, e := range r.ErrorEquals {
			if e == err || e == "States.ALL" || e == "States.TaskFailed" {
				return true
			}
		}
	}
	return false
}

// TestLambdaTasksRetryTransientErrors: one transient Lambda error must not
// end a step; at Hold it would revoke access that was just granted.
func TestLambdaTasksRetryTransientErrors(t *testing.T) {
	raw, err := os.ReadFile(definitionPath)
	if err != nil {
		t.Fatal(err)
	}
	var m aslMachine
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	tasks := map[string]aslState{}
	lambdaTasks(m, tasks)
	if len(tasks) < 10 {
		t.Fatalf("found %d Lambda tasks in %s, want every one (the workflow has more)", len(tasks), definitionPath)
	}
	for name, s := range tasks {
		for _, e := range lambdaRetryErrors {
			if !retried(s, e) {
				t.Errorf("state %s does not retry %s", name, e)
			}
		}
	}
}

// TestRetryCheckCanFail: the check above, on a task that retries only its
// own errors.
func TestRetryCheckCanFail(t *testing.T) {
	var s aslState
	if err := json.Unmarshal([]byte(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["Lambda.ServiceException","TransientError"]},{"ErrorEquals":["States.ALL"],"MaxAttempts":0}]}`), &s); err != nil {
		t.Fatal(err)
	}
	if !retried(s, "Lambda.ServiceException") || retried(s, "Lambda.SdkClientException") {
		t.Error("retried() does not tell a retried error from one that is not")
	}
}
