package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// deploymentStatus is what deploy status -o json prints: the GetDeployment
// deploymentInfo and the instances' summaries.
type deploymentStatus struct {
	DeploymentInfo *cdtypes.DeploymentInfo   `json:"DeploymentInfo"`
	Instances      []cdtypes.InstanceSummary `json:"Instances"`
}

// deploymentCommands are the deploy subcommands besides push.
func deploymentCommands(f *apiFlags, stdout io.Writer) []*cobra.Command {
	return []*cobra.Command{deployCreateCommand(f, stdout), deployStatusCommand(f, stdout), deployLogsCommand(f, stdout),
		deployStopCommand(f, stdout), deployListCommand(f, stdout)}
}

// bundleTypeOf infers a bundle type from an object key.
func bundleTypeOf(key string) cdtypes.BundleType {
	switch k := strings.ToLower(key); {
	case strings.HasSuffix(k, ".tar.gz"), strings.HasSuffix(k, ".tgz"):
		return cdtypes.BundleTypeTarGZip
	case strings.HasSuffix(k, ".tar"):
		return cdtypes.BundleTypeTar
	default:
		return cdtypes.BundleTypeZip
	}
}

func deployCreateCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var app, group, dir, s3, repo, commit, config, description string
	cmd := &cobra.Command{
		Use:   "create --application A --group G (--dir DIR | --s3 s3://BUCKET/KEY | --github-repo NAME --commit SHA)",
		Short: "Deploy a revision to a deployment group",
		Long: `Deploy a revision to a deployment group: a directory (bundled and uploaded as
"deploy push" does), an object of the server's artifact store (--s3; the bundle type
follows the key: .zip, .tar, .tgz or .tar.gz), or a commit of a hosted repository
(--github-repo, --commit). The revision is registered with the application first.
Follow the deployment with "slipway deploy status ID --watch".
-o json prints the CreateDeployment output.`,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if app == "" || group == "" {
				return usagef("--application and --group are required")
			}
			sources := 0
			for _, s := range []string{dir, s3, repo} {
				if s != "" {
					sources++
				}
			}
			if sources != 1 {
				return usagef("give one revision: --dir, --s3 or --github-repo with --commit")
			}
			if (repo == "") != (commit == "") {
				return usagef("--github-repo and --commit go together")
			}
			ctx := cmd.Context()
			cd, ext, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			var rev *cdtypes.RevisionLocation
			switch {
			case dir != "":
				if rev, _, err = pushDirectory(ctx, cd, ext, app, dir, "", description); err != nil {
					return err
				}
			case s3 != "":
				bucket, key, ok := strings.Cut(strings.TrimPrefix(s3, "s3://"), "/")
				if !strings.HasPrefix(s3, "s3://") || !ok || bucket == "" || key == "" {
					return usagef("--s3 %q: use s3://BUCKET/KEY", s3)
				}
				rev = &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
					S3Location: &cdtypes.S3Location{Bucket: aws.String(bucket), Key: aws.String(key), BundleType: bundleTypeOf(key)}}
			default:
				rev = &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeGitHub,
					GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String(repo), CommitId: aws.String(commit)}}
			}
			if dir == "" {
				in := &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String(app), Revision: rev}
				if description != "" {
					in.Description = aws.String(description)
				}
				if _, err := cd.RegisterApplicationRevision(ctx, in); err != nil {
					return sdkError(err)
				}
			}
			in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group), Revision: rev}
			if config != "" {
				in.DeploymentConfigName = aws.String(config)
			}
			if description != "" {
				in.Description = aws.String(description)
			}
			out, err := cd.CreateDeployment(ctx, in)
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(stdout, out)
			}
			fmt.Fprintf(stdout, "Created deployment %s of %s to %s/%s\nFollow it with: slipway deploy status %s --watch\n",
				aws.ToString(out.DeploymentId), describeRevision(rev), app, group, aws.ToString(out.DeploymentId))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&app, "application", "", "the CodeDeploy application (required)")
	fl.StringVar(&group, "group", "", "the deployment group (required)")
	fl.StringVar(&dir, "dir", "", "a directory holding appspec.yml, to bundle and upload")
	fl.StringVar(&s3, "s3", "", "a bundle in the server's artifact store, s3://BUCKET/KEY")
	fl.StringVar(&repo, "github-repo", "", "a repository hosted by the server (with --commit)")
	fl.StringVar(&commit, "commit", "", "the commit of --github-repo")
	fl.StringVar(&config, "config", "", "the deployment configuration (default the group's)")
	fl.StringVar(&description, "description", "", "a description of the deployment")
	return cmd
}

