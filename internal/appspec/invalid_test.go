package appspec_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// invalidCase is an AppSpec file Parse must reject, the line the error
// must name, and text the message must contain (the field and the fix).
type invalidCase struct {
	name string
	yaml string
	line int
	want []string
}

// doc joins lines into a file.
func doc(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// linux prefixes lines with the two header lines, so the first of lines is
// line 3.
func linux(lines ...string) string {
	return doc(append([]string{"version: 0.0", "os: linux"}, lines...)...)
}

// invalidCases returns the table of invalid AppSpec files.
func invalidCases() []invalidCase {
	return []invalidCase{
		// The file as a whole.
		{"empty file", "", 0, []string{"empty", "version: 0.0"}},
		{"comment only", "# nothing here\n", 0, []string{"empty"}},
		{"not YAML: HTML", "<html>\n<body>oops</body>\n</html>\n", 1, []string{"YAML mapping", "AppSpec file"}},
		{"not YAML: a list", doc("- version: 0.0", "- os: linux"), 1, []string{"YAML mapping", "a list"}},
		{"YAML syntax error", linux("files: [", "  {source: /"), 4, []string{"not valid YAML"}},
		{"misaligned key", linux("files:", "  - source: a", "   destination: /b"), 5, []string{"not valid YAML", "indentation"}},
		{"missing space after colon", linux("hooks:", "  AfterInstall:", "    - location:a.sh", "      timeout: 30"), 6, []string{"not valid YAML"}},
		{"tab indentation", linux("hooks:", "\tBeforeInstall:", "\t  - location: a.sh"), 4, []string{"tab", "spaces"}},
		{"two documents", linux("---", "version: 0.0"), 3, []string{"more than one YAML document"}},
		{"control characters", "version: 0.0\x00\n", 0, []string{"not valid YAML"}},
		// version and os.
		{"missing version", doc("os: linux", "hooks:"), 1, []string{"version is missing", "version: 0.0"}},
		{"version quoted", doc(`version: "0.0"`, "os: linux"), 1, []string{"quoted", "without quotes"}},
		{"version 1.0", doc("version: 1.0", "os: linux"), 1, []string{"version \"1.0\"", "0.0"}},
		{"version empty", doc("version:", "os: linux"), 1, []string{"version is empty"}},
		{"version list", doc("version: [0.0]", "os: linux"), 1, []string{"version must be a single value"}},
		{"missing os", doc("version: 0.0", "files:"), 1, []string{"os is missing", "os: linux"}},
		{"os capitalised", doc("version: 0.0", "os: Linux"), 2, []string{"lower case", "os: linux"}},
		{"os unsupported", doc("version: 0.0", "os: ubuntu"), 2, []string{"os \"ubuntu\"", "linux or windows"}},
		// Top-level keys.
		{"misspelt top-level key", linux("hook:", "  BeforeInstall:", "    - location: a.sh"), 3, []string{"unknown top-level key hook", "hooks"}},
		{"ECS resources key", linux("resources:", "  - myService: {}"), 3, []string{"resources", "ECS and Lambda"}},
		{"event at top level", linux("AfterInstall:", "  - location: a.sh"), 3, []string{"AfterInstall", "under hooks"}},
		{"unknown top-level key", linux("deploy: yes"), 3, []string{"unknown top-level key deploy", "only version"}},
		{"duplicate top-level key", linux("version: 0.0"), 3, []string{"duplicate key version", "first on line 1"}},
		{"merge key", linux("<<: {files: []}"), 3, []string{"merge keys"}},
		// files.
		{"files not a list", linux("files:", "  source: /", "  destination: /opt/app"), 4, []string{"files must be a list", "- source:"}},
		{"files entry not a mapping", linux("files:", "  - /app"), 4, []string{"files entry must be a mapping"}},
		{"missing source", linux("files:", "  - destination: /opt/app"), 4, []string{"no source"}},
		{"missing destination", linux("files:", "  - source: app"), 4, []string{"no destination", "absolute"}},
		{"relative destination", linux("files:", "  - source: app", "    destination: opt/app"), 5, []string{"destination \"opt/app\"", "not an absolute path", "/var/www/html"}},
		{"windows destination on windows", doc("version: 0.0", "os: windows", "files:", "  - source: app", `    destination: temp\app`), 5, []string{"not an absolute path", `c:\inetpub`}},
		{"source escapes the bundle", linux("files:", "  - source: app/../../etc", "    destination: /opt/app"), 4, []string{"source \"app/../../etc\"", "outside the bundle"}},
		{"windows source with drive", doc("version: 0.0", "os: windows", "files:", `  - source: c:\app`, `    destination: c:\app`), 4, []string{"absolute Windows path"}},
		{"file_exists_behavior in a files entry", linux("files:", "  - source: /", "    destination: /opt/app", "    file_exists_behavior: OVERWRITE"), 6, []string{"belongs at the top level"}},
		{"file_exists_behavior invalid", linux("file_exists_behavior: MERGE"), 3, []string{"file_exists_behavior \"MERGE\"", "DISALLOW", "RETAIN"}},
		{"file_exists_behavior lower case", linux("file_exists_behavior: overwrite"), 3, []string{"capitals", "OVERWRITE"}},
		{"misspelt files key", linux("files:", "  - source: /", "    destinaton: /opt/app"), 5, []string{"did you mean destination"}},
		// hooks.
		{"hooks is a list", linux("hooks:", "  - location: a.sh"), 4, []string{"hooks must be a mapping"}},
		{"event is a mapping", linux("hooks:", "  BeforeInstall:", "    location: a.sh"), 5, []string{"hooks.BeforeInstall must be a list", "\"- \""}},
		{"event is a string", linux("hooks:", "  BeforeInstall: scripts/a.sh"), 4, []string{"hooks.BeforeInstall must be a list"}},
		{"event is empty", linux("hooks:", "  BeforeInstall:", "  AfterInstall:", "    - location: a.sh"), 4, []string{"hooks.BeforeInstall has no scripts"}},
		{"duplicate event", linux("hooks:", "  BeforeInstall:", "    - location: a.sh", "  AfterInstall:", "    - location: b.sh", "  BeforeInstall:", "    - location: c.sh"), 8, []string{"duplicate key BeforeInstall", "first on line 4"}},
		{"reserved event Install", linux("hooks:", "  Install:", "    - location: a.sh"), 4, []string{"Install is reserved", "BeforeInstall"}},
		{"reserved event DownloadBundle", linux("hooks:", "  DownloadBundle:", "    - location: a.sh"), 4, []string{"DownloadBundle is reserved"}},
		{"misspelt event", linux("hooks:", "  BeforeInstal:", "    - location: a.sh"), 4, []string{"unknown lifecycle event BeforeInstal", "did you mean BeforeInstall"}},
		{"lower-case event", linux("hooks:", "  afterinstall:", "    - location: a.sh"), 4, []string{"did you mean AfterInstall", "case-sensitive"}},
		{"ECS event", linux("hooks:", "  AfterAllowTestTraffic:", "    - location: a.sh"), 4, []string{"ECS lifecycle event"}},
		{"unknown event", linux("hooks:", "  Deploy:", "    - location: a.sh"), 4, []string{"unknown lifecycle event Deploy", "ValidateService"}},
		{"script without location", linux("hooks:", "  AfterInstall:", "    - timeout: 30"), 5, []string{"hooks.AfterInstall", "no location"}},
		{"blank location", linux("hooks:", "  AfterInstall:", `    - location: "  "`), 5, []string{"location is blank"}},
		{"location escapes the bundle", linux("hooks:", "  AfterInstall:", "    - location: ../../etc/cron.sh"), 5, []string{"location \"../../etc/cron.sh\"", "outside the bundle"}},
		{"location is the bundle root", linux("hooks:", "  AfterInstall:", "    - location: /"), 5, []string{"bundle root, not a script"}},
		{"null script entry", linux("hooks:", "  AfterInstall:", "    -", "    - location: a.sh"), 5, []string{"must be a mapping"}},
		{"timeout not a number", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: abc"), 6, []string{"timeout \"abc\"", "whole number", "timeout: 300"}},
		{"timeout with unit", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 30s"), 6, []string{"timeout \"30s\"", "whole number"}},
		{"timeout fraction", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 1.5"), 6, []string{"whole number"}},
		{"timeout too long", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 3601"), 6, []string{"timeout \"3601\"", "more than 3600"}},
		{"timeout huge", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 99999999999999999999999"), 6, []string{"more than 3600"}},
		{"timeout zero", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 0"), 6, []string{"more than 0"}},
		{"timeout negative", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: -5"), 6, []string{"whole number"}},
		{"timeout octal-looking", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 0300"), 6, []string{"leading zero"}},
		{"timeout list", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: [30]"), 6, []string{"timeout must be a single value"}},
		{"runAs misspelt", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      runAs: root"), 6, []string{"unknown key runAs", "did you mean runas"}},
		{"timout misspelt", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timout: 30"), 6, []string{"did you mean timeout"}},
		{"runas injection", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      runas: root; rm -rf /"), 6, []string{"runas", "plain account name"}},
		{"runas blank", linux("hooks:", "  AfterInstall:", "    - location: a.sh", `      runas: ""`), 6, []string{"runas", "blank"}},
		{"sudo not a bool", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      sudo: maybe"), 6, []string{"sudo \"maybe\""}},
		{"duplicate script key", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      location: b.sh"), 6, []string{"duplicate key location", "first on line 5"}},
		{"alias", linux("hooks:", "  BeforeInstall: &s", "    - location: a.sh", "  AfterInstall: *s"), 6, []string{"alias", "write the value out"}},
		// permissions.
		{"permissions on windows", doc("version: 0.0", "os: windows", "permissions:", "  - object: /opt/app"), 3, []string{"only on Linux"}},
		{"permission without object", linux("permissions:", "  - pattern: \"*.txt\""), 4, []string{"no object"}},
		{"relative object", linux("permissions:", "  - object: opt/app"), 4, []string{"object \"opt/app\"", "absolute"}},
		{"type not a list", linux("permissions:", "  - object: /opt/app", "    type: file"), 5, []string{"type must be a list", "type: [file]"}},
		{"type unsupported", linux("permissions:", "  - object: /opt/app", "    type:", "      - socket"), 6, []string{"type \"socket\"", "file or directory"}},
		{"type empty list", linux("permissions:", "  - object: /opt/app", "    type: []"), 5, []string{"empty list"}},
		{"except not a list", linux("permissions:", "  - object: /opt/app", "    except: a.txt"), 5, []string{"except must be a list"}},
		{"mode not octal", linux("permissions:", "  - object: /opt/app", "    mode: 789"), 5, []string{"mode \"789\"", "not an octal digit"}},
		{"mode unquoted leading zero", linux("permissions:", "  - object: /opt/app", "    mode: 0644"), 5, []string{"starts with a zero", `"0644"`, "mode: 644"}},
		{"mode symbolic", linux("permissions:", "  - object: /opt/app", "    mode: u+x"), 5, []string{"symbolic modes"}},
		{"mode too long", linux("permissions:", "  - object: /opt/app", "    mode: 12345"), 5, []string{"more than four digits"}},
		{"mode empty string", linux("permissions:", "  - object: /opt/app", `    mode: ""`), 5, []string{"mode is empty"}},
		{"owner with a space", linux("permissions:", "  - object: /opt/app", "    owner: ec2 user"), 5, []string{"owner \"ec2 user\"", "plain account name"}},
		{"acl for the unnamed owner", linux("permissions:", "  - object: /opt/app", "    acls:", "      - u:bob:rw", "      - u::rw"), 7, []string{"u::rw", "use mode"}},
		{"acl bad permission", linux("permissions:", "  - object: /opt/app", "    acls:", "      - u:bob:rwz"), 6, []string{"permission character 'z'"}},
		{"acl bad kind", linux("permissions:", "  - object: /opt/app", "    acls:", "      - q:bob:rw"), 6, []string{"kind \"q\""}},
		{"acls not a list", linux("permissions:", "  - object: /opt/app", "    acls: u:bob:rw"), 5, []string{"acls must be a list"}},
		{"context without type", linux("permissions:", "  - object: /opt/app", "    context:", "      user: unconfined_u"), 6, []string{"context has no type"}},
		{"context range reversed", linux("permissions:", "  - object: /opt/app", "    context:", "      type: t", "      range: s1-s0"), 7, []string{"range \"s1-s0\"", "high level below"}},
		{"context range category", linux("permissions:", "  - object: /opt/app", "    context:", "      type: t", "      range: s0:c1024"), 7, []string{"c0 to c1023"}},
		{"context user and name", linux("permissions:", "  - object: /opt/app", "    context:", "      user: u", "      name: u", "      type: t"), 7, []string{"both user and name"}},
		{"misspelt permission key", linux("permissions:", "  - object: /opt/app", "    onwer: bob"), 5, []string{"did you mean owner"}},
		{"acl instead of acls", linux("permissions:", "  - object: /opt/app", "    acl: [\"u:bob:rw\"]"), 5, []string{"did you mean acls"}},
		{"Hooks capitalised", linux("Hooks:", "  AfterInstall:", "    - location: a.sh"), 3, []string{"did you mean hooks"}},
	}
}

// TestInvalid checks that each invalid file fails with a *ParseError on
// the expected line, with a message that names the field and the fix.
func TestInvalid(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for _, tc := range invalidCases() {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec, err := appspec.Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", spec)
			}
			var pe *appspec.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			if pe.Line != tc.line {
				t.Errorf("Line = %d, want %d: %v", pe.Line, tc.line, err)
			}
			prefix := fmt.Sprintf("appspec.yml line %d: ", tc.line)
			if tc.line == 0 {
				prefix = "appspec.yml: "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if pe.Code() != appspec.DiagnosticUnknownError {
				t.Errorf("Code() = %d", pe.Code())
			}
		})
	}
	if len(seen) < 25 {
		t.Errorf("only %d invalid cases", len(seen))
	}
}

// TestTooLarge checks the size limit.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	data := []byte(linux("# " + strings.Repeat("x", appspec.MaxSize)))
	_, err := appspec.Parse(data)
	var pe *appspec.ParseError
	if !errors.As(err, &pe) || pe.Line != 0 || !strings.Contains(err.Error(), "at most") {
		t.Errorf("Parse = %v", err)
	}
}
