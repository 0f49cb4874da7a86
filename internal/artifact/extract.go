package artifact

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// maxLinkTarget is the longest symlink target a zip entry may hold
// (PATH_MAX).
const maxLinkTarget = 4096

// Extract unpacks the zip archive r (size bytes long) into dest, creating
// dest and every parent directory an entry needs. It refuses, with an
// *EntryError naming the entry, every entry that could end up outside
// dest (see the package documentation) and archives over limits; names,
// types and declared sizes are all checked before anything is written.
//
// File permission bits are kept, without setuid, setgid and sticky bits;
// entries from archivers that record no Unix mode get 0644 (0755 for
// directories). Symlinks are created last, once every file and directory
// exists, and each must resolve inside dest. On error dest may hold part
// of the archive, but never a symlink that leads out of it; callers
// extract into a fresh directory and remove it on error.
func Extract(r io.ReaderAt, size int64, dest string, limits Limits) (err error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("artifact: read zip: %w", err)
	}
	lim := limits.withDefaults()

	// Check the whole table of contents before writing anything.
	var declared uint64
	for i, f := range zr.File {
		if lim.MaxFiles >= 0 && i >= lim.MaxFiles {
			return entryErr(f.Name, ErrLimit, "the archive has %d entries, more than the limit of %d", len(zr.File), lim.MaxFiles)
		}
		if _, err := cleanEntryName(f.Name); err != nil {
			return err
		}
		mode := f.Mode()
		if err := checkZipType(f.Name, mode); err != nil {
			return err
		}
		if !mode.IsRegular() {
			continue
		}
		if lim.MaxFileBytes >= 0 && f.UncompressedSize64 > uint64(lim.MaxFileBytes) {
			return entryErr(f.Name, ErrLimit, "declared size of %d bytes is over the per-file limit of %d", f.UncompressedSize64, lim.MaxFileBytes)
		}
		declared += f.UncompressedSize64
		if lim.MaxBytes >= 0 && declared > uint64(lim.MaxBytes) {
			return entryErr(f.Name, ErrLimit, "the declared sizes add up to more than the total limit of %d bytes", lim.MaxBytes)
		}
	}

	x, err := newExtractor(dest, lim)
	if err != nil {
		return err
	}
	defer x.close(&err)
	for _, f := range zr.File {
		if err := x.zipEntry(f); err != nil {
			return err
		}
	}
	return x.finish()
}

// checkZipType refuses every zip entry that is not a file, directory or
// symlink.
func checkZipType(name string, mode fs.FileMode) error {
	switch {
	case mode.IsDir(), mode.IsRegular(), mode&fs.ModeSymlink != 0:
		return nil
	case mode&fs.ModeDevice != 0:
		return entryErr(name, ErrUnsupportedEntry, "device file")
	case mode&fs.ModeNamedPipe != 0:
		return entryErr(name, ErrUnsupportedEntry, "FIFO (named pipe)")
	case mode&fs.ModeSocket != 0:
		return entryErr(name, ErrUnsupportedEntry, "socket")
	}
	return entryErr(name, ErrUnsupportedEntry, "file type %v", mode.Type())
}

// zipPerm returns the permission bits to give a zip entry.
func zipPerm(f *zip.File, dir bool) fs.FileMode {
	if creator := f.CreatorVersion >> 8; creator == 3 || creator == 19 { // Unix, macOS
		if p := f.Mode().Perm(); p != 0 {
			return p
		}
	}
	if dir {
		return 0o755
	}
	return 0o644
}

func (x *extractor) zipEntry(f *zip.File) error {
	rel, err := cleanEntryName(f.Name)
	if err != nil {
		return err
	}
	mode := f.Mode()
	switch {
	case mode.IsDir():
		return x.dir(f.Name, rel, zipPerm(f, true))
	case mode&fs.ModeSymlink != 0:
		rc, err := f.Open()
		if err != nil {
			return entryErr(f.Name, err, "open")
		}
		target, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
		_ = rc.Close()
		if err != nil {
			return entryErr(f.Name, err, "read symlink target")
		}
		if len(target) > maxLinkTarget {
			return entryErr(f.Name, ErrLimit, "symlink target longer than %d bytes", maxLinkTarget)
		}
		return x.symlink(f.Name, rel, string(target))
	default:
		rc, err := f.Open()
		if err != nil {
			return entryErr(f.Name, err, "open")
		}
		defer rc.Close()
		return x.file(f.Name, rel, zipPerm(f, false), rc)
	}
}

