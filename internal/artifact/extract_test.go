package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func extractZip(data []byte, dest string, lim Limits) error {
	return Extract(bytes.NewReader(data), int64(len(data)), dest, lim)
}

// TestExtractZipRefuses runs hand-made malicious zips. Each must fail with
// the right kind of *EntryError naming the entry, and leave nothing outside
// the destination (and, since a zip's table of contents is checked first,
// usually nothing at all).
func TestExtractZipRefuses(t *testing.T) {
	t.Parallel()
	type tc struct {
		entries []zent
		lim     Limits
		kind    error
		entry   string
		details []string
		// partial: the refusal comes after other entries were written.
		partial bool
	}
	file := func(name string) zent { return zent{name: name, mode: 0o644, body: "payload"} }
	link := func(name, target string) zent { return zent{name: name, mode: fs.ModeSymlink | 0o777, body: target} }
	cases := map[string]tc{
		"zip-slip":                {entries: []zent{file("ok.txt"), file("../evil.txt")}, kind: ErrUnsafePath, entry: "../evil.txt", details: []string{`".." path segment`}},
		"zip-slip deep":           {entries: []zent{file("a/b/../../../evil.txt")}, kind: ErrUnsafePath, entry: "a/b/../../../evil.txt", details: []string{`".."`}},
		"dot-dot inside":          {entries: []zent{file("a/../b.txt")}, kind: ErrUnsafePath, entry: "a/../b.txt"},
		"absolute path":           {entries: []zent{file("/tmp/evil.txt")}, kind: ErrUnsafePath, entry: "/tmp/evil.txt", details: []string{"absolute path"}},
		"windows drive letter":    {entries: []zent{file("C:/Windows/evil.txt")}, kind: ErrUnsafePath, entry: "C:/Windows/evil.txt", details: []string{"drive letter"}},
		"windows drive backslash": {entries: []zent{file(`C:\evil.txt`)}, kind: ErrUnsafePath, entry: `C:\evil.txt`, details: []string{"backslash"}},
		"backslash slip":          {entries: []zent{file(`..\..\evil.txt`)}, kind: ErrUnsafePath, entry: `..\..\evil.txt`, details: []string{"backslash"}},
		"NUL in name":             {entries: []zent{file("a\x00b")}, kind: ErrUnsafePath, entry: "a\x00b", details: []string{"NUL"}},
		"symlink to /etc":         {entries: []zent{link("etc", "/etc")}, kind: ErrUnsafePath, entry: "etc", details: []string{`absolute symlink target "/etc"`}},
		"symlink up and out":      {entries: []zent{link("sub/up", "../../outside")}, kind: ErrUnsafePath, entry: "sub/up", details: []string{`"../../outside"`, "resolves outside"}},
		"write through symlink": {
			entries: []zent{link("dir", "inner"), file("dir/file.txt")},
			kind:    ErrUnsafePath, entry: "dir/file.txt", details: []string{`parent "dir" is a symlink`},
		},
		"write through symlink to /etc": {
			entries: []zent{link("etc", "../outside"), file("etc/passwd")},
			kind:    ErrUnsafePath, entry: "etc", details: []string{"resolves outside"},
		},
		// x/y/s -> ../../z stays inside (it is z), and t -> x/y/s/../..
		// looks like x; but through s, t is z/../.. = one level above
		// the destination.
		"symlink chain escaping": {
			entries: []zent{link("t", "x/y/s/../.."), link("x/y/s", "../../z"), file("z/f")},
			kind:    ErrUnsafePath, entry: "t", details: []string{"resolves outside", "created later"}, partial: true,
		},
		"symlink through symlink": {
			entries: []zent{link("a", "b/c"), link("b", "."), link("b/c", "d")},
			kind:    ErrUnsafePath, entry: "b/c", details: []string{`parent "b" is a symlink`},
		},
		"symlink loop to outside": {
			entries: []zent{link("l1", "l2/../.."), link("l2", "l1")},
			kind:    ErrUnsafePath, entry: "l1", partial: true,
		},
		"device file": {entries: []zent{{name: "dev/sda", mode: fs.ModeDevice | 0o600}}, kind: ErrUnsupportedEntry, entry: "dev/sda", details: []string{"device file"}},
		"char device": {entries: []zent{{name: "null", mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}}, kind: ErrUnsupportedEntry, entry: "null", details: []string{"device file"}},
		"fifo":        {entries: []zent{{name: "pipe", mode: fs.ModeNamedPipe | 0o600}}, kind: ErrUnsupportedEntry, entry: "pipe", details: []string{"FIFO"}},
		"socket":      {entries: []zent{{name: "sock", mode: fs.ModeSocket | 0o600}}, kind: ErrUnsupportedEntry, entry: "sock", details: []string{"socket"}},
		"duplicate file": {
			entries: []zent{file("a.txt"), file("a.txt")},
			kind:    ErrDuplicateEntry, entry: "a.txt", partial: true,
		},
		"file then dir": {
			entries: []zent{file("x"), file("x/y")},
			kind:    ErrUnsafePath, entry: "x/y", details: []string{`parent "x" is a file`}, partial: true,
		},
		"huge declared size": {
			entries: []zent{{name: "bomb.bin", mode: 0o644, body: "tiny", declared: 1 << 40}},
			kind:    ErrLimit, entry: "bomb.bin", details: []string{"declared size of 1099511627776 bytes", "per-file limit"},
		},
		"declared sizes add up": {
			entries: []zent{{name: "a", mode: 0o644, body: "a", declared: 600}, {name: "b", mode: 0o644, body: "b", declared: 600}},
			lim:     Limits{MaxBytes: 1000}, kind: ErrLimit, entry: "b", details: []string{"total limit of 1000 bytes"},
		},
		"too many files": {
			entries: func() []zent {
				var es []zent
				for i := range 11 {
					es = append(es, file(strings.Repeat("f", i+1)))
				}
				return es
			}(),
			lim: Limits{MaxFiles: 10}, kind: ErrLimit, entry: "fffffffffff", details: []string{"11 entries", "limit of 10"},
		},
		"zip bomb": {
			// 4 MiB of zeros deflate to about 4 KiB.
			entries: []zent{{name: "zeros", mode: 0o644, body: string(make([]byte, 4<<20)), deflate: true}},
			lim:     Limits{MaxFileBytes: 1 << 20}, kind: ErrLimit, entry: "zeros", details: []string{"per-file limit"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			err := extractZip(makeZip(t, c.entries...), sb.dest, c.lim)
			wantEntryErr(t, err, c.kind, c.entry, c.details...)
			sb.checkContained(t)
			if !c.partial {
				if ents, _ := os.ReadDir(sb.dest); len(ents) != 0 {
					t.Errorf("refused archive left %v in the destination", ents)
				}
			}
		})
	}
}

