package buildspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"**/*", "a", true},
		{"**/*", "a/b/c.txt", true},
		{"**/*", ".hidden/.x", true},
		{"*", "a/b", false},
		{"*.xml", "report.xml", true},
		{"*.xml", "sub/report.xml", false},
		{"**/*.xml", "report.xml", true},
		{"**/*.xml", "a/b/report.xml", true},
		{"reports/**/*", "reports/a/b.xml", true},
		{"reports/**/*", "other/a.xml", false},
		{"a/**/b/*.txt", "a/b/x.txt", true},
		{"a/**/b/*.txt", "a/x/y/b/x.txt", true},
		{"a/**/b/*.txt", "a/x/y/c/x.txt", false},
		{"a/**/**/b", "a/b", true},
		{"target/app-?.jar", "target/app-1.jar", true},
		{"target/app-[0-9].jar", "target/app-x.jar", false},
		{"dist/*", "dist/sub/file", false},
		{"**", "anything/at/all", true},
	}
	for _, tc := range cases {
		if got := matchGlob(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestMatchFileSelectsDirectories(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, rel string
		want         bool
	}{
		{"dist", "dist/a/b.js", true},
		{"dist/", "dist/a.js", true},
		{"dist*/", "dist-web/a.js", true},
		{"dist*", "dist-web/a.js", false},
		{"dist", "distribution/a.js", false},
		{"docs/site", "docs/site/index.html", true},
	}
	for _, tc := range cases {
		if got := matchFile(tc.pattern, tc.rel); got != tc.want {
			t.Errorf("matchFile(%q, %q) = %v, want %v", tc.pattern, tc.rel, got, tc.want)
		}
	}
}

// writeTree creates files (path -> content) below dir.
func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResolveArtifact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, "my-build1/my-file1.txt", "my-build2/my-file2.txt", "my-build2/my-subdirectory/my-file3.txt", "other/x.txt")
	cases := []struct {
		name  string
		spec  ArtifactSpec
		want  string
		warns int
	}{
		// The two examples of the CodeBuild reference, artifacts/base-directory.
		{"reference example 1", ArtifactSpec{Files: []string{"*/my-file3.txt"}, BaseDirectory: "my-build2"},
			"my-build2/my-subdirectory/my-file3.txt>my-subdirectory/my-file3.txt", 0},
		{"reference example 2", ArtifactSpec{Files: []string{"**/*"}, BaseDirectory: "my-build*", DiscardPaths: true},
			"my-build1/my-file1.txt>my-file1.txt my-build2/my-file2.txt>my-file2.txt my-build2/my-subdirectory/my-file3.txt>my-file3.txt", 0},
		{"exclude directory", ArtifactSpec{Files: []string{"**/*"}, ExcludePaths: []string{"my-build2/my-subdirectory", "other/*"}},
			"my-build1/my-file1.txt>my-build1/my-file1.txt my-build2/my-file2.txt>my-build2/my-file2.txt", 0},
		{"unmatched pattern warns", ArtifactSpec{Files: []string{"other/x.txt", "nope/*"}},
			"other/x.txt>other/x.txt", 1},
		{"discard-paths collision", ArtifactSpec{Files: []string{"my-build1/my-file1.txt", "my-build2/**/*"}, DiscardPaths: true},
			"my-build1/my-file1.txt>my-file1.txt my-build2/my-file2.txt>my-file2.txt my-build2/my-subdirectory/my-file3.txt>my-file3.txt", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, warns, err := resolveArtifact(dir, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Source+">"+f.Dest)
			}
			if strings.Join(got, " ") != tc.want || len(warns) != tc.warns {
				t.Fatalf("files %v warnings %v\nwant %s", got, warns, tc.want)
			}
		})
	}
}

func TestResolveArtifactErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, "a/x.txt", "a/y.txt")
	if _, _, err := resolveArtifact(dir, ArtifactSpec{Files: []string{"*.jar"}}); err == nil || err.Error() != noArtifactFiles {
		t.Fatalf("error %v", err)
	}
	if _, _, err := resolveArtifact(dir, ArtifactSpec{Files: []string{"**/*"}, BaseDirectory: "missing"}); err == nil || !strings.Contains(err.Error(), "no matching base directory path found for missing") {
		t.Fatalf("error %v", err)
	}
	if _, _, err := resolveArtifact(dir, ArtifactSpec{Files: []string{"**/*"}, BaseDirectory: "a/x.txt"}); err == nil {
		t.Fatal("a file accepted as base directory")
	}
	files, warns, err := resolveArtifact(dir, ArtifactSpec{Files: []string{"a/x.txt", "a/y.txt"}, DiscardPaths: true, BaseDirectory: ""})
	if err != nil || len(files) != 2 || len(warns) != 0 {
		t.Fatalf("files %v warnings %v error %v", files, warns, err)
	}
	writeTree(t, dir, "b/x.txt")
	_, warns, err = resolveArtifact(dir, ArtifactSpec{Files: []string{"**/x.txt"}, DiscardPaths: true})
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "already in the artifact") {
		t.Fatalf("warnings %v error %v", warns, err)
	}
}
