package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jitaccess/jit/shared/local/template"
)

// cfnTable mirrors the AWS::DynamoDB::Table properties the local cloud
// applies.
type cfnTable struct {
	AttributeDefinitions []struct {
		AttributeName string
		AttributeType string
	}
	KeySchema              []cfnKey
	GlobalSecondaryIndexes []cfnIndex
	LocalSecondaryIndexes  []cfnIndex
	BillingMode            string
	ProvisionedThroughput  *cfnThroughput
	StreamSpecification    *struct {
		StreamViewType string
	}
	SSESpecification *struct {
		SSEEnabled     flexBool
		SSEType        string
		KMSMasterKeyId string
	}
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       flexBool
	}
	PointInTimeRecoverySpecification *struct {
		PointInTimeRecoveryEnabled flexBool
		RecoveryPeriodInDays       flexInt
	}
	TableClass                string
	DeletionProtectionEnabled flexBool
	Tags                      []struct {
		Key   string
		Value string
	}
}

type cfnKey struct {
	AttributeName string
	KeyType       string
}

type cfnIndex struct {
	IndexName  string
	KeySchema  []cfnKey
	Projection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
	ProvisionedThroughput *cfnThroughput
}

type cfnThroughput struct {
	ReadCapacityUnits  flexInt
	WriteCapacityUnits flexInt
}

// knownTableProperty reports whether cfnTable applies property k; others
// are logged as ignored. TableName is ignored on purpose: the physical name
// comes from the resolver so that Ref and the created table agree.
func knownTableProperty(k string) bool {
	switch k {
	case "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
		"LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput",
		"StreamSpecification", "SSESpecification", "TimeToLiveSpecification",
		"PointInTimeRecoverySpecification", "TableClass",
		"DeletionProtectionEnabled", "Tags":
		return true
	}
	return false
}

// flexBool accepts CloudFormation's true and "true".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%s is not a boolean", data)
	}
	*b = flexBool(v)
	return nil
}

// flexInt accepts CloudFormation's 5 and "5".
type flexInt int64

func (n *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an integer", data)
	}
	*n = flexInt(v)
	return nil
}

// parseTable resolves the table's intrinsic functions and decodes its
// properties. It returns the names of properties it does not apply.
func parseTable(r template.Resolver, t template.Table) (cfnTable, []string, error) {
	var out cfnTable
	resolved, err := r.Value(t.Properties)
	if err != nil {
		return out, nil, fmt.Errorf("resolve properties: %w", err)
	}
	props, ok := resolved.(map[string]any)
	if !ok {
		return out, nil, errors.New("properties are not a mapping")
	}
	var ignored []string
	for k := range props {
		if !knownTableProperty(k) {
			ignored = append(ignored, k)
		}
	}
	slices.Sort(ignored)
	b, err := json.Marshal(props)
	if err != nil {
		return out, nil, fmt.Errorf("encode properties: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, nil, fmt.Errorf("decode properties: %w", err)
	}
	if len(out.KeySchema) == 0 {
		return out, nil, errors.New("no KeySchema")
	}
	return out, ignored, nil
}

func (c cfnTable) createInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: keySchema(c.KeySchema),
	}
	for _, a := range c.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, g := range c.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:             aws.String(g.IndexName),
			KeySchema:             keySchema(g.KeySchema),
			Projection:            projection(g),
			ProvisionedThroughput: throughput(g.ProvisionedThroughput),
		})
	}
	for _, l := range c.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchema(l.KeySchema),
			Projection: projection(l),
		})
	}
	switch {
	case c.BillingMode != "":
		in.BillingMode = ddbtypes.BillingMode(c.BillingMode)
	case c.ProvisionedThroughput != nil:
		in.BillingMode = ddbtypes.BillingModeProvisioned
	}
	in.ProvisionedThroughput = throughput(c.ProvisionedThroughput)
	if s := c.StreamSpecification; s != nil {
		in.StreamSpecification = &ddbtypes.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(s.StreamViewType),
		}
	}
	if s := c.SSESpecification; s != nil && bool(s.SSEEnabled) {
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true)}
		if s.SSEType != "" {
			in.SSESpecification.SSEType = ddbtypes.SSEType(s.SSEType)
		}
		if s.KMSMasterKeyId != "" {
			in.SSESpecification.KMSMasterKeyId = aws.String(s.KMSMasterKeyId)
		}
	}
	if c.TableClass != "" {
		in.TableClass = ddbtypes.TableClass(c.TableClass)
	}
	if c.DeletionProtectionEnabled {
		in.DeletionProtectionEnabled = aws.Bool(true)
	}
	for _, t := range c.Tags {
		in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return in
}

