package provision

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/jitaccess/jit/shared/local/moto"
	"github.com/jitaccess/jit/shared/local/template"
)

const region = "us-east-1"

const repoRoot = "../../.."

// startMoto runs a private moto for one test.
func startMoto(t *testing.T) (*moto.Server, aws.Config) {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(repoRoot, ".venv", "moto", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "moto_server")); err != nil {
		t.Skipf("moto virtualenv missing (%v): run `make venv` to run this integration test", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := moto.Start(ctx, moto.Options{Python: bin})
	if err != nil {
		t.Fatalf("start moto: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop moto: %v", err)
		}
	})
	return srv, EmulatorConfig(srv.URL(), region)
}

// projectProvisioner provisions the real template.yaml. The definition is
// the lead's statemachine/access.asl.json if it exists, else this package's
// testdata stand-in.
func projectProvisioner(t *testing.T, cfg aws.Config) *Provisioner {
	t.Helper()
	tpl, err := template.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatalf("load template: %v", err)
	}
	r, err := tpl.Resolver(region, moto.AccountID, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := repoRoot
	if _, err := os.Stat(filepath.Join(repoRoot, "statemachine", "access.asl.json")); err != nil {
		t.Logf("statemachine/access.asl.json missing, using testdata: %v", err)
		root = "testdata"
	}
	return &Provisioner{AWS: cfg, Template: tpl, Root: root, Resolver: r}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestApplyProjectTemplate(t *testing.T) {
	t.Parallel()
	_, cfg := startMoto(t)
	ctx := testContext(t)
	p := projectProvisioner(t, cfg)

	start := time.Now()
	if err := p.Apply(ctx); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	t.Logf("first Apply took %v", time.Since(start))
	assertProvisioned(t, ctx, p)
	smArn := p.Resolver.Physical["AccessStateMachine"].Arn
	first, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smArn)})
	if err != nil {
		t.Fatal(err)
	}

	start = time.Now()
	if err := p.Apply(ctx); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	t.Logf("second Apply took %v", time.Since(start))
	assertProvisioned(t, ctx, p)
	second, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smArn)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToTime(first.CreationDate).Equal(aws.ToTime(second.CreationDate)) {
		t.Errorf("second Apply recreated the state machine: %v then %v", first.CreationDate, second.CreationDate)
	}
}

func assertProvisioned(t *testing.T, ctx context.Context, p *Provisioner) {
	t.Helper()
	ddb := dynamodb.NewFromConfig(p.AWS)

	tables, err := ddb.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tables.TableNames, []string{"AccessTable"}) {
		t.Errorf("tables = %v, want [AccessTable]", tables.TableNames)
	}
	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("AccessTable")})
	if err != nil {
		t.Fatalf("describe AccessTable: %v", err)
	}
	td := desc.Table
	if td.TableStatus != ddbtypes.TableStatusActive {
		t.Errorf("status = %s", td.TableStatus)
	}
	if td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing = %+v, want PAY_PER_REQUEST", td.BillingModeSummary)
	}
	if got := keys(td.KeySchema); got != "PK/HASH SK/RANGE" {
		t.Errorf("key schema = %s", got)
	}
	var gsis []string
	for _, g := range td.GlobalSecondaryIndexes {
		name := aws.ToString(g.IndexName)
		gsis = append(gsis, name)
		if got, want := keys(g.KeySchema), name+"PK/HASH "+name+"SK/RANGE"; got != want {
			t.Errorf("%s key schema = %s, want %s", name, got, want)
		}
		if g.Projection == nil || g.Projection.ProjectionType != ddbtypes.ProjectionTypeAll {
			t.Errorf("%s projection = %+v, want ALL", name, g.Projection)
		}
	}
	slices.Sort(gsis)
	if !slices.Equal(gsis, []string{"GSI1", "GSI2", "GSI3", "GSI4", "GSI5", "GSI6", "GSI7"}) {
		t.Errorf("GSIs = %v, want GSI1..GSI7", gsis)
	}

	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("AccessTable")})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "ttl" {
		t.Errorf("TTL = %+v, want ENABLED on ttl", d)
	}
	backups, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("AccessTable")})
	if err != nil {
		t.Fatal(err)
	}
	if d := backups.ContinuousBackupsDescription; d == nil || d.PointInTimeRecoveryDescription == nil ||
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
		t.Errorf("PITR = %+v, want ENABLED", d)
	}

	sf := sfn.NewFromConfig(p.AWS)
	list, err := sf.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.StateMachines) != 1 {
		t.Fatalf("state machines = %+v, want exactly AccessStateMachine", list.StateMachines)
	}
	wantArn := "arn:aws:states:us-east-1:123456789012:stateMachine:AccessStateMachine"
	if got := aws.ToString(list.StateMachines[0].StateMachineArn); got != wantArn {
		t.Errorf("state machine ARN = %s, want %s", got, wantArn)
	}
	sm, err := sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(wantArn)})
	if err != nil {
		t.Fatal(err)
	}
	def := aws.ToString(sm.Definition)
	for _, fn := range []string{"NotifyFunction", "GrantFunction", "RevokeFunction"} {
		if arn := "arn:aws:lambda:us-east-1:123456789012:function:" + fn; !strings.Contains(def, arn) {
			t.Errorf("definition lacks %s", arn)
		}
	}
	if strings.Contains(def, "${") {
		t.Errorf("definition still has a placeholder:\n%s", def)
	}
	if !json.Valid([]byte(def)) {
		t.Error("definition is not JSON")
	}
	if sm.Type != sfntypes.StateMachineTypeStandard {
		t.Errorf("type = %s", sm.Type)
	}
	if got := aws.ToString(sm.RoleArn); got != "arn:aws:iam::123456789012:role/AccessStateMachineRole" {
		t.Errorf("role = %s", got)
	}
	role, err := iam.NewFromConfig(p.AWS).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AccessStateMachineRole")})
	if err != nil {
		t.Fatalf("state machine role: %v", err)
	}
	if trust := policyDoc(t, role.Role.AssumeRolePolicyDocument); !strings.Contains(trust, "states.amazonaws.com") {
		t.Errorf("state machine role trust = %s", trust)
	}
}

