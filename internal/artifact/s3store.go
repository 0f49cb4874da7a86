package artifact

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config configures an [S3Store].
type S3Config struct {
	// Endpoint is the S3-compatible server's base URL, such as
	// "http://127.0.0.1:7070". Empty means AWS S3 itself.
	Endpoint string
	// Region signs the requests; "us-east-1" when empty.
	Region string
	// AccessKeyID and SecretAccessKey (and SessionToken, when the keys are
	// temporary) are the credentials. When AccessKeyID is empty the SDK's
	// default chain is used (environment, shared files, instance role).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// VirtualHostStyle addresses buckets as <bucket>.<endpoint host>. The
	// default is path-style (<endpoint>/<bucket>/<key>), which every
	// S3-compatible server supports.
	VirtualHostStyle bool
	// HTTPClient, when set, sends the requests.
	HTTPClient *http.Client
	// SpoolDir holds the temporary file an upload larger than
	// MemoryLimit is staged in while its SHA-256 is computed; the system
	// temporary directory when empty.
	SpoolDir string
	// MemoryLimit is the largest upload staged in memory rather than in a
	// file; 8 MiB when zero.
	MemoryLimit int64
}

// S3Store is the [Store] for S3-compatible object stores, built on
// aws-sdk-go-v2's S3 client.
//
// A Put stages the content (in memory or in a temporary file) while
// computing its SHA-256 and MD5, then uploads it in one PutObject with the
// SHA-256 as the object metadata x-amz-meta-sha256 (which Head and Get
// read back) and the MD5 as Content-MD5 (which the server checks). The
// bucket must exist; a missing bucket is reported as ErrNotFound.
type S3Store struct {
	client   *s3.Client
	spoolDir string
	memLimit int64
}

// metaSHA256 is the user metadata key (x-amz-meta-sha256) that holds an
// object's SHA-256.
const metaSHA256 = "sha256"

// NewS3Store returns a store that talks to the server cfg describes. It
// makes no request.
func NewS3Store(ctx context.Context, cfg S3Config) (*S3Store, error) {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	var awsCfg aws.Config
	if cfg.AccessKeyID != "" {
		awsCfg = aws.Config{
			Region:      region,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		}
	} else {
		var err error
		awsCfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
		if err != nil {
			return nil, fmt.Errorf("artifact: S3 store: load AWS configuration: %w", err)
		}
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = !cfg.VirtualHostStyle
		// Flexible checksums (trailing CRC headers, aws-chunked bodies)
		// are not implemented by every S3-compatible server; Content-MD5
		// is, and Put sends it.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		if cfg.HTTPClient != nil {
			o.HTTPClient = cfg.HTTPClient
		}
	})
	mem := cfg.MemoryLimit
	if mem <= 0 {
		mem = 8 << 20
	}
	return &S3Store{client: client, spoolDir: cfg.SpoolDir, memLimit: mem}, nil
}

// Client returns the underlying S3 client, for what Store does not cover
// (such as the S3 source action's bucket versioning checks).
func (s *S3Store) Client() *s3.Client { return s.client }

// Put implements Store.
func (s *S3Store) Put(ctx context.Context, bucket, key string, r io.Reader) (ObjectInfo, error) {
	if err := validate(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	fail := func(err error) (ObjectInfo, error) {
		return ObjectInfo{}, s3Error("put", bucket, key, err)
	}
	body, size, sum, md, cleanup, err := s.stage(ctx, r)
	if err != nil {
		return fail(err)
	}
	defer cleanup()
	mdRaw, _ := hex.DecodeString(md)
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(mdRaw)),
		ContentType:   aws.String(contentType(key)),
		Metadata:      map[string]string{metaSHA256: sum},
	})
	if err != nil {
		return fail(err)
	}
	info := ObjectInfo{
		Bucket: bucket, Key: key, Size: size, SHA256: sum,
		ETag: trimETag(out.ETag), VersionID: aws.ToString(out.VersionId),
	}
	// PutObject does not say when; HEAD the version just written.
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: out.VersionId})
	if err != nil {
		return fail(fmt.Errorf("read back after upload: %w", err))
	}
	info.Modified = aws.ToTime(head.LastModified)
	return info, nil
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".zip"):
		return "application/zip"
	case strings.HasSuffix(key, ".tgz"), strings.HasSuffix(key, ".tar.gz"):
		return "application/gzip"
	case strings.HasSuffix(key, ".tar"):
		return "application/x-tar"
	}
	return "application/octet-stream"
}

