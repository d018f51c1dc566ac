package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/policy"
)

var policyCommand = &command{
	name: "policy", args: "get|validate|apply [-f FILE]",
	summary: "read, check and apply the jit policy (admins; auditors may read)",
	about: `Work with the jit policy: the YAML document of resources, requesters and
approval chains (see the README's Policy section).

  get [--version N] [-f FILE]   print the policy in force (or version N), or write
                                it to FILE; the version goes to stderr
                                (admins and auditors)
  validate -f FILE [--local]    check FILE: every problem is listed with its line;
                                exit 0 valid, 2 invalid. The API checks it (admins);
                                --local checks it on this machine with the same
                                parser, without credentials
  apply -f FILE [--if-version N]
                                make FILE the policy in force (admins); with
                                --if-version, only if version N is still current
                                (otherwise exit 1: someone applied another version)

-f - reads standard input.`,
	examples: `  jit policy get -f policy.yaml            # edit it, then:
  jit policy validate -f policy.yaml
  jit policy apply -f policy.yaml --if-version 3
  jit policy validate --local -f infra/local/policies.yaml
  jit policy get --version 2 -o json | jq -r .applied_by`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string, []string) error {
		file := fs.String("file", "", "policy `FILE` (YAML); - for standard input")
		fs.StringVar(file, "f", "", "alias:file")
		local := fs.Bool("local", false, "validate: check on this machine instead of asking the API")
		version := fs.Int("version", 0, "get: this past `VERSION` instead of the current one")
		ifVersion := fs.Int("if-version", -1, "apply: only if `VERSION` is still the current one (sent as If-Match)")
		return func(ctx context.Context, pos, _ []string) error {
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if len(pos) == 0 {
				return usageErr("missing what to do: get, validate or apply")
			}
			if len(pos) > 1 {
				return usageErr("one action at a time; got %s", strings.Join(quoteAll(pos), " "))
			}
			only := map[string][]string{"local": {"validate"}, "version": {"get"}, "if-version": {"apply"}}
			for name, actions := range only {
				if set[name] && actions[0] != pos[0] {
					return usageErr("--%s only applies to jit policy %s", name, actions[0])
				}
			}
			switch pos[0] {
			case "get":
				if set["version"] && *version < 1 {
					return usageErr("--version must be 1 or more")
				}
				return a.getPolicy(ctx, *version, *file)
			case "validate":
				if *file == "" {
					return usageErr("validate needs -f FILE")
				}
				return a.validatePolicy(ctx, *file, *local)
			case "apply":
				if *file == "" {
					return usageErr("apply needs -f FILE")
				}
				if set["if-version"] && *ifVersion < 0 {
					return usageErr("--if-version must be 0 or more")
				}
				return a.applyPolicy(ctx, *file, *ifVersion)
			}
			return usageErr("no policy action %q: get, validate or apply", pos[0])
		}
	},
}

// policyVersion is the API's answer about one version of the policy.
type policyVersion struct {
	Version   int       `json:"version"`
	AppliedBy string    `json:"applied_by"`
	AppliedAt time.Time `json:"applied_at"`
	Document  string    `json:"document"`
	Changes   *struct {
		Added   []string `json:"added"`
		Removed []string `json:"removed"`
		Changed []string `json:"changed"`
	} `json:"changes"`
	Warnings []policyProblem `json:"warnings"`
}

func (a *app) readPolicyFile(file string) ([]byte, string, error) {
	var data []byte
	var err error
	name := file
	if file == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(io.LimitReader(a.stdin, policy.MaxDocumentSize+1))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, "", &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
	}
	return data, name, nil
}

func (a *app) getPolicy(ctx context.Context, version int, file string) error {
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	q := url.Values{}
	if version > 0 {
		q.Set("version", strconv.Itoa(version))
	}
	var pv policyVersion
	raw, err := s.api.getJSON(ctx, "/v1/policy", q, &pv)
	if err != nil {
		return err
	}
	about := fmt.Sprintf("policy version %d, applied by %s at %s", pv.Version, pv.AppliedBy, pv.AppliedAt.In(a.loc).Format("2006-01-02 15:04:05 MST"))
	if file != "" && file != "-" {
		if err := os.WriteFile(file, []byte(pv.Document), 0o600); err != nil {
			return &exitError{Code: exitFailure, Kind: "file", Message: err.Error()}
		}
	}
	switch {
	case a.json():
		return a.printJSON(json.RawMessage(raw))
	case file != "" && file != "-":
		fmt.Fprintf(a.stdout, "Wrote %s to %s.\nAfter editing: jit policy apply -f %s --if-version %d\n", about, file, file, pv.Version)
	default:
		fmt.Fprintf(a.stderr, "# %s\n", about)
		fmt.Fprint(a.stdout, pv.Document)
		if !strings.HasSuffix(pv.Document, "\n") {
			fmt.Fprintln(a.stdout)
		}
	}
	return nil
}

