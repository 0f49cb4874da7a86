package buildspec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// validFiles returns the real-world buildspecs of testdata/valid.
func validFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yml"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no testdata/valid buildspecs: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = data
	}
	return out
}

func mustParse(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestParseRealWorldBuildspecs(t *testing.T) {
	t.Parallel()
	for name, data := range validFiles(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if s.Version != "0.2" || len(s.Phases) == 0 {
				t.Fatalf("version %q, %d phases", s.Version, len(s.Phases))
			}
		})
	}
}

func TestParseTrivyPhases(t *testing.T) {
	t.Parallel()
	s, err := Parse(validFiles(t)["p14-trivy.yml"])
	if err != nil {
		t.Fatal(err)
	}
	var names []PhaseName
	for _, p := range s.Phases {
		names = append(names, p.Name)
	}
	if want := []PhaseName{PhaseInstall, PhasePreBuild, PhaseBuild, PhasePostBuild}; !reflect.DeepEqual(names, want) {
		t.Fatalf("phases %v, want %v", names, want)
	}
	pre := s.Phase(PhasePreBuild)
	if got := pre.Commands[0]; got.Text != "$(aws ecr get-login --no-include-email --region $AWS_DEFAULT_REGION)" || got.Line != 15 {
		t.Fatalf("pre_build command %+v", got)
	}
	if len(s.Phase(PhaseInstall).RuntimeVersions) != 1 || len(s.Notes) != 1 || s.Notes[0].Line != 5 {
		t.Fatalf("runtime-versions %v notes %v", s.Phase(PhaseInstall).RuntimeVersions, s.Notes)
	}
}

func TestParseSecretsAndReports(t *testing.T) {
	t.Parallel()
	files := validFiles(t)
	s, err := Parse(files["p12-taskcat.yml"])
	if err != nil {
		t.Fatal(err)
	}
	want := SecretRef{Name: "USERN", SecretID: "SECRET-NAME-HERE", JSONKey: "USERNAME-KEY-HERE", Line: 14}
	if got := s.Env.SecretsManager[2]; got != want {
		t.Fatalf("secret %+v, want %+v", got, want)
	}
	s, err = Parse(files["p17-postman.yml"])
	if err != nil {
		t.Fatal(err)
	}
	g := s.Reports[0]
	if g.Name != "JUnitReports" || g.BaseDirectory != "02postman/newman" || g.Format != FormatJUnitXML || !reflect.DeepEqual(g.Files, []string{"**/*"}) {
		t.Fatalf("report group %+v", g)
	}
}

func TestParseReferenceExample(t *testing.T) {
	t.Parallel()
	s, err := Parse(validFiles(t)["reference-example.yml"])
	if err != nil {
		t.Fatal(err)
	}
	if s.Env.ParameterStore[0] != (Var{Name: "LOGIN_PASSWORD", Value: "/CodeBuild/dockerLoginPassword", Line: 8}) {
		t.Fatalf("parameter-store %+v", s.Env.ParameterStore)
	}
	if s.Phase(PhaseBuild).OnFailure != OnFailureContinue || len(s.Phase(PhaseInstall).Finally) != 1 {
		t.Fatalf("build phase %+v", s.Phase(PhaseBuild))
	}
	if s.Reports[1].Format != FormatCucumberJSON || !s.Reports[1].DiscardPaths || s.Reports[0].DiscardPaths {
		t.Fatalf("reports %+v %+v", s.Reports[0], s.Reports[1])
	}
	a := s.Artifacts
	if !a.DiscardPaths || len(a.Secondary) != 2 || a.Secondary[1].ID != "artifact2" || a.Secondary[1].Files[0] != "target/artifact-2.0.jar" {
		t.Fatalf("artifacts %+v", a)
	}
}

