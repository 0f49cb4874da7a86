package providers

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/buildspec"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/worker"
)

// fakeBuilds is a BuildBackend in memory.
type fakeBuilds struct {
	projects map[string]*slipwayapi.BuildProject
	secrets  map[string]string
	numbers  map[string]int64
}

func (f *fakeBuilds) Project(_ context.Context, _ *worker.Job, name string) (*slipwayapi.BuildProject, error) {
	p := f.projects[name]
	if p == nil {
		return nil, nil
	}
	c := *p
	c.Normalize()
	return &c, nil
}

func (f *fakeBuilds) Secret(_ context.Context, _ *worker.Job, name string) (string, error) {
	v, ok := f.secrets[name]
	if !ok {
		return "", fmt.Errorf("secret %q: %w", name, ErrNoSecret)
	}
	return v, nil
}

func (f *fakeBuilds) NextBuildNumber(_ context.Context, _ *worker.Job, project string) (int64, error) {
	if f.numbers == nil {
		f.numbers = map[string]int64{}
	}
	f.numbers[project]++
	return f.numbers[project], nil
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readZip(t *testing.T, st artifact.Store, bucket, key string) map[string]string {
	t.Helper()
	r, _, err := st.Get(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Mode()&os.ModeSymlink != 0 {
			out[f.Name] = "-> " + string(b)
			continue
		}
		out[f.Name] = string(b)
	}
	return out
}

func artifactAt(name, key, revision string) cpapi.Artifact {
	return cpapi.Artifact{Name: name, Revision: revision, Location: &cpapi.ArtifactLocation{Type: "S3",
		S3Location: &cpapi.S3ArtifactLocation{BucketName: "bucket", ObjectKey: key}}}
}

// testJob is a CodeBuild job with the given inputs (stored) and outputs.
func testJob(t *testing.T, st artifact.Store, cfg map[string]string, inputs map[string]map[string]string, order []string, outputs ...string) *worker.Job {
	t.Helper()
	d := &cpapi.JobData{
		ActionConfiguration: &cpapi.ActionConfiguration{Configuration: cfg},
		PipelineContext: &cpapi.PipelineContext{PipelineName: "Pipe", PipelineArn: "arn:aws:codepipeline:eu-west-1:111122223333:Pipe",
			Action: &cpapi.ActionContext{Name: "Build", ActionExecutionId: "exec-1"}},
	}
	for _, name := range order {
		key := "Pipe/" + name + "/in"
		if _, err := st.Put(context.Background(), "bucket", key, bytes.NewReader(zipOf(t, inputs[name]))); err != nil {
			t.Fatal(err)
		}
		d.InputArtifacts = append(d.InputArtifacts, artifactAt(name, key, "rev-"+name))
	}
	for _, name := range outputs {
		d.OutputArtifacts = append(d.OutputArtifacts, artifactAt(name, "Pipe/"+name+"/out", ""))
	}
	return &worker.Job{ID: "job-1", Data: d}
}

func newFS(t *testing.T) *artifact.FSStore {
	t.Helper()
	st, err := artifact.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Several inputs: PrimarySource picks the source directory, the others
// are extracted to CODEBUILD_SRC_DIR_<name>; secondary artifacts go to
// the output artifacts of their names, the primary one to the first.
func TestCodeBuildSourcesAndSecondaryArtifacts(t *testing.T) {
	st := newFS(t)
	work := t.TempDir()
	backend := &fakeBuilds{projects: map[string]*slipwayapi.BuildProject{"multi": {Name: "multi", Buildspec: `version: 0.2
env:
  exported-variables: [WHERE, LIB]
phases:
  build:
    commands:
      - WHERE=$(cat app.txt)
      - LIB=$(cat $CODEBUILD_SRC_DIR_Lib_Code/lib.txt)
      - mkdir -p out/docs out/bin
      - echo "$CODEBUILD_BUILD_ID $CODEBUILD_BUILD_NUMBER $CODEBUILD_RESOLVED_SOURCE_VERSION $AWS_REGION" > out/bin/info.txt
      - echo docs > out/docs/index.html
      - ln -s info.txt out/bin/link.txt
artifacts:
  files: ['out/bin/*']
  discard-paths: yes
  secondary-artifacts:
    Docs:
      base-directory: out/docs
      files: ['**/*']
`}}}
	var log bytes.Buffer
	j := testJob(t, st, map[string]string{"ProjectName": "multi", "PrimarySource": "App"},
		map[string]map[string]string{"Lib-Code": {"lib.txt": "library"}, "App": {"app.txt": "application"}},
		[]string{"Lib-Code", "App"}, "Bin", "Docs")
	j.Log = &log
	cb := &CodeBuild{Deps: Deps{Artifacts: st, WorkDir: work, Builds: backend}, Category: cpapi.ActionCategoryBuild}
	res, err := cb.Run(context.Background(), j)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if res.OutputVariables["WHERE"] != "application" || res.OutputVariables["LIB"] != "library" {
		t.Errorf("output variables = %v", res.OutputVariables)
	}
	if res.ExternalExecutionID != "multi:exec-1" {
		t.Errorf("external execution ID = %q", res.ExternalExecutionID)
	}
	bin := readZip(t, st, "bucket", "Pipe/Bin/out")
	if want := "multi:exec-1 1 rev-App eu-west-1\n"; bin["info.txt"] != want || len(bin) != 2 || bin["link.txt"] != want {
		t.Errorf("Bin artifact = %v, want info.txt and the followed link.txt (discard-paths)", bin)
	}
	if docs := readZip(t, st, "bucket", "Pipe/Docs/out"); len(docs) != 1 || docs["index.html"] != "docs\n" {
		t.Errorf("Docs artifact = %v", docs)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("the work directory still holds %d entries after the build", len(entries))
	}
}

// Without a backend (a remote worker) or with an unknown project, the
// buildspec.yml of the source runs; a missing file fails with a message
// that says what to do.
func TestCodeBuildUnknownProject(t *testing.T) {
	st := newFS(t)
	for _, backend := range []BuildBackend{nil, &fakeBuilds{}} {
		var log bytes.Buffer
		j := testJob(t, st, map[string]string{"ProjectName": "nope"}, map[string]map[string]string{"Src": {"main.c": "int main;"}}, []string{"Src"})
		j.Log = &log
		cb := &CodeBuild{Deps: Deps{Artifacts: st, WorkDir: t.TempDir(), Builds: backend}, Category: cpapi.ActionCategoryTest}
		_, err := cb.Run(context.Background(), j)
		var f *worker.Failure
		if !errors.As(err, &f) || !strings.Contains(f.Message, "YAML_FILE_ERROR: buildspec.yml not found") || !strings.Contains(f.Message, "add buildspec.yml") {
			t.Errorf("Run = %v, want a YAML_FILE_ERROR failure", err)
		}
		if !strings.Contains(log.String(), `Build project "nope" does not exist`) {
			t.Errorf("log = %s", log.String())
		}
	}
}

func TestCodeBuildMissingOutput(t *testing.T) {
	st := newFS(t)
	backend := &fakeBuilds{projects: map[string]*slipwayapi.BuildProject{"p": {Name: "p", Buildspec: "version: 0.2\nphases:\n  build:\n    commands: [true]\n"}}}
	j := testJob(t, st, map[string]string{"ProjectName": "p"}, map[string]map[string]string{"Src": {"a": "b"}}, []string{"Src"}, "Out")
	cb := &CodeBuild{Deps: Deps{Artifacts: st, WorkDir: t.TempDir(), Builds: backend}, Category: cpapi.ActionCategoryBuild}
	_, err := cb.Run(context.Background(), j)
	var f *worker.Failure
	if !errors.As(err, &f) || !strings.Contains(f.Message, "no artifact for output artifact Out") {
		t.Errorf("Run = %v, want a failure naming the output artifact", err)
	}
}

func TestCodeBuildBadEnvironmentVariables(t *testing.T) {
	st := newFS(t)
	for raw, want := range map[string]string{
		`{"name": "X"}`: "JSON array",
		`[{"name": "CODEBUILD_X", "value": "1"}]`:                                "CODEBUILD_",
		`[{"name": "X", "value": "s:k:AWSPREVIOUS", "type": "SECRETS_MANAGER"}]`: "not versioned",
	} {
		j := testJob(t, st, map[string]string{"ProjectName": "p", "EnvironmentVariables": raw}, map[string]map[string]string{"Src": {"buildspec.yml": "version: 0.2\nphases:\n  build:\n    commands: [true]\n"}}, []string{"Src"})
		cb := &CodeBuild{Deps: Deps{Artifacts: st, WorkDir: t.TempDir()}, Category: cpapi.ActionCategoryBuild}
		_, err := cb.Run(context.Background(), j)
		var f *worker.Failure
		if !errors.As(err, &f) || f.Type != cpapi.FailureTypeConfigurationError || !strings.Contains(f.Message, want) {
			t.Errorf("EnvironmentVariables %s: Run = %v, want a ConfigurationError mentioning %q", raw, err, want)
		}
	}
}

func TestCommandsWholeDirectoryArtifact(t *testing.T) {
	st := newFS(t)
	j := testJob(t, st, map[string]string{
		engine.CommandsKey:        `["mkdir -p build && echo made > build/out.txt", "export N=$(ls | wc -l)"]`,
		engine.OutputVariablesKey: `["N"]`,
	}, map[string]map[string]string{"Src": {"src.txt": "source"}}, []string{"Src"}, "All")
	var log bytes.Buffer
	j.Log = &log
	c := &Commands{Deps: Deps{Artifacts: st, WorkDir: t.TempDir()}}
	res, err := c.Run(context.Background(), j)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if res.OutputVariables["N"] != "2" || res.Summary != "Ran 2 commands" {
		t.Errorf("result = %+v", res)
	}
	all := readZip(t, st, "bucket", "Pipe/All/out")
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "build/out.txt,src.txt" || all["build/out.txt"] != "made\n" {
		t.Errorf("artifact = %v, want the whole working directory", all)
	}

	j = testJob(t, st, map[string]string{}, map[string]map[string]string{"Src": {}}, []string{"Src"})
	_, err = c.Run(context.Background(), j)
	var f *worker.Failure
	if !errors.As(err, &f) || f.Type != cpapi.FailureTypeConfigurationError {
		t.Errorf("Run without commands = %v, want a ConfigurationError", err)
	}
}

func TestSecretRef(t *testing.T) {
	for _, tc := range []struct {
		v        slipwayapi.BuildEnvironmentVariable
		id, key  string
		errorful bool
	}{
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "db", Type: "SECRET"}, id: "db"},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "db:password", Type: "SECRETS_MANAGER"}, id: "db", key: "password"},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "db:password:AWSCURRENT", Type: "SECRETS_MANAGER"}, id: "db", key: "password"},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "db::AWSPENDING", Type: "SECRETS_MANAGER"}, errorful: true},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "db:k::v1", Type: "SECRETS_MANAGER"}, errorful: true},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "/prod/db:x", Type: "PARAMETER_STORE"}, id: "/prod/db:x"},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf", Type: "SECRETS_MANAGER"},
			id: "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf"},
		{v: slipwayapi.BuildEnvironmentVariable{Name: "A", Value: "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf:user", Type: "SECRETS_MANAGER"},
			id: "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf", key: "user"},
	} {
		ref, err := secretRef(tc.v)
		if tc.errorful {
			if err == nil {
				t.Errorf("%s: no error", tc.v.Value)
			}
			continue
		}
		if err != nil || ref.SecretID != tc.id || ref.JSONKey != tc.key || ref.Name != "A" {
			t.Errorf("%s: ref %+v, %v; want id %q key %q", tc.v.Value, ref, err, tc.id, tc.key)
		}
	}
}