func keySchema(keys []cfnKey) []ddbtypes.KeySchemaElement {
	out := make([]ddbtypes.KeySchemaElement, 0, len(keys))
	for _, k := range keys {
		out = append(out, ddbtypes.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName),
			KeyType:       ddbtypes.KeyType(k.KeyType),
		})
	}
	return out
}

func projection(i cfnIndex) *ddbtypes.Projection {
	p := &ddbtypes.Projection{NonKeyAttributes: i.Projection.NonKeyAttributes}
	if i.Projection.ProjectionType != "" {
		p.ProjectionType = ddbtypes.ProjectionType(i.Projection.ProjectionType)
	}
	return p
}

func throughput(t *cfnThroughput) *ddbtypes.ProvisionedThroughput {
	if t == nil {
		return nil
	}
	return &ddbtypes.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(int64(t.ReadCapacityUnits)),
		WriteCapacityUnits: aws.Int64(int64(t.WriteCapacityUnits)),
	}
}

func (p *Provisioner) ensureTable(ctx context.Context, t template.Table) error {
	spec, ignored, err := parseTable(p.Resolver, t)
	if err != nil {
		return err
	}
	log := p.logger().With("table", t.LogicalID)
	if len(ignored) > 0 {
		log.Warn("table properties ignored locally", "properties", ignored)
	}
	name := p.physicalName(t.LogicalID)
	client := dynamodb.NewFromConfig(p.AWS)

	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		if _, err := client.CreateTable(ctx, spec.createInput(name)); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		log.Info("created table", "name", name)
	case err != nil:
		return fmt.Errorf("describe %s: %w", name, err)
	default:
		if err := checkIndexes(desc.Table, spec); err != nil {
			return fmt.Errorf("existing table %s: %w", name, err)
		}
		log.Debug("table exists", "name", name)
	}

	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, p.waitTimeout()); err != nil {
		return fmt.Errorf("wait for %s to become ACTIVE: %w", name, err)
	}
	if err := p.ensureTTL(ctx, client, name, spec); err != nil {
		return err
	}
	return p.ensurePITR(ctx, client, name, spec)
}

// checkIndexes fails when an existing table lacks an index the template
// declares: create-if-missing would silently keep the stale table.
func checkIndexes(td *ddbtypes.TableDescription, spec cfnTable) error {
	have := map[string]bool{}
	for _, g := range td.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	for _, l := range td.LocalSecondaryIndexes {
		have[aws.ToString(l.IndexName)] = true
	}
	var missing []string
	for _, i := range slices.Concat(spec.GlobalSecondaryIndexes, spec.LocalSecondaryIndexes) {
		if !have[i.IndexName] {
			missing = append(missing, i.IndexName)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("lacks indexes %v declared in the template; reset the emulator to recreate it", missing)
	}
	return nil
}

func (p *Provisioner) ensureTTL(ctx context.Context, client *dynamodb.Client, name string, spec cfnTable) error {
	ttl := spec.TimeToLiveSpecification
	if ttl == nil {
		return nil
	}
	cur, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe TTL of %s: %w", name, err)
	}
	want := bool(ttl.Enabled)
	var on bool
	var attr string
	if d := cur.TimeToLiveDescription; d != nil {
		on = d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling
		attr = aws.ToString(d.AttributeName)
	}
	if on == want && (!want || attr == ttl.AttributeName) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(ttl.AttributeName),
			Enabled:       aws.Bool(want),
		},
	})
	if err != nil {
		return fmt.Errorf("set TTL of %s on %q to %v: %w", name, ttl.AttributeName, want, err)
	}
	p.logger().Info("set table TTL", "table", name, "attribute", ttl.AttributeName, "enabled", want)
	return nil
}

func (p *Provisioner) ensurePITR(ctx context.Context, client *dynamodb.Client, name string, spec cfnTable) error {
	pitr := spec.PointInTimeRecoverySpecification
	if pitr == nil {
		return nil
	}
	in := &dynamodb.UpdateContinuousBackupsInput{
		TableName: aws.String(name),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: aws.Bool(bool(pitr.PointInTimeRecoveryEnabled)),
		},
	}
	if pitr.RecoveryPeriodInDays > 0 {
		in.PointInTimeRecoverySpecification.RecoveryPeriodInDays = aws.Int32(int32(pitr.RecoveryPeriodInDays))
	}
	if _, err := client.UpdateContinuousBackups(ctx, in); err != nil {
		return fmt.Errorf("set point-in-time recovery of %s: %w", name, err)
	}
	return nil
}
