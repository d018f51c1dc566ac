// Command lintdocs writes the documents the third-party validators of
// `make lint-aws` read, generated from the project's own code and
// template rather than copied by hand:
//
//   - <out>/statemachine/<LogicalId>.asl.json: each state machine's
//     definition with its DefinitionSubstitutions filled, as the local cloud
//     renders it (asl-validator cannot read ${...} placeholders);
//   - <out>/grant/*.json: the IAM policy documents the iam_role_trust
//     provider writes (a target role's trust policy after a grant, and its
//     revoked-sessions inline policy after a revoke), produced by running
//     shared/grant against an in-memory IAM.
//
// The template's own policies are written by test/lint/template_policies.py,
// which needs the SAM translator to expand SAM policy templates.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/template"
)

// The account and region the rendered documents name.
const (
	region  = "us-east-1"
	account = "123456789012"
)

func main() {
	root := flag.String("root", ".", "project root (holds template.yaml)")
	out := flag.String("out", "build/lint", "directory to write the documents to")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "lintdocs:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	r, err := tpl.Resolver(region, account, nil)
	if err != nil {
		return err
	}
	if len(tpl.StateMachines) == 0 {
		return errors.New("template.yaml has no state machine")
	}
	for _, sm := range tpl.StateMachines {
		def, err := provision.RenderDefinition(root, sm, r)
		if err != nil {
			return fmt.Errorf("state machine %s: %w", sm.LogicalID, err)
		}
		if err := write(filepath.Join(out, "statemachine", sm.LogicalID+".asl.json"), []byte(def)); err != nil {
			return err
		}
	}
	docs, err := grantDocuments(context.Background())
	if err != nil {
		return err
	}
	for name, doc := range docs {
		if err := write(filepath.Join(out, "grant", name+".json"), []byte(doc)); err != nil {
			return err
		}
	}
	return nil
}

// grantDocuments grants and then revokes one request on a managed role
// held by an in-memory IAM, and returns every policy document the provider
// wrote, by name.
func grantDocuments(ctx context.Context) (map[string]string, error) {
	at := time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)
	fake := &memoryIAM{role: types.Role{
		RoleName:           aws.String("jit-sandbox-admin"),
		RoleId:             aws.String("AROAJITLOCALSANDBOX01"),
		Arn:                aws.String("arn:aws:iam::" + account + ":role/jit-sandbox-admin"),
		MaxSessionDuration: aws.Int32(3600),
		Tags:               []types.Tag{{Key: aws.String(grant.ManagedTag), Value: aws.String("true")}},
		// A role's usual trust policy before any grant: its own account.
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"AccountAdmins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`),
	}}
	p := &grant.IAMRoleTrust{IAM: fake, Now: func() time.Time { return at.Add(30 * time.Minute) }}
	g := grant.Grant{
		RequestID: "01m8hc53352cktrbj461fmpre6",
		Principal: "arn:aws:sts::" + account + ":assumed-role/Engineer/alice@example.com",
		RoleARN:   aws.ToString(fake.role.Arn),
		ExpiresAt: at.Add(time.Hour),
	}
	docs := map[string]string{}
	if err := p.Apply(ctx, g); err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	if fake.trust == "" {
		return nil, errors.New("grant wrote no trust policy")
	}
	docs["trust-policy-granted"] = fake.trust
	if err := p.Remove(ctx, g); err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	if fake.inline == "" {
		return nil, errors.New("revoke wrote no revoked-sessions policy")
	}
	docs["trust-policy-revoked"] = fake.trust
	docs["revoked-sessions-policy"] = fake.inline
	return docs, nil
}

// memoryIAM is one managed role: what the provider reads and writes.
type memoryIAM struct {
	role   types.Role
	trust  string // the last trust policy written
	inline string // the last revoked-sessions policy written
}

func (m *memoryIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if aws.ToString(in.RoleName) != aws.ToString(m.role.RoleName) {
		return nil, &types.NoSuchEntityException{Message: in.RoleName}
	}
	role := m.role
	return &iam.GetRoleOutput{Role: &role}, nil
}

func (m *memoryIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	m.trust = aws.ToString(in.PolicyDocument)
	m.role.AssumeRolePolicyDocument = in.PolicyDocument
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (m *memoryIAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	if m.inline == "" {
		return nil, &types.NoSuchEntityException{Message: in.PolicyName}
	}
	return &iam.GetRolePolicyOutput{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: aws.String(m.inline)}, nil
}

func (m *memoryIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	if aws.ToString(in.PolicyName) != grant.RevokedSessionsPolicy {
		return nil, fmt.Errorf("unexpected inline policy %s", aws.ToString(in.PolicyName))
	}
	m.inline = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

// write writes b to path, pretty-printed when it is JSON.
func write(path string, b []byte) error {
	var v any
	if json.Unmarshal(b, &v) == nil {
		if pretty, err := json.MarshalIndent(v, "", "  "); err == nil {
			b = append(pretty, '\n')
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