func TestParseFullSyntax(t *testing.T) {
	t.Parallel()
	s, err := Parse(validFiles(t)["full-syntax.yml"])
	if err != nil {
		t.Fatal(err)
	}
	if s.Env.Shell != "bash" || s.RunAs != "builder" || !reflect.DeepEqual(s.Env.ExportedVariables, []string{"IMAGE_TAG", "NODE_ENV"}) {
		t.Fatalf("env %+v", s.Env)
	}
	tok := s.Env.SecretsManager[0]
	if tok.SecretID != "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci-token-AbCdEf" || tok.JSONKey != "token" {
		t.Fatalf("ARN secret %+v", tok)
	}
	install, pre, build := s.Phase(PhaseInstall), s.Phase(PhasePreBuild), s.Phase(PhaseBuild)
	if install.OnFailure != OnFailureAbort || build.OnFailure != OnFailureAbort || pre.OnFailure != OnFailureContinue || pre.RunAs != "builder" {
		t.Fatalf("aliases and merge keys: install %+v pre %+v build %+v", install, pre, build)
	}
	if install.Commands[0].Text != "npm ci" {
		t.Fatalf("single-string commands %+v", install.Commands)
	}
	if got := pre.Commands[0].Text; !strings.HasPrefix(got, "if [ -f .nvmrc ]; then\n") || strings.HasSuffix(got, "\n") {
		t.Fatalf("literal block command %q", got)
	}
	if got := pre.Commands[1].Text; got != "echo folded command" {
		t.Fatalf("folded command %q", got)
	}
	a := s.Artifacts
	if a.BaseDirectory != "dist*" || !reflect.DeepEqual(a.ExcludePaths, []string{"**/*.map", "node_modules/"}) || !a.EnableSymlinks || a.S3Prefix != "builds" {
		t.Fatalf("artifacts %+v", a)
	}
	if s.Reports[1].Format != FormatCucumberJSON || s.Reports[1].Files[0] != "cucumber.json" {
		t.Fatalf("reports %+v", s.Reports[1])
	}
	var ignored []string
	for _, n := range s.Notes {
		ignored = append(ignored, strings.Fields(n.Msg)[0])
	}
	want := []string{"run-as", "git-credential-helper", "proxy", "phases.install.run-as", "runtime-versions", "phases.pre_build.run-as", "artifacts.type", "cache"}
	if !reflect.DeepEqual(ignored, want) {
		t.Fatalf("notes %v, want %v", ignored, want)
	}
}

func TestParsePhasesRunInFixedOrder(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "version: 0.2\nphases:\n  post_build:\n    commands: [b]\n  install:\n    commands: [a]\n")
	if s.Phases[0].Name != PhaseInstall || s.Phases[1].Name != PhasePostBuild {
		t.Fatalf("phases %v %v", s.Phases[0].Name, s.Phases[1].Name)
	}
}

// invalidCase is a buildspec Parse must reject; line is the line the
// error must name and want a part of its message.
type invalidCase struct {
	name string
	src  string
	line int
	want string
}

