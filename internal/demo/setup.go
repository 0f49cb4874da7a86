package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/agent"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// setUp creates what is missing, starts the agents and pushes a commit.
// The pipeline is created after the push: its creation then starts the
// first execution on the pushed commit, and on later starts the push
// starts one.
func (d *Demo) setUp(ctx context.Context) error {
	repo, err := d.ensureRepository(ctx)
	if err != nil {
		return err
	}
	d.CloneURL = repo.CloneURLHTTP
	if err := d.ensureBuildProject(ctx); err != nil {
		return err
	}
	if err := d.ensureApplication(ctx); err != nil {
		return err
	}
	for _, name := range InstanceNames {
		a, cfg, err := d.ensureInstance(ctx, name)
		if err != nil {
			return err
		}
		if err := d.startAgent(ctx, a, cfg); err != nil {
			return err
		}
		d.Agents = append(d.Agents, a)
	}
	if err := d.ensureDeploymentGroup(ctx); err != nil {
		return err
	}
	if d.abandoned, err = d.abandonInterrupted(ctx); err != nil {
		return err
	}
	if d.eventsFrom, err = lastEventID(ctx, d.ext); err != nil {
		return fmt.Errorf("read the event log: %w", err)
	}
	g := &git{dir: d.demoDir(), url: d.CloneURL, keyID: d.Credentials.AccessKeyID, secret: d.Credentials.SecretAccessKey}
	if d.Commit, d.Release, err = g.pushRelease(ctx); err != nil {
		return fmt.Errorf("push to %s: %w", d.CloneURL, err)
	}
	if err := d.ensurePipeline(ctx); err != nil {
		return err
	}
	d.waitingBehind, err = d.pendingApproval(ctx)
	return err
}

// abandonInterrupted abandons the executions whose running action (other
// than the approval) a previous demo process was working on when it
// stopped: its worker left the job to its lease, which would hold the
// stage for up to the job timeout. It returns their IDs.
func (d *Demo) abandonInterrupted(ctx context.Context) ([]string, error) {
	execs, err := d.cp.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(PipelineName)})
	var missing *cptypes.PipelineNotFoundException
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the executions of %s: %w", PipelineName, err)
	}
	var abandoned []string
	for _, x := range execs.PipelineExecutionSummaries {
		if x.Status != cptypes.PipelineExecutionStatusInProgress {
			continue
		}
		id := aws.ToString(x.PipelineExecutionId)
		acts, err := d.cp.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(PipelineName),
			Filter: &cptypes.ActionExecutionFilter{PipelineExecutionId: aws.String(id)}})
		if err != nil {
			return nil, fmt.Errorf("list the actions of execution %s: %w", id, err)
		}
		for _, a := range acts.ActionExecutionDetails {
			if a.Status != cptypes.ActionExecutionStatusInProgress ||
				(aws.ToString(a.StageName) == ApprovalStage && aws.ToString(a.ActionName) == ApprovalAction) {
				continue
			}
			_, err := d.cp.StopPipelineExecution(ctx, &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String(PipelineName),
				PipelineExecutionId: aws.String(id), Abandon: true,
				Reason: aws.String("slipway demo restarted: the " + aws.ToString(a.StageName) + " action was cut off when it stopped")})
			var notStoppable *cptypes.PipelineExecutionNotStoppableException
			if err != nil && !errors.As(err, &notStoppable) {
				return nil, fmt.Errorf("abandon execution %s: %w", id, err)
			}
			abandoned = append(abandoned, id)
			break
		}
	}
	return abandoned, nil
}

