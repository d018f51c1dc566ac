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
//     shared/grant, with its role lease in the store, against moto (the
//     local cloud's emulator, from .venv/moto).
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
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jitaccess/jit/shared/grant"
	"github.com/jitaccess/jit/shared/local/moto"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/template"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/target"
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
	docs, err := grantDocuments(context.Background(), root, tpl)
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

// grantDocuments grants and then revokes one request on a managed role in
// moto, the provider's lease in the template's table, and returns every
// policy document the provider wrote, by name.
func grantDocuments(ctx context.Context, root string, tpl *template.Template) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := moto.Start(ctx, moto.Options{Python: filepath.Join(root, ".venv", "moto", "bin"), Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("start moto (run `make venv`): %w", err)
	}
	defer srv.Stop()
	cfg := provision.EmulatorConfig(srv.URL(), region)
	tables := *tpl
	tables.StateMachines = nil
	r, err := tables.Resolver(region, account, nil)
	if err != nil {
		return nil, err
	}
	prov := &provision.Provisioner{AWS: cfg, Template: &tables, Root: root, Resolver: r, Logger: quiet}
	if err := prov.Apply(ctx); err != nil {
		return nil, fmt.Errorf("provision the table: %w", err)
	}
	roleARN, err := prov.EnsureRole(ctx, "jit-sandbox-admin", map[string]string{grant.ManagedTag: "true"}, 3600)
	if err != nil {
		return nil, err
	}
	client := iam.NewFromConfig(cfg)
	at := time.Now().UTC()
	p := &grant.IAMRoleTrust{IAM: client, Locker: store.New(dynamodb.NewFromConfig(cfg), r.Physical["AccessTable"].Name), Now: func() time.Time { return at }}
	g := grant.Grant{
		RequestID: "01m8hc53352cktrbj461fmpre6",
		Principal: "arn:aws:sts::" + account + ":assumed-role/Engineer/alice@example.com",
		Target:    target.New(target.IAMRoleTrust, target.RoleARN, roleARN),
		ExpiresAt: at.Add(time.Hour),
	}
	trust := func() (string, error) {
		out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("jit-sandbox-admin")})
		if err != nil {
			return "", err
		}
		return url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	}
	docs := map[string]string{}
	if err := p.Apply(ctx, g); err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	if docs["trust-policy-granted"], err = trust(); err != nil {
		return nil, err
	}
	if err := p.Remove(ctx, g); err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	if docs["trust-policy-revoked"], err = trust(); err != nil {
		return nil, err
	}
	out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("jit-sandbox-admin"), PolicyName: aws.String(grant.RevokedSessionsPolicy)})
	if err != nil {
		return nil, fmt.Errorf("revoke wrote no revoked-sessions policy: %w", err)
	}
	if docs["revoked-sessions-policy"], err = url.QueryUnescape(aws.ToString(out.PolicyDocument)); err != nil {
		return nil, err
	}
	return docs, nil
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
