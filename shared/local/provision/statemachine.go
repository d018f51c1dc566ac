package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/jitaccess/jit/shared/local/template"
)

const statesTrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// RenderDefinition reads the state machine's definition file (relative to
// root), replaces each ${Name} with its resolved DefinitionSubstitutions
// value, and checks that the result is JSON with no ${...} placeholder
// left.
func RenderDefinition(root string, sm template.StateMachine, r template.Resolver) (string, error) {
	path := filepath.Join(root, filepath.FromSlash(sm.DefinitionURI))
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read definition: %w", err)
	}
	subs := make(map[string]string, len(sm.Substitutions))
	for k, v := range sm.Substitutions {
		s, err := r.String(v)
		if err != nil {
			return "", fmt.Errorf("DefinitionSubstitutions %s: %w", k, err)
		}
		subs[k] = s
	}
	def, missing := substitute(string(raw), subs)
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = "${" + m + "}"
		}
		return "", fmt.Errorf("%s: placeholders %s have no DefinitionSubstitutions entry", path, strings.Join(names, ", "))
	}
	var v any
	if err := json.Unmarshal([]byte(def), &v); err != nil {
		return "", fmt.Errorf("%s is not valid JSON after substitution: %w", path, err)
	}
	if _, ok := v.(map[string]any); !ok {
		return "", fmt.Errorf("%s is not a JSON object", path)
	}
	return def, nil
}

// substitute replaces ${Name} placeholders found in subs and returns the
// names of the placeholders it could not replace, sorted and unique.
func substitute(s string, subs map[string]string) (string, []string) {
	var b strings.Builder
	var missing []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			missing = append(missing, s[i+2:min(len(s), i+42)])
			b.WriteString(s[i:])
			break
		}
		name := s[i+2 : i+end]
		if v, ok := subs[name]; ok {
			b.WriteString(v)
		} else {
			missing = append(missing, name)
			b.WriteString(s[i : i+end+1])
		}
		s = s[i+end+1:]
	}
	slices.Sort(missing)
	return b.String(), slices.Compact(missing)
}

func (p *Provisioner) ensureStateMachine(ctx context.Context, sm template.StateMachine) error {
	def, err := RenderDefinition(p.Root, sm, p.Resolver)
	if err != nil {
		return err
	}
	log := p.logger().With("state_machine", sm.LogicalID)
	roleArn, err := p.ensureRole(ctx, sm.LogicalID+"Role", statesTrustPolicy, nil, 0)
	if err != nil {
		return err
	}

	name := p.physicalName(sm.LogicalID)
	want := p.Resolver.Physical[sm.LogicalID].Arn
	if want == "" {
		want = fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", p.partition(), p.Resolver.Region, p.Resolver.AccountID, name)
	}
	client := sfn.NewFromConfig(p.AWS)
	cur, err := client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(want)})
	var notFound *sfntypes.StateMachineDoesNotExist
	switch {
	case errors.As(err, &notFound):
		typ := sfntypes.StateMachineType(sm.Type)
		if typ == "" {
			typ = sfntypes.StateMachineTypeStandard
		}
		out, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String(name),
			Definition: aws.String(def),
			RoleArn:    aws.String(roleArn),
			Type:       typ,
		})
		if err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		if got := aws.ToString(out.StateMachineArn); got != want {
			return fmt.Errorf("created %s as %s, but the template resolves it to %s: the resolver's region/account do not match the emulator's", name, got, want)
		}
		log.Info("created state machine", "arn", want)
	case err != nil:
		return fmt.Errorf("describe %s: %w", want, err)
	case aws.ToString(cur.Definition) == def && aws.ToString(cur.RoleArn) == roleArn:
		log.Debug("state machine up to date", "arn", want)
	default:
		if _, err := client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
			StateMachineArn: aws.String(want),
			Definition:      aws.String(def),
			RoleArn:         aws.String(roleArn),
		}); err != nil {
			return fmt.Errorf("update %s: %w", want, err)
		}
		log.Info("updated state machine", "arn", want)
	}
	return nil
}
