package template

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testRegion  = "eu-west-1"
	testAccount = "123456789012"
)

func loadProjectTemplate(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tpl
}

func projectResolver(t *testing.T, tpl *Template) Resolver {
	t.Helper()
	r, err := tpl.Resolver(testRegion, testAccount, nil)
	if err != nil {
		t.Fatalf("Resolver: %v", err)
	}
	return r
}

func TestLoadProjectTemplateFunctions(t *testing.T) {
	tpl := loadProjectTemplate(t)

	var ids []string
	for _, f := range tpl.Functions {
		ids = append(ids, f.LogicalID)
	}
	want := []string{"ApiFunction", "DecideFunction", "NotifyFunction", "GrantFunction", "RevokeFunction", "ReconcileFunction"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("functions = %v, want %v (template order)", ids, want)
	}

	for _, f := range tpl.Functions {
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || f.CodeURI != "." {
			t.Errorf("%s: runtime/handler/code = %q/%q/%q, want Globals' provided.al2023/bootstrap/.", f.LogicalID, f.Runtime, f.Handler, f.CodeURI)
		}
		if !reflect.DeepEqual(f.Architectures, []string{"arm64"}) {
			t.Errorf("%s: architectures = %v", f.LogicalID, f.Architectures)
		}
		if f.MemoryMB != 256 {
			t.Errorf("%s: memory = %d", f.LogicalID, f.MemoryMB)
		}
		if f.BuildMethod != "makefile" {
			t.Errorf("%s: build method = %q", f.LogicalID, f.BuildMethod)
		}
		if _, ok := f.Environment["TABLE_NAME"]; !ok {
			t.Errorf("%s: Globals TABLE_NAME not merged: %v", f.LogicalID, f.Environment)
		}
		if _, ok := f.Environment["LOG_LEVEL"]; !ok {
			t.Errorf("%s: Globals LOG_LEVEL not merged: %v", f.LogicalID, f.Environment)
		}
	}

	grant, _ := tpl.Function("GrantFunction")
	if grant.Timeout != 30*time.Second {
		t.Errorf("GrantFunction timeout = %v, want its own 30s over Globals' 15s", grant.Timeout)
	}
	api, _ := tpl.Function("ApiFunction")
	if api.Timeout != 15*time.Second {
		t.Errorf("ApiFunction timeout = %v, want Globals' 15s", api.Timeout)
	}
	if len(api.Environment) != 6 {
		t.Errorf("ApiFunction environment = %v, want TABLE_NAME, LOG_LEVEL, STATE_MACHINE_ARN, PUBLIC_BASE_URL, ADMIN_PRINCIPALS, AUDITOR_PRINCIPALS", api.Environment)
	}
	if _, ok := tpl.Function("NoSuchFunction"); ok {
		t.Error("Function(NoSuchFunction) found something")
	}
}

