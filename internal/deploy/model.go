// Package deploy runs CodeDeploy in-place deployments: it keeps each
// deployment, its targets (instances with their lifecycle events) and the
// instances' health in their deployment groups as store rows, and
// reconciles a deployment level-triggered, in one transaction: it builds
// a fleet.State from the rows, applies fleet.Plan's commands (a started
// lifecycle event becomes a Pending host command for the instance's
// agent), fails events whose agent stopped polling (AGENT_ISSUE), and at
// the end records every instance's health, the group's last successful
// deployment, and starts an automatic rollback.
//
// The codedeploy package turns API calls into Insert, Stop and
// CompleteCommand; the host command service hands the commands out.
// [Runner.Run] reconciles kicked deployments at once and every active one
// each sweep, so a wake-up lost in a crash costs one sweep.
package deploy

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/fleet"
	"github.com/slipway-cd/slipway/internal/store"
)

// Creators of a deployment (DeploymentInfo.creator).
const (
	CreatorUser     = cdapi.DeploymentCreatorUser
	CreatorRollback = cdapi.DeploymentCreatorCodeDeployRollback
)

// AgentIssue starts the message of a lifecycle event failed because the
// instance's agent stopped polling.
const AgentIssue = "AGENT_ISSUE"

// Detail is a deployment's JSON document (store.Deployment.Detail).
type Detail struct {
	Application                   string                           `json:"application"`
	Group                         string                           `json:"group"`
	GroupID                       string                           `json:"groupId"`
	Revision                      *cdapi.RevisionLocation          `json:"revision"`
	RevisionKey                   string                           `json:"revisionKey"`
	ConfigName                    string                           `json:"configName"`
	Config                        fleet.Config                     `json:"config"`
	Description                   string                           `json:"description,omitempty"`
	Creator                       string                           `json:"creator"`
	IgnoreApplicationStopFailures bool                             `json:"ignoreApplicationStopFailures,omitempty"`
	UpdateOutdatedInstancesOnly   bool                             `json:"updateOutdatedInstancesOnly,omitempty"`
	FileExistsBehavior            string                           `json:"fileExistsBehavior,omitempty"`
	AutoRollback                  *cdapi.AutoRollbackConfiguration `json:"autoRollback,omitempty"`
	Triggers                      []cdapi.TriggerConfig            `json:"triggers,omitempty"`
	Order                         []string                         `json:"order"`
	Stop                          *fleet.StopRequest               `json:"stop,omitempty"`
	StopRollback                  bool                             `json:"stopRollback,omitempty"`
	Error                         *cdapi.ErrorInformation          `json:"error,omitempty"`
	RollbackInfo                  *cdapi.RollbackInfo              `json:"rollbackInfo,omitempty"`
	PreviousRevision              *cdapi.RevisionLocation          `json:"previousRevision,omitempty"`
	Started                       time.Time                        `json:"started,omitzero"`
	Completed                     time.Time                        `json:"completed,omitzero"`
}

// Event is one lifecycle event of a target.
type Event struct {
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Start      time.Time `json:"start,omitzero"`
	End        time.Time `json:"end,omitzero"`
	ErrorCode  string    `json:"errorCode,omitempty"`
	ScriptName string    `json:"scriptName,omitempty"`
	Message    string    `json:"message,omitempty"`
	LogTail    string    `json:"logTail,omitempty"`
	Log        string    `json:"log,omitempty"` // streamed hook output (SLIPWAY_LOG), its tail
	CommandID  string    `json:"commandId,omitempty"`
}

// Target is a target's JSON document (store.DeploymentTarget.Detail).
type Target struct {
	Health          fleet.Health `json:"health"`
	FirstDeployment bool         `json:"firstDeployment"`
	Events          []*Event     `json:"events"`
}

// Event returns the named event, nil if the target has none.
func (t *Target) Event(name string) *Event {
	for _, e := range t.Events {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// GroupInstance is an instance's state in a group
// (store.GroupInstance.Detail).
type GroupInstance struct {
	Health         fleet.Health `json:"health"`
	RevisionKey    string       `json:"revisionKey,omitempty"` // the last revision deployed successfully to it
	Deployed       bool         `json:"deployed"`              // some deployment succeeded on it
	LastDeployment string       `json:"lastDeployment,omitempty"`
}

// MaxLog bounds the streamed log kept per lifecycle event.
const MaxLog = 64 << 10

// LogTailSize is how much of the log GetDeploymentInstance shows.
const LogTailSize = 2048

func decode[T any](b []byte, what string) (*T, error) {
	var v T
	if len(b) == 0 {
		return &v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return &v, nil
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the documents always encode
	}
	return b
}

// DecodeDetail decodes a deployment's document.
func DecodeDetail(d *store.Deployment) (*Detail, error) {
	return decode[Detail](d.Detail, "deployment "+d.ID)
}

// DecodeTarget decodes a target's document.
func DecodeTarget(t *store.DeploymentTarget) (*Target, error) {
	return decode[Target](t.Detail, "target "+t.Instance+" of "+t.DeploymentID)
}

// IsActive reports whether a deployment with this status is unfinished.
func IsActive(status string) bool {
	switch status {
	case cdapi.DeploymentStatusSucceeded, cdapi.DeploymentStatusFailed, cdapi.DeploymentStatusStopped:
		return false
	}
	return true
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewID returns a deployment ID: "d-" and 9 uppercase alphanumerics.
func NewID() string { return "d-" + randomString(9) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func newCommandID() string { return "hc-" + rand.Text() }