// pendingApproval returns the execution, if any, that waits for an
// approval from an earlier start: the new one waits behind it.
func (d *Demo) pendingApproval(ctx context.Context) (string, error) {
	st, err := d.cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(PipelineName)})
	if err != nil {
		return "", fmt.Errorf("get the state of pipeline %s: %w", PipelineName, err)
	}
	for _, s := range st.StageStates {
		if aws.ToString(s.StageName) != ApprovalStage || s.LatestExecution == nil {
			continue
		}
		for _, a := range s.ActionStates {
			if aws.ToString(a.ActionName) == ApprovalAction && a.LatestExecution != nil &&
				a.LatestExecution.Status == cptypes.ActionExecutionStatusInProgress {
				id := aws.ToString(s.LatestExecution.PipelineExecutionId)
				x, err := d.cp.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(PipelineName),
					PipelineExecutionId: aws.String(id)})
				if err != nil {
					return "", fmt.Errorf("get execution %s: %w", id, err)
				}
				for _, r := range x.PipelineExecution.ArtifactRevisions {
					if aws.ToString(r.RevisionId) == d.Commit {
						return "", nil // the new one already got there
					}
				}
				return id, nil
			}
		}
	}
	return "", nil
}

func (d *Demo) ensureRepository(ctx context.Context) (*slipwayapi.Repository, error) {
	out, err := d.ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: RepositoryName,
		Description: "The sample web app of slipway demo"})
	if err == nil {
		return out.Repository, nil
	}
	if slipwayapi.ErrorCode(err) != slipwayapi.RepositoryNameExistsException {
		return nil, fmt.Errorf("create repository %s: %w", RepositoryName, err)
	}
	got, err := d.ext.GetRepository(ctx, &slipwayapi.GetRepositoryInput{RepositoryName: RepositoryName})
	if err != nil {
		return nil, fmt.Errorf("get repository %s: %w", RepositoryName, err)
	}
	return got.Repository, nil
}

func (d *Demo) ensureBuildProject(ctx context.Context) error {
	_, err := d.ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{
		Name: BuildProjectName, Description: "Builds and tests demo-app (its buildspec.yml)", BuildspecPath: "buildspec.yml",
		TimeoutInMinutes: 10,
	}})
	if err != nil && slipwayapi.ErrorCode(err) != slipwayapi.ResourceAlreadyExistsException {
		return fmt.Errorf("create build project %s: %w", BuildProjectName, err)
	}
	return nil
}

func (d *Demo) ensureApplication(ctx context.Context) error {
	_, err := d.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(ApplicationName),
		ComputePlatform: cdtypes.ComputePlatformServer})
	var exists *cdtypes.ApplicationAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create application %s: %w", ApplicationName, err)
	}
	return nil
}

// roleARN is the service role the demo's pipeline and deployment group
// name (Slipway records it).
func (d *Demo) roleARN() string { return "arn:aws:iam::" + d.accountID + ":role/slipway-demo" }

func (d *Demo) ensureDeploymentGroup(ctx context.Context) error {
	_, err := d.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName:      aws.String(ApplicationName),
		DeploymentGroupName:  aws.String(DeploymentGroupName),
		ServiceRoleArn:       aws.String(d.roleARN()),
		DeploymentConfigName: aws.String("CodeDeployDefault.OneAtATime"),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{{Key: aws.String(TagKey), Value: aws.String(TagValue),
			Type: cdtypes.TagFilterTypeKeyAndValue}},
	})
	var exists *cdtypes.DeploymentGroupAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create deployment group %s: %w", DeploymentGroupName, err)
	}
	return nil
}

