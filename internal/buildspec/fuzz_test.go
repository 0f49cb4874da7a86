package buildspec

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, every
// error must be a *ParseError with a sane position, and Parse must be
// deterministic.
func FuzzParse(f *testing.F) {
	for _, data := range validFiles(f) {
		f.Add(data)
	}
	for _, tc := range invalidCases() {
		f.Add([]byte(tc.src))
	}
	f.Add([]byte("version: 0.2\nphases:\n  build:\n    commands: [a, *b]\n"))
	f.Add([]byte("version: 0.2\nenv: {variables: {<<: [&a {A: x}, {<<: *a}]}}\nphases: {build: {commands: [x]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s1, err1 := Parse(data)
		s2, err2 := Parse(data)
		if err1 != nil {
			var pe *ParseError
			if !errors.As(err1, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err1, err1)
			}
			if pe.Line < 0 || pe.Msg == "" || s1 != nil {
				t.Fatalf("bad error %+v (spec %v)", pe, s1)
			}
			if err2 == nil || err1.Error() != err2.Error() {
				t.Fatalf("not deterministic: %v then %v", err1, err2)
			}
			return
		}
		if !reflect.DeepEqual(s1, s2) {
			t.Fatal("not deterministic")
		}
		checkSpec(t, s1)
	})
}

// checkSpec checks the invariants of a parsed spec.
func checkSpec(t *testing.T, s *Spec) {
	if s.Version != Version || len(s.Phases) == 0 {
		t.Fatalf("spec %+v", s)
	}
	for _, p := range s.Phases {
		if len(p.Commands) == 0 && (p.Name != PhaseInstall || len(p.RuntimeVersions) == 0) {
			t.Fatalf("phase %s without commands", p.Name)
		}
		for _, c := range append(append([]Command{}, p.Commands...), p.Finally...) {
			if c.Text == "" {
				t.Fatalf("empty command in %s", p.Name)
			}
		}
	}
	if a := s.Artifacts; a != nil && len(a.Files) == 0 {
		t.Fatal("artifacts without files")
	}
	for _, g := range s.Reports {
		if len(g.Files) == 0 || (g.Format != FormatJUnitXML && g.Format != FormatCucumberJSON) {
			t.Fatalf("report group %+v", g)
		}
	}
}