// A zip whose entries hold more than their headers declare is refused by
// archive/zip itself; what was written stays within the limits.
func TestExtractZipLyingSizes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	data := makeZip(t, zent{name: "liar", mode: 0o644, body: strings.Repeat("x", 5000), declared: 10})
	err := extractZip(data, sb.dest, Limits{MaxFileBytes: 100})
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Entry != "liar" {
		t.Fatalf("error = %v, want an *EntryError for %q", err, "liar")
	}
	sb.checkContained(t)
	if _, err := os.Lstat(filepath.Join(sb.dest, "liar")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file left behind: %v", err)
	}
}

func TestExtractTarRefuses(t *testing.T) {
	t.Parallel()
	type tc struct {
		entries []tent
		lim     Limits
		kind    error
		entry   string
		details []string
	}
	file := func(name string) tent { return tent{name: name, body: "payload"} }
	link := func(name, target string) tent { return tent{name: name, typeflag: tar.TypeSymlink, link: target} }
	hard := func(name, target string) tent { return tent{name: name, typeflag: tar.TypeLink, link: target} }
	cases := map[string]tc{
		"tar-slip":             {entries: []tent{file("ok"), file("../evil.txt")}, kind: ErrUnsafePath, entry: "../evil.txt", details: []string{`".."`}},
		"absolute path":        {entries: []tent{file("/etc/cron.d/evil")}, kind: ErrUnsafePath, entry: "/etc/cron.d/evil", details: []string{"absolute path"}},
		"windows drive letter": {entries: []tent{file("D:evil")}, kind: ErrUnsafePath, entry: "D:evil", details: []string{"drive letter"}},
		"backslash":            {entries: []tent{file(`a\..\..\evil`)}, kind: ErrUnsafePath, entry: `a\..\..\evil`, details: []string{"backslash"}},
		"symlink to /etc":      {entries: []tent{link("etc", "/etc")}, kind: ErrUnsafePath, entry: "etc", details: []string{"absolute symlink target"}},
		"symlink out":          {entries: []tent{link("a/b", "../../outside")}, kind: ErrUnsafePath, entry: "a/b", details: []string{"resolves outside"}},
		"write through symlink": {
			entries: []tent{link("out", "../outside"), file("out/x")},
			kind:    ErrUnsafePath, entry: "out", details: []string{"resolves outside"},
		},
		"symlink chain escaping": {
			entries: []tent{link("t", "x/y/s/../.."), link("x/y/s", "../../z")},
			kind:    ErrUnsafePath, entry: "t", details: []string{"resolves outside"},
		},
		"hard link to /etc/passwd": {entries: []tent{hard("passwd", "/etc/passwd")}, kind: ErrUnsafePath, entry: "passwd", details: []string{`hard link target "/etc/passwd"`, "absolute"}},
		"hard link up and out":     {entries: []tent{hard("h", "../outside/secret")}, kind: ErrUnsafePath, entry: "h", details: []string{`".."`}},
		"hard link to nothing":     {entries: []tent{hard("h", "missing")}, kind: ErrUnsafePath, entry: "h", details: []string{"not a regular file extracted earlier"}},
		"hard link to a symlink": {
			entries: []tent{link("l", "f"), hard("h", "l")},
			kind:    ErrUnsafePath, entry: "h", details: []string{"not a regular file"},
		},
		"char device":  {entries: []tent{{name: "null", typeflag: tar.TypeChar}}, kind: ErrUnsupportedEntry, entry: "null", details: []string{"device file"}},
		"block device": {entries: []tent{{name: "sda", typeflag: tar.TypeBlock}}, kind: ErrUnsupportedEntry, entry: "sda", details: []string{"device file"}},
		"fifo":         {entries: []tent{{name: "p", typeflag: tar.TypeFifo}}, kind: ErrUnsupportedEntry, entry: "p", details: []string{"FIFO"}},
		"huge declared size": {
			entries: []tent{{name: "bomb", body: "tiny", size: 1 << 40}},
			lim:     Limits{MaxFileBytes: 1 << 30}, kind: ErrLimit, entry: "bomb", details: []string{"declared size of 1099511627776 bytes", "per-file limit"},
		},
		"too many files": {
			entries: []tent{file("1"), file("2"), file("3"), file("4")},
			lim:     Limits{MaxFiles: 3}, kind: ErrLimit, entry: "4", details: []string{"more than 3 entries"},
		},
		"total bytes": {
			entries: []tent{{name: "a", body: strings.Repeat("a", 600)}, {name: "b", body: strings.Repeat("b", 600)}},
			lim:     Limits{MaxBytes: 1000}, kind: ErrLimit, entry: "b",
		},
		"duplicate": {entries: []tent{file("a"), link("a", "b")}, kind: ErrDuplicateEntry, entry: "a"},
	}
	for name, c := range cases {
		for _, gz := range []bool{false, true} {
			t.Run(name+map[bool]string{false: " (tar)", true: " (tgz)"}[gz], func(t *testing.T) {
				t.Parallel()
				sb := newSandbox(t)
				err := ExtractTar(bytes.NewReader(makeTar(t, gz, c.entries...)), sb.dest, gz, c.lim)
				wantEntryErr(t, err, c.kind, c.entry, c.details...)
				sb.checkContained(t)
			})
		}
	}
}

