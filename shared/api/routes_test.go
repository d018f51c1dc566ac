package api

import (
	"slices"
	"strings"
	"testing"

	"github.com/jitaccess/jit/shared/local/template"
)

// TestRoutesAreTheTemplates: the handler serves exactly the signed routes
// template.yaml gives ApiFunction (the auditor page's GET /audit... routes
// go to Pages), each signed; test/contract holds the template to
// docs/openapi.yaml.
func TestRoutesAreTheTemplates(t *testing.T) {
	tpl, err := template.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var inTemplate []string
	for _, f := range tpl.Functions {
		if f.LogicalID != "ApiFunction" {
			continue
		}
		for _, r := range f.Routes {
			key := r.Method + " " + r.Path
			if strings.HasPrefix(key, "GET /audit") || strings.HasPrefix(key, "POST /audit/") {
				continue
			}
			if !r.IAMAuth {
				t.Errorf("%s is not signed (AWS_IAM) in template.yaml", key)
			}
			inTemplate = append(inTemplate, key)
		}
	}
	slices.Sort(inTemplate)
	if got := Routes(); !slices.Equal(got, inTemplate) {
		t.Fatalf("handler routes %v\ntemplate routes %v", got, inTemplate)
	}
}
