package main

// B6 the same work by hand: a plain shell script does what a pipeline
// does (git archive of the repository, a build of a few seconds, the
// result copied into N hosts' directories), and Slipway does it as
// CodeCommit source -> CodeBuild with the same commands -> CodeDeploy to N
// agents. The table shows Slipway's time as a ratio to the script's.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// buildScript is the build both sides run: generated data hashed in a
// loop (a few seconds of CPU), its sums the build's result.
const buildScript = `set -e
mkdir -p work dist/app
for i in 1 2 3 4 5 6 7 8; do yes "slipway build $i" | head -c 16000000 > work/data-$i; done
for round in 1 2 3 4 5 6; do sha256sum work/data-* > dist/app/sums-$round.txt; done
rm -rf work
cp appspec.yml dist/appspec.yml
`

const byHandBuildspec = `version: 0.2
phases:
  build:
    commands:
      - sh build.sh
artifacts:
  files:
    - '**/*'
  base-directory: dist
`

const byHandAppspec = `version: 0.0
os: linux
files:
  - source: app
    destination: /opt/app
`

// byHandScript is the shell script: archive, build, copy to every host.
const byHandScript = `#!/bin/sh
set -e
repo=$1; targets=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive HEAD | tar -x -C "$work"
cd "$work"
sh build.sh
for d in "$targets"/*; do
  mkdir -p "$d/opt/app"
  cp -R dist/app/. "$d/opt/app/"
done
`

func b6(ctx context.Context, s *server, hosts, runs int) []result {
	dir := must(os.MkdirTemp("", "slipway-bench-b6-"))
	defer os.RemoveAll(dir)
	progress("B6: enrolling %d instances", hosts)
	f := startFleet(ctx, enroll(ctx, s, "b6", hosts, map[string]string{"role": "b6"}), filepath.Join(dir, "hosts"))
	defer f.stop()

	repo := must(s.ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "byhand"}))
	pushURL := s.authURL(repo.Repository.CloneURLHTTP)
	work := filepath.Join(dir, "work")
	gitWorktree(work, map[string]string{"build.sh": buildScript, "buildspec.yml": byHandBuildspec, "appspec.yml": byHandAppspec})
	must(s.ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "byhand-build", TimeoutInMinutes: 10}}))
	must(s.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("byhand")}))
	must(s.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("byhand"), DeploymentGroupName: aws.String("hosts"),
		ServiceRoleArn:       aws.String("arn:aws:iam::123456789012:role/bench"),
		DeploymentConfigName: aws.String("CodeDeployDefault.AllAtOnce"),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{{Key: aws.String("role"), Value: aws.String("b6"),
			Type: cdtypes.TagFilterTypeKeyAndValue}}}))
	decl := &types.PipelineDeclaration{
		Name: aws.String("ByHand"), RoleArn: aws.String("arn:aws:iam::123456789012:role/bench"),
		PipelineType:  types.PipelineTypeV2,
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("bench")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{{Name: aws.String("Source"),
				ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerAws, Provider: aws.String("CodeCommit"), Version: aws.String("1")},
				Configuration:   map[string]string{"RepositoryName": "byhand", "BranchName": "main"},
				OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Code")}}, RunOrder: aws.Int32(1)}}},
			{Name: aws.String("Build"), Actions: []types.ActionDeclaration{{Name: aws.String("Build"),
				ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerAws, Provider: aws.String("CodeBuild"), Version: aws.String("1")},
				Configuration:   map[string]string{"ProjectName": "byhand-build"},
				InputArtifacts:  []types.InputArtifact{{Name: aws.String("Code")}},
				OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Bundle")}}, RunOrder: aws.Int32(1)}}},
			{Name: aws.String("Deploy"), Actions: []types.ActionDeclaration{{Name: aws.String("Deploy"),
				ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryDeploy, Owner: types.ActionOwnerAws, Provider: aws.String("CodeDeploy"), Version: aws.String("1")},
				Configuration:  map[string]string{"ApplicationName": "byhand", "DeploymentGroupName": "hosts"},
				InputArtifacts: []types.InputArtifact{{Name: aws.String("Bundle")}}, RunOrder: aws.Int32(1)}}},
		},
	}
	// The first push makes the branch; the pipeline is created after it,
	// and its first execution (started by the creation) warms everything.
	git(work, "push", "--quiet", pushURL, "main")
	must(s.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl}))
	progress("B6: warm-up execution")
	if _, err := waitExecution(ctx, s.client, "ByHand", map[string]bool{}, 10*time.Minute); err != nil {
		fatalf("B6 warm-up: %v", err)
	}

	script := filepath.Join(dir, "byhand.sh")
	must(0, os.WriteFile(script, []byte(byHandScript), 0o755))
	targets := filepath.Join(dir, "targets")
	for i := range hosts {
		must(0, os.MkdirAll(filepath.Join(targets, fmt.Sprintf("host-%05d", i)), 0o755))
	}
	var scriptT, slipwayT []float64
	lastExec := ""
	for run := range runs {
		progress("B6: run %d of %d: the script", run+1, runs)
		start := time.Now()
		if out, err := exec.Command(script, work, targets).CombinedOutput(); err != nil {
			fatalf("B6 script: %v\n%s", err, out)
		}
		scriptT = append(scriptT, time.Since(start).Seconds())
		checkSums(filepath.Join(targets, "host-00000", "opt", "app"))

		progress("B6: run %d of %d: Slipway", run+1, runs)
		commit(work, run)
		before := executionIDs(ctx, s.client, "ByHand")
		start = time.Now()
		git(work, "push", "--quiet", pushURL, "main")
		id, err := waitExecution(ctx, s.client, "ByHand", before, 10*time.Minute)
		if err != nil {
			fatalf("B6 run %d: %v", run, err)
		}
		slipwayT = append(slipwayT, time.Since(start).Seconds())
		lastExec = id
		for _, a := range f.agents {
			checkSums(filepath.Join(a.install, "opt", "app"))
		}
	}
	sc := summarize("B6", fmt.Sprintf("by hand: shell script, %d hosts", hosts), "s", scriptT,
		"git archive | tar, the build (sha256sum over 128 MB, 6 rounds), cp -R into each host's directory")
	sl := summarize("B6", fmt.Sprintf("Slipway: push to Succeeded, %d hosts", hosts), "s", slipwayT,
		"CodeCommit source -> CodeBuild (same build.sh) -> CodeDeploy AllAtOnce to in-process agents")
	sl.Ratio = sl.Median / sc.Median
	sl.Note += "; ratio = Slipway median / script median; last run's actions: " + actionDurations(ctx, s.client, "ByHand", lastExec)
	return []result{sc, sl}
}

