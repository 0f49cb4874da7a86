package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/buildspec"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/worker"
)

// Commands runs Compute/AWS/Commands actions: the action's commands, in
// order, in one shell session (as the build phase of a buildspec) in a
// fresh working directory holding the first input artifact (the others in
// CODEBUILD_SRC_DIR_<name> directories). The engine passes what the action
// declares outside its configuration under the reserved configuration keys
// of package engine (engine.CommandsKey and the others).
type Commands struct{ Deps }

// Type returns Compute/AWS/Commands/1.
func (c *Commands) Type() cpapi.ActionTypeId {
	return awsType(cpapi.ActionCategoryCompute, "Commands")
}

// Run runs the commands.
func (c *Commands) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	lg := &buildLog{w: j.LogOutput()}
	var cmds, outVars []string
	if err := reservedJSON(cfg, engine.CommandsKey, &cmds); err != nil {
		return nil, err
	}
	if len(cmds) == 0 {
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
			Message: "the job carries no commands (configuration " + engine.CommandsKey + "); the action needs a \"commands\" list"}
	}
	if err := reservedJSON(cfg, engine.OutputVariablesKey, &outVars); err != nil {
		return nil, err
	}
	var files map[string][]string
	if err := reservedJSON(cfg, engine.OutputFilesKey, &files); err != nil {
		return nil, err
	}
	var vars []slipwayapi.BuildEnvironmentVariable
	if err := reservedJSON(cfg, engine.EnvironmentVariablesKey, &vars); err != nil {
		return nil, err
	}
	for _, v := range vars {
		if problem := slipwayapi.ValidateVariable(v); problem != "" {
			return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: "environmentVariables: " + problem}
		}
	}
	timeout := buildspec.DefaultTimeout
	if m, err := strconv.Atoi(cfg[engine.TimeoutKey]); err == nil && m > 0 {
		timeout = time.Duration(m) * time.Minute
	}

	spec := &buildspec.Spec{Version: buildspec.Version, Env: buildspec.Env{ExportedVariables: outVars}}
	phase := &buildspec.Phase{Name: buildspec.PhaseBuild}
	for _, text := range cmds {
		phase.Commands = append(phase.Commands, buildspec.Command{Text: text})
	}
	spec.Phases = []*buildspec.Phase{phase}
	var outName string
	if len(j.Data.OutputArtifacts) > 0 {
		outName = j.Data.OutputArtifacts[0].Name
		if f := files[outName]; len(f) > 0 {
			spec.Artifacts = &buildspec.Artifacts{ArtifactSpec: buildspec.ArtifactSpec{Files: f}}
		}
	}

	info := buildInfo(j, "commands:"+actionExecutionID(j), 0)
	lg.printf("Running %d commands of action %s", len(cmds), actionName(j))
	ws, err := newWorkspace(c.WorkDir)
	if err != nil {
		return nil, err
	}
	defer ws.remove()
	in, err := ws.fetchInputs(ctx, c.Artifacts, j, "", lg)
	if err != nil {
		return nil, err
	}
	info.ResolvedSourceVersion, info.SourceVersion = in.revision, in.location
	env := info.Env()
	for k, v := range in.env {
		env[k] = v
	}
	if err := applyVariables(env, spec, vars); err != nil {
		return nil, err
	}
	runner := &buildspec.Runner{Env: env, Secrets: secretResolver(ctx, c.Builds, j), Log: lg.w, Timeout: timeout}
	res, runErr := runner.Run(ctx, spec, ws.src)
	if res == nil {
		return nil, fmt.Errorf("the commands could not start: %w", runErr)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if runErr != nil {
		return nil, &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: strings.TrimRight(res.Summary(), "\n")}
	}
	if outName != "" {
		if res.Artifacts != nil {
			err = uploadSet(ctx, c.Artifacts, j, 0, ws.src, res.Artifacts, lg)
		} else {
			err = uploadDir(ctx, c.Artifacts, j, 0, ws.src, lg)
		}
		if err != nil {
			return nil, err
		}
	}
	summary := fmt.Sprintf("Ran %d commands", len(cmds))
	if len(cmds) == 1 {
		summary = "Ran 1 command"
	}
	return &worker.Result{Summary: summary, OutputVariables: res.ExportedVariables}, nil
}

// reservedJSON decodes the JSON value under a reserved configuration key
// into v; an absent key leaves v alone.
func reservedJSON(cfg map[string]string, key string, v any) error {
	raw, ok := cfg[key]
	if !ok || raw == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: fmt.Sprintf("configuration %s is not the JSON the engine writes: %v", key, err)}
	}
	return nil
}

func actionName(j *worker.Job) string {
	if pc := j.Data.PipelineContext; pc != nil && pc.Action != nil {
		return pc.Action.Name
	}
	return j.ID
}