func TestSecretCandidates(t *testing.T) {
	for ref, want := range map[string]string{
		"db": "db",
		"arn:aws:secretsmanager:us-east-1:123:secret:prod/db-AbCdEf": "arn:aws:secretsmanager:us-east-1:123:secret:prod/db-AbCdEf|prod/db-AbCdEf|prod/db",
		"arn:aws:secretsmanager:us-east-1:123:secret:plain":          "arn:aws:secretsmanager:us-east-1:123:secret:plain|plain",
		"arn:aws:ssm:us-east-1:123:parameter/prod/token":             "arn:aws:ssm:us-east-1:123:parameter/prod/token|/prod/token|prod/token",
	} {
		if got := strings.Join(secretCandidates(ref), "|"); got != want {
			t.Errorf("secretCandidates(%s) = %s, want %s", ref, got, want)
		}
	}
	resolve := secretResolver(context.Background(), &fakeBuilds{secrets: map[string]string{"prod/db": "pw"}}, &worker.Job{ID: "job-1"})
	if v, err := resolve(buildspec.SecretKindSecretsManager, "arn:aws:secretsmanager:us-east-1:123:secret:prod/db-AbCdEf"); err != nil || v != "pw" {
		t.Errorf("resolve ARN = %q, %v", v, err)
	}
	if _, err := resolve(buildspec.SecretKindParameterStore, "missing"); err == nil || !strings.Contains(err.Error(), "PutSecret") {
		t.Errorf("resolve missing = %v, want a message naming PutSecret", err)
	}
}

// applyVariables: action variables override project ones by name, and
// secret ones become secrets-manager references after the buildspec's.
func TestApplyVariables(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1"}
	spec := &buildspec.Spec{Env: buildspec.Env{SecretsManager: []buildspec.SecretRef{{Name: "TOKEN", SecretID: "buildspec-token"}}}}
	err := applyVariables(env, spec,
		[]slipwayapi.BuildEnvironmentVariable{{Name: "A", Value: "project"}, {Name: "TOKEN", Value: "project-token", Type: "SECRET"}, {Name: "B", Value: "s", Type: "SECRET"}},
		[]slipwayapi.BuildEnvironmentVariable{{Name: "A", Value: "action"}, {Name: "B", Value: "plain-now", Type: "PLAINTEXT"}})
	if err != nil {
		t.Fatal(err)
	}
	if env["A"] != "action" || env["B"] != "plain-now" || env["AWS_REGION"] != "us-east-1" {
		t.Errorf("env = %v", env)
	}
	sm := spec.Env.SecretsManager
	if len(sm) != 2 || sm[1].Name != "TOKEN" || sm[1].SecretID != "project-token" {
		t.Errorf("secrets-manager refs = %+v, want the project's TOKEN after the buildspec's", sm)
	}
}
