package artifact

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestFSStore(t *testing.T) *FSStore {
	t.Helper()
	s, err := NewFSStore(filepath.Join(t.TempDir(), "data", FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFSStoreConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, storeUnderTest{
		store:         newTestFSStore(t),
		bucket:        "slipway-artifacts",
		missingBucket: "no-such-bucket",
		versioned:     true,
		listHasSums:   true,
	})
}

func TestFSStoreLayout(t *testing.T) {
	t.Parallel()
	s := newTestFSStore(t)
	ctx := t.Context()
	key := NewArtifactKey("MyPipeline", "SourceArtifact")
	if _, err := s.Put(ctx, "codepipeline-us-east-1", key, strings.NewReader("zip bytes")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Root(), "codepipeline-us-east-1", filepath.FromSlash(key))
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "zip bytes" {
		t.Fatalf("object file %s = %q, %v; want the content", p, b, err)
	}
	if got, err := s.Path("codepipeline-us-east-1", key); err != nil || got != p {
		t.Errorf("Path = %q, %v; want %q", got, err, p)
	}
	tmp, err := os.ReadDir(filepath.Join(s.Root(), fsTmpDir))
	if err != nil || len(tmp) != 0 {
		t.Errorf("staging directory holds %v (%v); want it empty after Put", tmp, err)
	}
	// Internal directories are not buckets and do not show in listings.
	objs, err := s.List(ctx, "codepipeline-us-east-1", "")
	if err != nil || len(objs) != 1 || objs[0].Key != key {
		t.Errorf("List = %+v, %v; want just %q", objs, err, key)
	}
}

func TestFSStoreVersionsIncrease(t *testing.T) {
	t.Parallel()
	s := newTestFSStore(t)
	ctx := t.Context()
	prev := ""
	for i := range 200 {
		info, err := s.Put(ctx, "bucket", "k", strings.NewReader("same"))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.VersionID) != 20 || info.VersionID <= prev {
			t.Fatalf("Put %d: VersionID %q after %q; want 20 digits, increasing", i, info.VersionID, prev)
		}
		prev = info.VersionID
	}
	h, err := s.Head(ctx, "bucket", "k")
	if err != nil || h.VersionID != prev {
		t.Errorf("Head VersionID = %q, %v; want %q", h.VersionID, err, prev)
	}
}