// ExtractTar unpacks the tar archive r, gzip-compressed when gz is true,
// into dest, with the same checks, limits and results as Extract. Hard
// links must name a regular file extracted earlier from the same archive;
// character and block devices, FIFOs and unknown entry types are refused.
// A tar archive is read as a stream, so unlike Extract, entries before a
// refused one have been written.
func ExtractTar(r io.Reader, dest string, gz bool, limits Limits) (err error) {
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("artifact: read gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	x, err := newExtractor(dest, limits.withDefaults())
	if err != nil {
		return err
	}
	defer x.close(&err)
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("artifact: read tar (after %d entries): %w", x.entries, err)
		}
		if err := x.tarEntry(hdr, tr); err != nil {
			return err
		}
	}
	return x.finish()
}

func (x *extractor) tarEntry(hdr *tar.Header, r io.Reader) error {
	name := hdr.Name
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		// PAX defaults for what follows; nothing to write, but it counts
		// against MaxFiles so a stream of them ends.
		return x.count(name)
	}
	rel, err := cleanEntryName(name)
	if err != nil {
		return err
	}
	perm := fs.FileMode(hdr.Mode).Perm()
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(name, rel, perm)
	case tar.TypeReg, tar.TypeGNUSparse:
		if err := x.checkDeclared(name, hdr.Size); err != nil {
			return err
		}
		return x.file(name, rel, perm, r)
	case tar.TypeSymlink:
		return x.symlink(name, rel, hdr.Linkname)
	case tar.TypeLink:
		return x.hardlink(name, rel, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return entryErr(name, ErrUnsupportedEntry, "device file")
	case tar.TypeFifo:
		return entryErr(name, ErrUnsupportedEntry, "FIFO (named pipe)")
	}
	return entryErr(name, ErrUnsupportedEntry, "tar entry type %q", hdr.Typeflag)
}

type entryKind int

const (
	kindDir entryKind = iota + 1
	kindFile
	kindLink
)

func (k entryKind) String() string {
	switch k {
	case kindDir:
		return "directory"
	case kindFile:
		return "file"
	}
	return "symlink"
}

// extractor writes one archive's entries below dest through an os.Root,
// so that even a mistake here cannot make the OS write outside dest.
type extractor struct {
	root    *os.Root
	lim     Limits
	entries int
	bytes   int64
	// kinds has every path this extraction created or checked, by what
	// it is (explicit or implied directories, files, pending symlinks).
	kinds map[string]entryKind
	// entryName maps a path to the entry that made it, for messages.
	entryName map[string]string
	dirModes  map[string]fs.FileMode
	links     []pendingLink
	created   []pendingLink // symlinks on disk
}

type pendingLink struct{ entry, rel, target string }

func newExtractor(dest string, lim Limits) (*extractor, error) {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, fmt.Errorf("artifact: extract: %w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, fmt.Errorf("artifact: extract: %w", err)
	}
	return &extractor{
		root: root, lim: lim,
		kinds: map[string]entryKind{}, entryName: map[string]string{}, dirModes: map[string]fs.FileMode{},
	}, nil
}

// close removes, when the extraction failed, every symlink it created that
// now leads outside dest, and releases the root.
func (x *extractor) close(errp *error) {
	if *errp != nil {
		for _, l := range x.created {
			if checkLinkTarget(x.root, l.rel, l.target) != nil {
				_ = x.root.Remove(l.rel)
			}
		}
	}
	_ = x.root.Close()
}

func (x *extractor) count(name string) error {
	x.entries++
	if x.lim.MaxFiles >= 0 && x.entries > x.lim.MaxFiles {
		return entryErr(name, ErrLimit, "more than %d entries", x.lim.MaxFiles)
	}
	return nil
}