// ensureInstance returns the agent's directories and configuration,
// registering the instance when its configuration file does not exist or
// names a registration that no longer holds, and tags it.
func (d *Demo) ensureInstance(ctx context.Context, name string) (Agent, *agent.Config, error) {
	dir := filepath.Join(d.demoDir(), "agents", name)
	a := Agent{Name: name, Dir: dir, RootDir: filepath.Join(dir, "root"), InstallDir: filepath.Join(dir, "install"),
		Config: filepath.Join(dir, "agent.yml")}
	for _, p := range []string{a.RootDir, a.InstallDir} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return a, nil, fmt.Errorf("agent %s: %w", name, err)
		}
	}
	cfg, err := agent.LoadConfig(a.Config)
	if err == nil {
		reg, gerr := d.cd.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String(name)})
		if gerr == nil && reg.InstanceInfo.DeregisterTime == nil && aws.ToString(reg.InstanceInfo.IamUserArn) == cfg.IAMUserARN {
			return a, cfg, d.tagInstance(ctx, name)
		}
	}
	// A new key for the instance, then its registration.
	key, err := d.ext.CreateInstanceCredentials(ctx, &slipwayapi.CreateInstanceCredentialsInput{InstanceName: name})
	if err != nil {
		return a, nil, fmt.Errorf("create the credentials of instance %s: %w", name, err)
	}
	_, err = d.cd.RegisterOnPremisesInstance(ctx, &codedeploy.RegisterOnPremisesInstanceInput{InstanceName: aws.String(name),
		IamUserArn: aws.String(key.UserArn)})
	var taken *cdtypes.InstanceNameAlreadyRegisteredException
	switch {
	case errors.As(err, &taken):
		// Registered earlier with the same identity (the configuration
		// file was lost): the new key serves it as well.
		reg, gerr := d.cd.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String(name)})
		if gerr != nil {
			return a, nil, fmt.Errorf("get instance %s: %w", name, gerr)
		}
		if arn := aws.ToString(reg.InstanceInfo.IamUserArn); arn != key.UserArn {
			return a, nil, fmt.Errorf("instance %s is registered with %s, not the demo's %s; deregister it (aws deploy deregister-on-premises-instance --instance-name %s) or use another --data-dir",
				name, arn, key.UserArn, name)
		}
	case err != nil:
		return a, nil, fmt.Errorf("register instance %s: %w", name, err)
	}
	data, err := agent.RegistrationConfig(&agent.Registration{Endpoint: d.Endpoint, Region: d.Region, AccessKeyID: key.AccessKeyID,
		SecretAccessKey: key.SecretAccessKey, IAMUserARN: key.UserArn, InstanceName: name, RootDir: a.RootDir, LogDir: filepath.Join(dir, "log")})
	if err != nil {
		return a, nil, err
	}
	if err := os.WriteFile(a.Config, data, 0o600); err != nil {
		return a, nil, fmt.Errorf("write %s: %w", a.Config, err)
	}
	if cfg, err = agent.ParseConfig(data); err != nil {
		return a, nil, fmt.Errorf("agent configuration of %s: %w", name, err)
	}
	return a, cfg, d.tagInstance(ctx, name)
}

func (d *Demo) tagInstance(ctx context.Context, name string) error {
	_, err := d.cd.AddTagsToOnPremisesInstances(ctx, &codedeploy.AddTagsToOnPremisesInstancesInput{InstanceNames: []string{name},
		Tags: []cdtypes.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}}})
	if err != nil {
		return fmt.Errorf("tag instance %s: %w", name, err)
	}
	return nil
}

// startAgent runs the instance's agent in this process: the same poll
// loop as slipway-agent, over HTTP with the instance's own key. The
// directories come from the data directory as it is now (it may have
// moved since the configuration was written).
func (d *Demo) startAgent(ctx context.Context, a Agent, cfg *agent.Config) error {
	cfg.Endpoint = d.Endpoint
	cfg.RootDir = a.RootDir
	cfg.LogDir = filepath.Join(a.Dir, "log")
	cfg.InstallRoot = a.InstallDir
	cfg.HookWorkingDir = a.Dir
	cfg.KillAgentMaxWait = agent.Seconds(30 * time.Second)
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		return fmt.Errorf("agent %s: %w", a.Name, err)
	}
	logFile, err := os.OpenFile(filepath.Join(cfg.LogDir, cfg.ProgramName+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("agent %s: %w", a.Name, err)
	}
	logger := slog.New(slog.NewTextHandler(logFile, nil)).With("instance", a.Name)
	ag, err := agent.New(cfg, logger)
	if err != nil {
		logFile.Close()
		return fmt.Errorf("agent %s: %w", a.Name, err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- ag.Run(runCtx) }()
	d.cleanups = append(d.cleanups, func() error {
		stop()
		err := <-done
		logger.Info("slipway-agent stopped")
		logFile.Close()
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("agent %s: %w", a.Name, err)
		}
		return nil
	})
	logger.Info("slipway-agent starting", "endpoint", cfg.Endpoint, "host_identifier", cfg.HostID(), "root_dir", cfg.RootDir,
		"install_root", cfg.InstallRoot)
	return nil
}

