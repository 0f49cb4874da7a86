package extensions

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/providers"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// The job build operations: what a remote worker needs to run a build for
// a job it holds (docs/api-extensions.md, "Remote worker operations").
// Each is authorised by the job's ID and the nonce of an acknowledged
// claim, as HeartbeatJob is, and answers from the server's build backend
// (Service.Builds), as the embedded workers' builds read it.

var errNoBuilds = errors.New("extensions: no build backend configured for the job build operations")

// GetJobBuildProject returns the build project a held CodeBuild job's
// ProjectName names, or no project when the server has none of that name.
func (s *Service) GetJobBuildProject(ctx context.Context, in *slipwayapi.GetJobBuildProjectInput) (*slipwayapi.GetJobBuildProjectOutput, error) {
	project, err := s.claimedBuild(ctx, in.JobClaim)
	if err != nil {
		return nil, err
	}
	p, err := s.Builds.Project(ctx, nil, project)
	if err != nil {
		return nil, err
	}
	return &slipwayapi.GetJobBuildProjectOutput{Project: p}, nil
}

// NextJobBuildNumber takes the next build number of a held CodeBuild
// job's build project.
func (s *Service) NextJobBuildNumber(ctx context.Context, in *slipwayapi.NextJobBuildNumberInput) (*slipwayapi.NextJobBuildNumberOutput, error) {
	project, err := s.claimedBuild(ctx, in.JobClaim)
	if err != nil {
		return nil, err
	}
	n, err := s.Builds.NextBuildNumber(ctx, nil, project)
	if err != nil {
		return nil, err
	}
	return &slipwayapi.NextJobBuildNumberOutput{BuildNumber: n}, nil
}

// GetJobSecret opens a Slipway secret for the worker holding a CodeBuild
// or Commands job (whose buildspec or build project references it).
func (s *Service) GetJobSecret(ctx context.Context, in *slipwayapi.GetJobSecretInput) (*slipwayapi.GetJobSecretOutput, error) {
	if s.Builds == nil {
		return nil, errNoBuilds
	}
	j, _, err := s.claimedJob(ctx, in.JobClaim)
	if err != nil {
		return nil, err
	}
	if !usesSecrets(j.Type) {
		return nil, awsproto.Errorf(cpapi.InvalidJobException,
			"job %s is a job of action type %s, which uses no secrets; only CodeBuild and Commands jobs read secrets", j.ID, typeName(j.Type))
	}
	v, err := s.Builds.Secret(ctx, nil, in.Name)
	if errors.Is(err, providers.ErrNoSecret) {
		return nil, awsproto.Errorf(slipwayapi.ResourceNotFoundException, "secret %q does not exist; create it with PutSecret", in.Name)
	}
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "secret read for a job", "name", in.Name, "job", j.ID, "pipeline", j.Pipeline, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.GetJobSecretOutput{Value: v}, nil
}

// claimedBuild checks the claim on a CodeBuild job and returns the name of
// its build project.
func (s *Service) claimedBuild(ctx context.Context, c slipwayapi.JobClaim) (string, error) {
	if s.Builds == nil {
		return "", errNoBuilds
	}
	j, d, err := s.claimedJob(ctx, c)
	if err != nil {
		return "", err
	}
	if !isCodeBuild(j.Type) {
		return "", awsproto.Errorf(cpapi.InvalidJobException,
			"job %s is a job of action type %s, not a CodeBuild build: it has no build project", j.ID, typeName(j.Type))
	}
	var project string
	if d.ActionConfiguration != nil {
		project = d.ActionConfiguration.Configuration["ProjectName"]
	}
	return project, nil
}

// claimedJob returns a job the caller holds: the nonce must be the job's
// current one, and the job and its action in progress.
func (s *Service) claimedJob(ctx context.Context, c slipwayapi.JobClaim) (*store.Job, *cpapi.JobData, error) {
	j, err := s.Store.GetJob(ctx, c.JobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, awsproto.Errorf(cpapi.JobNotFoundException, "job %q does not exist", c.JobID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get job: %w", err)
	}
	if j.Nonce == "" || subtle.ConstantTimeCompare([]byte(j.Nonce), []byte(c.Nonce)) != 1 {
		return nil, nil, awsproto.Errorf(cpapi.InvalidNonceException,
			"the nonce does not match job %s's current claim; the job was handed to another worker or offered again", c.JobID)
	}
	if j.Status != cpapi.JobStatusInProgress {
		return nil, nil, awsproto.Errorf(cpapi.InvalidJobStateException,
			"job %s is %s; only an acknowledged (InProgress) job's worker may read its build", c.JobID, j.Status)
	}
	a, err := s.Store.GetActionRun(ctx, j.ActionRunID)
	if err != nil {
		return nil, nil, fmt.Errorf("get action run: %w", err)
	}
	if a.Status != cpapi.ActionExecutionStatusInProgress {
		return nil, nil, awsproto.Errorf(cpapi.InvalidJobStateException, "the action of job %s is %s", c.JobID, a.Status)
	}
	var d cpapi.JobData
	if err := json.Unmarshal(j.Data, &d); err != nil {
		return nil, nil, fmt.Errorf("decode job %s: %w", j.ID, err)
	}
	return j, &d, nil
}

func isCodeBuild(t store.ActionTypeKey) bool {
	return t.Owner == cpapi.ActionOwnerAws && t.Provider == "CodeBuild" &&
		(t.Category == cpapi.ActionCategoryBuild || t.Category == cpapi.ActionCategoryTest)
}

func usesSecrets(t store.ActionTypeKey) bool {
	return isCodeBuild(t) || (t.Owner == cpapi.ActionOwnerAws && t.Provider == "Commands" && t.Category == cpapi.ActionCategoryCompute)
}

func typeName(t store.ActionTypeKey) string {
	return t.Category + "/" + t.Owner + "/" + t.Provider + "/" + t.Version
}
