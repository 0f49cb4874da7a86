package appspec_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// FuzzParse feeds arbitrary bytes to Parse. It must not panic, must return
// either a valid spec or a *ParseError whose line is inside the file, and
// must be deterministic. Seeds: every testdata sample and every invalid
// case.
func FuzzParse(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		f.Add(readSample(f, filepath.Base(name)))
	}
	for _, tc := range invalidCases() {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := appspec.Parse(data)
		again, err2 := appspec.Parse(data)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Parse is not deterministic: %v then %v", err, err2)
		}
		if err != nil {
			checkError(t, data, err)
			return
		}
		if len(again.Warnings) != len(spec.Warnings) {
			t.Fatalf("warnings differ between runs")
		}
		checkSpec(t, spec)
	})
}

// checkError checks an error from Parse.
func checkError(t *testing.T, data []byte, err error) {
	t.Helper()
	var pe *appspec.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not a *ParseError: %v", err, err)
	}
	lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 2
	if pe.Line < 0 || pe.Line > lines || pe.Msg == "" {
		t.Fatalf("bad error (line %d of %d): %v", pe.Line, lines, err)
	}
}

// checkSpec checks the invariants of a parsed spec.
func checkSpec(t *testing.T, spec *appspec.Spec) {
	t.Helper()
	if spec.Version != appspec.SupportedVersion || (spec.OS != appspec.OSLinux && spec.OS != appspec.OSWindows) {
		t.Fatalf("bad header: %+v", spec)
	}
	for _, f := range spec.Files {
		if escapes(f.BundlePath) || f.Destination == "" {
			t.Fatalf("bad files entry: %+v", f)
		}
	}
	for e, scripts := range spec.Hooks {
		if !e.Scriptable() {
			t.Fatalf("hooks has %q", e)
		}
		for _, s := range scripts {
			if s.Timeout <= 0 || s.Timeout > time.Hour || s.Location == "" || escapes(s.BundlePath) || s.BundlePath == "." {
				t.Fatalf("bad script: %+v", s)
			}
		}
	}
	for _, p := range spec.Permissions {
		if !strings.HasPrefix(p.Object, "/") || len(p.Types) == 0 || (p.Mode != nil && p.Mode.Bits > 0o7777) {
			t.Fatalf("bad permission: %+v", p)
		}
	}
}

// escapes reports whether a bundle path leaves the bundle.
func escapes(p string) bool {
	return p == "" || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/")
}
