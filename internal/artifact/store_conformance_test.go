package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeUnderTest is one Store the conformance suite runs against.
type storeUnderTest struct {
	store  Store
	bucket string // exists and is writable
	// missingBucket is a valid bucket name that does not exist.
	missingBucket string
	// versioned: every Put reports a new, non-empty VersionID.
	versioned bool
	// listHasSums: List fills in SHA256 and VersionID.
	listHasSums bool
}

// runConformance is the suite every Store implementation passes. Its
// subtests run in parallel, each under a key prefix of its own.
func runConformance(t *testing.T, sut storeUnderTest) {
	t.Helper()
	ctx := t.Context()
	s, bucket := sut.store, sut.bucket
	prefix := func(t *testing.T) string {
		return "conformance/" + strings.ReplaceAll(t.Name(), "/", "_")
	}
	put := func(t *testing.T, key string, data []byte) ObjectInfo {
		t.Helper()
		info, err := s.Put(ctx, bucket, key, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		checkInfo(t, "Put", info, bucket, key, data)
		if sut.versioned && info.VersionID == "" {
			t.Errorf("Put(%q): empty VersionID from a versioned store", key)
		}
		return info
	}
	get := func(t *testing.T, key string) ([]byte, ObjectInfo) {
		t.Helper()
		rc, info, err := s.Get(ctx, bucket, key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("Get(%q): read: %v", key, err)
		}
		return data, info
	}

	t.Run("PutGetHead", func(t *testing.T) {
		t.Parallel()
		key := prefix(t) + "/artifact.zip"
		data := []byte("the artifact's bytes\n")
		pinfo := put(t, key, data)
		got, ginfo := get(t, key)
		if !bytes.Equal(got, data) {
			t.Errorf("Get = %q, want %q", got, data)
		}
		sameObject(t, "Get", ginfo, pinfo)
		hinfo, err := s.Head(ctx, bucket, key)
		if err != nil {
			t.Fatalf("Head: %v", err)
		}
		sameObject(t, "Head", hinfo, pinfo)
		if hinfo.Modified.IsZero() || time.Since(hinfo.Modified) > time.Hour || time.Until(hinfo.Modified) > time.Minute {
			t.Errorf("Head Modified = %v, want about now", hinfo.Modified)
		}
	})

	t.Run("EmptyObject", func(t *testing.T) {
		t.Parallel()
		key := prefix(t) + "/empty"
		put(t, key, nil)
		got, info := get(t, key)
		if len(got) != 0 || info.Size != 0 {
			t.Errorf("Get = %d bytes, Size %d; want empty", len(got), info.Size)
		}
		if want := sha256Hex(nil); info.SHA256 != want {
			t.Errorf("SHA256 = %q, want %q", info.SHA256, want)
		}
	})

	t.Run("LargeStream", func(t *testing.T) {
		t.Parallel()
		// Larger than the S3 store's in-memory staging, from a reader
		// that cannot seek.
		data := randomBytes(9<<20+123, 1)
		key := prefix(t) + "/big.bin"
		pr, pw := io.Pipe()
		go func() { _, err := pw.Write(data); pw.CloseWithError(err) }()
		info, err := s.Put(ctx, bucket, key, pr)
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		checkInfo(t, "Put", info, bucket, key, data)
		got, ginfo := get(t, key)
		if !bytes.Equal(got, data) {
			t.Errorf("Get returned %d bytes that differ from the %d put", len(got), len(data))
		}
		sameObject(t, "Get", ginfo, info)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		key := prefix(t) + "/never-written"
		if _, err := s.Head(ctx, bucket, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head(missing) error = %v, want ErrNotFound", err)
		} else if !strings.Contains(err.Error(), key) {
			t.Errorf("Head(missing) error %q does not name the key", err)
		}
		if rc, _, err := s.Get(ctx, bucket, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
			if rc != nil {
				rc.Close()
			}
		}
		// A prefix of existing keys is not an object either.
		put(t, key+"-dir/child", []byte("x"))
		if _, err := s.Head(ctx, bucket, key+"-dir"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head(prefix) error = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, bucket, key); err != nil {
			t.Errorf("Delete(missing) = %v, want nil (as S3)", err)
		}
		if _, err := s.Head(ctx, sut.missingBucket, "k"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head(missing bucket) error = %v, want ErrNotFound", err)
		}
		if rc, _, err := s.Get(ctx, sut.missingBucket, "k"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(missing bucket) error = %v, want ErrNotFound", err)
			if rc != nil {
				rc.Close()
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		t.Parallel()
		key := prefix(t) + "/obj"
		a := put(t, key, []byte("version A"))
		b := put(t, key, []byte("version B, longer"))
		if a.ETag == b.ETag {
			t.Errorf("ETag did not change when the content did: %q", a.ETag)
		}
		if a.SHA256 == b.SHA256 {
			t.Errorf("SHA256 did not change when the content did")
		}
		if sut.versioned && a.VersionID == b.VersionID {
			t.Errorf("VersionID did not change on overwrite: %q", a.VersionID)
		}
		got, ginfo := get(t, key)
		if string(got) != "version B, longer" {
			t.Errorf("Get after overwrite = %q", got)
		}
		sameObject(t, "Get", ginfo, b)
		h, err := s.Head(ctx, bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, "Head", h, b)
		if h.Modified.Before(a.Modified.Truncate(time.Second)) {
			t.Errorf("Modified went back: %v after %v", h.Modified, a.Modified)
		}
		// The same content again: same ETag (an MD5, as S3's), new version.
		c := put(t, key, []byte("version B, longer"))
		if c.ETag != b.ETag || c.SHA256 != b.SHA256 {
			t.Errorf("same content, different ETag/SHA256: %+v vs %+v", c, b)
		}
		if sut.versioned && c.VersionID == b.VersionID {
			t.Errorf("VersionID did not change when the same content was put again: %q", c.VersionID)
		}
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		p := prefix(t)
		want := map[string]ObjectInfo{}
		for i, k := range []string{"/b/d", "/a.zip", "/b-e", "/b/c"} {
			want[p+k] = put(t, p+k, bytes.Repeat([]byte{'x'}, i+1))
		}
		check := func(prefix string, keys ...string) {
			t.Helper()
			got, err := s.List(ctx, bucket, prefix)
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			var gotKeys []string
			for _, o := range got {
				gotKeys = append(gotKeys, o.Key)
				w := want[o.Key]
				if o.Bucket != bucket || o.Size != w.Size || o.ETag != w.ETag {
					t.Errorf("List(%q) entry %+v, want bucket %q, size %d, ETag %q", prefix, o, bucket, w.Size, w.ETag)
				}
				if o.Modified.IsZero() {
					t.Errorf("List(%q) entry %q has no Modified", prefix, o.Key)
				}
				if sut.listHasSums && (o.SHA256 != w.SHA256 || o.VersionID != w.VersionID) {
					t.Errorf("List(%q) entry %q: SHA256 %q, VersionID %q; want %q, %q", prefix, o.Key, o.SHA256, o.VersionID, w.SHA256, w.VersionID)
				}
			}
			var wantKeys []string
			for _, k := range keys {
				wantKeys = append(wantKeys, p+k)
			}
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("List(%q) = %q, want %q", prefix, gotKeys, wantKeys)
			}
		}
		check(p+"/", "/a.zip", "/b-e", "/b/c", "/b/d") // byte order: '-' < '/'
		check(p, "/a.zip", "/b-e", "/b/c", "/b/d")
		check(p+"/b", "/b-e", "/b/c", "/b/d")
		check(p+"/b/", "/b/c", "/b/d")
		check(p+"/b/c", "/b/c")
		check(p + "/zz")
		all, err := s.List(ctx, bucket, "")
		if err != nil {
			t.Fatalf("List(bucket): %v", err)
		}
		n := 0
		for _, o := range all {
			if strings.HasPrefix(o.Key, p+"/") {
				n++
			}
		}
		if n != len(want) {
			t.Errorf("List(\"\") has %d of this test's %d objects", n, len(want))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		p := prefix(t)
		key := p + "/deep/er/obj"
		put(t, key, []byte("doomed"))
		keep := put(t, p+"/keep", []byte("kept"))
		if err := s.Delete(ctx, bucket, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Head(ctx, bucket, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head after Delete error = %v, want ErrNotFound", err)
		}
		if rc, _, err := s.Get(ctx, bucket, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
			if rc != nil {
				rc.Close()
			}
		}
		if err := s.Delete(ctx, bucket, key); err != nil {
			t.Errorf("second Delete = %v, want nil", err)
		}
		got, err := s.List(ctx, bucket, p+"/")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Key != keep.Key {
			t.Errorf("List after Delete = %+v, want only %q", got, keep.Key)
		}
	})

	t.Run("InvalidNames", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"", "/abs/key", "a/../b", "..", "../x", "a/./b", "./a", "a//b", "dir/", "a\x00b", "bad\xffutf8", strings.Repeat("k", MaxKeyLength+1)} {
			checkInvalid := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, ErrInvalidName) {
					t.Errorf("%s(key %q) error = %v, want ErrInvalidName", op, key, err)
					return
				}
				if q := fmt.Sprintf("%q", key); len(key) < 100 && !strings.Contains(err.Error(), q) {
					t.Errorf("%s(key %q) error %q does not name the key", op, key, err)
				}
			}
			_, err := s.Put(ctx, bucket, key, strings.NewReader("x"))
			checkInvalid("Put", err)
			_, _, err = s.Get(ctx, bucket, key)
			checkInvalid("Get", err)
			_, err = s.Head(ctx, bucket, key)
			checkInvalid("Head", err)
			checkInvalid("Delete", s.Delete(ctx, bucket, key))
		}
		for _, b := range []string{"", "ab", "UpperCase", "under_score", "-leading", "trailing-", "two..dots", "192.168.1.2", "xn--punycode", strings.Repeat("b", 64), "../escape", "a/b"} {
			_, err := s.Put(ctx, b, "key", strings.NewReader("x"))
			if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), fmt.Sprintf("%q", b)) {
				t.Errorf("Put(bucket %q) error = %v, want ErrInvalidName naming the bucket", b, err)
			}
			if _, err := s.List(ctx, b, ""); !errors.Is(err, ErrInvalidName) {
				t.Errorf("List(bucket %q) error = %v, want ErrInvalidName", b, err)
			}
		}
		for _, p := range []string{"/abs", "a/../", "a//"} {
			if _, err := s.List(ctx, bucket, p); !errors.Is(err, ErrInvalidName) {
				t.Errorf("List(prefix %q) error = %v, want ErrInvalidName", p, err)
			}
		}
	})

	t.Run("CanceledPut", func(t *testing.T) {
		t.Parallel()
		key := prefix(t) + "/canceled"
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Put(cctx, bucket, key, strings.NewReader("never stored")); err == nil {
			t.Fatal("Put with a canceled context succeeded")
		}
		if _, err := s.Head(ctx, bucket, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head after canceled Put error = %v, want ErrNotFound", err)
		}
	})

	t.Run("ConcurrentOverwrites", func(t *testing.T) {
		t.Parallel()
		key := prefix(t) + "/contended"
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				if _, err := s.Put(ctx, bucket, key, bytes.NewReader(randomBytes(64<<10+i, uint64(i)))); err != nil {
					t.Errorf("Put %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		data, info := get(t, key)
		if info.SHA256 != sha256Hex(data) || info.Size != int64(len(data)) {
			t.Errorf("after concurrent Puts, Get info (size %d, sha %s) does not describe its content (size %d, sha %s)",
				info.Size, info.SHA256, len(data), sha256Hex(data))
		}
		h, err := s.Head(ctx, bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, "Head", h, info)
	})
}

// checkInfo checks what Put returned against what was put.
func checkInfo(t *testing.T, op string, info ObjectInfo, bucket, key string, data []byte) {
	t.Helper()
	if info.Bucket != bucket || info.Key != key {
		t.Errorf("%s: Bucket/Key = %q/%q, want %q/%q", op, info.Bucket, info.Key, bucket, key)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("%s(%q): Size = %d, want %d", op, key, info.Size, len(data))
	}
	if want := sha256Hex(data); info.SHA256 != want {
		t.Errorf("%s(%q): SHA256 = %q, want %q", op, key, info.SHA256, want)
	}
	if info.ETag == "" || strings.Contains(info.ETag, `"`) {
		t.Errorf("%s(%q): ETag = %q, want a non-empty unquoted tag", op, key, info.ETag)
	}
	if info.Modified.IsZero() {
		t.Errorf("%s(%q): Modified is zero", op, key)
	}
}

// sameObject checks that got describes the same stored object as want.
func sameObject(t *testing.T, op string, got, want ObjectInfo) {
	t.Helper()
	if got.Bucket != want.Bucket || got.Key != want.Key || got.Size != want.Size || got.SHA256 != want.SHA256 || got.ETag != want.ETag || got.VersionID != want.VersionID {
		t.Errorf("%s = %+v\nwant the object %+v", op, got, want)
	}
	if !got.Modified.Truncate(time.Second).Equal(want.Modified.Truncate(time.Second)) {
		t.Errorf("%s Modified = %v, want %v", op, got.Modified, want.Modified)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