// A tgz bomb: a small compressed stream that inflates far past the limit.
// Its declared size stops it before anything is inflated.
func TestExtractTgzBomb(t *testing.T) {
	t.Parallel()
	const size = 1 << 30
	sb := newSandbox(t)
	err := ExtractTar(bytes.NewReader(tgzZeros(t, size)), sb.dest, true, Limits{MaxBytes: 4 << 20, MaxFileBytes: -1})
	wantEntryErr(t, err, ErrLimit, "zeros", "declared size of 1073741824 bytes", "limit of 4194304 bytes")
	sb.checkContained(t)
	if _, err := os.Lstat(filepath.Join(sb.dest, "zeros")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file created for a refused entry: %v", err)
	}
}

// tgzZeros returns a gzip stream of a tar holding one file of size zero
// bytes (a multiple of 1 MiB), cheaply: a member for the header, then one
// member of 1 MiB of zeros repeated (gzip readers join members).
func tgzZeros(t testing.TB, size int) []byte {
	t.Helper()
	member := func(write func(*gzip.Writer)) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		write(zw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	out := member(func(zw *gzip.Writer) { zw.Write(hdr.Bytes()) })
	mib := member(func(zw *gzip.Writer) { zw.Write(make([]byte, 1<<20)) })
	for range size >> 20 {
		out = append(out, mib...)
	}
	// The tar end: two zero blocks.
	out = append(out, member(func(zw *gzip.Writer) { zw.Write(make([]byte, 1024)) })...)
	if len(out) > 2<<20 {
		t.Fatalf("bomb is %d bytes compressed; want a small one", len(out))
	}
	return out
}

func TestExtractTarModesAndLinks(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		data := makeTar(t, gz,
			tent{name: "./", typeflag: tar.TypeDir, mode: 0o755},
			tent{name: "./bin/", typeflag: tar.TypeDir, mode: 0o750},
			tent{name: "./bin/tool", body: "#!/bin/sh\n", mode: 0o4755}, // setuid dropped
			tent{name: "./bin/setgid", body: "x", mode: 0o2711},
			tent{name: "./secret", body: "s", mode: 0o600},
			tent{name: "./ro/", typeflag: tar.TypeDir, mode: 0o555},
			tent{name: "./ro/file", body: "r", mode: 0o444},
			tent{name: "./deep/a/b/c.txt", body: "implied parents"},
			tent{name: "./hard", typeflag: tar.TypeLink, link: "./bin/tool"},
			tent{name: "./latest", typeflag: tar.TypeSymlink, link: "bin/tool"},
			tent{name: "./deep/a/up", typeflag: tar.TypeSymlink, link: "../../secret"},
			tent{name: "./dangling", typeflag: tar.TypeSymlink, link: "not/yet/there"},
		)
		sb := newSandbox(t)
		if err := ExtractTar(bytes.NewReader(data), sb.dest, gz, Limits{}); err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		sb.checkContained(t)
		got := strings.Join(listTree(t, sb.dest), "\n")
		for _, want := range []string{
			"bin drwxr-x---", "bin/tool -rwxr-xr-x", "bin/setgid -rwx--x--x", "secret -rw-------",
			"ro dr-xr-xr-x", "ro/file -r--r--r--", "deep/a/b drwxr-xr-x", "deep/a/b/c.txt -rw-r--r--",
			"latest Lrwxrwxrwx -> bin/tool", "deep/a/up Lrwxrwxrwx -> ../../secret", "dangling Lrwxrwxrwx -> not/yet/there",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("gz=%v: extracted tree lacks %q:\n%s", gz, want, got)
			}
		}
		a, _ := os.Stat(filepath.Join(sb.dest, "hard"))
		b, _ := os.Stat(filepath.Join(sb.dest, "bin/tool"))
		if a == nil || b == nil || !os.SameFile(a, b) {
			t.Errorf("gz=%v: hard is not a hard link to bin/tool", gz)
		}
		// Let t.TempDir's cleanup remove the read-only directory.
		_ = os.Chmod(filepath.Join(sb.dest, "ro"), 0o755)
	}
}

