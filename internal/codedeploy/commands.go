package codedeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/hostcmd"
	"github.com/slipway-cd/slipway/internal/store"
)

// CommandSigningName is the SigV4 service name of the host command
// service (the model's endpointPrefix).
const CommandSigningName = "codedeploy-commands"

// InstanceUserPrefix starts the user name of an instance's own access key
// ("instance.<name>"; IAM user names cannot hold "/"): the key's user ARN is
// arn:aws:iam::<account>:user/instance.<name>.
const InstanceUserPrefix = "instance."

// CommandService serves CodeDeployCommandService_v20141006, the protocol
// of the hosts' agents (api.md §6). A host is the registered instance
// whose iamUserArn or iamSessionArn (or Slipway instance ARN) is the
// request's HostIdentifier, and its requests must be signed with that
// instance's own access key (user instance.<name>, see
// extensions.CreateInstanceCredentials) or with the key of the IAM user
// it was registered with. A host sees only its own commands.
type CommandService struct {
	Store  store.Store
	Runner *deploy.Runner
	Signer *hostcmd.Signer
	// Repos holds the hosted repositories that GitHubLocation revisions
	// name: repository "owner/name" is the hosted repository "name".
	Repos     *githost.Host
	Region    string
	AccountID string
	Logger    *slog.Logger

	specsOnce sync.Once
	specs     *hostcmd.SpecCache // Signer's signatures by specification content
}

// Register adds the operations to srv.
func (c *CommandService) Register(srv *awsproto.Server) {
	svc := awsproto.NewService(cdcmdapi.TargetPrefix, CommandSigningName, cdcmdapi.Operations)
	awsproto.Handle(svc, "PollHostCommand", c.PollHostCommand)
	awsproto.Handle(svc, "PutHostCommandAcknowledgement", c.PutHostCommandAcknowledgement)
	awsproto.Handle(svc, "GetDeploymentSpecification", c.GetDeploymentSpecification)
	awsproto.Handle(svc, "PostHostCommandUpdate", c.PostHostCommandUpdate)
	awsproto.Handle(svc, "PutHostCommandComplete", c.PutHostCommandComplete)
	srv.Register(svc)
}

func (c *CommandService) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func clientErr(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(cdcmdapi.ClientException, format, args...)
}

func (c *CommandService) instanceARN(name string) string {
	return fmt.Sprintf("arn:aws:codedeploy:%s:%s:instance/%s", c.Region, c.AccountID, name)
}

// InstanceUserARN returns the user ARN of an instance's own access key.
func InstanceUserARN(accountID, instance string) string {
	return "arn:aws:iam::" + accountID + ":user/" + InstanceUserPrefix + instance
}

// signedBy reports whether the caller signed with the instance's key.
func (c *CommandService) signedBy(ctx context.Context, i *store.OnPremisesInstance) error {
	caller := awsproto.CallerFrom(ctx).ARN
	if caller != "" && (caller == InstanceUserARN(c.AccountID, i.Name) || caller == i.IAMUserARN) {
		return nil
	}
	return clientErr("the request is signed by %s, not by an access key of instance %s; sign agent requests with the instance's own credentials", cmpOr(caller, "nobody"), i.Name)
}

// host resolves a HostIdentifier to the caller's registered instance.
func (c *CommandService) host(ctx context.Context, hostID string) (*store.OnPremisesInstance, error) {
	i, err := c.Store.FindOnPremisesInstanceByIAMARN(ctx, hostID)
	if errors.Is(err, store.ErrNotFound) {
		if name, ok := strings.CutPrefix(hostID, c.instanceARN("")); ok && name != "" {
			i, err = c.Store.GetOnPremisesInstance(ctx, name)
		}
	}
	if errors.Is(err, store.ErrNotFound) || err == nil && !i.IsRegistered() {
		return nil, clientErr("no registered on-premises instance has the host identifier %s; register the instance with it (RegisterOnPremisesInstance)", hostID)
	}
	if err != nil {
		return nil, err
	}
	if err := c.signedBy(ctx, i); err != nil {
		return nil, err
	}
	return i, nil
}

