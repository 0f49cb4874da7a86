package extensions

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// GetArtifact returns an object of the artifact store: an artifact an
// action produced, or a revision bundle.
func (s *Service) GetArtifact(ctx context.Context, in *slipwayapi.GetArtifactInput) (*slipwayapi.GetArtifactOutput, error) {
	if s.Bundles == nil {
		return nil, errors.New("extensions: no artifact store configured")
	}
	info, err := s.Bundles.Head(ctx, in.Bucket, in.Key)
	switch {
	case errors.Is(err, artifact.ErrNotFound):
		return nil, awsproto.Errorf(slipwayapi.ResourceNotFoundException, "no artifact %s/%s", in.Bucket, in.Key)
	case errors.Is(err, artifact.ErrInvalidName):
		return nil, awsproto.Errorf(awsproto.ValidationException, "%v", err)
	case err != nil:
		return nil, fmt.Errorf("head artifact: %w", err)
	case info.Size > slipwayapi.MaxArtifactBytes:
		return nil, awsproto.Errorf(awsproto.ValidationException, "artifact %s/%s is %d bytes; GetArtifact returns at most %d", in.Bucket, in.Key, info.Size, slipwayapi.MaxArtifactBytes)
	}
	rc, info, err := s.Bundles.Get(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, fmt.Errorf("get artifact: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, slipwayapi.MaxArtifactBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	return &slipwayapi.GetArtifactOutput{Content: data, Size: int64(len(data)), SHA256: info.SHA256, ETag: info.ETag, VersionID: info.VersionID}, nil
}
