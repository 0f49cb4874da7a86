package engine

import (
	"encoding/json"
	"fmt"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// ExecDetail is the JSON kept in store.Execution.Detail.
type ExecDetail struct {
	Trigger         *cpapi.ExecutionTrigger          `json:"trigger,omitempty"`
	Variables       []cpapi.ResolvedPipelineVariable `json:"variables,omitempty"`
	SourceRevisions []cpapi.SourceRevisionOverride   `json:"sourceRevisions,omitempty"`
	Summary         string                           `json:"summary,omitempty"`
	ExecutionMode   string                           `json:"executionMode,omitempty"`
	StopReason      string                           `json:"stopReason,omitempty"`
	Abandon         bool                             `json:"abandon,omitempty"`
}

// ActionDetail is the JSON kept in store.ActionRun.Detail: the model's
// ActionExecutionInput and ActionExecutionOutput plus the live state the
// pipeline state view shows.
type ActionDetail struct {
	Input           cpapi.ActionExecutionInput  `json:"input"`
	Output          cpapi.ActionExecutionOutput `json:"output"`
	Summary         string                      `json:"summary,omitempty"`
	PercentComplete *int32                      `json:"percentComplete,omitempty"`
	Token           string                      `json:"token,omitempty"` // approval token
	JobID           string                      `json:"jobId,omitempty"`
	UpdatedBy       string                      `json:"updatedBy,omitempty"`
	EntityURL       string                      `json:"entityUrl,omitempty"`
	Revision        *cpapi.ActionRevision       `json:"revision,omitempty"` // source actions
	// NotificationArn is set on approvals that notify when they start.
	NotificationArn string `json:"notificationArn,omitempty"`
}

func decodeDetail[T any](b []byte) (*T, error) {
	v := new(T)
	if len(b) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

func encodeDetail(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// The detail types hold only strings, numbers and maps: this cannot fail.
		panic(fmt.Sprintf("engine: encode %T: %v", v, err))
	}
	return b
}

// DecodeExecDetail decodes store.Execution.Detail.
func DecodeExecDetail(b []byte) (*ExecDetail, error) { return decodeDetail[ExecDetail](b) }

// DecodeActionDetail decodes store.ActionRun.Detail.
func DecodeActionDetail(b []byte) (*ActionDetail, error) { return decodeDetail[ActionDetail](b) }