func TestLoadProjectTemplateRoutes(t *testing.T) {
	tpl := loadProjectTemplate(t)
	got := map[string][]Route{}
	for _, f := range tpl.Functions {
		got[f.LogicalID] = f.Routes
	}
	sortRoutes := func(rs []Route) []Route {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, func(a, b Route) int {
			return strings.Compare(a.Method+" "+a.Path, b.Method+" "+b.Path)
		})
		return rs
	}
	want := map[string][]Route{
		"ApiFunction": {
			{Method: "GET", Path: "/audit", IAMAuth: false},
			{Method: "GET", Path: "/audit/export", IAMAuth: false},
			{Method: "GET", Path: "/audit/requests/{id}", IAMAuth: false},
			{Method: "GET", Path: "/audit/stats", IAMAuth: false},
			{Method: "GET", Path: "/audit/session/{token}", IAMAuth: false},
			{Method: "POST", Path: "/audit/session/{token}", IAMAuth: false},
			{Method: "POST", Path: "/audit/logout", IAMAuth: false},
			{Method: "GET", Path: "/v1/audit", IAMAuth: true},
			{Method: "GET", Path: "/v1/audit/export", IAMAuth: true},
			{Method: "GET", Path: "/v1/policy", IAMAuth: true},
			{Method: "GET", Path: "/v1/requests", IAMAuth: true},
			{Method: "GET", Path: "/v1/stats", IAMAuth: true},
			{Method: "POST", Path: "/v1/audit/sessions", IAMAuth: true},
			{Method: "GET", Path: "/v1/requests/{id}", IAMAuth: true},
			{Method: "POST", Path: "/v1/policy/validate", IAMAuth: true},
			{Method: "POST", Path: "/v1/requests", IAMAuth: true},
			{Method: "POST", Path: "/v1/requests/{id}/cancel", IAMAuth: true},
			{Method: "POST", Path: "/v1/requests/{id}/extend", IAMAuth: true},
			{Method: "POST", Path: "/v1/requests/{id}/revoke", IAMAuth: true},
			{Method: "PUT", Path: "/v1/policy", IAMAuth: true},
		},
		"DecideFunction": {
			{Method: "GET", Path: "/d/{token}", IAMAuth: false},
			{Method: "POST", Path: "/d/{token}", IAMAuth: false},
			{Method: "POST", Path: "/slack/interactions", IAMAuth: false},
		},
		"NotifyFunction":    nil,
		"GrantFunction":     nil,
		"RevokeFunction":    nil,
		"ReconcileFunction": nil,
	}
	for id, w := range want {
		if g := sortRoutes(got[id]); !reflect.DeepEqual(g, sortRoutes(w)) {
			t.Errorf("%s routes = %+v, want %+v", id, g, w)
		}
	}
	if !reflect.DeepEqual(tpl.HttpApis, []string{"HttpApi"}) {
		t.Errorf("HttpApis = %v", tpl.HttpApis)
	}
}

func TestLoadProjectTemplateResolves(t *testing.T) {
	tpl := loadProjectTemplate(t)
	r := projectResolver(t, tpl)
	api, _ := tpl.Function("ApiFunction")
	notify, _ := tpl.Function("NotifyFunction")

	cases := []struct {
		name string
		expr any
		want string
	}{
		{"TABLE_NAME", api.Environment["TABLE_NAME"], "AccessTable"},
		{"LOG_LEVEL default", api.Environment["LOG_LEVEL"], "INFO"},
		{"STATE_MACHINE_ARN", api.Environment["STATE_MACHINE_ARN"], "arn:aws:states:eu-west-1:123456789012:stateMachine:AccessStateMachine"},
		{"PUBLIC_BASE_URL empty default", api.Environment["PUBLIC_BASE_URL"], ""},
		{"SENDER_EMAIL", notify.Environment["SENDER_EMAIL"], "jit@example.com"},
		{"Output TableName", tpl.Outputs["TableName"], "AccessTable"},
		{"Output StateMachineArn", tpl.Outputs["StateMachineArn"], "arn:aws:states:eu-west-1:123456789012:stateMachine:AccessStateMachine"},
		{"Output ApiUrl", tpl.Outputs["ApiUrl"], "https://HttpApi.execute-api.eu-west-1.amazonaws.com"},
	}
	for _, c := range cases {
		got, err := r.String(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.name, got, c.want)
		}
	}

	if len(tpl.StateMachines) != 1 {
		t.Fatalf("state machines = %+v", tpl.StateMachines)
	}
	sm := tpl.StateMachines[0]
	if sm.LogicalID != "AccessStateMachine" || sm.Type != "STANDARD" || sm.DefinitionURI != "statemachine/access.asl.json" {
		t.Errorf("state machine = %+v", sm)
	}
	for _, fn := range []string{"NotifyFunction", "GrantFunction", "RevokeFunction"} {
		got, err := r.String(sm.Substitutions[fn+"Arn"])
		if err != nil {
			t.Errorf("substitution %sArn: %v", fn, err)
			continue
		}
		if want := "arn:aws:lambda:eu-west-1:123456789012:function:" + fn; got != want {
			t.Errorf("substitution %sArn = %q, want %q", fn, got, want)
		}
	}

	if len(tpl.Tables) != 1 || tpl.Tables[0].LogicalID != "AccessTable" {
		t.Fatalf("tables = %+v", tpl.Tables)
	}
	gsis, _ := tpl.Tables[0].Properties["GlobalSecondaryIndexes"].([]any)
	if len(gsis) != 7 {
		t.Errorf("AccessTable GSIs = %v", gsis)
	}
}

