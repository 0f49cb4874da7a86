package slipwayapi

import (
	"context"
	"fmt"
	"slices"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

func init() {
	if !slices.Contains(Operations, "GetLifecycleEventLog") {
		Operations = append(Operations, "GetLifecycleEventLog")
		slices.Sort(Operations)
	}
}

// GetLifecycleEventLogInput is the input of GetLifecycleEventLog: one
// lifecycle event of one instance in one CodeDeploy deployment.
type GetLifecycleEventLogInput struct {
	DeploymentID string `json:"deploymentId"`
	// InstanceID is the instance as the deployment names it (the
	// on-premises instance name; ListDeploymentInstances shows it).
	InstanceID string `json:"instanceId"`
	// LifecycleEventName is the event, e.g. ApplicationStart.
	LifecycleEventName string `json:"lifecycleEventName"`
	// AfterSeq selects chunks with a greater sequence number: 0 (or
	// absent) from the start, else the nextSeq of a previous call.
	AfterSeq int64 `json:"afterSeq,omitempty"`
	// MaxChunks bounds the chunks returned: 1 to 1000; 0 or absent means
	// 100.
	MaxChunks int32 `json:"maxChunks,omitempty"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetLifecycleEventLogInput) Validate() error {
	var v awsproto.Violations
	if s.DeploymentID == "" {
		v.Null("deploymentId")
	}
	if s.InstanceID == "" {
		v.Null("instanceId")
	}
	if s.LifecycleEventName == "" {
		v.Null("lifecycleEventName")
	}
	if s.AfterSeq < 0 {
		v.Add("afterSeq", s.AfterSeq, "Member must have value greater than or equal to 0")
	}
	if s.MaxChunks < 0 {
		v.Add("maxChunks", s.MaxChunks, "Member must have value greater than or equal to 1")
	}
	if s.MaxChunks > MaxMaxChunks {
		v.Add("maxChunks", s.MaxChunks, fmt.Sprintf("Member must have value less than or equal to %d", MaxMaxChunks))
	}
	return v.Err()
}

// GetLifecycleEventLogOutput is the output of GetLifecycleEventLog: the
// hook output the instance's agent streamed for the event, in order.
type GetLifecycleEventLogOutput struct {
	Chunks []LogChunk `json:"chunks"`
	// NextSeq is the afterSeq of the next call: the last chunk's seq, or
	// the request's afterSeq when none was returned.
	NextSeq int64 `json:"nextSeq"`
	// Complete is true once the lifecycle event has ended and this call
	// read its output to the end: no chunk will follow nextSeq.
	Complete bool `json:"complete"`
}

// GetLifecycleEventLog calls GetLifecycleEventLog.
func (c *Client) GetLifecycleEventLog(ctx context.Context, in *GetLifecycleEventLogInput) (*GetLifecycleEventLogOutput, error) {
	return call[GetLifecycleEventLogOutput](ctx, c, "GetLifecycleEventLog", in)
}