// command reads a host command that belongs to the caller's instance.
func (c *CommandService) command(ctx context.Context, id string) (*store.HostCommand, error) {
	cmd, err := c.Store.GetHostCommand(ctx, id)
	notFound := clientErr("host command %s does not exist for this host", id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	i, err := c.Store.GetOnPremisesInstance(ctx, cmd.Instance)
	if err != nil {
		return nil, notFound
	}
	if c.signedBy(ctx, i) != nil {
		return nil, notFound // another host's command: do not reveal it
	}
	return cmd, nil
}

// PollHostCommand returns the host's next command: at once when one is
// ready, otherwise as soon as the runner creates one, or {} after the
// runner's PollWait.
func (c *CommandService) PollHostCommand(ctx context.Context, in *cdcmdapi.PollHostCommandInput) (*cdcmdapi.PollHostCommandOutput, error) {
	i, err := c.host(ctx, in.HostIdentifier)
	if err != nil {
		return nil, err
	}
	c.Runner.Seen(ctx, i.Name)
	defer c.Runner.Seen(ctx, i.Name)
	timer := time.NewTimer(c.Runner.Config().PollWait)
	defer timer.Stop()
	// The agent is alive while it waits here: refresh its last poll in the
	// store, which the runners of other servers read.
	alive := time.NewTicker(max(c.Runner.Config().AgentLease/4, time.Second))
	defer alive.Stop()
	for {
		wake := c.Runner.HostWait(i.Name)
		cmd, err := c.Runner.NextCommand(ctx, i.Name)
		if err != nil {
			return nil, err
		}
		if cmd != nil {
			nonce := cmd.Nonce
			c.logger().InfoContext(ctx, "host command dispatched", "instance", i.Name, "command", cmd.Name, "deployment", cmd.DeploymentID)
			return &cdcmdapi.PollHostCommandOutput{HostCommand: &cdcmdapi.HostCommandInstance{
				HostCommandIdentifier: cmd.ID, HostIdentifier: in.HostIdentifier, CommandName: cmd.Name,
				DeploymentExecutionId: hostcmd.ExecutionID(cmd.DeploymentID, cmd.Instance), Nonce: &nonce,
			}}, nil
		}
	wait:
		for {
			select {
			case <-wake:
				c.Runner.Seen(ctx, i.Name)
				break wait
			case <-alive.C:
				c.Runner.Seen(ctx, i.Name)
			case <-timer.C:
				return &cdcmdapi.PollHostCommandOutput{}, nil
			case <-ctx.Done():
				return &cdcmdapi.PollHostCommandOutput{}, nil
			}
		}
	}
}

// PutHostCommandAcknowledgement returns the command's status: InProgress
// while the host should run it; Failed when the command was cancelled
// (its deployment ended) or failed meanwhile. An acknowledged command is
// not handed out again.
func (c *CommandService) PutHostCommandAcknowledgement(ctx context.Context, in *cdcmdapi.PutHostCommandAcknowledgementInput) (*cdcmdapi.PutHostCommandAcknowledgementOutput, error) {
	cmd, err := c.command(ctx, in.HostCommandIdentifier)
	if err != nil {
		return nil, err
	}
	c.Runner.Seen(ctx, cmd.Instance)
	status, err := c.Runner.Acknowledged(ctx, cmd.ID)
	if err != nil {
		return nil, fmt.Errorf("acknowledge host command %s: %w", cmd.ID, err)
	}
	return &cdcmdapi.PutHostCommandAcknowledgementOutput{CommandStatus: status}, nil
}

// GetDeploymentSpecification returns the signed deployment specification
// of a deployment on the host.
func (c *CommandService) GetDeploymentSpecification(ctx context.Context, in *cdcmdapi.GetDeploymentSpecificationInput) (*cdcmdapi.GetDeploymentSpecificationOutput, error) {
	i, err := c.host(ctx, in.HostIdentifier)
	if err != nil {
		return nil, err
	}
	depID, instance, ok := hostcmd.ParseExecutionID(in.DeploymentExecutionId)
	if !ok || instance != i.Name {
		return nil, clientErr("deployment execution %s is not one of this host's", in.DeploymentExecutionId)
	}
	d, err := c.Store.GetDeployment(ctx, depID)
	if err != nil {
		return nil, clientErr("deployment execution %s is not one of this host's", in.DeploymentExecutionId)
	}
	if _, err := c.Store.GetDeploymentTarget(ctx, depID, i.Name); err != nil {
		return nil, clientErr("deployment execution %s is not one of this host's", in.DeploymentExecutionId)
	}
	det, err := deploy.DecodeDetail(d)
	if err != nil {
		return nil, err
	}
	spec := &hostcmd.Spec{
		DeploymentId: d.ID, DeploymentGroupId: d.GroupID, DeploymentGroupName: d.GroupName, ApplicationName: d.Application,
		DeploymentCreator: det.Creator, DeploymentType: cdapi.DeploymentTypeInPlace, AppSpecFilename: "appspec.yml",
		AgentActionOverrides:       &hostcmd.AgentActionOverrides{AgentOverrides: hostcmd.AgentOverrides{FileExistsBehavior: cmpOr(det.FileExistsBehavior, cdapi.FileExistsBehaviorDisallow)}},
		AllPossibleLifecycleEvents: hostcmd.CommandNames(),
	}
	switch r := det.Revision; {
	case r != nil && r.S3Location != nil:
		spec.Revision = hostcmd.Revision{RevisionType: hostcmd.RevisionS3, S3Revision: &hostcmd.S3Revision{
			Bucket: r.S3Location.Bucket, Key: r.S3Location.Key, BundleType: r.S3Location.BundleType, Version: r.S3Location.Version, ETag: r.S3Location.ETag}}
		spec.SlipwayBundleUrl = hostcmd.BundlePathPrefix + d.ID
	case r != nil && r.GitHubLocation != nil:
		// Served from the hosted repository as a zip of the commit's tree.
		account, repo, _ := strings.Cut(r.GitHubLocation.Repository, "/")
		spec.Revision = hostcmd.Revision{RevisionType: hostcmd.RevisionGitHub, GitHubRevision: &hostcmd.GitHubRevision{
			Account: account, Repository: repo, CommitId: r.GitHubLocation.CommitId, BundleType: "zip", Anonymous: true}}
		spec.SlipwayBundleUrl = hostcmd.BundlePathPrefix + d.ID
	default:
		return nil, awsproto.Errorf(cdcmdapi.ServerException, "deployment %s has no revision", d.ID)
	}
	// The specification is the same for every host and lifecycle event
	// of the deployment: it is signed once and the envelope reused.
	c.specsOnce.Do(func() { c.specs = hostcmd.NewSpecCache(c.Signer, 0) })
	env, err := c.specs.Sign(spec)
	if err != nil {
		return nil, fmt.Errorf("sign the deployment specification of %s: %w", d.ID, err)
	}
	return &cdcmdapi.GetDeploymentSpecificationOutput{DeploymentSystem: hostcmd.DeploymentSystem,
		DeploymentSpecification: &cdcmdapi.DeploymentSpecification{GenericEnvelope: &cdcmdapi.Envelope{Format: env.Format, Payload: env.Payload}}}, nil
}

// PostHostCommandUpdate accepts a progress update; Diagnostics of format
// SLIPWAY_LOG append their payload to the lifecycle event's log.
func (c *CommandService) PostHostCommandUpdate(ctx context.Context, in *cdcmdapi.PostHostCommandUpdateInput) (*cdcmdapi.PostHostCommandUpdateOutput, error) {
	cmd, err := c.command(ctx, in.HostCommandIdentifier)
	if err != nil {
		return nil, err
	}
	// The agent does not poll while it runs a command; its updates (and
	// keepalives, which carry no payload) show that it is alive.
	c.Runner.Seen(ctx, cmd.Instance)
	if d := in.Diagnostics; d != nil && d.Format == hostcmd.FormatLog && d.Payload != "" {
		if err := c.Runner.AppendLog(ctx, cmd.ID, d.Payload); err != nil {
			return nil, err
		}
	}
	return &cdcmdapi.PostHostCommandUpdateOutput{CommandStatus: cmd.Status}, nil
}

// PutHostCommandComplete records a command's result.
func (c *CommandService) PutHostCommandComplete(ctx context.Context, in *cdcmdapi.PutHostCommandCompleteInput) (*struct{}, error) {
	cmd, err := c.command(ctx, in.HostCommandIdentifier)
	if err != nil {
		return nil, err
	}
	if in.CommandStatus != deploy.CommandSucceeded && in.CommandStatus != deploy.CommandFailed {
		return nil, clientErr("CommandStatus must be Succeeded or Failed, not %q", in.CommandStatus)
	}
	var diag hostcmd.Diagnostics
	if in.Diagnostics != nil {
		if diag, err = hostcmd.ParseDiagnostics(hostcmd.Envelope{Format: in.Diagnostics.Format, Payload: in.Diagnostics.Payload}); err != nil {
			diag = hostcmd.Diagnostics{ErrorCode: hostcmd.CodeUnknownError, Message: in.Diagnostics.Payload}
		}
	}
	err = c.Runner.Complete(ctx, cmd.ID, in.CommandStatus, diag)
	if errors.Is(err, deploy.ErrCommandDone) {
		return nil, clientErr("host command %s has already completed (its deployment ended or the lifecycle event failed)", cmd.ID)
	}
	if err != nil {
		return nil, err
	}
	c.logger().InfoContext(ctx, "host command completed", "instance", cmd.Instance, "command", cmd.Name, "status", in.CommandStatus)
	return nil, nil
}

// BundleHandler serves GET /deploy/bundles/<deployment-id>: the
// deployment's S3 revision bundle from the artifact store, to a host that
// is a target of the deployment. The request must be SigV4-signed for
// service codedeploy-commands with the instance's access key.
func (c *CommandService) BundleHandler(authn awsproto.Authenticator, artifacts artifact.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := authn.Authenticate(r, nil, CommandSigningName)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		ctx := awsproto.WithCaller(r.Context(), caller)
		depID := strings.TrimPrefix(r.URL.Path, hostcmd.BundlePathPrefix)
		d, err := c.Store.GetDeployment(ctx, depID)
		if err != nil {
			http.Error(w, "no such deployment", http.StatusNotFound)
			return
		}
		name, ok := strings.CutPrefix(caller.ARN, "arn:aws:iam::"+c.AccountID+":user/"+InstanceUserPrefix)
		var inst *store.OnPremisesInstance
		if ok {
			inst, err = c.Store.GetOnPremisesInstance(ctx, name)
		} else {
			inst, err = c.Store.FindOnPremisesInstanceByIAMARN(ctx, caller.ARN)
		}
		if err != nil {
			http.Error(w, "the caller is not a registered instance", http.StatusForbidden)
			return
		}
		if _, err := c.Store.GetDeploymentTarget(ctx, d.ID, inst.Name); err != nil {
			http.Error(w, "the instance is not a target of this deployment", http.StatusForbidden)
			return
		}
		det, err := deploy.DecodeDetail(d)
		if err == nil && det.Revision != nil && det.Revision.GitHubLocation != nil {
			c.serveGitBundle(w, r, det.Revision.GitHubLocation)
			return
		}
		if err != nil || det.Revision == nil || det.Revision.S3Location == nil {
			http.Error(w, "the deployment has no S3 bundle", http.StatusNotFound)
			return
		}
		body, info, err := artifacts.Get(ctx, det.Revision.S3Location.Bucket, det.Revision.S3Location.Key)
		if err != nil {
			http.Error(w, "bundle not found in the artifact store: "+err.Error(), http.StatusNotFound)
			return
		}
		defer body.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		if info.Size > 0 {
			w.Header().Set("Content-Length", fmt.Sprint(info.Size))
		}
		_, _ = io.Copy(w, body)
	})
}

// HostedRepository returns the hosted repository a GitHubLocation's
// repository ("owner/name", or just "name") names.
func HostedRepository(repository string) string {
	if _, name, ok := strings.Cut(repository, "/"); ok {
		return name
	}
	return repository
}

// serveGitBundle streams the tree of a GitHubLocation revision's commit
// from the hosted repository as a zip file.
func (c *CommandService) serveGitBundle(w http.ResponseWriter, r *http.Request, loc *cdapi.GitHubLocation) {
	name := HostedRepository(loc.Repository)
	if c.Repos == nil || !c.Repos.Exists(name) {
		http.Error(w, fmt.Sprintf("repository %q of the GitHub revision is not hosted by this server (owner/name maps to the hosted repository name)", loc.Repository), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	if err := githost.Archive(r.Context(), c.Repos.Path(name), loc.CommitId, w); err != nil {
		c.Logger.Error("serve git bundle", "repository", name, "commit", loc.CommitId, "err", err)
		http.Error(w, "cannot archive commit "+loc.CommitId+" of "+name, http.StatusNotFound)
	}
}