// describeRevision words a revision location in one line.
func describeRevision(rev *cdtypes.RevisionLocation) string {
	switch {
	case rev == nil:
		return ""
	case rev.S3Location != nil:
		return fmt.Sprintf("s3://%s/%s", aws.ToString(rev.S3Location.Bucket), aws.ToString(rev.S3Location.Key))
	case rev.GitHubLocation != nil:
		return fmt.Sprintf("%s@%s", aws.ToString(rev.GitHubLocation.Repository), aws.ToString(rev.GitHubLocation.CommitId))
	}
	return string(rev.RevisionType)
}

// deploymentEnded reports whether a deployment status is final.
func deploymentEnded(s cdtypes.DeploymentStatus) bool {
	return s == cdtypes.DeploymentStatusSucceeded || s == cdtypes.DeploymentStatusFailed || s == cdtypes.DeploymentStatusStopped
}

// currentEvent returns the lifecycle event an instance is at: the one
// running, else the one that failed, else the last that ran.
func currentEvent(events []cdtypes.LifecycleEvent) *cdtypes.LifecycleEvent {
	var last *cdtypes.LifecycleEvent
	for i := range events {
		switch events[i].Status {
		case cdtypes.LifecycleEventStatusInProgress, cdtypes.LifecycleEventStatusFailed:
			return &events[i]
		case cdtypes.LifecycleEventStatusSucceeded:
			last = &events[i]
		}
	}
	return last
}

// instanceDuration is how long an instance's events ran: from the first
// start to the last end (or now while one runs).
func instanceDuration(events []cdtypes.LifecycleEvent, now time.Time) (time.Duration, bool) {
	var start, end time.Time
	running := false
	for _, e := range events {
		if e.StartTime != nil && (start.IsZero() || e.StartTime.Before(start)) {
			start = *e.StartTime
		}
		if e.EndTime != nil && e.EndTime.After(end) {
			end = *e.EndTime
		}
		if e.Status == cdtypes.LifecycleEventStatusInProgress {
			running = true
		}
	}
	if start.IsZero() {
		return 0, false
	}
	if running || end.IsZero() {
		end = now
	}
	return end.Sub(start), true
}

// renderDeployment draws a deployment and its instances.
func renderDeployment(d *cdtypes.DeploymentInfo, instances []cdtypes.InstanceSummary, now time.Time, colour bool) string {
	var b strings.Builder
	status := string(d.Status)
	if colour {
		status = statusColour(status)
	}
	fmt.Fprintf(&b, "Deployment %s of %s to %s/%s: %s\n", aws.ToString(d.DeploymentId), describeRevision(d.Revision),
		aws.ToString(d.ApplicationName), aws.ToString(d.DeploymentGroupName), status)
	if o := d.DeploymentOverview; o != nil {
		fmt.Fprintf(&b, "Instances: %d succeeded, %d failed, %d in progress, %d pending, %d skipped (%s)\n",
			o.Succeeded, o.Failed, o.InProgress, o.Pending, o.Skipped, aws.ToString(d.DeploymentConfigName))
	}
	if e := d.ErrorInformation; e != nil && aws.ToString(e.Message) != "" {
		fmt.Fprintf(&b, "Error: %s: %s\n", e.Code, oneLine(aws.ToString(e.Message), 200))
	}
	t := &table{header: []string{"INSTANCE", "STATUS", "EVENT", "EVENT STATUS", "DURATION", "DETAIL"}}
	if colour {
		t.colour = func(col int, cell string) string {
			if col == 1 || col == 3 {
				return statusColour(cell)
			}
			return cell
		}
	}
	for _, in := range instances {
		var event, eventStatus, detail, dur string
		if e := currentEvent(in.LifecycleEvents); e != nil {
			event, eventStatus = aws.ToString(e.LifecycleEventName), string(e.Status)
			if e.Diagnostics != nil && e.Status == cdtypes.LifecycleEventStatusFailed {
				detail = oneLine(string(e.Diagnostics.ErrorCode)+": "+aws.ToString(e.Diagnostics.Message), 100)
			}
		}
		if d, ok := instanceDuration(in.LifecycleEvents, now); ok {
			dur = shortDuration(d)
		}
		t.add(aws.ToString(in.InstanceId), string(in.Status), event, eventStatus, dur, detail)
	}
	b.WriteString(t.render())
	return b.String()
}

