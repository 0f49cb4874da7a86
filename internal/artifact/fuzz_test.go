package artifact

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keeps each fuzz input's extraction small.
var fuzzLimits = Limits{MaxFiles: 64, MaxBytes: 1 << 20, MaxFileBytes: 256 << 10}

// FuzzExtract extracts arbitrary bytes as a zip. It must never panic and
// never write outside the destination: the destination is a directory
// inside a parent of its own, and after every input the parent holds
// nothing else, an "outside" directory next to it (which symlink attacks
// aim at) stays empty, and no symlink in the destination leads out.
func FuzzExtract(f *testing.F) {
	var tree bytes.Buffer
	if err := Zip(makeTree(f), &tree); err != nil {
		f.Fatal(err)
	}
	f.Add(tree.Bytes())
	link := func(name, target string) zent { return zent{name: name, mode: fs.ModeSymlink | 0o777, body: target} }
	for _, entries := range [][]zent{
		{{name: "ok.txt", mode: 0o644, body: "fine"}, {name: "dir/", mode: fs.ModeDir | 0o755}},
		{{name: "../evil", mode: 0o644, body: "x"}},
		{{name: "../outside/evil", mode: 0o644, body: "x"}},
		{{name: "/abs", mode: 0o644, body: "x"}},
		{link("out", "../outside"), {name: "out/x", mode: 0o644, body: "x"}},
		{link("t", "x/y/s/../.."), link("x/y/s", "../../z")},
		{link("a", "b"), link("b", "a")},
		{{name: "bomb", mode: 0o644, body: string(make([]byte, 300<<10)), deflate: true}},
		{{name: "big", mode: 0o644, body: "tiny", declared: 1 << 40}},
		{{name: "dup", mode: 0o644, body: "1"}, {name: "dup", mode: 0o644, body: "2"}},
		{{name: "ro/", mode: fs.ModeDir | 0o500}, {name: "ro/f", mode: 0o400, body: "r"}},
	} {
		f.Add(makeZip(f, entries...))
	}
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		sb := newSandbox(t)
		_ = Extract(bytes.NewReader(data), int64(len(data)), sb.dest, fuzzLimits)
		sb.checkContained(t)
		// Let TempDir's cleanup remove what an input made read-only.
		_ = filepath.WalkDir(sb.dest, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
}

// FuzzExtractTar does the same for arbitrary bytes as a tar.
func FuzzExtractTar(f *testing.F) {
	f.Add(makeTar(f, false, tent{name: "a/b", body: "x"}, tent{name: "l", typeflag: '2', link: "a/b"}, tent{name: "h", typeflag: '1', link: "a/b"}))
	f.Add(makeTar(f, false, tent{name: "../x", body: "x"}))
	f.Add(makeTar(f, false, tent{name: "out", typeflag: '2', link: "../outside"}, tent{name: "out/x", body: "x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		sb := newSandbox(t)
		_ = ExtractTar(bytes.NewReader(data), sb.dest, false, fuzzLimits)
		sb.checkContained(t)
		_ = filepath.WalkDir(sb.dest, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
}
