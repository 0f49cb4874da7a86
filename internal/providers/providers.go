// Package providers holds the executors of Slipway's built-in action
// types: sources, builds, commands, invokes and deploys. Each executor runs
// jobs claimed by a worker (package worker), in the server's embedded
// workers or in a remote `slipway worker`, with the same code.
package providers

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/gitsource"
	"github.com/slipway-cd/slipway/internal/worker"
)

// Deps are what the executors use.
type Deps struct {
	Artifacts artifact.Store
	Repos     *githost.Host // hosted git repositories (nil on a remote worker)
	Logger    *slog.Logger
	WorkDir   string // where builds get their working directories
	// Builds gives the build executors build projects, secrets and build
	// numbers (StoreBuilds on a server); nil runs every CodeBuild action
	// as for an unknown project, without secrets.
	Builds BuildBackend
	// Connections and Mirrors serve CodeStarSourceConnection actions: the
	// connections' remotes and credentials, and the local mirrors of the
	// remotes (under <data-dir>/mirrors on a server). Both nil: no such
	// executor.
	Connections ConnectionResolver
	Mirrors     *gitsource.Mirrors
	// Functions serves Lambda invoke actions (functions, job credentials,
	// the server's URL); nil: no such executor.
	Functions *Functions
	// Deployments serves CodeDeploy deploy actions (the server's
	// CodeDeploy service); nil: no such executor.
	Deployments Deployments
}

// Builtin returns the executors of every built-in action type that can run
// with deps.
func Builtin(deps Deps) []worker.Executor {
	var out []worker.Executor
	if deps.Repos != nil {
		out = append(out, &CodeCommitSource{Deps: deps})
	}
	if deps.Connections != nil && deps.Mirrors != nil {
		out = append(out, &ConnectionSource{Deps: deps})
	}
	if deps.Artifacts != nil {
		out = append(out,
			&CodeBuild{Deps: deps, Category: cpapi.ActionCategoryBuild},
			&CodeBuild{Deps: deps, Category: cpapi.ActionCategoryTest},
			&Commands{Deps: deps})
		out = append(out, &S3Source{Deps: deps}, &S3Deploy{Deps: deps})
	}
	if deps.Deployments != nil && deps.Artifacts != nil {
		out = append(out, &CodeDeploy{Deps: deps})
	}
	if deps.Functions != nil {
		out = append(out, &LambdaInvoke{Deps: deps})
	}
	return out
}

func awsType(category, provider string) cpapi.ActionTypeId {
	return cpapi.ActionTypeId{Category: category, Owner: cpapi.ActionOwnerAws, Provider: provider, Version: "1"}
}

// outputLocation returns the bucket and key of a job's output artifact.
func outputLocation(j *worker.Job, i int) (string, string, error) {
	if i >= len(j.Data.OutputArtifacts) || j.Data.OutputArtifacts[i].Location == nil || j.Data.OutputArtifacts[i].Location.S3Location == nil {
		return "", "", worker.Failf("the action declares no output artifact #%d", i+1)
	}
	l := j.Data.OutputArtifacts[i].Location.S3Location
	return l.BucketName, l.ObjectKey, nil
}

// putArtifact stores an output artifact produced by write.
func putArtifact(ctx context.Context, store artifact.Store, bucket, key string, write func(io.Writer) error) (artifact.ObjectInfo, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	info, err := store.Put(ctx, bucket, key, pr)
	pr.Close()
	if err != nil {
		return info, fmt.Errorf("store artifact %s/%s: %w", bucket, key, err)
	}
	return info, nil
}

func config(j *worker.Job) map[string]string {
	if j.Data.ActionConfiguration == nil {
		return map[string]string{}
	}
	return j.Data.ActionConfiguration.Configuration
}
