package artifact

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FSStore is the filesystem [Store], the default. The server roots it at
// <data-dir>/artifacts ([FSDirName]); an object is the plain file
// <root>/<bucket>/<key>, and bucket directories are created on demand.
//
// What a Put records besides the content lives in a small JSON file per
// object under <root>/.meta/<bucket>/<key>.json; writes are staged in
// <root>/.tmp. Neither name can be a bucket (bucket names start with a
// letter or digit). Every Put writes the content to a temporary file while
// computing its SHA-256 and MD5, then renames it into place, so readers
// see either the old object or the new one, never a partial one.
//
// The ETag is the hex MD5 of the content, as S3 reports for a single-part
// upload. The version ID is the write's time in nanoseconds since 1970 as
// a 20-digit decimal, strictly increasing across the writes of one
// FSStore (two writes in the same nanosecond get consecutive values); the
// object file's modification time is set to that same instant. An object
// file whose size or modification time no longer matches its record (say,
// replaced by hand) is hashed again when read, and its version ID then
// comes from its modification time.
//
// One FSStore must be the only writer of its root: its lock is per
// process.
type FSStore struct {
	root string

	mu   sync.RWMutex // orders commits (renames) against reads
	last int64        // the last version time handed out, under mu
}

// FSDirName is the directory under the server's data directory that holds
// the filesystem store.
const FSDirName = "artifacts"

const (
	fsMetaDir = ".meta"
	fsTmpDir  = ".tmp"
)

// NewFSStore returns a filesystem store rooted at root (normally
// filepath.Join(dataDir, FSDirName)), creating the directory if needed.
func NewFSStore(root string) (*FSStore, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("artifact: filesystem store root %q: %w", root, err)
	}
	for _, d := range []string{abs, filepath.Join(abs, fsTmpDir), filepath.Join(abs, fsMetaDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("artifact: filesystem store: %w", err)
		}
	}
	return &FSStore{root: abs}, nil
}

// Root returns the store's root directory.
func (s *FSStore) Root() string { return s.root }

// Path returns the file that holds bucket/key (which need not exist).
func (s *FSStore) Path(bucket, key string) (string, error) {
	if err := validate(bucket, key); err != nil {
		return "", err
	}
	return s.dataPath(bucket, key), nil
}

func (s *FSStore) dataPath(bucket, key string) string {
	return filepath.Join(s.root, bucket, filepath.FromSlash(key))
}

func (s *FSStore) metaPath(bucket, key string) string {
	return filepath.Join(s.root, fsMetaDir, bucket, filepath.FromSlash(key)+".json")
}

// fsMeta is what a Put records in the object's .json file.
type fsMeta struct {
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	MD5     string `json:"md5"`
	Version string `json:"version"`
	// ModTime is the data file's modification time (Unix nanoseconds) as
	// read back after setting it: with Size, it tells whether the record
	// still describes the file.
	ModTime int64 `json:"mtime_ns"`
}

