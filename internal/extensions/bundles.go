package extensions

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// UploadBundle stores a revision bundle in the artifact store
// (docs/api-extensions.md, "Revision bundles"): `slipway deploy push`
// uploads with it, then registers the revision with the returned eTag.
func (s *Service) UploadBundle(ctx context.Context, in *slipwayapi.UploadBundleInput) (*slipwayapi.UploadBundleOutput, error) {
	if s.Bundles == nil {
		return nil, errors.New("extensions: no artifact store configured")
	}
	data, err := base64.StdEncoding.DecodeString(in.Content)
	if err != nil {
		return nil, awsproto.Errorf(slipwayapi.ValidationException, "content is not valid base64: %v", err)
	}
	if len(data) > slipwayapi.MaxBundleBytes {
		return nil, awsproto.Errorf(slipwayapi.ValidationException, "the bundle has %d bytes; at most %d are allowed", len(data), slipwayapi.MaxBundleBytes)
	}
	info, err := s.Bundles.Put(ctx, in.Bucket, in.Key, bytes.NewReader(data))
	if errors.Is(err, artifact.ErrInvalidName) {
		return nil, awsproto.Errorf(slipwayapi.ValidationException, "%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("extensions: store bundle %s/%s: %w", in.Bucket, in.Key, err)
	}
	s.logger().InfoContext(ctx, "bundle uploaded", "bucket", in.Bucket, "key", in.Key, "size", info.Size, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.UploadBundleOutput{Bucket: in.Bucket, Key: in.Key, ETag: info.ETag, Size: info.Size, SHA256: info.SHA256, VersionID: info.VersionID}, nil
}
