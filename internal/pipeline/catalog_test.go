package pipeline

import (
	"regexp"
	"testing"
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