// Put implements Store.
func (s *FSStore) Put(ctx context.Context, bucket, key string, r io.Reader) (ObjectInfo, error) {
	if err := validate(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	fail := func(err error) (ObjectInfo, error) {
		return ObjectInfo{}, fmt.Errorf("artifact: put %s/%s: %w", bucket, key, err)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, fsTmpDir), "put-*")
	if err != nil {
		return fail(err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	sum, md, size, err := copyHashing(ctx, tmp, r)
	if err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	dst := s.dataPath(bucket, key)
	if err := s.prepareParents(bucket, key); err != nil {
		return fail(err)
	}
	if fi, err := os.Lstat(dst); err == nil && !fi.Mode().IsRegular() {
		return fail(fmt.Errorf("key conflicts with the existing prefix %q (a key cannot also be a prefix of other keys in the filesystem store)", key+"/"))
	}
	now := time.Now().UnixNano()
	if now <= s.last {
		now = s.last + 1
	}
	s.last = now
	mt := time.Unix(0, now)
	if err := os.Chtimes(tmpName, mt, mt); err != nil {
		return fail(err)
	}
	fi, err := os.Stat(tmpName)
	if err != nil {
		return fail(err)
	}
	meta := fsMeta{Size: size, SHA256: sum, MD5: md, Version: formatVersion(now), ModTime: fi.ModTime().UnixNano()}
	metaTmp, err := writeTempJSON(filepath.Join(s.root, fsTmpDir), meta)
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmpName, dst); err != nil {
		_ = os.Remove(metaTmp)
		return fail(err)
	}
	committed = true
	if err := os.Rename(metaTmp, s.metaPath(bucket, key)); err != nil {
		_ = os.Remove(metaTmp)
		// The content is in place; its record will be rebuilt when read.
		return fail(err)
	}
	syncDir(filepath.Dir(dst))
	return ObjectInfo{Bucket: bucket, Key: key, Size: size, SHA256: sum, ETag: md, VersionID: meta.Version, Modified: fi.ModTime()}, nil
}

// prepareParents creates the directories that bucket/key's data and meta
// files go in, turning "is not a directory" into an error that names the
// object in the way.
func (s *FSStore) prepareParents(bucket, key string) error {
	segs := strings.Split(key, "/")
	for i := 1; i < len(segs); i++ {
		p := strings.Join(segs[:i], "/")
		if fi, err := os.Lstat(s.dataPath(bucket, p)); err == nil && !fi.IsDir() {
			return fmt.Errorf("key conflicts with the existing object %q (a key cannot also be a prefix of other keys in the filesystem store)", p)
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.dataPath(bucket, key)), 0o750); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Dir(s.metaPath(bucket, key)), 0o750)
}

func formatVersion(ns int64) string { return fmt.Sprintf("%020d", ns) }

// copyHashing copies r to w, returning the hex SHA-256 and MD5 of what it
// copied and its length. It stops when ctx is done.
func copyHashing(ctx context.Context, w io.Writer, r io.Reader) (sha, md string, n int64, err error) {
	hs, hm := sha256.New(), md5.New()
	n, err = io.Copy(io.MultiWriter(w, hs, hm), ctxReader{ctx, r})
	if err != nil {
		return "", "", n, err
	}
	return hex.EncodeToString(hs.Sum(nil)), hex.EncodeToString(hm.Sum(nil)), n, nil
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func writeTempJSON(dir string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "meta-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return "", err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// syncDir flushes a directory's entries (a rename into it) to disk; a
// failure only costs durability, so it is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Get implements Store.
func (s *FSStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := validate(bucket, key); err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ObjectInfo{}, err
	}
	s.mu.RLock()
	f, err := os.Open(s.dataPath(bucket, key))
	if err != nil {
		s.mu.RUnlock()
		return nil, ObjectInfo{}, s.openError("get", bucket, key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: %q is a key prefix, not an object", ErrNotFound, key)
	}
	var meta fsMeta
	var metaOK bool
	if err == nil {
		meta, metaOK = s.readMeta(bucket, key, fi)
	}
	s.mu.RUnlock()
	if err != nil {
		_ = f.Close()
		if errors.Is(err, ErrNotFound) {
			return nil, ObjectInfo{}, notFound("get", bucket, key, err)
		}
		return nil, ObjectInfo{}, fmt.Errorf("artifact: get %s/%s: %w", bucket, key, err)
	}
	if !metaOK {
		meta, err = rehash(io.NewSectionReader(f, 0, fi.Size()), fi)
		if err != nil {
			_ = f.Close()
			return nil, ObjectInfo{}, fmt.Errorf("artifact: get %s/%s: %w", bucket, key, err)
		}
	}
	return f, meta.info(bucket, key, fi), nil
}

func (s *FSStore) openError(op, bucket, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return notFound(op, bucket, key, nil)
	}
	return fmt.Errorf("artifact: %s %s/%s: %w", op, bucket, key, err)
}

// readMeta loads bucket/key's record and reports whether it still
// describes the data file fi.
func (s *FSStore) readMeta(bucket, key string, fi fs.FileInfo) (fsMeta, bool) {
	b, err := os.ReadFile(s.metaPath(bucket, key))
	if err != nil {
		return fsMeta{}, false
	}
	var m fsMeta
	if json.Unmarshal(b, &m) != nil || m.Size != fi.Size() || m.ModTime != fi.ModTime().UnixNano() || m.SHA256 == "" || m.MD5 == "" || m.Version == "" {
		return fsMeta{}, false
	}
	return m, true
}

// rehash rebuilds the record of a data file that has none, or a stale one.
func rehash(r io.Reader, fi fs.FileInfo) (fsMeta, error) {
	sum, md, n, err := copyHashing(context.Background(), io.Discard, r)
	if err != nil {
		return fsMeta{}, err
	}
	mt := fi.ModTime().UnixNano()
	return fsMeta{Size: n, SHA256: sum, MD5: md, Version: formatVersion(mt), ModTime: mt}, nil
}

func (m fsMeta) info(bucket, key string, fi fs.FileInfo) ObjectInfo {
	return ObjectInfo{Bucket: bucket, Key: key, Size: m.Size, SHA256: m.SHA256, ETag: m.MD5, VersionID: m.Version, Modified: fi.ModTime()}
}

// Head implements Store.
func (s *FSStore) Head(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	rc, info, err := s.head(ctx, "head", bucket, key)
	if rc != nil {
		_ = rc.Close()
	}
	return info, err
}

// head is Get without opening the file when its record is current.
func (s *FSStore) head(ctx context.Context, op, bucket, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := validate(bucket, key); err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ObjectInfo{}, err
	}
	s.mu.RLock()
	fi, err := os.Stat(s.dataPath(bucket, key))
	if err != nil {
		s.mu.RUnlock()
		return nil, ObjectInfo{}, s.openError(op, bucket, key, err)
	}
	if !fi.Mode().IsRegular() {
		s.mu.RUnlock()
		return nil, ObjectInfo{}, notFound(op, bucket, key, fmt.Errorf("%q is a key prefix, not an object", key))
	}
	meta, ok := s.readMeta(bucket, key, fi)
	s.mu.RUnlock()
	if ok {
		return nil, meta.info(bucket, key, fi), nil
	}
	return s.Get(ctx, bucket, key)
}