// Archives from tools that record no Unix mode get ordinary modes.
func TestExtractZipWithoutUnixModes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	data := makeZip(t, zent{name: "dir/"}, zent{name: "dir/file.txt", body: "dos"})
	if err := extractZip(data, sb.dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(listTree(t, sb.dest), "\n")
	for _, want := range []string{"dir drwxr-xr-x", "dir/file.txt -rw-r--r--"} {
		if !strings.Contains(got, want) {
			t.Errorf("tree lacks %q:\n%s", want, got)
		}
	}
}

// A symlink that was already in the destination is never written through:
// an entry below it is refused, and an entry at its path replaces the link
// itself.
func TestExtractExistingSymlink(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	if err := os.MkdirAll(sb.dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sb.outside, filepath.Join(sb.dest, "pre")); err != nil {
		t.Fatal(err)
	}
	err := extractZip(makeZip(t, zent{name: "pre/x", mode: 0o644, body: "x"}), sb.dest, Limits{})
	wantEntryErr(t, err, ErrUnsafePath, "pre/x", `parent "pre" is an existing symlink`)
	if err := extractZip(makeZip(t, zent{name: "pre", mode: 0o644, body: "x"}), sb.dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(sb.dest, "pre")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("pre = %v, %v; want a regular file in place of the link", fi, err)
	}
	sb.checkContained(t)
}

func TestExtractNotAnArchive(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	if err := extractZip([]byte("definitely not a zip"), sb.dest, Limits{}); err == nil || !strings.Contains(err.Error(), "read zip") {
		t.Errorf("Extract(garbage) = %v", err)
	}
	if err := ExtractTar(strings.NewReader("not gzip"), sb.dest, true, Limits{}); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("ExtractTar(garbage, gz) = %v", err)
	}
	if err := ExtractTar(strings.NewReader(strings.Repeat("x", 1024)), sb.dest, false, Limits{}); err == nil || !strings.Contains(err.Error(), "read tar") {
		t.Errorf("ExtractTar(garbage) = %v", err)
	}
	sb.checkContained(t)
}

func TestCleanEntryName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"a/b": "a/b", "./a//b/": "a/b", "./": "", "a/./b": "a/b", "dir/": "dir"} {
		if got, err := cleanEntryName(in); err != nil || got != want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
