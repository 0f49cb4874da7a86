package artifact

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// ZipTime is the modification time Zip gives every entry, so that the same
// tree always makes the same bytes (the earliest time a zip can hold).
var ZipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Zip writes the tree below dir to w as a zip archive. The output depends
// only on the tree: entries sorted by name, directories included (with a
// trailing '/'), every timestamp ZipTime, files deflated, and each entry's
// permission bits kept (without setuid, setgid and sticky bits). A symlink
// is stored as a zip symlink entry (Unix mode, the target as content) when
// its target is relative and resolves inside dir; any other symlink, and
// any device file, FIFO or socket, fails with an *EntryError naming it.
// dir itself may be a symlink.
func Zip(dir string, w io.Writer) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("artifact: zip: %w", err)
	}
	defer root.Close()

	type entry struct {
		rel  string
		mode fs.FileMode
	}
	var entries []entry
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		entries = append(entries, entry{p, fi.Mode()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("artifact: zip %s: %w", dir, err)
	}
	// Sorted by entry name, in which a directory ("a/") comes before what
	// it holds.
	name := func(e entry) string {
		if e.mode.IsDir() {
			return e.rel + "/"
		}
		return e.rel
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(name(a), name(b)) })

	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: name(e), Modified: ZipTime}
		var body io.Reader
		switch {
		case e.mode.IsDir():
			hdr.Method = zip.Store
			hdr.SetMode(fs.ModeDir | e.mode.Perm())
		case e.mode.IsRegular():
			hdr.Method = zip.Deflate
			hdr.SetMode(e.mode.Perm())
			f, err := root.Open(e.rel)
			if err != nil {
				return fmt.Errorf("artifact: zip %s: %w", dir, err)
			}
			body = f
		case e.mode&fs.ModeSymlink != 0:
			target, err := root.Readlink(e.rel)
			if err != nil {
				return fmt.Errorf("artifact: zip %s: %w", dir, err)
			}
			if err := checkLinkTarget(root, e.rel, target); err != nil {
				return entryErr(e.rel, ErrUnsafePath, "%v: only symlinks that stay inside %s can be archived", err, dir)
			}
			hdr.Method = zip.Store
			hdr.SetMode(fs.ModeSymlink | 0o777)
			body = strings.NewReader(target)
		default:
			return entryErr(e.rel, ErrUnsupportedEntry, "file type %v cannot be archived", e.mode.Type())
		}
		fw, err := zw.CreateHeader(hdr)
		if err == nil && body != nil {
			_, err = io.Copy(fw, body)
		}
		if c, ok := body.(io.Closer); ok {
			_ = c.Close()
		}
		if err != nil {
			return fmt.Errorf("artifact: zip %s: %s: %w", dir, e.rel, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("artifact: zip %s: %w", dir, err)
	}
	return nil
}
