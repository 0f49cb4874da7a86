package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// ErrNoSecret is wrapped by RemoteBuilds.Secret's error for a secret the
// server does not have (providers.ErrNoSecret wraps it).
var ErrNoSecret = errors.New("no such secret")

// RemoteBuilds gives a remote worker's build executors (package
// providers: it is their BuildBackend) the build projects, build numbers
// and secrets of the jobs it holds, over the extension API
// (GetJobBuildProject, NextJobBuildNumber, GetJobSecret). Each request
// carries the job's ID and the nonce of the worker's claim; the server
// answers only the worker holding an acknowledged job.
type RemoteBuilds struct {
	API *slipwayapi.Client
}

// Project returns the build project job j names (its ProjectName
// configuration, which the server reads from the job), or nil when the
// server has none of that name.
func (r *RemoteBuilds) Project(ctx context.Context, j *Job, name string) (*slipwayapi.BuildProject, error) {
	out, err := r.API.GetJobBuildProject(ctx, &slipwayapi.GetJobBuildProjectInput{JobClaim: claim(j)})
	if err != nil {
		return nil, fmt.Errorf("read build project %s of job %s: %w", name, j.ID, err)
	}
	if out.Project == nil {
		return nil, nil
	}
	out.Project.Normalize()
	return out.Project, nil
}

// Secret returns the value of a Slipway secret that job j's build uses.
func (r *RemoteBuilds) Secret(ctx context.Context, j *Job, name string) (string, error) {
	out, err := r.API.GetJobSecret(ctx, &slipwayapi.GetJobSecretInput{JobClaim: claim(j), Name: name})
	if slipwayapi.ErrorCode(err) == slipwayapi.ResourceNotFoundException {
		return "", fmt.Errorf("secret %q: %w", name, ErrNoSecret)
	}
	if err != nil {
		return "", fmt.Errorf("read secret %q for job %s: %w", name, j.ID, err)
	}
	return out.Value, nil
}

// NextBuildNumber returns the next build number of job j's build project.
func (r *RemoteBuilds) NextBuildNumber(ctx context.Context, j *Job, project string) (int64, error) {
	out, err := r.API.NextJobBuildNumber(ctx, &slipwayapi.NextJobBuildNumberInput{JobClaim: claim(j)})
	if err != nil {
		return 0, fmt.Errorf("next build number of project %s for job %s: %w", project, j.ID, err)
	}
	return out.BuildNumber, nil
}

func claim(j *Job) slipwayapi.JobClaim {
	return slipwayapi.JobClaim{JobID: j.ID, Nonce: j.Nonce}
}