// checkDeclared refuses a file whose declared size is over the limits,
// before any of it is read.
func (x *extractor) checkDeclared(name string, size int64) error {
	if x.lim.MaxFileBytes >= 0 && size > x.lim.MaxFileBytes {
		return entryErr(name, ErrLimit, "declared size of %d bytes is over the per-file limit of %d", size, x.lim.MaxFileBytes)
	}
	if x.lim.MaxBytes >= 0 && size > x.lim.MaxBytes-x.bytes {
		return entryErr(name, ErrLimit, "declared size of %d bytes would take the total over the limit of %d bytes", size, x.lim.MaxBytes)
	}
	return nil
}

// claim records rel as made by entry name, failing if another entry has
// it (two directory entries for one directory are fine).
func (x *extractor) claim(name, rel string, k entryKind) error {
	if rel == "" {
		if k == kindDir {
			return nil
		}
		return entryErr(name, ErrUnsafePath, "names the destination directory itself")
	}
	if old, ok := x.kinds[rel]; ok && !(old == kindDir && k == kindDir) {
		by := x.entryName[rel]
		if by == "" {
			by = "an earlier entry's parent directory"
		} else {
			by = fmt.Sprintf("entry %q", by)
		}
		return entryErr(name, ErrDuplicateEntry, "%q is already a %v (from %s)", rel, old, by)
	}
	x.kinds[rel] = k
	x.entryName[rel] = name
	return nil
}

// parents makes sure every directory above rel exists below dest as a real
// directory (never through a symlink), creating the missing ones.
func (x *extractor) parents(name, rel string) error {
	segs := strings.Split(rel, "/")
	for i := 1; i < len(segs); i++ {
		p := strings.Join(segs[:i], "/")
		switch x.kinds[p] {
		case kindDir:
			continue
		case kindFile:
			return entryErr(name, ErrUnsafePath, "parent %q is a file from entry %q", p, x.entryName[p])
		case kindLink:
			return entryErr(name, ErrUnsafePath, "parent %q is a symlink from entry %q: entries are never written through symlinks", p, x.entryName[p])
		}
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o700); err != nil {
				return entryErr(name, err, "create parent directory %q", p)
			}
			x.dirModes[p] = 0o755
		case err != nil:
			return entryErr(name, err, "parent directory %q", p)
		case fi.Mode()&fs.ModeSymlink != 0:
			return entryErr(name, ErrUnsafePath, "parent %q is an existing symlink: entries are never written through symlinks", p)
		case !fi.IsDir():
			return entryErr(name, ErrDuplicateEntry, "parent %q exists and is not a directory", p)
		}
		x.kinds[p] = kindDir
	}
	return nil
}

// clear makes room for a new file or symlink at rel: it removes whatever
// non-directory was there before this extraction (never following a
// symlink), and refuses to replace a directory.
func (x *extractor) clear(name, rel string) error {
	fi, err := x.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return entryErr(name, err, "stat")
	case fi.IsDir():
		return entryErr(name, ErrDuplicateEntry, "%q exists and is a directory", rel)
	}
	if err := x.root.Remove(rel); err != nil {
		return entryErr(name, err, "replace existing %q", rel)
	}
	return nil
}

func (x *extractor) dir(name, rel string, perm fs.FileMode) error {
	if err := x.count(name); err != nil {
		return err
	}
	if err := x.claim(name, rel, kindDir); err != nil || rel == "" {
		return err
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	fi, err := x.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.Mkdir(rel, 0o700); err != nil {
			return entryErr(name, err, "create directory")
		}
	case err != nil:
		return entryErr(name, err, "stat")
	case fi.Mode()&fs.ModeSymlink != 0:
		return entryErr(name, ErrUnsafePath, "%q is an existing symlink", rel)
	case !fi.IsDir():
		return entryErr(name, ErrDuplicateEntry, "%q exists and is not a directory", rel)
	}
	x.dirModes[rel] = perm
	return nil
}