// ensurePipeline creates the pipeline unless it exists.
func (d *Demo) ensurePipeline(ctx context.Context) error {
	_, err := d.cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(PipelineName)})
	if err == nil {
		return nil
	}
	var missing *cptypes.PipelineNotFoundException
	if !errors.As(err, &missing) {
		return fmt.Errorf("get pipeline %s: %w", PipelineName, err)
	}
	if _, err := d.cp.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: pipelineDeclaration(d.roleARN()),
		Tags: []cptypes.Tag{{Key: aws.String(TagKey), Value: aws.String(TagValue)}}}); err != nil {
		return fmt.Errorf("create pipeline %s: %w", PipelineName, err)
	}
	d.FirstRun = true
	return nil
}

// pipelineDeclaration is the demo pipeline: the hosted repository's main
// branch, a CodeBuild build with tests and a report, a manual approval and
// a CodeDeploy deployment to the demo fleet.
func pipelineDeclaration(roleARN string) *cptypes.PipelineDeclaration {
	typ := func(c cptypes.ActionCategory, provider string) *cptypes.ActionTypeId {
		return &cptypes.ActionTypeId{Category: c, Owner: cptypes.ActionOwnerAws, Provider: aws.String(provider), Version: aws.String("1")}
	}
	return &cptypes.PipelineDeclaration{
		Name:          aws.String(PipelineName),
		RoleArn:       aws.String(roleARN),
		ArtifactStore: &cptypes.ArtifactStore{Type: cptypes.ArtifactStoreTypeS3, Location: aws.String("slipway-demo-artifacts")},
		Stages: []cptypes.StageDeclaration{
			{Name: aws.String("Source"), Actions: []cptypes.ActionDeclaration{{
				Name: aws.String("Source"), ActionTypeId: typ(cptypes.ActionCategorySource, "CodeCommit"),
				Configuration:   map[string]string{"RepositoryName": RepositoryName, "BranchName": Branch},
				OutputArtifacts: []cptypes.OutputArtifact{{Name: aws.String("SourceOutput")}},
				Namespace:       aws.String("SourceVariables"),
			}}},
			{Name: aws.String("Build"), Actions: []cptypes.ActionDeclaration{{
				Name: aws.String("Build"), ActionTypeId: typ(cptypes.ActionCategoryBuild, "CodeBuild"),
				Configuration:   map[string]string{"ProjectName": BuildProjectName},
				InputArtifacts:  []cptypes.InputArtifact{{Name: aws.String("SourceOutput")}},
				OutputArtifacts: []cptypes.OutputArtifact{{Name: aws.String("BuildOutput")}},
				Namespace:       aws.String("BuildVariables"),
			}}},
			{Name: aws.String(ApprovalStage), Actions: []cptypes.ActionDeclaration{{
				Name: aws.String(ApprovalAction), ActionTypeId: typ(cptypes.ActionCategoryApproval, "Manual"),
				Configuration: map[string]string{"CustomData": "Release #{BuildVariables.RELEASE} (commit #{SourceVariables.CommitId}) " +
					"is built and tested. Approve to deploy it to " + DeploymentGroupName + "."},
			}}},
			{Name: aws.String("Deploy"), Actions: []cptypes.ActionDeclaration{{
				Name: aws.String("Deploy"), ActionTypeId: typ(cptypes.ActionCategoryDeploy, "CodeDeploy"),
				Configuration:  map[string]string{"ApplicationName": ApplicationName, "DeploymentGroupName": DeploymentGroupName},
				InputArtifacts: []cptypes.InputArtifact{{Name: aws.String("BuildOutput")}},
			}}},
		},
	}
}