// stage reads r to its end, in memory up to s.memLimit and in a temporary
// file past that, and returns a seekable body with its length, hex SHA-256
// and hex MD5. cleanup removes the temporary file.
func (s *S3Store) stage(ctx context.Context, r io.Reader) (body io.ReadSeeker, size int64, sum, md string, cleanup func(), err error) {
	hs, hm := sha256.New(), md5.New()
	hashes := io.MultiWriter(hs, hm)
	var buf bytes.Buffer
	n, err := io.Copy(io.MultiWriter(&buf, hashes), io.LimitReader(ctxReader{ctx, r}, s.memLimit+1))
	if err != nil {
		return nil, 0, "", "", nil, err
	}
	hexSum := func(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
	if n <= s.memLimit {
		return bytes.NewReader(buf.Bytes()), n, hexSum(hs), hexSum(hm), func() {}, nil
	}
	f, err := os.CreateTemp(s.spoolDir, "slipway-s3-put-*")
	if err != nil {
		return nil, 0, "", "", nil, err
	}
	cleanup = func() { _ = f.Close(); _ = os.Remove(f.Name()) }
	_, err = f.Write(buf.Bytes()) // already hashed
	var m int64
	if err == nil {
		m, err = io.Copy(io.MultiWriter(f, hashes), ctxReader{ctx, r})
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, "", "", nil, err
	}
	return f, n + m, hexSum(hs), hexSum(hm), cleanup, nil
}

// Get implements Store.
func (s *S3Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := validate(bucket, key); err != nil {
		return nil, ObjectInfo{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, ObjectInfo{}, s3Error("get", bucket, key, err)
	}
	return out.Body, ObjectInfo{
		Bucket: bucket, Key: key,
		Size:      aws.ToInt64(out.ContentLength),
		SHA256:    metaSum(out.Metadata),
		ETag:      trimETag(out.ETag),
		VersionID: aws.ToString(out.VersionId),
		Modified:  aws.ToTime(out.LastModified),
	}, nil
}

// Head implements Store.
func (s *S3Store) Head(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	if err := validate(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return ObjectInfo{}, s3Error("head", bucket, key, err)
	}
	return ObjectInfo{
		Bucket: bucket, Key: key,
		Size:      aws.ToInt64(out.ContentLength),
		SHA256:    metaSum(out.Metadata),
		ETag:      trimETag(out.ETag),
		VersionID: aws.ToString(out.VersionId),
		Modified:  aws.ToTime(out.LastModified),
	}, nil
}

// Delete implements Store. In a versioned bucket it adds a delete marker,
// as DeleteObject does.
func (s *S3Store) Delete(ctx context.Context, bucket, key string) error {
	if err := validate(bucket, key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		err = s3Error("delete", bucket, key, err)
		if errors.Is(err, ErrNotFound) && !isNoSuchBucket(err) {
			return nil
		}
		return err
	}
	return nil
}

// List implements Store. It fills in Bucket, Key, Size, ETag and Modified:
// ListObjectsV2 reports neither metadata nor version IDs.
func (s *S3Store) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	if err := ValidateBucket(bucket); err != nil {
		return nil, err
	}
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var out []ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3Error("list", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, ObjectInfo{
				Bucket: bucket, Key: aws.ToString(o.Key),
				Size:     aws.ToInt64(o.Size),
				ETag:     trimETag(o.ETag),
				Modified: aws.ToTime(o.LastModified),
			})
		}
	}
	// S3 lists in UTF-8 byte order already; some compatible servers do not.
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// s3Error wraps an S3 client error, adding ErrNotFound for a missing key,
// version or bucket.
func s3Error(op, bucket, key string, err error) error {
	var (
		nsk  *types.NoSuchKey
		nf   *types.NotFound
		nsb  *types.NoSuchBucket
		api  smithy.APIError
		resp *awshttp.ResponseError
	)
	switch {
	case errors.As(err, &nsk), errors.As(err, &nf), errors.As(err, &nsb):
		return notFound(op, bucket, key, err)
	case errors.As(err, &api) && slices.Contains([]string{"NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchVersion"}, api.ErrorCode()):
		return notFound(op, bucket, key, err)
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound:
		return notFound(op, bucket, key, err)
	}
	return fmt.Errorf("artifact: %s s3://%s/%s: %w", op, bucket, key, err)
}

func isNoSuchBucket(err error) bool {
	var nsb *types.NoSuchBucket
	var api smithy.APIError
	return errors.As(err, &nsb) || errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket"
}

func trimETag(p *string) string { return strings.Trim(aws.ToString(p), `"`) }

// metaSum returns the SHA-256 recorded in an object's metadata, or "" when
// there is none (the object was written by something else).
func metaSum(meta map[string]string) string {
	for k, v := range meta {
		if strings.EqualFold(k, metaSHA256) {
			v = strings.ToLower(strings.TrimSpace(v))
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				return v
			}
		}
	}
	return ""
}

var _ Store = (*S3Store)(nil)
