package slipwayapi

import (
	"context"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

func init() { Operations = append(Operations, "GetArtifact") }

// MaxArtifactBytes bounds what one GetArtifact response carries.
const MaxArtifactBytes = 64 << 20

// GetArtifactInput names an object of the artifact store, as an action's
// input or output artifact location (s3location bucket and key) gives it.
type GetArtifactInput struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Validate checks the input.
func (in *GetArtifactInput) Validate() error {
	var v awsproto.Violations
	if in.Bucket == "" {
		v.Null("bucket")
	}
	if in.Key == "" {
		v.Null("key")
	}
	return v.Err()
}

// GetArtifactOutput is the object's content (base64 in JSON) and what the
// store recorded about it.
type GetArtifactOutput struct {
	Content   []byte `json:"content"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
}

// GetArtifact calls the operation.
func (c *Client) GetArtifact(ctx context.Context, in *GetArtifactInput) (*GetArtifactOutput, error) {
	return call[GetArtifactOutput](ctx, c, "GetArtifact", in)
}