// An object file changed behind the store's back is hashed again rather
// than reported with its old record.
func TestFSStoreStaleRecord(t *testing.T) {
	t.Parallel()
	s := newTestFSStore(t)
	ctx := t.Context()
	old, err := s.Put(ctx, "bucket", "dir/obj", strings.NewReader("original"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Path("bucket", "dir/obj")
	if err := os.WriteFile(p, []byte("replaced by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, future, future); err != nil {
		t.Fatal(err)
	}
	h, err := s.Head(ctx, "bucket", "dir/obj")
	if err != nil {
		t.Fatal(err)
	}
	if h.SHA256 != sha256Hex([]byte("replaced by hand")) || h.Size != 16 || h.ETag == old.ETag || h.VersionID <= old.VersionID {
		t.Errorf("Head after the file changed = %+v; want the new content's sums and a later version than %q", h, old.VersionID)
	}
	rc, g, err := s.Get(ctx, "bucket", "dir/obj")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	sameObject(t, "Get", g, h)

	// A file with no record at all (copied in by hand).
	if err := os.WriteFile(filepath.Join(s.Root(), "bucket", "hand"), []byte("hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err = s.Head(ctx, "bucket", "hand")
	if err != nil || h.SHA256 != sha256Hex([]byte("hand")) || h.VersionID == "" {
		t.Errorf("Head(unrecorded file) = %+v, %v", h, err)
	}
	l, err := s.List(ctx, "bucket", "hand")
	if err != nil || len(l) != 1 || l[0].SHA256 != h.SHA256 {
		t.Errorf("List(unrecorded file) = %+v, %v", l, err)
	}
}

// On a filesystem a key cannot also be a prefix of other keys.
func TestFSStoreKeyPrefixConflict(t *testing.T) {
	t.Parallel()
	s := newTestFSStore(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "bucket", "a/b", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(ctx, "bucket", "a", strings.NewReader("x"))
	if err == nil || !strings.Contains(err.Error(), `prefix "a/"`) {
		t.Errorf("Put(a) over prefix a/ error = %v, want one naming the prefix", err)
	}
	if _, err := s.Put(ctx, "bucket", "a/b/c", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), `existing object "a/b"`) {
		t.Errorf("Put(a/b/c) below object a/b error = %v, want one naming the object", err)
	}
	if err := s.Delete(ctx, "bucket", "a"); err != nil {
		t.Errorf("Delete(prefix) = %v, want nil (no such object)", err)
	}
	if err := s.Delete(ctx, "bucket", "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "bucket", "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty directory a left after deleting a/b: %v", err)
	}
	if _, err := s.Put(ctx, "bucket", "a", strings.NewReader("x")); err != nil {
		t.Errorf("Put(a) once a/ is gone: %v", err)
	}
}

// A failed upload leaves neither an object nor a staging file.
func TestFSStoreFailedPut(t *testing.T) {
	t.Parallel()
	s := newTestFSStore(t)
	ctx := t.Context()
	boom := errors.New("reader broke")
	_, err := s.Put(ctx, "bucket", "k", io.MultiReader(strings.NewReader("partial"), errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("Put error = %v, want the reader's", err)
	}
	if _, err := s.Head(ctx, "bucket", "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head after failed Put = %v, want ErrNotFound", err)
	}
	if tmp, _ := os.ReadDir(filepath.Join(s.Root(), fsTmpDir)); len(tmp) != 0 {
		t.Errorf("staging files left: %v", tmp)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestArtifactKeys(t *testing.T) {
	t.Parallel()
	k := NewArtifactKey("MyPipeline", "BuildOutput")
	if !strings.HasPrefix(k, "MyPipeline/BuildOutput/") || len(k) != len("MyPipeline/BuildOutput/")+10 || ValidateKey(k) != nil {
		t.Errorf("NewArtifactKey = %q", k)
	}
	if k2 := NewArtifactKey("MyPipeline", "BuildOutput"); k2 == k {
		t.Errorf("two NewArtifactKey calls returned %q", k)
	}
	if !strings.HasPrefix(k, PipelinePrefix("MyPipeline")) || strings.HasPrefix(k, PipelinePrefix("MyPipe")) {
		t.Errorf("PipelinePrefix does not separate pipelines")
	}
	for name, want := range map[string]string{"..": "%2E%2E/", ".": "%2E/", "": "%/", "a%2Eb": "a%252Eb/", "p.v1@x": "p.v1@x/"} {
		if got := PipelinePrefix(name); got != want {
			t.Errorf("PipelinePrefix(%q) = %q, want %q", name, got, want)
		}
		if err := ValidateKey(NewArtifactKey(name, "a")); err != nil {
			t.Errorf("NewArtifactKey(%q): %v", name, err)
		}
	}
}

func TestValidateBucket(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"abc", "my-bucket", "my.bucket.name", "0123", strings.Repeat("a", 63), "codepipeline-us-east-1-123456789012"} {
		if err := ValidateBucket(ok); err != nil {
			t.Errorf("ValidateBucket(%q) = %v", ok, err)
		}
	}
	for bad, why := range map[string]string{
		"ab": "3 to 63", "Caps": "character 'C'", "a_b": "character '_'", ".ab": "begin and end", "ab-": "begin and end",
		"a..b": "adjacent periods", "10.0.0.1": "IP address", "xn--abc": `prefix "xn--"`, "sthree-x": `prefix "sthree-"`,
		"x-s3alias": `suffix "-s3alias"`, "x--ol-s3": `suffix "--ol-s3"`, "x.mrap": `suffix ".mrap"`,
	} {
		err := ValidateBucket(bad)
		if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), why) {
			t.Errorf("ValidateBucket(%q) = %v, want ErrInvalidName mentioning %q", bad, err, why)
		}
	}
}