func keys(ks []ddbtypes.KeySchemaElement) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
	}
	return strings.Join(parts, " ")
}

// policyDoc decodes an IAM policy document, which IAM returns URL-encoded.
func policyDoc(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("policy document %q: %v", aws.ToString(doc), err)
	}
	return s
}

func TestApplyUpdatesChangedDefinition(t *testing.T) {
	t.Parallel()
	_, cfg := startMoto(t)
	ctx := testContext(t)
	p := projectProvisioner(t, cfg)
	if err := p.Apply(ctx); err != nil {
		t.Fatalf("Apply: %v", err)
	}

	// A second root whose definition differs only in its Comment.
	orig, err := os.ReadFile(filepath.Join(p.Root, "statemachine", "access.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(orig, &def); err != nil {
		t.Fatal(err)
	}
	def["Comment"] = "changed by TestApplyUpdatesChangedDefinition"
	changed, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "statemachine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "statemachine", "access.asl.json"), changed, 0o644); err != nil {
		t.Fatal(err)
	}
	p.Root = root
	if err := p.Apply(ctx); err != nil {
		t.Fatalf("Apply with a changed definition: %v", err)
	}
	sm, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{
		StateMachineArn: aws.String(p.Resolver.Physical["AccessStateMachine"].Arn),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(sm.Definition), "changed by TestApplyUpdatesChangedDefinition") {
		t.Errorf("definition not updated:\n%s", aws.ToString(sm.Definition))
	}
}

// TestProvisionedStateMachineExecutes provisions a small template whose
// state machine uses a substitution, then runs it to SUCCEEDED.
func TestProvisionedStateMachineExecutes(t *testing.T) {
	t.Parallel()
	_, cfg := startMoto(t)
	ctx := testContext(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello.asl.json"),
		[]byte(`{"StartAt":"Hello","States":{"Hello":{"Type":"Pass","Result":{"greeting":"${Greeting}","table":"${Table}"},"End":true}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Parse([]byte(`
Parameters:
  Who: {Type: String, Default: world}
Resources:
  Hello:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: hello.asl.json
      DefinitionSubstitutions:
        Greeting: !Sub "hello ${Who} in ${AWS::Region}"
        Table: !Ref Things
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: "1", WriteCapacityUnits: 1}
      TimeToLiveSpecification: {AttributeName: expires, Enabled: "false"}
      Tags: [{Key: app, Value: !Ref Who}]
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Resolver(region, moto.AccountID, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provisioner{AWS: cfg, Template: tpl, Root: root, Resolver: r}
	if err := p.Apply(ctx); err != nil {
		t.Fatalf("Apply: %v", err)
	}

	desc, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Things")})
	if err != nil {
		t.Fatal(err)
	}
	if pt := desc.Table.ProvisionedThroughput; pt == nil || aws.ToInt64(pt.ReadCapacityUnits) != 1 {
		t.Errorf("provisioned throughput = %+v", pt)
	}

	client := sfn.NewFromConfig(cfg)
	ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(r.Physical["Hello"].Arn),
		Input:           aws.String(`{}`),
	})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	for {
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status == sfntypes.ExecutionStatusRunning {
			select {
			case <-ctx.Done():
				t.Fatal("execution still RUNNING: moto does not execute state machines")
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s", out.Status)
		}
		var got struct{ Greeting, Table string }
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
			t.Fatalf("output %q: %v", aws.ToString(out.Output), err)
		}
		if got.Greeting != "hello world in us-east-1" || got.Table != "Things" {
			t.Errorf("output = %+v", got)
		}
		return
	}
}

