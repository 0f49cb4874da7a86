package artifact

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Store keeps artifacts as objects addressed by bucket and key. Every
// implementation passes the same conformance suite (store_conformance_test.go).
//
// A missing object makes Get and Head fail with an error wrapping
// [ErrNotFound]; a bucket name or key that breaks the naming rules makes
// every method fail with an error wrapping [ErrInvalidName]. Delete of a
// missing object succeeds, as in S3.
type Store interface {
	// Put stores everything r yields as bucket/key, replacing any object
	// there, and returns what it recorded, including the SHA-256 of the
	// content.
	Put(ctx context.Context, bucket, key string, r io.Reader) (ObjectInfo, error)
	// Get opens the object for reading. The caller closes the reader.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, ObjectInfo, error)
	// Head returns what is recorded about the object.
	Head(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// Delete removes the object.
	Delete(ctx context.Context, bucket, key string) error
	// List returns the objects whose key starts with prefix, sorted by key
	// (byte order, as S3 does). An empty prefix lists the whole bucket.
	// See ObjectInfo for which fields each store fills in.
	List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error)
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Bucket string
	Key    string
	// Size is the object's length in bytes.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the content. The S3 store
	// reads it from the object's x-amz-meta-sha256 metadata, so it is
	// empty for objects written by something else and in List results.
	SHA256 string
	// ETag is the entity tag without quotes. Both stores use S3's
	// single-part form, the hex MD5 of the content, so it changes when the
	// content changes and stays the same when identical content is put
	// again.
	ETag string
	// VersionID changes on every Put. The filesystem store's is a
	// 20-digit decimal that increases with every write; the S3 store
	// reports the server's version ID, which is empty unless the bucket
	// has versioning enabled (and in List results).
	VersionID string
	// Modified is when the object was last written.
	Modified time.Time
}

// ErrNotFound is wrapped by the error for an object (or bucket) that does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalidName is wrapped by the error for a bucket name or key that
// breaks the naming rules.
var ErrInvalidName = errors.New("invalid name")

// notFound returns the error for a missing bucket/key, wrapping
// ErrNotFound and, when not nil, the underlying cause.
func notFound(op, bucket, key string, cause error) error {
	if cause != nil {
		return fmt.Errorf("artifact: %s %s/%s: %w (%w)", op, bucket, key, ErrNotFound, cause)
	}
	return fmt.Errorf("artifact: %s %s/%s: %w", op, bucket, key, ErrNotFound)
}

// MaxKeyLength is the longest key in bytes, as in S3.
const MaxKeyLength = 1024

// ValidateBucket reports whether name follows the S3 general purpose bucket
// naming rules: 3 to 63 characters of lowercase letters, digits, dots and
// hyphens that start and end with a letter or digit, no two adjacent dots,
// not shaped like an IPv4 address, and none of the reserved prefixes and
// suffixes. The error wraps ErrInvalidName and says which rule failed.
func ValidateBucket(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("artifact: bucket name %q: %w: %s", name, ErrInvalidName, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad(fmt.Sprintf("character %q is not allowed (only lowercase letters, digits, '.' and '-')", rune(c)))
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must begin and end with a lowercase letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not contain two adjacent periods")
	}
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		return bad("must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad(fmt.Sprintf("the prefix %q is reserved", p))
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad(fmt.Sprintf("the suffix %q is reserved", s))
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ValidateKey reports whether key is a safe object key: 1 to MaxKeyLength
// bytes of valid UTF-8 without NUL bytes, relative (no leading '/'), and
// made of non-empty segments other than "." and ".." (so no trailing '/'
// either). S3 itself allows more, but these keys map one to one onto
// filesystem paths below a bucket directory. The error wraps ErrInvalidName
// and says which rule failed.
func ValidateKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("artifact: object key %q: %w: %s", key, ErrInvalidName, why)
	}
	switch {
	case key == "":
		return bad("must not be empty")
	case len(key) > MaxKeyLength:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLength))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.IndexByte(key, 0) >= 0:
		return bad("contains a NUL byte")
	case strings.HasPrefix(key, "/"):
		return bad("must be relative (no leading '/')")
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return bad("empty path segment ('//' or a trailing '/')")
		case ".", "..":
			return bad(fmt.Sprintf("%q path segments are not allowed", seg))
		}
	}
	return nil
}

// validatePrefix checks a List prefix: empty, or the start of a valid key
// (so it may end in '/').
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	k := strings.TrimSuffix(prefix, "/")
	if err := ValidateKey(k); err != nil {
		return fmt.Errorf("artifact: list prefix %q: %w", prefix, errors.Unwrap(err))
	}
	return nil
}

func validate(bucket, key string) error {
	if err := ValidateBucket(bucket); err != nil {
		return err
	}
	return ValidateKey(key)
}

// PipelinePrefix is the key prefix, ending in '/', under which
// NewArtifactKey lays out the artifacts of the named pipeline.
func PipelinePrefix(pipeline string) string {
	return keySegment(pipeline) + "/"
}

// NewArtifactKey returns a fresh key for an artifact of the named pipeline,
// <pipeline>/<artifact>/<id> with a random 10-character id, like
// CodePipeline's <pipeline>/<artifact>/<id> layout but without truncating
// the names (so that one pipeline's prefix never covers another's). Names
// made only of dots, which pipeline names may be, are escaped as %2E.
func NewArtifactKey(pipeline, artifactName string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return PipelinePrefix(pipeline) + keySegment(artifactName) + "/" + string(b)
}

// keySegment makes s usable as one key segment, one to one: '%' becomes
// %25 and '/' %2F, a name made only of dots has each escaped as %2E, and
// the empty name becomes a lone "%" (which no escaped name can be).
func keySegment(s string) string {
	switch {
	case s == "":
		return "%"
	case strings.Trim(s, ".") == "":
		return strings.Repeat("%2E", len(s))
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}
