package pipeline_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/pipeline/pipelinetest"
)

const storedToken = "ghp_stored0123456789"

// secretPipeline returns a valid pipeline with a GitHub source holding a
// real token and a custom build action holding a secret ApiToken.
func secretPipeline(t testing.TB) *cpapi.PipelineDeclaration {
	t.Helper()
	p := pipelinetest.DecodePipeline(t, pipelinetest.SamplePipeline)
	p.Stages[0] = pipelinetest.DecodeStage(t, pipelinetest.GitHubSourceStage)
	p.Stages[0].Actions[0].Configuration["OAuthToken"] = storedToken
	build := pipelinetest.CustomBuild("MyBuildCustomAction", 1, "MyApp", "MyBuiltApp")
	build.Configuration["ApiToken"] = "build-secret"
	p.Stages = []cpapi.StageDeclaration{
		p.Stages[0],
		{Name: "MyBuildStage", Actions: []cpapi.ActionDeclaration{build}},
		p.Stages[1],
	}
	return p
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cat     *pipeline.Catalog
		stage   string
		action  string
		key     string
		want    string
		wantRaw string
	}{
		{"GitHub OAuthToken", pipelinetest.Catalog(), "Source", "Source", "OAuthToken", pipeline.SecretMask, storedToken},
		{"GitHub non-secret key", pipelinetest.Catalog(), "Source", "Source", "Owner", "MyGitHubAccountName", "MyGitHubAccountName"},
		{"custom secret property", pipelinetest.Catalog(), "MyBuildStage", "MyBuildCustomAction", "ApiToken", pipeline.SecretMask, "build-secret"},
		{"custom non-secret property", pipelinetest.Catalog(), "MyBuildStage", "MyBuildCustomAction", "ProjectName", "MyBuildProject", "MyBuildProject"},
		{"custom type unknown to the catalogue", nil, "MyBuildStage", "MyBuildCustomAction", "ApiToken", "build-secret", "build-secret"},
		{"built-in secret with a nil catalogue", nil, "Source", "Source", "OAuthToken", pipeline.SecretMask, storedToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := secretPipeline(t)
			masked := pipeline.Mask(p, tc.cat)
			if got := pipelinetest.ActionNamed(t, masked, tc.stage, tc.action).Configuration[tc.key]; got != tc.want {
				t.Errorf("masked %s = %q, want %q", tc.key, got, tc.want)
			}
			if got := pipelinetest.ActionNamed(t, p, tc.stage, tc.action).Configuration[tc.key]; got != tc.wantRaw {
				t.Errorf("original %s = %q, want %q (Mask modified its input)", tc.key, got, tc.wantRaw)
			}
		})
	}
}

func TestMaskCopiesDeeply(t *testing.T) {
	t.Parallel()
	p := secretPipeline(t)
	p.Stages[2].Actions[0].OutputArtifacts = []cpapi.OutputArtifact{}
	before := pipeline.DeepCopy(p)
	masked := pipeline.Mask(p, pipelinetest.Catalog())
	if masked.Stages[0].Actions[0].InputArtifacts == nil || len(masked.Stages[0].Actions[0].InputArtifacts) != 0 {
		t.Errorf("empty inputArtifacts list not kept: %#v", masked.Stages[0].Actions[0].InputArtifacts)
	}
	if masked.Stages[2].Actions[0].OutputArtifacts == nil {
		t.Error("empty outputArtifacts list became nil")
	}
	masked.Stages[1].Actions[0].InputArtifacts[0].Name = "Changed"
	masked.Stages[1].Actions[0].RunOrder = pipelinetest.I32(9)
	masked.ArtifactStore.Location = "changed"
	if !reflect.DeepEqual(before, p) {
		t.Fatal("changing the masked copy changed the original")
	}
	if pipeline.Mask(nil, nil) != nil {
		t.Fatal("Mask(nil) != nil")
	}
}

func TestKeepSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(t *testing.T, p *cpapi.PipelineDeclaration)
		noOld   bool
		wantErr string // substring; "" means success
		check   func(t *testing.T, p *cpapi.PipelineDeclaration)
	}{
		{
			name: "names unchanged: stored values kept",
			check: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				if got := pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["OAuthToken"]; got != storedToken {
					t.Errorf("OAuthToken = %q", got)
				}
				if got := pipelinetest.ActionNamed(t, p, "MyBuildStage", "MyBuildCustomAction").Configuration["ApiToken"]; got != "build-secret" {
					t.Errorf("ApiToken = %q", got)
				}
			},
		},
		{
			name: "other members edited: stored value kept",
			edit: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["Branch"] = "main"
			},
			check: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				if got := pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["OAuthToken"]; got != storedToken {
					t.Errorf("OAuthToken = %q", got)
				}
			},
		},
		{
			name: "new secret value replaces the stored one",
			edit: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["OAuthToken"] = "ghp_new"
			},
			check: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				if got := pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["OAuthToken"]; got != "ghp_new" {
					t.Errorf("OAuthToken = %q", got)
				}
			},
		},
		{
			name: "four asterisks in a non-secret key stay literal",
			edit: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["Repo"] = pipeline.SecretMask
			},
			check: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				if got := pipelinetest.ActionNamed(t, p, "Source", "Source").Configuration["Repo"]; got != pipeline.SecretMask {
					t.Errorf("Repo = %q", got)
				}
			},
		},
		{
			name:    "stage renamed",
			edit:    func(_ *testing.T, p *cpapi.PipelineDeclaration) { p.Stages[0].Name = "Checkout" },
			wantErr: `stage "Checkout": action "Source" has the secret configuration "OAuthToken" masked as "****"`,
		},
		{
			name:    "action renamed",
			edit:    func(_ *testing.T, p *cpapi.PipelineDeclaration) { p.Stages[1].Actions[0].Name = "Compile" },
			wantErr: `stage "MyBuildStage": action "Compile" has the secret configuration "ApiToken" masked as "****"`,
		},
		{
			name: "action moved to another stage",
			edit: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Stages[2].Actions = append(p.Stages[2].Actions, p.Stages[1].Actions[0])
				p.Stages[1].Actions[0] = pipelinetest.Approval("Approve", 1)
			},
			wantErr: `stage "Beta": action "MyBuildCustomAction" has the secret configuration "ApiToken"`,
		},
		{
			name: "action type changed to one without secrets",
			edit: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Stages[1].Actions[0].ActionTypeId = &cpapi.ActionTypeId{
					Category: "Build", Owner: "Custom", Provider: "Other-Provider", Version: "1",
				}
			},
			wantErr: "", // the new type is unknown, so nothing is secret
		},
		{
			name:    "no stored pipeline",
			noOld:   true,
			wantErr: `stage "Source": action "Source" has the secret configuration "OAuthToken" masked as "****"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			old := secretPipeline(t)
			p := pipeline.Mask(old, pipelinetest.Catalog())
			if tc.edit != nil {
				tc.edit(t, p)
			}
			if tc.noOld {
				old = nil
			}
			err := pipeline.KeepSecrets(p, old, pipelinetest.Catalog())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("KeepSecrets: %v", err)
				}
				if tc.check != nil {
					tc.check(t, p)
				}
				return
			}
			e := pipelinetest.AsAPIError(t, err)
			if e.Code != cpapi.InvalidActionDeclarationException {
				t.Errorf("code = %s", e.Code)
			}
			if !strings.Contains(e.Message, tc.wantErr) || !strings.Contains(e.Message, "supply the secret value again") {
				t.Errorf("message = %q, want %q", e.Message, tc.wantErr)
			}
			if strings.Contains(e.Message, storedToken) || strings.Contains(e.Message, "build-secret") {
				t.Errorf("message leaks a secret: %q", e.Message)
			}
		})
	}
}

func TestKeepSecretsKnownTypeChanged(t *testing.T) {
	t.Parallel()
	// A custom type that also declares ApiToken secret, under another
	// provider: the stored value belongs to the old type and is not kept.
	other := pipelinetest.CustomBuildType()
	other.Id.Provider = "Other-Provider"
	cat := pipeline.NewCatalog([]cpapi.ActionType{pipelinetest.CustomBuildType(), other})
	old := secretPipeline(t)
	p := pipeline.Mask(old, cat)
	p.Stages[1].Actions[0].ActionTypeId.Provider = "Other-Provider"
	e := pipelinetest.AsAPIError(t, pipeline.KeepSecrets(p, old, cat))
	if e.Code != cpapi.InvalidActionDeclarationException || !strings.Contains(e.Message, `"ApiToken"`) {
		t.Fatalf("got %v", e)
	}
}

func TestKeepSecretsNil(t *testing.T) {
	t.Parallel()
	if err := pipeline.KeepSecrets(nil, nil, nil); err != nil {
		t.Fatal(err)
	}
}