func (x *extractor) file(name, rel string, perm fs.FileMode, r io.Reader) error {
	if err := x.count(name); err != nil {
		return err
	}
	if err := x.claim(name, rel, kindFile); err != nil {
		return err
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	if err := x.clear(name, rel); err != nil {
		return err
	}
	limit := int64(-1) // none
	if x.lim.MaxFileBytes >= 0 {
		limit = x.lim.MaxFileBytes
	}
	if x.lim.MaxBytes >= 0 {
		if left := max(x.lim.MaxBytes-x.bytes, 0); limit < 0 || left < limit {
			limit = left
		}
	}
	f, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return entryErr(name, err, "create file")
	}
	src := r
	if limit >= 0 {
		src = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(f, src)
	x.bytes += n
	if err == nil && limit >= 0 && n > limit {
		err = entryErr(name, ErrLimit, "more than %d bytes uncompressed (limits: %d per file, %d in total)", limit, x.lim.MaxFileBytes, x.lim.MaxBytes)
	}
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = x.root.Remove(rel) // no partial file is left behind
		if _, ok := err.(*EntryError); !ok {
			err = entryErr(name, err, "write file")
		}
	}
	return err
}

func (x *extractor) symlink(name, rel, target string) error {
	if err := x.count(name); err != nil {
		return err
	}
	if err := x.claim(name, rel, kindLink); err != nil {
		return err
	}
	// Refuse what is plainly outside now; the real check comes once
	// everything else exists (finish).
	if err := checkLinkTarget(x.root, rel, target); err != nil {
		return entryErr(name, ErrUnsafePath, "%v", err)
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	x.links = append(x.links, pendingLink{entry: name, rel: rel, target: target})
	return nil
}

func (x *extractor) hardlink(name, rel, linkname string) error {
	if err := x.count(name); err != nil {
		return err
	}
	target, err := cleanEntryName(linkname)
	if err != nil {
		return entryErr(name, ErrUnsafePath, "hard link target %q: %s", linkname, err.(*EntryError).Detail)
	}
	if x.kinds[target] != kindFile {
		return entryErr(name, ErrUnsafePath, "hard link target %q is not a regular file extracted earlier from this archive", linkname)
	}
	if err := x.claim(name, rel, kindFile); err != nil {
		return err
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	if err := x.clear(name, rel); err != nil {
		return err
	}
	if err := x.root.Link(target, rel); err != nil {
		return entryErr(name, err, "create hard link to %q", linkname)
	}
	return nil
}

// finish creates the symlinks, checks that every one resolves inside dest
// now that the whole archive is in place, and sets the directories' modes.
func (x *extractor) finish() error {
	slices.SortStableFunc(x.links, func(a, b pendingLink) int { return strings.Compare(a.rel, b.rel) })
	for _, l := range x.links {
		if err := checkLinkTarget(x.root, l.rel, l.target); err != nil {
			return entryErr(l.entry, ErrUnsafePath, "%v", err)
		}
		if err := x.clear(l.entry, l.rel); err != nil {
			return err
		}
		if err := x.root.Symlink(l.target, l.rel); err != nil {
			return entryErr(l.entry, err, "create symlink")
		}
		x.created = append(x.created, l)
	}
	// A later link can change where an earlier one leads.
	for _, l := range x.created {
		if err := checkLinkTarget(x.root, l.rel, l.target); err != nil {
			return entryErr(l.entry, ErrUnsafePath, "%v (through symlinks created later from this archive)", err)
		}
	}
	// Deepest first, so that a read-only directory is made read-only
	// after everything below it.
	dirs := make([]string, 0, len(x.dirModes))
	for d := range x.dirModes {
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, func(a, b string) int { return strings.Compare(b, a) })
	for _, d := range dirs {
		if err := x.root.Chmod(d, x.dirModes[d]); err != nil {
			return entryErr(x.nameOf(d), err, "set directory mode")
		}
	}
	return nil
}

func (x *extractor) nameOf(rel string) string {
	if n := x.entryName[rel]; n != "" {
		return n
	}
	return path.Clean(rel) + "/"
}