// validation is the outcome of checking a policy file, the same whether
// the API or this machine checked it.
type validation struct {
	Valid     bool            `json:"valid"`
	File      string          `json:"file"`
	CheckedBy string          `json:"checked_by"`
	Resources int             `json:"resources,omitempty"`
	Problems  []policyProblem `json:"problems,omitempty"`
	Warnings  []policyProblem `json:"warnings,omitempty"`
}

func (a *app) validatePolicy(ctx context.Context, file string, local bool) error {
	data, name, err := a.readPolicyFile(file)
	if err != nil {
		return err
	}
	v := validation{File: name, CheckedBy: "api"}
	if local {
		v.CheckedBy = "local"
		doc, err := policy.Parse(data)
		var inv *policy.InvalidError
		switch {
		case errors.As(err, &inv):
			for _, p := range inv.Problems {
				v.Problems = append(v.Problems, policyProblem{Line: p.Line, Field: p.Field, Message: p.Message})
			}
		case err != nil:
			return err
		default:
			v.Valid, v.Resources = true, len(doc.Resources)
			for _, w := range doc.Warnings {
				v.Warnings = append(v.Warnings, policyProblem{Line: w.Line, Field: w.Field, Message: w.Message})
			}
		}
		return a.printValidation(v)
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	resp, err := s.api.do(ctx, http.MethodPost, "/v1/policy/validate", nil, rawBody{data, "application/yaml"}, nil)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Code == "invalid_policy":
		v.Problems = ae.Problems
		if len(v.Problems) == 0 {
			v.Problems = []policyProblem{{Field: "document", Message: ae.Message}}
		}
		return a.printValidation(v)
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden && ae.Code != "":
		e := a.describeAPIError(ae)
		e.Hint = "validating with the API is for jit admins; `jit policy validate --local -f " + file + "` checks the file on this machine"
		return e
	case err != nil:
		return err
	}
	var ok struct {
		Valid     bool            `json:"valid"`
		Resources int             `json:"resources"`
		Warnings  []policyProblem `json:"warnings"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil {
		return fmt.Errorf("POST /v1/policy/validate: the answer is not the JSON jit expects: %w", err)
	}
	v.Valid, v.Resources, v.Warnings = ok.Valid, ok.Resources, ok.Warnings
	return a.printValidation(v)
}

// printValidation reports a check; an invalid policy exits 2, like any
// input the API refuses as invalid.
func (a *app) printValidation(v validation) error {
	if a.json() {
		if err := a.printJSON(v); err != nil {
			return err
		}
	} else if v.Valid {
		fmt.Fprintf(a.stdout, "%s: valid, %d resource(s) (checked by %s)\n", v.File, v.Resources, map[string]string{"api": "the API", "local": "this machine; roles and approvers are not looked up"}[v.CheckedBy])
		a.printWarnings(v.Warnings)
	} else {
		fmt.Fprintf(a.stdout, "%s: %d problem(s):\n", v.File, len(v.Problems))
		for _, p := range v.Problems {
			fmt.Fprintf(a.stdout, "  %s\n", p.String())
		}
	}
	if !v.Valid {
		return outcome(exitUsage)
	}
	return nil
}

func (a *app) applyPolicy(ctx context.Context, file string, ifVersion int) error {
	data, name, err := a.readPolicyFile(file)
	if err != nil {
		return err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	header := map[string]string{}
	if ifVersion >= 0 {
		header["If-Match"] = strconv.Quote(strconv.Itoa(ifVersion))
	}
	resp, err := s.api.do(ctx, http.MethodPut, "/v1/policy", nil, rawBody{data, "application/yaml"}, header)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Code == "invalid_policy":
		return a.printValidation(validation{File: name, CheckedBy: "api", Problems: ae.Problems})
	case errors.As(err, &ae) && ae.Code == "stale_policy":
		e := a.describeAPIError(ae)
		e.Hint = "someone applied another version since; `jit policy get -f FILE` shows it: merge your change into it, then apply with --if-version of that version"
		return e
	case err != nil:
		return err
	}
	var pv policyVersion
	if err := json.Unmarshal(resp.Body, &pv); err != nil {
		return fmt.Errorf("PUT /v1/policy: the answer is not the JSON jit expects: %w", err)
	}
	if a.json() {
		return a.printJSON(json.RawMessage(resp.Body))
	}
	fmt.Fprintf(a.stdout, "Applied %s as policy version %d.\n", name, pv.Version)
	if c := pv.Changes; c != nil {
		for _, l := range []struct {
			what  string
			names []string
		}{{"Added", c.Added}, {"Changed", c.Changed}, {"Removed", c.Removed}} {
			if len(l.names) > 0 {
				fmt.Fprintf(a.stdout, "%-8s %s\n", l.what+":", strings.Join(l.names, ", "))
			}
		}
		if len(c.Added)+len(c.Changed)+len(c.Removed) == 0 {
			fmt.Fprintln(a.stdout, "No resource changed.")
		}
	}
	a.printWarnings(pv.Warnings)
	return nil
}

// printWarnings lists what the policy allows but is risky, on stderr so
// scripts reading stdout see the same output as before.
func (a *app) printWarnings(ws []policyProblem) {
	for _, w := range ws {
		fmt.Fprintf(a.stderr, "warning: %s\n", w.String())
	}
}
