package appspec_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// TestFind checks which file Find picks, as the agent does with the
// default AppSpecFilename: appspec.yml, then appspec.yaml.
func TestFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files []string
		dirs  []string
		want  string
	}{
		{"yml only", []string{"appspec.yml"}, nil, "appspec.yml"},
		{"yaml only", []string{"appspec.yaml"}, nil, "appspec.yaml"},
		{"both: yml wins", []string{"appspec.yaml", "appspec.yml"}, nil, "appspec.yml"},
		{"yml is a directory", []string{"appspec.yaml"}, []string{"appspec.yml"}, "appspec.yaml"},
		{"only in a subdirectory", []string{"app/appspec.yml"}, []string{"app"}, ""},
		{"other case", []string{"AppSpec.yml"}, nil, ""},
		{"empty bundle", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("version: 0.0\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := appspec.Find(dir)
			if tc.want == "" {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("Find = %q, %v; want fs.ErrNotExist", got, err)
				}
				return
			}
			if err != nil || got != filepath.Join(dir, tc.want) {
				t.Fatalf("Find = %q, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestFindSymlink checks that Find refuses a symbolic link, which could
// point outside the bundle.
func TestFindSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "appspec.yml")); err != nil {
		t.Skip(err)
	}
	if got, err := appspec.Find(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Find = %q, %v; want a symlink error", got, err)
	}
}