func TestVerifySender(t *testing.T) {
	t.Parallel()
	_, cfg := startMoto(t)
	ctx := testContext(t)
	p := &Provisioner{AWS: cfg, Resolver: template.Resolver{Region: region, AccountID: moto.AccountID}}

	send := func(from string) error {
		_, err := sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String(from),
			Destination:      &sesv2types.Destination{ToAddresses: []string{"approver@example.com"}},
			Content: &sesv2types.EmailContent{Simple: &sesv2types.Message{
				Subject: &sesv2types.Content{Data: aws.String("Approve?")},
				Body:    &sesv2types.Body{Text: &sesv2types.Content{Data: aws.String("Please decide.")}},
			}},
		})
		return err
	}
	if err := send("jit@example.com"); err == nil {
		t.Error("SES v2 SendEmail from an unverified sender succeeded; the emulator no longer checks senders")
	}
	for range 2 {
		if err := p.VerifySender(ctx, "jit@example.com"); err != nil {
			t.Fatalf("VerifySender: %v", err)
		}
	}
	ids, err := ses.NewFromConfig(cfg).ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids.Identities, []string{"jit@example.com"}) {
		t.Errorf("identities = %v", ids.Identities)
	}
	if err := send("jit@example.com"); err != nil {
		t.Errorf("SES v2 SendEmail from the verified sender: %v", err)
	}
	if err := p.VerifySender(ctx, "not-an-address"); err == nil {
		t.Error("VerifySender accepted a non-address")
	}
}

func TestEnsureRole(t *testing.T) {
	t.Parallel()
	_, cfg := startMoto(t)
	ctx := testContext(t)
	p := &Provisioner{AWS: cfg, Resolver: template.Resolver{Region: region, AccountID: moto.AccountID}}
	client := iam.NewFromConfig(cfg)

	arn, err := p.EnsureRole(ctx, "jit-sample-readonly", map[string]string{"jit:managed": "true"}, 7200)
	if err != nil {
		t.Fatalf("EnsureRole: %v", err)
	}
	if arn != "arn:aws:iam::123456789012:role/jit-sample-readonly" {
		t.Errorf("ARN = %s", arn)
	}
	role := getRole(t, ctx, client, "jit-sample-readonly")
	if got := tagMap(role); got["jit:managed"] != "true" || len(got) != 1 {
		t.Errorf("tags = %v", got)
	}
	if got := aws.ToInt32(role.Role.MaxSessionDuration); got != 7200 {
		t.Errorf("max session = %d", got)
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS string }
			Action    string
		}
	}
	if err := json.Unmarshal([]byte(policyDoc(t, role.Role.AssumeRolePolicyDocument)), &trust); err != nil {
		t.Fatal(err)
	}
	if len(trust.Statement) != 1 || trust.Statement[0].Principal.AWS != "arn:aws:iam::123456789012:root" ||
		trust.Statement[0].Effect != "Allow" || trust.Statement[0].Action != "sts:AssumeRole" {
		t.Errorf("trust = %+v, want only the account root", trust)
	}

	// A grant changes the trust policy; EnsureRole must not undo that.
	granted := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/requester"},"Action":"sts:AssumeRole"}]}`
	if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
		RoleName: aws.String("jit-sample-readonly"), PolicyDocument: aws.String(granted),
	}); err != nil {
		t.Fatal(err)
	}
	again, err := p.EnsureRole(ctx, "jit-sample-readonly", map[string]string{"jit:managed": "true", "team": "ops"}, 3600)
	if err != nil {
		t.Fatalf("second EnsureRole: %v", err)
	}
	if again != arn {
		t.Errorf("second EnsureRole ARN = %s, want %s", again, arn)
	}
	role = getRole(t, ctx, client, "jit-sample-readonly")
	if got := tagMap(role); got["jit:managed"] != "true" || got["team"] != "ops" {
		t.Errorf("tags after second EnsureRole = %v", got)
	}
	if got := aws.ToInt32(role.Role.MaxSessionDuration); got != 3600 {
		t.Errorf("max session after second EnsureRole = %d", got)
	}
	if got := policyDoc(t, role.Role.AssumeRolePolicyDocument); !strings.Contains(got, "role/requester") {
		t.Errorf("second EnsureRole reset the trust policy: %s", got)
	}
}

func getRole(t *testing.T, ctx context.Context, c *iam.Client, name string) *iam.GetRoleOutput {
	t.Helper()
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetRole %s: %v", name, err)
	}
	return out
}

