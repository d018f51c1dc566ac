package compliance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The template and the queries' source files, relative to this package.
const (
	templatePath = "../../infra/compliance.yaml"
	queriesDir   = "../../infra/athena"
)

// glueTable is the export table as infra/compliance.yaml declares it.
type glueTable struct {
	Name         string // the table name the queries use
	Column, Type string // its one column and the column's Hive type
	SerDe        string // its SerDe library
}

// namedQuery is one AWS::Athena::NamedQuery of the template.
type namedQuery struct {
	LogicalID, Name, SQL string
}

// readTemplate reads infra/compliance.yaml: the Glue table and the named queries.
func readTemplate(t testing.TB) (glueTable, []namedQuery) {
	t.Helper()
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	var table glueTable
	var queries []namedQuery
	for id, r := range doc.Resources {
		switch r.Type {
		case "AWS::Glue::Table":
			var p struct {
				TableInput struct {
					Name              string `yaml:"Name"`
					StorageDescriptor struct {
						SerdeInfo struct {
							SerializationLibrary string `yaml:"SerializationLibrary"`
						} `yaml:"SerdeInfo"`
						Columns []struct {
							Name string    `yaml:"Name"`
							Type yaml.Node `yaml:"Type"`
						} `yaml:"Columns"`
					} `yaml:"StorageDescriptor"`
				} `yaml:"TableInput"`
			}
			if err := r.Properties.Decode(&p); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			cols := p.TableInput.StorageDescriptor.Columns
			if len(cols) != 1 {
				t.Fatalf("%s: %d columns, want the one struct column", id, len(cols))
			}
			typ, err := scalar(&cols[0].Type)
			if err != nil {
				t.Fatalf("%s column %s type: %v", id, cols[0].Name, err)
			}
			table = glueTable{Name: p.TableInput.Name, Column: cols[0].Name, Type: typ,
				SerDe: p.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary}
		case "AWS::Athena::NamedQuery":
			var p struct {
				Name        string `yaml:"Name"`
				QueryString string `yaml:"QueryString"`
			}
			if err := r.Properties.Decode(&p); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			queries = append(queries, namedQuery{LogicalID: id, Name: p.Name, SQL: p.QueryString})
		}
	}
	if table.Name == "" {
		t.Fatalf("%s has no AWS::Glue::Table", templatePath)
	}
	sort.Slice(queries, func(i, j int) bool { return queries[i].Name < queries[j].Name })
	return table, queries
}

// scalar evaluates a plain string or an Fn::Join of plain strings, the
// two forms the column type may take.
func scalar(n *yaml.Node) (string, error) {
	switch {
	case n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == ""):
		return n.Value, nil
	case n.Kind == yaml.SequenceNode && n.Tag == "!Join":
		if len(n.Content) != 2 || n.Content[1].Kind != yaml.SequenceNode {
			return "", fmt.Errorf("!Join wants [separator, [parts]]")
		}
		var parts []string
		for _, p := range n.Content[1].Content {
			s, err := scalar(p)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, n.Content[0].Value), nil
	}
	return "", fmt.Errorf("unsupported node %s %s at line %d", n.Tag, n.Value, n.Line)
}

// querySources reads infra/athena/*.sql by name (the file name less .sql).
func querySources(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(queriesDir, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no queries in %s (%v)", queriesDir, err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".sql")] = string(b)
	}
	return out
}

// TestTemplateQueriesMatchFiles: the SQL files are the source of truth;
// every named query of the template is one of them, verbatim, and every
// file has its named query.
func TestTemplateQueriesMatchFiles(t *testing.T) {
	table, queries := readTemplate(t)
	if table.SerDe != "org.openx.data.jsonserde.JsonSerDe" {
		t.Errorf("table SerDe = %q, want the OpenX JSON SerDe", table.SerDe)
	}
	files := querySources(t)
	seen := map[string]bool{}
	for _, q := range queries {
		src, ok := files[q.Name]
		if !ok {
			t.Errorf("named query %s (%s) has no %s/%s.sql", q.LogicalID, q.Name, queriesDir, q.Name)
			continue
		}
		seen[q.Name] = true
		if q.SQL != src {
			t.Errorf("%s QueryString differs from infra/athena/%s.sql; copy the file into the template verbatim:\n%s",
				q.LogicalID, q.Name, firstDifference(src, q.SQL))
		}
	}
	for name := range files {
		if !seen[name] {
			t.Errorf("infra/athena/%s.sql has no AWS::Athena::NamedQuery in %s", name, templatePath)
		}
	}
}

// firstDifference names the first line where got differs from want.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d: file %q, template %q", i+1, wl, gl)
		}
	}
	return "(same lines)"
}
