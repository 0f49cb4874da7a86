package artifact

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// OneBucket maps every bucket of the artifact API onto one real bucket:
// object (bucket, key) is stored as Bucket/<bucket>/<key>. A server is
// configured with one S3 bucket, while pipelines name their own artifact
// "buckets" (artifactStore.location); OneBucket keeps them apart as
// prefixes. The real bucket itself maps to itself, unprefixed, so objects
// that other S3 clients write there (`aws deploy push --s3-location
// s3://<bucket>/<key>`) are found under the same bucket and key.
type OneBucket struct {
	Store  Store
	Bucket string
}

func (o *OneBucket) key(bucket, key string) (string, error) {
	if err := validate(bucket, key); err != nil {
		return "", err
	}
	return o.prefix(bucket) + key, nil
}

// prefix is where a bucket's objects live in the real bucket.
func (o *OneBucket) prefix(bucket string) string {
	if bucket == o.Bucket {
		return ""
	}
	return bucket + "/"
}

func (o *OneBucket) info(bucket string, in ObjectInfo) ObjectInfo {
	in.Bucket = bucket
	in.Key = strings.TrimPrefix(in.Key, o.prefix(bucket))
	return in
}

// Put stores the object under the bucket's prefix.
func (o *OneBucket) Put(ctx context.Context, bucket, key string, r io.Reader) (ObjectInfo, error) {
	k, err := o.key(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := o.Store.Put(ctx, o.Bucket, k, r)
	return o.info(bucket, info), err
}

// Get opens the object.
func (o *OneBucket) Get(ctx context.Context, bucket, key string) (io.ReadCloser, ObjectInfo, error) {
	k, err := o.key(bucket, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	rc, info, err := o.Store.Get(ctx, o.Bucket, k)
	return rc, o.info(bucket, info), err
}

// Head describes the object.
func (o *OneBucket) Head(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	k, err := o.key(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := o.Store.Head(ctx, o.Bucket, k)
	return o.info(bucket, info), err
}

// Delete removes the object.
func (o *OneBucket) Delete(ctx context.Context, bucket, key string) error {
	k, err := o.key(bucket, key)
	if err != nil {
		return err
	}
	return o.Store.Delete(ctx, o.Bucket, k)
}

// List lists the bucket's objects under prefix.
func (o *OneBucket) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	if err := ValidateBucket(bucket); err != nil {
		return nil, err
	}
	infos, err := o.Store.List(ctx, o.Bucket, o.prefix(bucket)+prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
	}
	for i := range infos {
		infos[i] = o.info(bucket, infos[i])
	}
	return infos, nil
}