// loadDeployment reads a deployment and its instances' summaries.
func loadDeployment(ctx context.Context, cd *codedeploy.Client, id string) (*deploymentStatus, error) {
	d, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		return nil, sdkError(err)
	}
	var ids []string
	pager := codedeploy.NewListDeploymentInstancesPaginator(cd, &codedeploy.ListDeploymentInstancesInput{DeploymentId: aws.String(id)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, sdkError(err)
		}
		ids = append(ids, page.InstancesList...)
	}
	st := &deploymentStatus{DeploymentInfo: d.DeploymentInfo, Instances: []cdtypes.InstanceSummary{}}
	for chunk := range slices.Chunk(ids, 25) {
		out, err := cd.BatchGetDeploymentInstances(ctx, &codedeploy.BatchGetDeploymentInstancesInput{DeploymentId: aws.String(id), InstanceIds: chunk})
		if err != nil {
			return nil, sdkError(err)
		}
		st.Instances = append(st.Instances, out.InstancesSummary...)
	}
	slices.SortFunc(st.Instances, func(a, b cdtypes.InstanceSummary) int {
		return strings.Compare(aws.ToString(a.InstanceId), aws.ToString(b.InstanceId))
	})
	return st, nil
}

func deployStatusCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "status ID [--watch]",
		Short: "Show a deployment's progress on each instance",
		Long: `Show a deployment's progress on each instance: its status, the lifecycle event it is
at and how long its events have run. With --watch, redraw until the deployment ends.
The command fails (exit code 1) when the deployment ended Failed or Stopped.
-o json prints {"DeploymentInfo": <GetDeployment's deploymentInfo>, "Instances":
[<BatchGetDeploymentInstances summaries>]} (with --watch, once it ended).`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cd, _, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			colour, term := useColour(stdout), isTerminal(stdout)
			last := ""
			for {
				st, err := loadDeployment(ctx, cd, args[0])
				if err != nil {
					return err
				}
				done := !watch || deploymentEnded(st.DeploymentInfo.Status)
				if format == formatTable {
					if key := renderDeployment(st.DeploymentInfo, st.Instances, time.Time{}, false); term || key != last || done {
						if term && watch {
							io.WriteString(stdout, "\x1b[H\x1b[2J")
						} else if last != "" {
							io.WriteString(stdout, "\n")
						}
						io.WriteString(stdout, renderDeployment(st.DeploymentInfo, st.Instances, time.Now(), colour))
						last = key
					}
				}
				if done {
					if format == formatJSON {
						if err := writeJSON(stdout, st); err != nil {
							return err
						}
					}
					if s := st.DeploymentInfo.Status; s == cdtypes.DeploymentStatusFailed || s == cdtypes.DeploymentStatusStopped {
						return fmt.Errorf("deployment %s ended %s", args[0], s)
					}
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(pollInterval):
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw until the deployment ends")
	return cmd
}

// latestDeploymentOf returns the newest deployment that includes the
// instance.
func latestDeploymentOf(ctx context.Context, cd *codedeploy.Client, instance string) (string, error) {
	pager := codedeploy.NewListDeploymentsPaginator(cd, &codedeploy.ListDeploymentsInput{})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", sdkError(err)
		}
		for _, id := range page.Deployments {
			_, err := cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id), InstanceId: aws.String(instance)})
			if err == nil {
				return id, nil
			}
			if !isCode(err, "InstanceDoesNotExistException") && !isCode(err, "DeploymentTargetDoesNotExistException") {
				return "", sdkError(err)
			}
		}
	}
	return "", fmt.Errorf("no deployment includes instance %s", instance)
}

func deployLogsCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var id string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs INSTANCE [--deployment-id ID] [--follow]",
		Short: "Print the hook output of an instance's deployment",
		Long: `Print the output of the lifecycle hooks an instance ran in a deployment (by default its
latest), event by event (GetLifecycleEventLog). With --follow, keep printing until the
deployment has ended on the instance. -o json prints one JSON object per chunk
({"lifecycleEventName", "seq", "time", "data"}), one per line.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cd, ext, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			instance := args[0]
			if id == "" {
				if id, err = latestDeploymentOf(ctx, cd, instance); err != nil {
					return err
				}
			}
			if format == formatTable {
				fmt.Fprintf(stdout, "Deployment %s on %s\n", id, instance)
			}
			done := map[string]bool{} // events whose log was read to its end
			seq := map[string]int64{}
			for {
				out, err := cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id), InstanceId: aws.String(instance)})
				if err != nil {
					return sdkError(err)
				}
				summary := out.InstanceSummary
				ended := summary.Status != cdtypes.InstanceStatusInProgress && summary.Status != cdtypes.InstanceStatusPending
				progressed := false
				for _, e := range summary.LifecycleEvents {
					name := aws.ToString(e.LifecycleEventName)
					if done[name] || e.Status == cdtypes.LifecycleEventStatusPending || e.Status == cdtypes.LifecycleEventStatusSkipped {
						continue
					}
					first := true
					for {
						page, err := ext.GetLifecycleEventLog(ctx, &slipwayapi.GetLifecycleEventLogInput{DeploymentID: id, InstanceID: instance,
							LifecycleEventName: name, AfterSeq: seq[name], MaxChunks: slipwayapi.MaxMaxChunks})
						if err != nil {
							return apiError(err)
						}
						if seq[name] == 0 && first && format == formatTable && (len(page.Chunks) > 0 || page.Complete) {
							fmt.Fprintf(stdout, "== %s (%s)\n", name, e.Status)
						}
						first = false
						for _, c := range page.Chunks {
							if format == formatJSON {
								if err := writeLine(stdout, struct {
									Event string `json:"lifecycleEventName"`
									slipwayapi.LogChunk
								}{name, c}); err != nil {
									return err
								}
							} else {
								io.WriteString(stdout, c.Data)
							}
						}
						seq[name] = page.NextSeq
						if len(page.Chunks) > 0 {
							progressed = true
						}
						if page.Complete {
							done[name] = true
						}
						if page.Complete || len(page.Chunks) == 0 {
							break
						}
					}
					if !done[name] {
						break // later events have not run yet
					}
				}
				if !follow || ended {
					return nil
				}
				if !progressed {
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(pollInterval):
					}
				}
			}
		},
	}
	cmd.Flags().StringVar(&id, "deployment-id", "", "the deployment (default the instance's latest)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the deployment has ended on the instance")
	return cmd
}

func deployStopCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var rollback bool
	cmd := &cobra.Command{
		Use:   "stop ID [--rollback]",
		Short: "Stop a deployment, optionally rolling back",
		Long:  "Stop a deployment; with --rollback, redeploy the last successful revision. -o json prints the StopDeployment output.",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cd, _, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			out, err := cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(args[0]), AutoRollbackEnabled: aws.Bool(rollback)})
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(stdout, out)
			}
			fmt.Fprintf(stdout, "Deployment %s: %s", args[0], out.Status)
			if m := aws.ToString(out.StatusMessage); m != "" {
				fmt.Fprintf(stdout, " (%s)", m)
			}
			fmt.Fprintln(stdout)
			return nil
		},
	}
	cmd.Flags().BoolVar(&rollback, "rollback", false, "roll back to the last successful revision")
	return cmd
}

func deployListCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var app, group string
	var statuses []string
	var maxN int
	cmd := &cobra.Command{
		Use:   "list [--application A [--group G]] [--status STATUS]...",
		Short: "List deployments, newest first",
		Long: `List deployments, newest first, of every application or of one (and one group), with
only the given statuses (Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped,
Ready). -o json prints a JSON array of the BatchGetDeployments deploymentInfo.`,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if group != "" && app == "" {
				return usagef("--group needs --application")
			}
			ctx := cmd.Context()
			cd, _, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			in := &codedeploy.ListDeploymentsInput{}
			if app != "" {
				in.ApplicationName = aws.String(app)
			}
			if group != "" {
				in.DeploymentGroupName = aws.String(group)
			}
			for _, s := range statuses {
				in.IncludeOnlyStatuses = append(in.IncludeOnlyStatuses, cdtypes.DeploymentStatus(s))
			}
			var ids []string
			pager := codedeploy.NewListDeploymentsPaginator(cd, in)
			for pager.HasMorePages() && len(ids) < maxN {
				page, err := pager.NextPage(ctx)
				if err != nil {
					return sdkError(err)
				}
				ids = append(ids, page.Deployments...)
			}
			ids = ids[:min(len(ids), maxN)]
			infos := []cdtypes.DeploymentInfo{}
			for chunk := range slices.Chunk(ids, 25) {
				out, err := cd.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: chunk})
				if err != nil {
					return sdkError(err)
				}
				infos = append(infos, out.DeploymentsInfo...)
			}
			slices.SortStableFunc(infos, func(a, b cdtypes.DeploymentInfo) int {
				return aws.ToTime(b.CreateTime).Compare(aws.ToTime(a.CreateTime))
			})
			if format == formatJSON {
				return writeJSON(stdout, infos)
			}
			t := &table{header: []string{"ID", "APPLICATION", "GROUP", "STATUS", "CREATED", "REVISION", "DESCRIPTION"}}
			if useColour(stdout) {
				t.colour = func(col int, cell string) string {
					if col == 3 {
						return statusColour(cell)
					}
					return cell
				}
			}
			for _, d := range infos {
				t.add(aws.ToString(d.DeploymentId), aws.ToString(d.ApplicationName), aws.ToString(d.DeploymentGroupName),
					string(d.Status), clock(d.CreateTime), oneLine(describeRevision(d.Revision), 60), oneLine(aws.ToString(d.Description), 50))
			}
			_, err = io.WriteString(stdout, t.render())
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&app, "application", "", "only deployments of this application")
	fl.StringVar(&group, "group", "", "only deployments to this group (with --application)")
	fl.StringArrayVar(&statuses, "status", nil, "only deployments with this status (repeatable)")
	fl.IntVar(&maxN, "max", 50, "how many deployments to show")
	return cmd
}

// writeLine writes v as one line of JSON.
func writeLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
