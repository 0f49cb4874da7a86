package slipwayapi

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// JobBuildOperations are the operations through which a remote worker
// runs a build for a job it holds: the job's build project, its build
// number and the secrets it uses. Each is authorised by the job's ID and
// the nonce of the worker's acknowledged claim. They are part of
// Operations.
var JobBuildOperations = []string{"GetJobBuildProject", "GetJobSecret", "NextJobBuildNumber"}

func init() {
	for _, op := range JobBuildOperations {
		if !slices.Contains(Operations, op) {
			Operations = append(Operations, op)
		}
	}
	slices.Sort(Operations)
}

// WorkerLabelsHeader is the HTTP header of a PollForJobs request that
// gives the polling worker's labels, comma-separated: CodeBuild jobs
// whose build project has WorkerLabels go only to workers with all of
// them. A poll without it is a worker's without labels.
const WorkerLabelsHeader = "X-Slipway-Worker-Labels"

// MaxLabelsPerWorker bounds the labels a worker may have.
const MaxLabelsPerWorker = 50

// ParseWorkerLabels reads a worker's labels from a comma-separated list
// (the X-Slipway-Worker-Labels header, the --labels flag): spaces around
// a label and empty items are dropped, repeats kept once, and each label
// must match WorkerLabelPattern.
func ParseWorkerLabels(list string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		l := strings.TrimSpace(item)
		if l == "" || slices.Contains(out, l) {
			continue
		}
		if !labelRE.MatchString(l) {
			return nil, fmt.Errorf("worker label %q must match %s", l, WorkerLabelPattern)
		}
		out = append(out, l)
	}
	if len(out) > MaxLabelsPerWorker {
		return nil, fmt.Errorf("a worker has at most %d labels, not %d", MaxLabelsPerWorker, len(out))
	}
	return out, nil
}

// JobClaim names an acknowledged job and the nonce of the claim: the
// authorisation of every JobBuildOperations request.
type JobClaim struct {
	JobID string `json:"jobId"`
	Nonce string `json:"nonce"`
}

func (c *JobClaim) validate(v *awsproto.Violations) {
	if c.JobID == "" {
		v.Null("jobId")
	}
	if c.Nonce == "" {
		v.Null("nonce")
	}
}

// GetJobBuildProjectInput names a CodeBuild job the caller holds.
type GetJobBuildProjectInput struct {
	JobClaim
}

// Validate checks the input's constraints (ValidationException).
func (in *GetJobBuildProjectInput) Validate() error {
	var v awsproto.Violations
	in.validate(&v)
	return v.Err()
}

// GetJobBuildProjectOutput is the build project the job's ProjectName
// configuration names, with its defaults filled in; Project is nil when
// the server has no project of that name (the build then runs the
// source's buildspec.yml with the defaults).
type GetJobBuildProjectOutput struct {
	Project *BuildProject `json:"project,omitempty"`
}

// NextJobBuildNumberInput names a CodeBuild job the caller holds.
type NextJobBuildNumberInput struct {
	JobClaim
}

// Validate checks the input's constraints (ValidationException).
func (in *NextJobBuildNumberInput) Validate() error {
	var v awsproto.Violations
	in.validate(&v)
	return v.Err()
}

// NextJobBuildNumberOutput is the next build number of the job's build
// project (from 1; every call takes one).
type NextJobBuildNumberOutput struct {
	BuildNumber int64 `json:"buildNumber"`
}

// GetJobSecretInput names a CodeBuild or Commands job the caller holds and
// a Slipway secret its build uses.
type GetJobSecretInput struct {
	JobClaim
	// Name is the secret's name (PutSecret).
	Name string `json:"name"`
}

// Validate checks the input's constraints (ValidationException).
func (in *GetJobSecretInput) Validate() error {
	var v awsproto.Violations
	in.validate(&v)
	validateSecretName(&v, "name", in.Name)
	return v.Err()
}

// GetJobSecretOutput is the secret's value.
type GetJobSecretOutput struct {
	Value string `json:"value"`
}

// GetJobBuildProject calls the operation.
func (c *Client) GetJobBuildProject(ctx context.Context, in *GetJobBuildProjectInput) (*GetJobBuildProjectOutput, error) {
	return call[GetJobBuildProjectOutput](ctx, c, "GetJobBuildProject", in)
}

// NextJobBuildNumber calls the operation.
func (c *Client) NextJobBuildNumber(ctx context.Context, in *NextJobBuildNumberInput) (*NextJobBuildNumberOutput, error) {
	return call[NextJobBuildNumberOutput](ctx, c, "NextJobBuildNumber", in)
}

// GetJobSecret calls the operation.
func (c *Client) GetJobSecret(ctx context.Context, in *GetJobSecretInput) (*GetJobSecretOutput, error) {
	return call[GetJobSecretOutput](ctx, c, "GetJobSecret", in)
}
