package slipwayapi

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

func init() { Operations = append(Operations, "UploadBundle") }

// MaxBundleBytes bounds the decoded content of one UploadBundle request.
const MaxBundleBytes = 64 << 20

// MaxUploadBundleRequestBytes bounds the JSON body of an UploadBundle
// request: the base64 of MaxBundleBytes plus room for the other members.
const MaxUploadBundleRequestBytes = (MaxBundleBytes+2)/3*4 + 64<<10

// UploadBundleInput stores a revision bundle (normally a zip file) as
// Bucket/Key of the server's artifact store, where an S3 revision
// (RegisterApplicationRevision, CreateDeployment) names it. Content is the
// bundle's bytes, base64-encoded; at most MaxBundleBytes once decoded. An
// object already at Bucket/Key is replaced.
type UploadBundleInput struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Content string `json:"content"`
}

// Validate checks the input.
func (in *UploadBundleInput) Validate() error {
	var v awsproto.Violations
	if in.Bucket == "" {
		v.Null("bucket")
	}
	if in.Key == "" {
		v.Null("key")
	}
	if in.Content == "" {
		v.Null("content")
	} else if n := base64.StdEncoding.DecodedLen(len(in.Content)); n > MaxBundleBytes+2 {
		v.Add("content", fmt.Sprintf("(%d bytes of base64)", len(in.Content)), fmt.Sprintf("Member must decode to at most %d bytes", MaxBundleBytes))
	}
	return v.Err()
}

// UploadBundleOutput describes the stored object: the eTag to register
// the revision with, its size and SHA-256, and its version.
type UploadBundleOutput struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	ETag      string `json:"eTag"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	VersionID string `json:"versionId,omitempty"`
}

// UploadBundle calls the operation.
func (c *Client) UploadBundle(ctx context.Context, in *UploadBundleInput) (*UploadBundleOutput, error) {
	return call[UploadBundleOutput](ctx, c, "UploadBundle", in)
}
