package artifact

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway-cd/slipway/internal/artifact/s3test"
)

// s3Server is a running versitygw with a store on it.
type s3Server struct {
	*s3test.Server
	endpoint string
	client   *s3.Client
	store    *S3Store
}

const (
	testAccessKey = s3test.AccessKey
	testSecretKey = s3test.SecretKey
)

// startS3Server starts versitygw for t (see package s3test).
func startS3Server(t *testing.T) *s3Server {
	t.Helper()
	srv := s3test.Start(t)
	store, err := NewS3Store(t.Context(), S3Config{
		Endpoint: srv.Endpoint, Region: "us-east-1",
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
		SpoolDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &s3Server{Server: srv, endpoint: srv.Endpoint, client: store.Client(), store: store}
}

func (s *s3Server) bucket(t *testing.T, name string, versioned bool) { s.Bucket(t, name, versioned) }

func TestS3Store(t *testing.T) {
	t.Parallel()
	srv := startS3Server(t)
	srv.bucket(t, "slipway-versioned", true)
	srv.bucket(t, "slipway-plain", false)

	t.Run("Conformance/Versioned", func(t *testing.T) {
		t.Parallel()
		runConformance(t, storeUnderTest{
			store: srv.store, bucket: "slipway-versioned", missingBucket: "no-such-bucket",
			versioned: true,
		})
	})
	t.Run("Conformance/Unversioned", func(t *testing.T) {
		t.Parallel()
		runConformance(t, storeUnderTest{
			store: srv.store, bucket: "slipway-plain", missingBucket: "no-such-bucket",
		})
	})

	t.Run("Conformance/OneBucket", func(t *testing.T) {
		t.Parallel()
		// Every pipeline's bucket as a prefix of the one configured bucket.
		runConformance(t, storeUnderTest{
			store: &OneBucket{Store: srv.store, Bucket: "slipway-plain"}, bucket: "codepipeline-us-east-1-123", missingBucket: "no-such-bucket",
		})
	})
	t.Run("OneBucket/RealBucketUnprefixed", func(t *testing.T) {
		t.Parallel()
		// What another S3 client put in the real bucket is found there
		// under the same key (aws deploy push to s3://<bucket>/<key>).
		ctx := t.Context()
		if _, err := srv.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slipway-plain"), Key: aws.String("pushed/app.zip"), Body: strings.NewReader("zip")}); err != nil {
			t.Fatal(err)
		}
		one := &OneBucket{Store: srv.store, Bucket: "slipway-plain"}
		h, err := one.Head(ctx, "slipway-plain", "pushed/app.zip")
		if err != nil || h.Size != 3 || h.Bucket != "slipway-plain" || h.Key != "pushed/app.zip" {
			t.Errorf("Head through OneBucket = %+v, %v", h, err)
		}
	})

	t.Run("SHA256Metadata", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		info, err := srv.store.Put(ctx, "slipway-plain", "meta/obj", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		// What another S3 client sees: the sum in x-amz-meta-sha256.
		h, err := srv.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("slipway-plain"), Key: aws.String("meta/obj")})
		if err != nil {
			t.Fatal(err)
		}
		if got := metaSum(h.Metadata); got != info.SHA256 || got != sha256Hex([]byte("hello")) {
			t.Errorf("x-amz-meta-sha256 = %q (metadata %v), want %q", got, h.Metadata, info.SHA256)
		}
	})

	t.Run("ForeignObject", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		// Written by something else (say, a user's upload the S3 source
		// action watches): no recorded sum.
		_, err := srv.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slipway-plain"), Key: aws.String("foreign/obj"), Body: strings.NewReader("theirs")})
		if err != nil {
			t.Fatal(err)
		}
		h, err := srv.store.Head(ctx, "slipway-plain", "foreign/obj")
		if err != nil {
			t.Fatal(err)
		}
		if h.SHA256 != "" || h.Size != 6 || h.ETag == "" {
			t.Errorf("Head(foreign object) = %+v; want no SHA256, size 6, an ETag", h)
		}
	})

	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		bad, err := NewS3Store(t.Context(), S3Config{Endpoint: srv.endpoint, AccessKeyID: testAccessKey, SecretAccessKey: "wrong"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Head(t.Context(), "slipway-plain", "meta/obj")
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Head with a wrong secret = %v, want an access error", err)
		}
	})
}

func TestS3StoreUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := NewS3Store(ctx, S3Config{Endpoint: "http://" + addr, AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(ctx, "bucket", "key", strings.NewReader("x"))
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "bucket/key") {
		t.Errorf("Put to a closed port = %v, want a connection error naming the object", err)
	}
}
