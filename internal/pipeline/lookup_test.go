package pipeline_test

import (
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/pipeline/pipelinetest"
)

func TestCatalogLookup(t *testing.T) {
	t.Parallel()
	cat := pipeline.NewCatalog([]cpapi.ActionType{
		pipelinetest.CustomBuildType(),
		{Id: nil},
		{Id: pipelinetest.TypeOf("Build", "AWS", "CodeBuild"), ActionConfigurationProperties: []cpapi.ActionConfigurationProperty{}},
	})
	tests := []struct {
		name  string
		id    cpapi.ActionTypeId
		found bool
		props int
	}{
		{"built-in", *pipelinetest.TypeOf("Source", "ThirdParty", "GitHub"), true, 5},
		{"custom", *pipelinetest.CustomBuildType().Id, true, 2},
		{"custom cannot replace a built-in", *pipelinetest.TypeOf("Build", "AWS", "CodeBuild"), true, 5},
		{"wrong version", cpapi.ActionTypeId{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "2"}, false, 0},
		{"wrong owner", *pipelinetest.TypeOf("Source", "AWS", "GitHub"), false, 0},
		{"case matters", *pipelinetest.TypeOf("Source", "AWS", "s3"), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := cat.Lookup(tc.id)
			if ok != tc.found {
				t.Fatalf("found = %v, want %v", ok, tc.found)
			}
			if ok && len(got.ActionConfigurationProperties) != tc.props {
				t.Errorf("%d properties, want %d", len(got.ActionConfigurationProperties), tc.props)
			}
			if ok {
				got.ActionConfigurationProperties[0].Name = "Changed"
				again, _ := cat.Lookup(tc.id)
				if again.ActionConfigurationProperties[0].Name == "Changed" {
					t.Error("Lookup returned the catalogue's own entry")
				}
			}
		})
	}
	if n := len(cat.Types()); n != len(pipeline.Builtin())+1 {
		t.Errorf("Types() has %d entries, want %d", n, len(pipeline.Builtin())+1)
	}
	var none *pipeline.Catalog
	if _, ok := none.Lookup(*pipelinetest.TypeOf("Invoke", "AWS", "Lambda")); !ok {
		t.Error("a nil catalogue does not hold the built-in types")
	}
}

func TestCatalogCopiesCustomTypes(t *testing.T) {
	t.Parallel()
	custom := []cpapi.ActionType{pipelinetest.CustomBuildType()}
	cat := pipeline.NewCatalog(custom)
	custom[0].ActionConfigurationProperties[0].Name = "Changed"
	got, _ := cat.Lookup(*pipelinetest.CustomBuildType().Id)
	if got.ActionConfigurationProperties[0].Name != "ProjectName" {
		t.Fatal("NewCatalog kept a reference to the caller's slice")
	}
}
