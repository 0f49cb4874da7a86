package artifact

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// makeTree builds a directory tree with the file kinds and modes an
// artifact has.
func makeTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, body string, mode fs.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	link := func(rel, target string) {
		if err := os.Symlink(target, filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		}
	}
	write("appspec.yml", "version: 0.0\nos: linux\n", 0o644)
	write("scripts/start.sh", "#!/bin/sh\necho start\n", 0o755)
	write("scripts/private.key", "secret", 0o600)
	write("releases/v1/app.bin", strings.Repeat("binary", 1000), 0o750)
	write("releases/v1/readonly.txt", "ro", 0o444)
	write("a-b", "sorts between a/ and a0", 0o644)
	write("a/z", "nested", 0o644)
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	link("current", "releases/v1")                 // a directory symlink
	link("scripts/run", "start.sh")                // same directory
	link("releases/v1/start", "../../scripts/run") // a chain, inside
	link("dangling", "not/there/yet")              // dangling, inside
	return dir
}

func TestZipExtractRoundTrip(t *testing.T) {
	t.Parallel()
	src := makeTree(t)
	var buf bytes.Buffer
	if err := Zip(src, &buf); err != nil {
		t.Fatal(err)
	}
	sb := newSandbox(t)
	if err := extractZip(buf.Bytes(), sb.dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	sb.checkContained(t)
	want, got := listTree(t, src), listTree(t, sb.dest)
	if !slices.Equal(got, want) {
		t.Errorf("extracted tree differs from the source\n got: %q\nwant: %q", got, want)
	}
	for _, line := range []string{"scripts/start.sh -rwxr-xr-x", "scripts/private.key -rw-------", "empty drwx------", "current Lrwxrwxrwx -> releases/v1"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, line) }) {
			t.Errorf("extracted tree lacks %q:\n%s", line, strings.Join(got, "\n"))
		}
	}
	// The symlinks work.
	if b, err := os.ReadFile(filepath.Join(sb.dest, "releases/v1/start")); err != nil || !strings.Contains(string(b), "echo start") {
		t.Errorf("releases/v1/start reads %q, %v", b, err)
	}

	// Zipping the extracted tree gives back the same bytes.
	var again bytes.Buffer
	if err := Zip(sb.dest, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("Zip of the extracted tree differs from the original zip (%d vs %d bytes)", again.Len(), buf.Len())
	}
}

func TestZipDeterministic(t *testing.T) {
	t.Parallel()
	src := makeTree(t)
	var a, b bytes.Buffer
	if err := Zip(src, &a); err != nil {
		t.Fatal(err)
	}
	// New timestamps change nothing.
	later := time.Now().Add(48 * time.Hour)
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			_ = os.Chtimes(p, later, later)
		}
		return nil
	})
	if err := Zip(src, &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two Zips of the same tree differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(ZipTime) {
			t.Errorf("%s: Modified %v, want %v", f.Name, f.Modified, ZipTime)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
	want := []string{"a-b", "a/", "a/z", "appspec.yml", "current", "dangling", "empty/", "releases/", "releases/v1/",
		"releases/v1/app.bin", "releases/v1/readonly.txt", "releases/v1/start", "scripts/", "scripts/private.key", "scripts/run", "scripts/start.sh"}
	if !slices.Equal(names, want) {
		t.Errorf("entries = %q\nwant %q", names, want)
	}
}

func TestZipRefusesLinksOutside(t *testing.T) {
	t.Parallel()
	for name, target := range map[string]string{
		"absolute":  "/etc/passwd",
		"up":        "../outside",
		"deep up":   "a/../../outside",
		"via chain": "inner/up/..", // inner/up -> .. (the tree root), then .. leaves it
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "inner"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("..", filepath.Join(dir, "inner", "up")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err := Zip(dir, &buf)
			wantEntryErr(t, err, ErrUnsafePath, "link", target)
		})
	}
}

// setuid, setgid and sticky bits are not archived.
func TestZipDropsSpecialBits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "tool")
	if err := os.WriteFile(p, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755|fs.ModeSetuid|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Zip(dir, &buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if m := zr.File[0].Mode(); m != 0o755 {
		t.Errorf("archived mode %v, want -rwxr-xr-x", m)
	}
}