func tagMap(r *iam.GetRoleOutput) map[string]string {
	m := map[string]string{}
	for _, tg := range r.Role.Tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func TestRenderDefinition(t *testing.T) {
	t.Parallel()
	tpl, err := template.Parse([]byte(`
Resources:
  F: {Type: AWS::Serverless::Function}
  SM:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: sm.json
      DefinitionSubstitutions: {FArn: !GetAtt F.Arn}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Resolver(region, moto.AccountID, nil)
	if err != nil {
		t.Fatal(err)
	}
	sm := tpl.StateMachines[0]
	cases := []struct {
		name, def string
		want      string // substring of the result, or of the error when wantErr
		wantErr   bool
	}{
		{"substitutes", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${FArn}","End":true}}}`,
			`"Resource":"arn:aws:lambda:us-east-1:123456789012:function:F"`, false},
		{"repeated", `{"a":"${FArn}","b":"${FArn}"}`, `"b":"arn:aws:lambda:us-east-1:123456789012:function:F"`, false},
		{"unknown placeholder", `{"a":"${FArn}","b":"${Nope}","c":"${Other}","d":"${Nope}"}`, "placeholders ${Nope}, ${Other} have no", true},
		{"unterminated placeholder", `{"a":"${FArn"}`, "${FArn\"}", true},
		{"not JSON", `{"a":"${FArn}",}`, "not valid JSON", true},
		{"not an object", `["${FArn}"]`, "not a JSON object", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, "sm.json"), []byte(c.def), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := RenderDefinition(root, sm, r)
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("err = %v, want one containing %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("definition %s lacks %s", got, c.want)
			}
		})
	}

	if _, err := RenderDefinition(t.TempDir(), sm, r); err == nil {
		t.Error("missing definition file accepted")
	}
	bad := sm
	bad.Substitutions = map[string]any{"FArn": map[string]any{"Fn::GetAtt": []any{"Missing", "Arn"}}}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "sm.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RenderDefinition(root, bad, r); !errors.Is(err, template.ErrUnknownRef) {
		t.Errorf("unresolvable substitution: err = %v", err)
	}
}

func TestRefusesRealAWS(t *testing.T) {
	t.Parallel()
	tpl, err := template.Parse([]byte("Resources: {}"))
	if err != nil {
		t.Fatal(err)
	}
	r := template.Resolver{Region: region, AccountID: moto.AccountID}
	for _, cfg := range []aws.Config{
		{Region: region},
		EmulatorConfig("https://dynamodb.us-east-1.amazonaws.com", region),
	} {
		p := &Provisioner{AWS: cfg, Template: tpl, Resolver: r}
		if err := p.Apply(context.Background()); err == nil || !strings.Contains(err.Error(), "refus") {
			t.Errorf("Apply with endpoint %v: err = %v", cfg.BaseEndpoint, err)
		}
		if _, err := p.EnsureRole(context.Background(), "x", nil, 0); err == nil {
			t.Errorf("EnsureRole with endpoint %v succeeded", cfg.BaseEndpoint)
		}
		if err := p.VerifySender(context.Background(), "a@b.c"); err == nil {
			t.Errorf("VerifySender with endpoint %v succeeded", cfg.BaseEndpoint)
		}
	}
}

func TestApplyReportsBadTables(t *testing.T) {
	t.Parallel()
	_, cfg := startMoto(t)
	ctx := testContext(t)
	tpl, err := template.Parse([]byte(`
Resources:
  NoKeys: {Type: AWS::DynamoDB::Table, Properties: {BillingMode: PAY_PER_REQUEST}}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tpl.Resolver(region, moto.AccountID, nil)
	p := &Provisioner{AWS: cfg, Template: tpl, Resolver: r}
	if err := p.Apply(ctx); err == nil || !strings.Contains(err.Error(), "NoKeys") {
		t.Errorf("Apply of a table without keys: err = %v", err)
	}
}

// TestTestdataDefinitionRenders keeps the stand-in definition (used when
// statemachine/access.asl.json is missing) valid for the project template.
func TestTestdataDefinitionRenders(t *testing.T) {
	t.Parallel()
	tpl, err := template.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Resolver(region, moto.AccountID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sm := range tpl.StateMachines {
		def, err := RenderDefinition("testdata", sm, r)
		if err != nil {
			t.Fatalf("%s: %v", sm.LogicalID, err)
		}
		for _, fn := range []string{"NotifyFunction", "GrantFunction", "RevokeFunction"} {
			if !strings.Contains(def, "function:"+fn) {
				t.Errorf("%s: stand-in definition does not use %s", sm.LogicalID, fn)
			}
		}
	}
}
