package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Limits bounds what one extraction may create, against zip bombs and
// archives made to exhaust the disk or the inode table. A zero field takes
// its default (DefaultMaxFiles, DefaultMaxBytes, DefaultMaxFileBytes); a
// negative field means no limit.
type Limits struct {
	// MaxFiles is the most entries of any kind (files, directories,
	// links).
	MaxFiles int
	// MaxBytes is the most uncompressed bytes written in total.
	MaxBytes int64
	// MaxFileBytes is the most uncompressed bytes of one file.
	MaxFileBytes int64
}

// The default Limits. They allow any artifact a CodePipeline or CodeDeploy
// user could reasonably have (AWS caps CodeDeploy revisions and S3 source
// artifacts at a few GB) while stopping a zip bomb long before it fills a
// disk.
const (
	DefaultMaxFiles     = 100_000
	DefaultMaxBytes     = 10 << 30 // 10 GiB
	DefaultMaxFileBytes = 5 << 30  // 5 GiB
)

func (l Limits) withDefaults() Limits {
	if l.MaxFiles == 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	return l
}

// What an [EntryError] wraps, to tell the kinds of refusal apart with
// errors.Is.
var (
	// ErrUnsafePath: the entry would be written, or would link, outside
	// the destination directory (or through a symlink).
	ErrUnsafePath = errors.New("unsafe path")
	// ErrLimit: the archive is over one of its Limits.
	ErrLimit = errors.New("extraction limit exceeded")
	// ErrUnsupportedEntry: a device file, FIFO, socket or other entry type
	// that is never extracted.
	ErrUnsupportedEntry = errors.New("unsupported entry type")
	// ErrDuplicateEntry: two entries name the same path (other than the
	// same directory twice).
	ErrDuplicateEntry = errors.New("duplicate entry")
)

// EntryError is the error for one archive entry that cannot be extracted
// (or archived, for Zip).
type EntryError struct {
	// Entry is the entry's name as the archive spells it (for Zip, the
	// path relative to the directory).
	Entry string
	// Err is ErrUnsafePath, ErrLimit, ErrUnsupportedEntry,
	// ErrDuplicateEntry, or the I/O or format error that stopped it.
	Err error
	// Detail says what exactly is wrong.
	Detail string
}

func (e *EntryError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("artifact: archive entry %q: %v", e.Entry, e.Err)
	}
	return fmt.Sprintf("artifact: archive entry %q: %v: %s", e.Entry, e.Err, e.Detail)
}

func (e *EntryError) Unwrap() error { return e.Err }

func entryErr(entry string, err error, format string, args ...any) *EntryError {
	return &EntryError{Entry: entry, Err: err, Detail: fmt.Sprintf(format, args...)}
}

// cleanEntryName turns an archive entry name into a path relative to the
// destination ("" for the destination itself), refusing every name that
// could land elsewhere. Names are slash-separated in both zip and tar, so a
// backslash can only be a Windows separator (or a trick) and is refused.
func cleanEntryName(name string) (string, error) {
	bad := func(why string) error { return entryErr(name, ErrUnsafePath, "%s", why) }
	switch {
	case name == "":
		return "", bad("empty name")
	case strings.IndexByte(name, 0) >= 0:
		return "", bad("name contains a NUL byte")
	case strings.HasPrefix(name, "/"):
		return "", bad("absolute path")
	case strings.IndexByte(name, '\\') >= 0:
		return "", bad("name contains a backslash (a Windows path separator)")
	case hasDriveLetter(name):
		return "", bad("Windows drive letter")
	}
	var segs []string
	for _, s := range strings.Split(name, "/") {
		switch s {
		case "", ".":
		case "..":
			return "", bad(`".." path segment escapes the destination directory`)
		default:
			segs = append(segs, s)
		}
	}
	return strings.Join(segs, "/"), nil
}

func hasDriveLetter(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// maxSymlinkHops is how many symlinks resolveLink follows before it gives
// up, as Linux's MAXSYMLINKS does (the OS then fails with ELOOP, so such a
// link cannot lead anywhere).
const maxSymlinkHops = 40

// errLinkEscapes is what resolveLink returns for a target outside root.
var errLinkEscapes = errors.New("resolves outside the directory")

// checkLinkTarget reports whether target is a symlink target that may be
// stored at linkRel (a slash path relative to root whose parent directories
// are real directories, not symlinks): relative, and resolving inside root
// when followed through the symlinks that exist below root now. A path
// component that does not exist is taken as a plain directory name, so
// links whose targets do not exist yet are allowed when they stay inside.
func checkLinkTarget(root *os.Root, linkRel, target string) error {
	switch {
	case target == "":
		return errors.New("empty symlink target")
	case strings.IndexByte(target, 0) >= 0:
		return errors.New("symlink target contains a NUL byte")
	case strings.HasPrefix(target, "/"):
		return fmt.Errorf("absolute symlink target %q", target)
	case strings.IndexByte(target, '\\') >= 0:
		return fmt.Errorf("symlink target %q contains a backslash", target)
	case hasDriveLetter(target):
		return fmt.Errorf("symlink target %q has a Windows drive letter", target)
	}
	var dir []string
	if d := path.Dir(linkRel); d != "." {
		dir = strings.Split(d, "/")
	}
	if err := resolveLink(root, dir, target); err != nil {
		return fmt.Errorf("symlink target %q %w", target, err)
	}
	return nil
}

// resolveLink follows target from the real directory dir (components
// below root) the way the kernel would, but one component at a time
// through root's Lstat and Readlink, and fails with errLinkEscapes as soon
// as the walk would leave root.
func resolveLink(root *os.Root, dir []string, target string) error {
	stack := append([]string(nil), dir...)
	queue := strings.Split(target, "/")
	hops := 0
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return errLinkEscapes
			}
			stack = stack[:len(stack)-1]
			continue
		}
		p := strings.Join(append(stack, c), "/")
		fi, err := root.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			// A directory, a file (then the OS stops here with ENOTDIR
			// if more follows) or nothing yet: a plain name.
			stack = append(stack, c)
			continue
		}
		hops++
		if hops > maxSymlinkHops {
			return nil // ELOOP: the OS will not follow it anywhere
		}
		t, err := root.Readlink(p)
		if err != nil {
			return fmt.Errorf("read symlink %q: %w", p, err)
		}
		if strings.HasPrefix(t, "/") {
			return fmt.Errorf("%w (through %q, an absolute symlink)", errLinkEscapes, p)
		}
		queue = append(strings.Split(t, "/"), queue...)
	}
	return nil
}
