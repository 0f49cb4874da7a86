package slipwayapi

import (
	"context"
	"slices"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// JobOperations are the operations remote workers (`slipway worker`) use
// besides CodePipeline's job API: extending the claim on a job and
// appending to its action's log. They are part of Operations.
var JobOperations = []string{"HeartbeatJob", "PutJobLog"}

func init() {
	for _, op := range JobOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// HeartbeatJobInput names an acknowledged job and the nonce of the claim.
type HeartbeatJobInput struct {
	JobID string `json:"jobId"`
	Nonce string `json:"nonce"`
}

// Validate checks the input's constraints (ValidationException).
func (in *HeartbeatJobInput) Validate() error {
	var v awsproto.Violations
	if in.JobID == "" {
		v.Null("jobId")
	}
	if in.Nonce == "" {
		v.Null("nonce")
	}
	return v.Err()
}

// HeartbeatJobOutput is empty.
type HeartbeatJobOutput struct{}

// PutJobLogInput appends data (base64 in JSON) to the log of a job's
// action run.
type PutJobLogInput struct {
	JobID string `json:"jobId"`
	Nonce string `json:"nonce"`
	Data  []byte `json:"data"`
}

// Validate checks the input's constraints (ValidationException).
func (in *PutJobLogInput) Validate() error {
	var v awsproto.Violations
	if in.JobID == "" {
		v.Null("jobId")
	}
	if in.Nonce == "" {
		v.Null("nonce")
	}
	return v.Err()
}

// PutJobLogOutput is empty.
type PutJobLogOutput struct{}

// HeartbeatJob calls the operation.
func (c *Client) HeartbeatJob(ctx context.Context, in *HeartbeatJobInput) (*HeartbeatJobOutput, error) {
	return call[HeartbeatJobOutput](ctx, c, "HeartbeatJob", in)
}

// PutJobLog calls the operation.
func (c *Client) PutJobLog(ctx context.Context, in *PutJobLogInput) (*PutJobLogOutput, error) {
	return call[PutJobLogOutput](ctx, c, "PutJobLog", in)
}