// Delete implements Store. Directories left empty are removed.
func (s *FSStore) Delete(ctx context.Context, bucket, key string) error {
	if err := validate(bucket, key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dst := s.dataPath(bucket, key)
	fi, err := os.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return fmt.Errorf("artifact: delete %s/%s: %w", bucket, key, err)
	case fi.IsDir():
		return nil // a prefix, not an object
	}
	if err := os.Remove(dst); err != nil {
		return fmt.Errorf("artifact: delete %s/%s: %w", bucket, key, err)
	}
	if err := os.Remove(s.metaPath(bucket, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("artifact: delete %s/%s: %w", bucket, key, err)
	}
	s.pruneEmpty(filepath.Join(s.root, bucket), filepath.Dir(dst))
	s.pruneEmpty(filepath.Join(s.root, fsMetaDir, bucket), filepath.Dir(s.metaPath(bucket, key)))
	return nil
}

// pruneEmpty removes dir and its parents up to, not including, stop while
// they are empty.
func (s *FSStore) pruneEmpty(stop, dir string) {
	for dir != stop && strings.HasPrefix(dir, stop+string(filepath.Separator)) {
		if os.Remove(dir) != nil { // not empty (or gone)
			return
		}
		dir = filepath.Dir(dir)
	}
}

// List implements Store. It fills in every ObjectInfo field.
func (s *FSStore) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	if err := ValidateBucket(bucket); err != nil {
		return nil, err
	}
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	bdir := filepath.Join(s.root, bucket)
	// Walk only the directory the prefix reaches into.
	start := bdir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(bdir, filepath.FromSlash(prefix[:i]))
	}
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(bdir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		meta, ok := s.readMeta(bucket, key, fi)
		if !ok {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			meta, err = rehash(f, fi)
			_ = f.Close()
			if err != nil {
				return err
			}
		}
		out = append(out, meta.info(bucket, key, fi))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("artifact: list %s/%s: %w", bucket, prefix, err)
	}
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

var _ Store = (*FSStore)(nil)