// checkSums confirms a host directory holds the build's result.
func checkSums(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "sums-6.txt"))
	if err != nil || strings.Count(string(b), "\n") != 8 {
		fatalf("B6: %s does not hold the build's result: %v", dir, err)
	}
}

// waitExecution waits for an execution not in before to end, and
// fails unless it succeeded.
func waitExecution(ctx context.Context, c *codepipeline.Client, name string, before map[string]bool, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	id := ""
	for time.Now().Before(deadline) {
		if id == "" {
			out := must(c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name), MaxResults: aws.Int32(50)}))
			for _, e := range out.PipelineExecutionSummaries {
				if !before[aws.ToString(e.PipelineExecutionId)] {
					id = aws.ToString(e.PipelineExecutionId)
				}
			}
		}
		if id != "" {
			e := must(c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id)})).PipelineExecution
			switch e.Status {
			case types.PipelineExecutionStatusSucceeded:
				return id, nil
			case types.PipelineExecutionStatusInProgress, types.PipelineExecutionStatusStopping:
			default:
				return id, fmt.Errorf("execution %s of %s ended %s: %s", id, name, e.Status, executionFailure(ctx, c, name, id))
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return id, fmt.Errorf("execution of %s did not end within %s", name, timeout)
}

// executionFailure names the failed actions of an execution and their
// messages.
func executionFailure(ctx context.Context, c *codepipeline.Client, name, id string) string {
	out, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(name),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)}})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, d := range out.ActionExecutionDetails {
		if d.Status == types.ActionExecutionStatusFailed {
			fmt.Fprintf(&b, "%s failed", aws.ToString(d.ActionName))
			if d.Output != nil && d.Output.ExecutionResult != nil {
				fmt.Fprintf(&b, ": %s", aws.ToString(d.Output.ExecutionResult.ExternalExecutionSummary))
			}
			b.WriteString("; ")
		}
	}
	return b.String()
}

// actionDurations lists each action of an execution with its duration.
func actionDurations(ctx context.Context, c *codepipeline.Client, name, id string) string {
	out := must(c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(name),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)}}))
	var parts []string
	for _, d := range slices.Backward(out.ActionExecutionDetails) {
		if d.StartTime != nil && d.LastUpdateTime != nil {
			parts = append(parts, fmt.Sprintf("%s %.2f s", aws.ToString(d.ActionName), d.LastUpdateTime.Sub(*d.StartTime).Seconds()))
		}
	}
	return strings.Join(parts, ", ")
}