func TestParamOverrides(t *testing.T) {
	tpl := loadProjectTemplate(t)
	r, err := tpl.Resolver(testRegion, testAccount, map[string]string{"LogLevel": "DEBUG", "SenderEmail": "me@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.String(map[string]any{"Ref": "LogLevel"}); got != "DEBUG" {
		t.Errorf("LogLevel = %q, want override DEBUG", got)
	}
	if got, _ := r.String(map[string]any{"Ref": "SenderEmail"}); got != "me@example.org" {
		t.Errorf("SenderEmail = %q", got)
	}
	if _, err := tpl.Resolver(testRegion, testAccount, map[string]string{"LogLevel": "LOUD"}); err == nil {
		t.Error("LogLevel=LOUD accepted despite AllowedValues")
	}
	if _, err := tpl.Resolver(testRegion, testAccount, map[string]string{"Nope": "x"}); err == nil {
		t.Error("override of an unknown parameter accepted")
	}
}

const inlineTemplate = `
Parameters:
  Stage: {Type: String, Default: dev}
  NoDefault: {Type: String}
  Number: {Type: Number, Default: 42}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Handler: h}
  Tbl:
    Type: AWS::DynamoDB::Table
  SM:
    Type: AWS::Serverless::StateMachine
    Properties: {DefinitionUri: sm.json}
  Api:
    Type: AWS::Serverless::HttpApi
  Other:
    Type: AWS::SNS::Topic
Outputs:
  RefShort:     {Value: !Ref Stage}
  RefLong:      {Value: {Ref: Stage}}
  RefNumber:    {Value: !Ref Number}
  RefFn:        {Value: !Ref Fn}
  RefTable:     {Value: !Ref Tbl}
  RefSM:        {Value: !Ref SM}
  RefApi:       {Value: !Ref Api}
  Region:       {Value: !Ref "AWS::Region"}
  Account:      {Value: !Ref AWS::AccountId}
  Partition:    {Value: !Ref AWS::Partition}
  URLSuffix:    {Value: !Ref AWS::URLSuffix}
  StackName:    {Value: !Ref AWS::StackName}
  GetAttShort:  {Value: !GetAtt Fn.Arn}
  GetAttList:   {Value: !GetAtt [Tbl, Arn]}
  GetAttLong:   {Value: {"Fn::GetAtt": [SM, Name]}}
  GetAttLongS:  {Value: {"Fn::GetAtt": "Fn.Name"}}
  SubShort:     {Value: !Sub "${Stage}-${Fn.Arn}-${AWS::Region}-${!Literal}"}
  SubLong:      {Value: {"Fn::Sub": "x${Tbl}y"}}
  SubVars:      {Value: !Sub ["${A}/${Stage}/${B}", {A: !Ref Fn, B: literal}]}
  SubVarsWin:   {Value: !Sub ["${Stage}", {Stage: shadowed}]}
  SubNoVars:    {Value: !Sub "plain"}
  JoinShort:    {Value: !Join [":", [a, !Ref Stage, !GetAtt Fn.Name]]}
  JoinLong:     {Value: {"Fn::Join": ["", [x, {Ref: Tbl}]]}}
  JoinEmpty:    {Value: !Join [",", []]}
  JoinSplit:    {Value: !Join ["+", !Split [",", "a,b,c"]]}
  SelectShort:  {Value: !Select [1, [a, !Ref Stage, c]]}
  SelectString: {Value: !Select ["0", [first]]}
  SelectSplit:  {Value: !Select [1, !Split ["/", !Sub "${Fn.Arn}/x/y"]]}
  Nested:       {Value: !Sub ["${X}", {X: !Join ["-", [!Select [0, [!Ref Stage]], !GetAtt SM.Arn]]}]}
  Literal:      {Value: hello}
  LiteralInt:   {Value: 7}
  BadRef:       {Value: !Ref Missing}
  BadAtt:       {Value: !GetAtt Missing.Arn}
  BadAttName:   {Value: !GetAtt Fn.StreamArn}
  BadApiArn:    {Value: !GetAtt Api.Arn}
  BadSub:       {Value: !Sub "${Missing}"}
  BadSubAttr:   {Value: !Sub "${Missing.Arn}"}
  BadSubOpen:   {Value: !Sub "${Stage"}
  BadJoin:      {Value: !Join [",", [!Ref Missing]]}
  BadSelect:    {Value: !Select [5, [a]]}
  BadSelectIdx: {Value: !Select [x, [a]]}
  BadNoValue:   {Value: !Ref AWS::NoValue}
  BadPseudo:    {Value: !Ref AWS::Nope}
  If:           {Value: !If [Cond, a, b]}
  Equals:       {Value: !Equals [a, b]}
  Not:          {Value: !Not [!Equals [a, b]]}
  FindInMap:    {Value: !FindInMap [M, a, b]}
  IfLong:       {Value: {"Fn::If": [Cond, a, b]}}
  SplitAsStr:   {Value: !Split [",", "a,b"]}
  NotString:    {Value: [a, b]}
  NotStringMap: {Value: {a: 1, b: 2}}
`

func TestIntrinsics(t *testing.T) {
	tpl, err := Parse([]byte(inlineTemplate))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	params, err := tpl.ParamValues(map[string]string{"NoDefault": "given"})
	if err != nil {
		t.Fatalf("ParamValues: %v", err)
	}
	r := Resolver{Region: "us-east-1", AccountID: "111122223333", Params: params, Physical: tpl.LocalNames("us-east-1", "111122223333")}
	fnArn := "arn:aws:lambda:us-east-1:111122223333:function:Fn"
	smArn := "arn:aws:states:us-east-1:111122223333:stateMachine:SM"

	ok := []struct{ output, want string }{
		{"RefShort", "dev"},
		{"RefLong", "dev"},
		{"RefNumber", "42"},
		{"RefFn", "Fn"},
		{"RefTable", "Tbl"},
		{"RefSM", smArn},
		{"RefApi", "Api"},
		{"Region", "us-east-1"},
		{"Account", "111122223333"},
		{"Partition", "aws"},
		{"URLSuffix", "amazonaws.com"},
		{"StackName", "jit-local"},
		{"GetAttShort", fnArn},
		{"GetAttList", "arn:aws:dynamodb:us-east-1:111122223333:table/Tbl"},
		{"GetAttLong", "SM"},
		{"GetAttLongS", "Fn"},
		{"SubShort", "dev-" + fnArn + "-us-east-1-${Literal}"},
		{"SubLong", "xTbly"},
		{"SubVars", "Fn/dev/literal"},
		{"SubVarsWin", "shadowed"},
		{"SubNoVars", "plain"},
		{"JoinShort", "a:dev:Fn"},
		{"JoinLong", "xTbl"},
		{"JoinEmpty", ""},
		{"JoinSplit", "a+b+c"},
		{"SelectShort", "dev"},
		{"SelectString", "first"},
		{"SelectSplit", "x"},
		{"Nested", "dev-" + smArn},
		{"Literal", "hello"},
		{"LiteralInt", "7"},
	}
	for _, c := range ok {
		t.Run(c.output, func(t *testing.T) {
			expr, found := tpl.Outputs[c.output]
			if !found {
				t.Fatalf("no output %s", c.output)
			}
			got, err := r.String(expr)
			if err != nil {
				t.Fatalf("String(%v): %v", expr, err)
			}
			if got != c.want {
				t.Errorf("String(%v) = %q, want %q", expr, got, c.want)
			}
		})
	}

	bad := []struct {
		output string
		is     error  // errors.Is target, or nil
		msg    string // substring of the message
	}{
		{"BadRef", ErrUnknownRef, `"Missing"`},
		{"BadAtt", ErrUnknownRef, `"Missing"`},
		{"BadAttName", ErrUnsupported, "Fn.StreamArn"},
		{"BadApiArn", ErrUnsupported, "Api.Arn"},
		{"BadSub", ErrUnknownRef, "${Missing}"},
		{"BadSubAttr", ErrUnknownRef, "${Missing.Arn}"},
		{"BadSubOpen", nil, "unterminated"},
		{"BadJoin", ErrUnknownRef, `"Missing"`},
		{"BadSelect", nil, "out of range"},
		{"BadSelectIdx", nil, "not an integer"},
		{"BadNoValue", nil, "AWS::NoValue"},
		{"BadPseudo", ErrUnknownRef, "AWS::Nope"},
		{"If", ErrUnsupported, "Fn::If"},
		{"Equals", ErrUnsupported, "Fn::Equals"},
		{"Not", ErrUnsupported, "Fn::Not"},
		{"FindInMap", ErrUnsupported, "Fn::FindInMap"},
		{"IfLong", ErrUnsupported, "Fn::If"},
		{"SplitAsStr", nil, "list"},
		{"NotString", nil, "no string value"},
		{"NotStringMap", nil, "no string value"},
	}
	for _, c := range bad {
		t.Run(c.output, func(t *testing.T) {
			got, err := r.String(tpl.Outputs[c.output])
			if err == nil {
				t.Fatalf("String = %q, want an error", got)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestShortFormsMatchLongForms(t *testing.T) {
	short, err := Parse([]byte(`
Resources: {}
Outputs:
  A: {Value: !Ref X}
  B: {Value: !GetAtt X.Arn}
  C: {Value: !GetAtt [X, Arn]}
  D: {Value: !Sub "${X}"}
  E: {Value: !Sub ["${Y}", {Y: !Ref X}]}
  F: {Value: !Join [",", [a, b]]}
  G: {Value: !If [C, a, b]}
  H: {Value: !Select [0, [a]]}
  I: {Value: !Equals [a, b]}
  J: {Value: !Not [!Equals [a, b]]}
  K: {Value: !GetAtt X.Attr.Nested}
`))
	if err != nil {
		t.Fatal(err)
	}
	long, err := Parse([]byte(`
Resources: {}
Outputs:
  A: {Value: {Ref: X}}
  B: {Value: {"Fn::GetAtt": [X, Arn]}}
  C: {Value: {"Fn::GetAtt": [X, Arn]}}
  D: {Value: {"Fn::Sub": "${X}"}}
  E: {Value: {"Fn::Sub": ["${Y}", {Y: {Ref: X}}]}}
  F: {Value: {"Fn::Join": [",", [a, b]]}}
  G: {Value: {"Fn::If": [C, a, b]}}
  H: {Value: {"Fn::Select": [0, [a]]}}
  I: {Value: {"Fn::Equals": [a, b]}}
  J: {Value: {"Fn::Not": [{"Fn::Equals": [a, b]}]}}
  K: {Value: {"Fn::GetAtt": [X, Attr.Nested]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(short.Outputs, long.Outputs) {
		t.Errorf("short forms\n%v\ndiffer from long forms\n%v", short.Outputs, long.Outputs)
	}
}

func TestValueResolvesDeeply(t *testing.T) {
	tpl, err := Parse([]byte(`
Parameters: {P: {Type: String, Default: pv}}
Resources:
  T: {Type: AWS::DynamoDB::Table, Properties: {
    TableName: !Sub "${P}-t",
    Tags: [{Key: k, Value: !Ref P}, !Ref AWS::NoValue],
    Opt: !Ref AWS::NoValue,
    Count: 5,
    Parts: !Split [",", "a,b"]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Resolver("r", "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Value(tpl.Tables[0].Properties)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"TableName": "pv-t",
		"Tags":      []any{map[string]any{"Key": "k", "Value": "pv"}},
		"Count":     5,
		"Parts":     []any{"a", "b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Value = %#v, want %#v", got, want)
	}
	if _, err := r.Value(map[string]any{"x": []any{map[string]any{"Ref": "Nope"}}}); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("Value with unknown ref: err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"not yaml":             "Resources: [",
		"no resources":         "Outputs: {}",
		"unknown tag":          "Resources: {}\nOutputs: {A: {Value: !Bogus x}}",
		"bad getatt":           "Resources: {}\nOutputs: {A: {Value: !GetAtt NoDot}}",
		"jwt authorizer":       "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: HttpApi, Properties: {Method: get, Path: /x, Auth: {Authorizer: MyJwt}}}",
		"api id not an api":    "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: HttpApi, Properties: {ApiId: !Ref F, Method: get, Path: /x}}",
		"inline definition":    "Resources:\n  S: {Type: AWS::Serverless::StateMachine, Properties: {Definition: {}}}",
		"s3 definition":        "Resources:\n  S: {Type: AWS::Serverless::StateMachine, Properties: {DefinitionUri: {Bucket: b, Key: k}}}",
		"intrinsic timeout":    "Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Timeout: !Ref T}}",
		"output without value": "Resources: {}\nOutputs: {A: {Description: x}}",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(src)); err == nil {
				t.Error("Parse succeeded, want an error")
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestParamValuesRequiresValue(t *testing.T) {
	tpl, err := Parse([]byte("Parameters: {P: {Type: String}}\nResources: {}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.ParamValues(nil); err == nil || !strings.Contains(err.Error(), "P") {
		t.Errorf("ParamValues without a value: err = %v", err)
	}
}

func TestRouteAuthorizerFallbacks(t *testing.T) {
	tpl, err := Parse([]byte(`
Globals:
  Function: {Environment: {Variables: {G: g, Both: global}}}
  HttpApi: {Auth: {DefaultAuthorizer: AWS_IAM}}
Resources:
  Open:
    Type: AWS::Serverless::HttpApi
    Properties: {Auth: {DefaultAuthorizer: NONE}}
  Bare:
    Type: AWS::Serverless::HttpApi
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {Both: own, L: l}}
      Events:
        A: {Type: HttpApi, Properties: {ApiId: !Ref Open, Method: get, Path: /open}}
        B: {Type: HttpApi, Properties: {ApiId: !Ref Open, Method: post, Path: /iam, Auth: {Authorizer: AWS_IAM}}}
        C: {Type: HttpApi, Properties: {ApiId: !Ref Bare, Method: put, Path: /bare}}
        D: {Type: HttpApi, Properties: {Method: any, Path: /implicit}}
        E: {Type: HttpApi}
        S: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := tpl.Functions[0]
	want := []Route{
		{Method: "GET", Path: "/open", IAMAuth: false},
		{Method: "POST", Path: "/iam", IAMAuth: true},
		{Method: "PUT", Path: "/bare", IAMAuth: true},
		{Method: "ANY", Path: "/implicit", IAMAuth: true},
		{Method: "ANY", Path: "$default", IAMAuth: true},
	}
	if !reflect.DeepEqual(f.Routes, want) {
		t.Errorf("routes = %+v, want %+v", f.Routes, want)
	}
	wantEnv := map[string]any{"G": "g", "Both": "own", "L": "l"}
	if !reflect.DeepEqual(f.Environment, wantEnv) {
		t.Errorf("environment = %v, want %v", f.Environment, wantEnv)
	}
	if f.Timeout != 3*time.Second || f.MemoryMB != 128 || !reflect.DeepEqual(f.Architectures, []string{"x86_64"}) {
		t.Errorf("SAM defaults not applied: %+v", f)
	}
}

func TestAliasesAndAnchors(t *testing.T) {
	tpl, err := Parse([]byte(`
Parameters: {P: {Type: String, Default: v}}
Resources: {}
Outputs:
  A: {Value: &shared !Sub "${P}-x"}
  B: {Value: *shared}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tpl.Resolver("r", "1", nil)
	for _, o := range []string{"A", "B"} {
		if got, err := r.String(tpl.Outputs[o]); err != nil || got != "v-x" {
			t.Errorf("%s = %q, %v", o, got, err)
		}
	}
}
