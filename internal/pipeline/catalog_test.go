package pipeline

import (
	"regexp"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

func TestBuiltin(t *testing.T) {
	t.Parallel()
	types := Builtin()
	want := []string{
		"Source/AWS/S3", "Source/AWS/CodeCommit", "Source/ThirdParty/GitHub", "Source/AWS/CodeStarSourceConnection",
		"Build/AWS/CodeBuild", "Test/AWS/CodeBuild", "Deploy/AWS/CodeDeploy", "Deploy/AWS/S3",
		"Approval/AWS/Manual", "Invoke/AWS/Lambda", "Compute/AWS/Commands",
	}
	if len(types) != len(want) {
		t.Fatalf("%d built-in types, want %d", len(types), len(want))
	}
	placeholder := regexp.MustCompile(`\{Config:([^}]*)\}`)
	for i, typ := range types {
		id := typ.Id
		if got := id.Category + "/" + id.Owner + "/" + id.Provider; got != want[i] || id.Version != "1" {
			t.Errorf("type %d = %s version %s, want %s version 1", i, got, id.Version, want[i])
		}
		if err := id.Validate(); err != nil {
			t.Errorf("%s: id: %v", want[i], err)
		}
		if typ.InputArtifactDetails == nil || typ.OutputArtifactDetails == nil {
			t.Fatalf("%s: artifact details missing", want[i])
		}
		for _, p := range typ.ActionConfigurationProperties {
			if err := p.Validate(); err != nil {
				t.Errorf("%s: property %s: %v", want[i], p.Name, err)
			}
			if p.Queryable == nil {
				t.Errorf("%s: property %s: queryable unset", want[i], p.Name)
			}
		}
		if typ.Settings != nil {
			if err := typ.Settings.Validate(); err != nil {
				t.Errorf("%s: settings: %v", want[i], err)
			}
			// Templates may only use required, non-secret properties
			// (reference/codepipeline.md §5.3).
			for _, m := range placeholder.FindAllStringSubmatch(typ.Settings.EntityUrlTemplate, -1) {
				p := property(&typ, m[1])
				if p == nil || !isTrue(p.Required) || isTrue(p.Secret) {
					t.Errorf("%s: template uses %s, not a required non-secret property", want[i], m[1])
				}
			}
		}
	}
}

func TestBuiltinReturnsCopies(t *testing.T) {
	t.Parallel()
	a := Builtin()
	a[0].Id.Provider = "Changed"
	*a[0].ActionConfigurationProperties[0].Required = false
	b := Builtin()
	if b[0].Id.Provider != "S3" || !isTrue(b[0].ActionConfigurationProperties[0].Required) {
		t.Fatal("modifying Builtin's result changed the catalogue")
	}
}

func TestCatalogLookup(t *testing.T) {
	t.Parallel()
	cat := NewCatalog([]cpapi.ActionType{
		customBuildType(),
		{Id: nil},
		{Id: typeOf("Build", "AWS", "CodeBuild"), ActionConfigurationProperties: []cpapi.ActionConfigurationProperty{}},
	})
	tests := []struct {
		name  string
		id    cpapi.ActionTypeId
		found bool
		props int
	}{
		{"built-in", *typeOf("Source", "ThirdParty", "GitHub"), true, 5},
		{"custom", *customBuildType().Id, true, 2},
		{"custom cannot replace a built-in", *typeOf("Build", "AWS", "CodeBuild"), true, 5},
		{"wrong version", cpapi.ActionTypeId{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "2"}, false, 0},
		{"wrong owner", *typeOf("Source", "AWS", "GitHub"), false, 0},
		{"case matters", *typeOf("Source", "AWS", "s3"), false, 0},
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
	if n := len(cat.Types()); n != len(Builtin())+1 {
		t.Errorf("Types() has %d entries, want %d", n, len(Builtin())+1)
	}
	var none *Catalog
	if _, ok := none.Lookup(*typeOf("Invoke", "AWS", "Lambda")); !ok {
		t.Error("a nil catalogue does not hold the built-in types")
	}
}

func TestCatalogCopiesCustomTypes(t *testing.T) {
	t.Parallel()
	custom := []cpapi.ActionType{customBuildType()}
	cat := NewCatalog(custom)
	custom[0].ActionConfigurationProperties[0].Name = "Changed"
	got, _ := cat.Lookup(*customBuildType().Id)
	if got.ActionConfigurationProperties[0].Name != "ProjectName" {
		t.Fatal("NewCatalog kept a reference to the caller's slice")
	}
}
