package artifact

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// zent is one hand-made zip entry.
type zent struct {
	name string
	mode fs.FileMode // type and permission bits; 0 records no Unix mode (FAT)
	body string      // content, or a symlink's target
	// declared, when non-zero, is the uncompressed size written in the
	// headers instead of the real one (the entry is then stored raw).
	declared uint64
	deflate  bool
}

// makeZip builds a zip archive of entries, exactly as given.
func makeZip(t testing.TB, entries ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Store}
		if e.mode != 0 {
			hdr.SetMode(e.mode)
		}
		if e.deflate {
			hdr.Method = zip.Deflate
		}
		if e.declared != 0 {
			hdr.CRC32 = crc32.ChecksumIEEE([]byte(e.body))
			hdr.CompressedSize64 = uint64(len(e.body))
			hdr.UncompressedSize64 = e.declared
			w, err := zw.CreateRaw(hdr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tent is one hand-made tar entry.
type tent struct {
	name     string
	typeflag byte // tar.TypeReg when zero
	mode     int64
	body     string
	link     string // symlink target or hard link name
	size     int64  // declared size when non-zero (body is then written as is)
}

// makeTar builds a tar archive of entries, gzip-compressed if gz.
func makeTar(t testing.TB, gz bool, entries ...tent) []byte {
	t.Helper()
	var buf bytes.Buffer
	var out = &buf
	var zw *gzip.Writer
	var tw *tar.Writer
	if gz {
		zw = gzip.NewWriter(out)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(out)
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: e.mode, Linkname: e.link, Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
			if e.size != 0 {
				hdr.Size = e.size
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.body != "" {
			if _, err := tw.Write([]byte(e.body)); err != nil && e.size == 0 {
				t.Fatal(err)
			}
		}
	}
	// A declared size larger than the body leaves the archive truncated,
	// as an attacker's would be: Close then complains, and is ignored.
	truncated := slices.ContainsFunc(entries, func(e tent) bool { return e.size != 0 })
	if err := tw.Close(); err != nil && !truncated {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// sandbox is a parent directory holding the extraction destination and
// nothing else (but "outside", a directory that symlinks in attacks point
// at), so that anything written outside the destination shows.
type sandbox struct {
	parent, dest, outside string
}

func newSandbox(t testing.TB) sandbox {
	t.Helper()
	parent := t.TempDir()
	s := sandbox{parent: parent, dest: filepath.Join(parent, "dest"), outside: filepath.Join(parent, "outside")}
	if err := os.Mkdir(s.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkContained fails t if anything but dest and an empty outside is in
// the parent directory, or if a symlink in dest leads out of it.
func (s sandbox) checkContained(t testing.TB) {
	t.Helper()
	ents, err := os.ReadDir(s.parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "dest" && e.Name() != "outside" {
			t.Errorf("extraction wrote %q outside the destination", filepath.Join(s.parent, e.Name()))
		}
	}
	if out, _ := os.ReadDir(s.outside); len(out) != 0 {
		t.Errorf("extraction wrote into %s through a symlink: %v", s.outside, out)
	}
	checkLinksInside(t, s.dest)
}

// checkLinksInside fails t if a symlink below dest resolves outside it,
// judged independently of the code under test: by the OS where the link
// resolves, lexically where it dangles.
func checkLinksInside(t testing.TB, dest string) {
	t.Helper()
	realDest, err := filepath.EvalSymlinks(dest)
	if err != nil {
		return // nothing extracted
	}
	_ = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			t.Errorf("readlink %s: %v", p, err)
			return nil
		}
		if filepath.IsAbs(target) {
			t.Errorf("symlink %s has the absolute target %q", p, target)
			return nil
		}
		resolved, err := filepath.EvalSymlinks(p)
		if err != nil {
			resolved = filepath.Join(filepath.Dir(p), target)
			if rd, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
				resolved = filepath.Join(rd, target)
			}
		}
		if resolved != realDest && !strings.HasPrefix(resolved, realDest+string(filepath.Separator)) {
			t.Errorf("symlink %s -> %q resolves to %s, outside %s", p, target, resolved, realDest)
		}
		return nil
	})
}

// wantEntryErr checks that err is an *EntryError for entry that wraps kind
// and whose message contains every one of details.
func wantEntryErr(t testing.TB, err error, kind error, entry string, details ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v for entry %q", kind, entry)
	}
	var ee *EntryError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T) is not an *EntryError", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q does not wrap %q", err, kind)
	}
	if ee.Entry != entry {
		t.Errorf("error %q names entry %q, want %q", err, ee.Entry, entry)
	}
	for _, d := range details {
		if !strings.Contains(err.Error(), d) {
			t.Errorf("error %q does not say %q", err, d)
		}
	}
}

// listTree describes every path below dir: type, permission bits, and
// content or link target.
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := filepath.ToSlash(rel) + " " + fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + sha256Hex(b)[:12]
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