// invalidCases returns the table of invalid buildspecs.
func invalidCases() []invalidCase {
	return []invalidCase{
		{"empty file", "", 1, "the file is empty"},
		{"only a comment", "# nothing\n", 1, "the file is empty"},
		{"not a mapping", "- version: 0.2\n", 1, "must be a mapping"},
		{"tab indentation", "version: 0.2\nphases:\n\tbuild:\n", 3, "indented with a tab"},
		{"bad indentation", "version: 0.2\nphases:\n  build:\n    commands:\n      - a\n     - b\n", 6, "invalid YAML"},
		{"missing version", "phases:\n  build:\n    commands: [make]\n", 1, "version is required"},
		{"version 0.1", "version: 0.1\nphases:\n  build:\n    commands: [make]\n", 1, "version 0.1 is not supported"},
		{"version 0.3", "version: 0.3\nphases:\n  build:\n    commands: [make]\n", 1, `version is "0.3"`},
		{"missing phases", "version: 0.2\nenv:\n  variables:\n    A: b\n", 1, "phases is required"},
		{"empty phases", "version: 0.2\nphases:\n", 2, "phases is empty"},
		{"phases is a list", "version: 0.2\nphases:\n  - build\n", 3, "phases must be a mapping"},
		{"typo in top-level key", "version: 0.2\nphase:\n  build:\n    commands: [make]\n", 2, `did you mean "phases"`},
		{"unknown phase", "version: 0.2\nphases:\n  prebuild:\n    commands: [make]\n", 3, `did you mean "pre_build"`},
		{"phase without commands", "version: 0.2\nphases:\n  install:\n    commands: [a]\n  build:\n    on-failure: ABORT\n", 5, "phases.build has no commands"},
		{"empty commands list", "version: 0.2\nphases:\n  build:\n    commands: []\n", 4, "empty list"},
		{"typo in commands", "version: 0.2\nphases:\n  build:\n    comands:\n      - make\n", 4, `did you mean "commands"`},
		{"command read as mapping", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo ok\n      - echo Result: done\n", 6, "put the whole command in quotes"},
		{"empty command", "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n      -\n", 6, "the command is empty"},
		{"on-failure value", "version: 0.2\nphases:\n  build:\n    on-failure: STOP\n    commands: [make]\n", 4, "use ABORT or CONTINUE"},
		{"on-failure retry", "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-3\n    commands: [make]\n", 4, "RETRY-3 is not supported"},
		{"runtime-versions outside install", "version: 0.2\nphases:\n  build:\n    runtime-versions:\n      go: 1.22\n    commands: [make]\n", 4, "only allowed in the install phase"},
		{"finally without commands", "version: 0.2\nphases:\n  post_build:\n    finally: [cleanup]\n", 3, "phases.post_build has no commands"},
		{"windows shell", "version: 0.2\nenv:\n  shell: powershell.exe\nphases:\n  build:\n    commands: [make]\n", 3, "Windows shell"},
		{"unsupported shell", "version: 0.2\nenv:\n  shell: zsh\nphases:\n  build:\n    commands: [make]\n", 3, `env.shell "zsh" is not supported`},
		{"bad variable name", "version: 0.2\nenv:\n  variables:\n    1FOO: x\nphases:\n  build:\n    commands: [make]\n", 4, "not a valid variable name"},
		{"reserved variable prefix", "version: 0.2\nenv:\n  variables:\n    CODEBUILD_BUILD_ID: x\nphases:\n  build:\n    commands: [make]\n", 4, "reserved"},
		{"variable is a list", "version: 0.2\nenv:\n  variables:\n    A:\n      - x\nphases:\n  build:\n    commands: [make]\n", 5, "env.variables.A must be a single value"},
		{"variable without value", "version: 0.2\nenv:\n  variables:\n    A:\nphases:\n  build:\n    commands: [make]\n", 4, `write "" for an empty value`},
		{"duplicate variable", "version: 0.2\nenv:\n  variables:\n    A: x\n    B: y\n    A: z\nphases:\n  build:\n    commands: [make]\n", 6, "duplicate key \"A\" (first defined on line 4)"},
		{"variable defined twice", "version: 0.2\nenv:\n  variables:\n    PW: x\n  parameter-store:\n    PW: /p\nphases:\n  build:\n    commands: [make]\n", 6, "also defined in env.variables"},
		{"export AWS_ variable", "version: 0.2\nenv:\n  exported-variables:\n    - OK\n    - AWS_REGION\nphases:\n  build:\n    commands: [make]\n", 5, "AWS_"},
		{"export a secret", "version: 0.2\nenv:\n  secrets-manager:\n    TOKEN: ci:token\n  exported-variables:\n    - TOKEN\nphases:\n  build:\n    commands: [make]\n", 6, "do not export secrets"},
		{"secret version-id", "version: 0.2\nenv:\n  secrets-manager:\n    TOKEN: ci:token::v-123\nphases:\n  build:\n    commands: [make]\n", 4, "not versioned"},
		{"incomplete secret ARN", "version: 0.2\nenv:\n  secrets-manager:\n    TOKEN: arn:aws:secretsmanager:us-east-1\nphases:\n  build:\n    commands: [make]\n", 4, "incomplete secret ARN"},
		{"empty parameter name", "version: 0.2\nenv:\n  parameter-store:\n    PW: \"\"\nphases:\n  build:\n    commands: [make]\n", 4, "the parameter name is empty"},
		{"0.1 env key", "version: 0.2\nenvironment_variables:\n  plaintext:\n    A: b\nphases:\n  build:\n    commands: [make]\n", 2, "in version 0.2 it is env"},
		{"batch", "version: 0.2\nbatch:\n  fast-fail: true\nphases:\n  build:\n    commands: [make]\n", 2, "batch builds are not supported"},
		{"report format not parsed", "version: 0.2\nphases:\n  build:\n    commands: [make]\nreports:\n  r:\n    files: ['*.xml']\n    file-format: NUNITXML\n", 8, "cannot read yet"},
		{"report format unknown", "version: 0.2\nphases:\n  build:\n    commands: [make]\nreports:\n  r:\n    files: ['*.xml']\n    file-format: XML\n", 8, "not a report format"},
		{"report group without files", "version: 0.2\nphases:\n  build:\n    commands: [make]\nreports:\n  unit:\n    base-directory: reports\n", 6, "reports.unit.files is required"},
		{"artifacts without files", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  name: out\n", 5, "artifacts.files is required"},
		{"artifact absolute path", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files:\n    - /etc/passwd\n", 7, "absolute path"},
		{"artifact leaves source", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files:\n    - ok/*\n    - ../secrets/*\n", 8, "leaves the source directory"},
		{"base-directory leaves source", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files: ['**/*']\n  base-directory: ../out\n", 7, "leaves the source directory"},
		{"invalid glob", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files:\n    - 'dist/[abc'\n", 7, "invalid glob element"},
		{"discard-paths value", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files: ['*']\n  discard-paths: maybe\n", 7, "use yes or no"},
		{"typo in artifacts key", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files: ['*']\n  exclude_paths: ['*.map']\n", 7, `did you mean "exclude-paths"`},
		{"secondary artifact without files", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files: ['*']\n  secondary-artifacts:\n    docs:\n      name: d\n", 8, "artifacts.secondary-artifacts.docs.files is required"},
		{"secondary artifact id", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  files: ['*']\n  secondary-artifacts:\n    my docs:\n      files: ['*']\n", 8, "not a valid artifact identifier"},
		{"only secondary artifacts", "version: 0.2\nphases:\n  build:\n    commands: [make]\nartifacts:\n  secondary-artifacts:\n    docs:\n      files: ['*']\n", 5, "even when only secondary-artifacts"},
		{"cache unknown key", "version: 0.2\nphases:\n  build:\n    commands: [make]\ncache:\n  path: [x]\n", 6, `did you mean "paths"`},
		{"run-as is a list", "version: 0.2\nrun-as: [a, b]\nphases:\n  build:\n    commands: [make]\n", 2, "run-as must be a single value"},
		{"two documents", "version: 0.2\nphases:\n  build:\n    commands: [make]\n---\nversion: 0.2\n", 5, "more than one YAML document"},
		{"unknown alias", "version: 0.2\nphases:\n  build:\n    commands: [*missing]\n", 4, "invalid YAML"},
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	cases := invalidCases()
	if len(cases) < 25 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(tc.src))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", s)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Line != tc.line {
				t.Errorf("line %d, want %d: %v", pe.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if prefix := "buildspec.yml line "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
		})
	}
}

func TestParseAliasBomb(t *testing.T) {
	t.Parallel()
	// Merge keys nest: each level merges the previous one ten times, so a
	// naive walk would visit 10^9 mappings.
	var b strings.Builder
	b.WriteString("version: 0.2\nenv:\n  variables:\n    <<: [&m0 {A: x}")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, ", &m%d {<<: [", i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*m%d", i-1)
		}
		b.WriteString("]}")
	}
	b.WriteString("]\nphases:\n  build:\n    commands: [make]\n")
	_, err := Parse([]byte(b.String()))
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "YAML nodes") || pe.Line != 4 {
		t.Fatalf("error %v", err)
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	_, err := Parse(make([]byte, maxSpecSize+1))
	if err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("error %v", err)
	}
}
