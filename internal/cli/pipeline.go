package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// pollInterval is how often --watch and --follow ask the server again.
const pollInterval = time.Second

// pipelineClient returns an AWS SDK CodePipeline client for the server and
// an extension API client, both signing with the command's credentials.
func (f *apiFlags) pipelineClient(ctx context.Context, cmd *cobra.Command) (*codepipeline.Client, *slipwayapi.Client, error) {
	creds, region, _, err := f.credentials(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	if region == "" {
		region = "us-east-1"
	}
	provider := credentials.StaticCredentialsProvider{Value: creds}
	cp := codepipeline.New(codepipeline.Options{Region: region, BaseEndpoint: aws.String(f.endpoint), Credentials: provider})
	return cp, slipwayapi.New(f.endpoint, region, provider), nil
}

// pipelineCmd holds what the pipeline subcommands share.
type pipelineCmd struct {
	api    apiFlags
	stdout io.Writer
}

// clients returns the command's clients (the extension client is unused by
// most).
func (p *pipelineCmd) clients(cmd *cobra.Command) (*codepipeline.Client, *slipwayapi.Client, error) {
	return p.api.pipelineClient(cmd.Context(), cmd)
}

func newPipelineCommand(stdout, _ io.Writer) *cobra.Command {
	p := &pipelineCmd{stdout: stdout}
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Define, run and watch pipelines; answer approvals; gate transitions",
		Long: `Define, run and watch pipelines with the CodePipeline API: apply a definition file,
start, stop and retry executions, follow their status and action logs, answer manual
approvals and disable or enable stage transitions.

With -o json every command prints the CodePipeline API's response (the AWS SDK's output
struct, Go field names) instead of a table.`,
	}
	p.api.register(cmd)
	cmd.AddCommand(p.applyCommand(), p.listCommand(), p.getCommand(), p.statusCommand(), p.startCommand(),
		p.stopCommand(), p.retryCommand(), p.historyCommand(), p.logsCommand(),
		p.approvalsCommand(), p.answerCommand(types.ApprovalStatusApproved), p.answerCommand(types.ApprovalStatusRejected),
		p.transitionCommand(false), p.transitionCommand(true))
	return cmd
}

// readPipelineFile parses a pipeline definition, JSON or YAML, either the
// {"pipeline": {...}, "tags": [...]} document of create-pipeline or a bare
// pipeline, into the SDK's declaration and tags. Unknown members are
// refused.
func readPipelineFile(data []byte) (*types.PipelineDeclaration, []types.Tag, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("neither JSON nor YAML: %w", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, errors.New(`want an object: {"pipeline": {...}} or the pipeline itself`)
	}
	var tags []types.Tag
	if inner, ok := m["pipeline"]; ok {
		for k := range m {
			if k != "pipeline" && k != "tags" {
				return nil, nil, fmt.Errorf("unknown member %q next to \"pipeline\"", k)
			}
		}
		if t, ok := m["tags"]; ok {
			var wire []cpapi.Tag
			if err := strictJSON(t, &wire); err != nil {
				return nil, nil, fmt.Errorf("not a list of tags: %w", err)
			}
			got, err := convert[[]types.Tag](wire)
			if err != nil {
				return nil, nil, err
			}
			tags = *got
		}
		if m, ok = inner.(map[string]any); !ok {
			return nil, nil, errors.New(`"pipeline" must be an object`)
		}
	}
	var wire cpapi.PipelineDeclaration
	if err := strictJSON(m, &wire); err != nil {
		return nil, nil, fmt.Errorf("not a pipeline declaration: %w", err)
	}
	decl, err := convert[types.PipelineDeclaration](&wire)
	return decl, tags, err
}

// strictJSON decodes a parsed document into out through JSON, refusing
// unknown members.
func strictJSON(doc, out any) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// convert copies v into an Out through JSON: the AWS SDK's structs and
// the wire shapes share member names up to case, which encoding/json
// ignores when decoding.
func convert[Out any](v any) (*Out, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	out := new(Out)
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return out, nil
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

func (p *pipelineCmd) applyCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create a pipeline from a definition file, or update it when it exists",
		Long: `Create a pipeline from FILE (JSON or YAML; "-" reads standard input), or update it
when a pipeline of that name exists. FILE holds the {"pipeline": {...}} document of
"aws codepipeline create-pipeline --cli-input-json" or the pipeline itself, with the
API's member names (what "slipway pipeline get" prints). The document's "tags" are
set when the pipeline is created (UpdatePipeline takes none).

-o json prints the CreatePipeline or UpdatePipeline output.`,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if file == "" {
				return usagef("-f FILE is required")
			}
			var data []byte
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("read -f: %w", err)
			}
			decl, tags, err := readPipelineFile(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if aws.ToString(decl.Name) == "" {
				return fmt.Errorf("%s: the pipeline has no name", file)
			}
			decl.Version = nil
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			verb := "Updated"
			var result any
			var got *types.PipelineDeclaration
			_, err = cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: decl.Name})
			switch {
			case isCode(err, cpapi.PipelineNotFoundException):
				verb = "Created"
				out, err := cp.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl, Tags: tags})
				if err != nil {
					return sdkError(err)
				}
				result, got = out, out.Pipeline
			case err != nil:
				return sdkError(err)
			default:
				out, err := cp.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: decl})
				if err != nil {
					return sdkError(err)
				}
				result, got = out, out.Pipeline
			}
			if format == formatJSON {
				return writeJSON(p.stdout, result)
			}
			fmt.Fprintf(p.stdout, "%s pipeline %s (version %d)\n", verb, aws.ToString(got.Name), aws.ToInt32(got.Version))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", `the definition file, JSON or YAML ("-": standard input)`)
	return cmd
}

func (p *pipelineCmd) listCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the pipelines",
		Long:  "List the pipelines. -o json prints a JSON array of the ListPipelines summaries (all pages).",
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			all := []types.PipelineSummary{}
			pager := codepipeline.NewListPipelinesPaginator(cp, &codepipeline.ListPipelinesInput{})
			for pager.HasMorePages() {
				page, err := pager.NextPage(cmd.Context())
				if err != nil {
					return sdkError(err)
				}
				all = append(all, page.Pipelines...)
			}
			if format == formatJSON {
				return writeJSON(p.stdout, all)
			}
			t := &table{header: []string{"NAME", "VERSION", "TYPE", "MODE", "UPDATED"}}
			for _, s := range all {
				t.add(aws.ToString(s.Name), fmt.Sprint(aws.ToInt32(s.Version)), string(s.PipelineType), string(s.ExecutionMode), clock(s.Updated))
			}
			_, err = io.WriteString(p.stdout, t.render())
			return err
		},
	}
}

func (p *pipelineCmd) getCommand() *cobra.Command {
	var version int32
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Print a pipeline's definition (YAML; -o json for JSON)",
		Long: `Print a pipeline's definition as the {"pipeline": {...}} document, with the API's member
names: YAML by default, JSON with -o json. Either is accepted by "slipway pipeline apply".`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, true)
			if err != nil {
				return err
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			in := &codepipeline.GetPipelineInput{Name: aws.String(args[0])}
			if version > 0 {
				in.Version = aws.Int32(version)
			}
			out, err := cp.GetPipeline(cmd.Context(), in)
			if err != nil {
				return sdkError(err)
			}
			wire, err := convert[cpapi.PipelineDeclaration](out.Pipeline)
			if err != nil {
				return err
			}
			doc := map[string]any{"pipeline": wire}
			if format == formatJSON {
				return writeJSON(p.stdout, doc)
			}
			return writeYAML(p.stdout, doc)
		},
	}
	cmd.Flags().Int32Var(&version, "version", 0, "a version of the pipeline (default the latest)")
	return cmd
}

// actionStatusText is an action's summary column: the error when it
// failed, else the summary, else the external URL.
func actionStatusText(e *types.ActionExecution) string {
	if e == nil {
		return ""
	}
	if e.ErrorDetails != nil && aws.ToString(e.ErrorDetails.Message) != "" {
		return aws.ToString(e.ErrorDetails.Message)
	}
	if e.Token != nil && e.Status == types.ActionExecutionStatusInProgress {
		return "waiting for approval"
	}
	if s := aws.ToString(e.Summary); s != "" {
		return s
	}
	return aws.ToString(e.ExternalExecutionUrl)
}

// renderPipelineState draws a GetPipelineState output: a header line, then
// one row per stage and one per action under it.
func renderPipelineState(st *codepipeline.GetPipelineStateOutput, now time.Time, colour bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pipeline %s (version %d)\n", aws.ToString(st.PipelineName), aws.ToInt32(st.PipelineVersion))
	t := &table{header: []string{"STAGE / ACTION", "STATUS", "LAST CHANGE", "SUMMARY"}}
	if colour {
		t.colour = func(col int, cell string) string {
			if col == 1 {
				return statusColour(cell)
			}
			return cell
		}
	}
	for _, s := range st.StageStates {
		status, summary := "", ""
		if s.LatestExecution != nil {
			status = string(s.LatestExecution.Status)
			summary = "execution " + aws.ToString(s.LatestExecution.PipelineExecutionId)
		}
		if tr := s.InboundTransitionState; tr != nil && !tr.Enabled {
			summary = "inbound transition disabled"
			if r := aws.ToString(tr.DisabledReason); r != "" {
				summary += ": " + r
			}
		}
		t.add(aws.ToString(s.StageName), status, "", oneLine(summary, 100))
		for i, a := range s.ActionStates {
			branch := "├─ "
			if i == len(s.ActionStates)-1 {
				branch = "└─ "
			}
			var status, change string
			if e := a.LatestExecution; e != nil {
				status, change = string(e.Status), ago(e.LastStatusChange, now)
			}
			t.add(branch+aws.ToString(a.ActionName), status, change, oneLine(actionStatusText(a.LatestExecution), 100))
		}
	}
	b.WriteString(t.render())
	return b.String()
}

// latestExecution returns the pipeline's most recent execution, or nil.
func latestExecution(ctx context.Context, cp *codepipeline.Client, name string) (*types.PipelineExecutionSummary, error) {
	out, err := cp.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name), MaxResults: aws.Int32(1)})
	if err != nil {
		return nil, err
	}
	if len(out.PipelineExecutionSummaries) == 0 {
		return nil, nil
	}
	return &out.PipelineExecutionSummaries[0], nil
}

// executionActive reports whether an execution status may still change.
func executionActive(s types.PipelineExecutionStatus) bool {
	return s == types.PipelineExecutionStatusInProgress || s == types.PipelineExecutionStatusStopping
}

func (p *pipelineCmd) statusCommand() *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show the stages and actions of a pipeline with their latest status",
		Long: `Show the stages and actions of a pipeline with their latest status, when it last
changed and the summary or error. With --watch, redraw until the latest execution ends;
the command then fails when that execution Failed or was Stopped.

-o json prints the GetPipelineState output (with --watch, the last one).`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			name := args[0]
			colour, term := useColour(p.stdout), isTerminal(p.stdout)
			last := ""
			for {
				st, err := cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
				if err != nil {
					return sdkError(err)
				}
				var latest *types.PipelineExecutionSummary
				if watch {
					if latest, err = latestExecution(ctx, cp, name); err != nil {
						return sdkError(err)
					}
				}
				done := !watch || latest == nil || !executionActive(latest.Status)
				if format == formatTable {
					if key := renderPipelineState(st, time.Time{}, false); term || key != last || done {
						if term && watch {
							io.WriteString(p.stdout, "\x1b[H\x1b[2J")
						} else if last != "" {
							io.WriteString(p.stdout, "\n")
						}
						io.WriteString(p.stdout, renderPipelineState(st, time.Now(), colour))
						last = key
					}
				}
				if done {
					if format == formatJSON {
						if err := writeJSON(p.stdout, st); err != nil {
							return err
						}
					}
					if watch && latest != nil && (latest.Status == types.PipelineExecutionStatusFailed || latest.Status == types.PipelineExecutionStatusStopped) {
						return fmt.Errorf("pipeline %s: execution %s ended %s", name, aws.ToString(latest.PipelineExecutionId), latest.Status)
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
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw until the latest execution ends")
	return cmd
}

func (p *pipelineCmd) startCommand() *cobra.Command {
	var vars []string
	cmd := &cobra.Command{
		Use:   "start NAME [--variable KEY=VALUE]...",
		Short: "Start an execution of a pipeline",
		Long:  "Start an execution of a pipeline. -o json prints the StartPipelineExecution output.",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			kvs, err := parseKeyValues("--variable", vars)
			if err != nil {
				return err
			}
			in := &codepipeline.StartPipelineExecutionInput{Name: aws.String(args[0])}
			for _, kv := range kvs {
				in.Variables = append(in.Variables, types.PipelineVariable{Name: aws.String(kv[0]), Value: aws.String(kv[1])})
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			out, err := cp.StartPipelineExecution(cmd.Context(), in)
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(p.stdout, out)
			}
			fmt.Fprintf(p.stdout, "Started execution %s of pipeline %s\n", aws.ToString(out.PipelineExecutionId), args[0])
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&vars, "variable", nil, "a pipeline variable KEY=VALUE (repeatable)")
	return cmd
}

func (p *pipelineCmd) stopCommand() *cobra.Command {
	var execID, reason string
	var abandon bool
	cmd := &cobra.Command{
		Use:   "stop NAME [--execution-id ID] [--abandon] [--reason TEXT]",
		Short: "Stop an execution (by default the latest one in progress)",
		Long: `Stop an execution: let its running actions finish, or with --abandon abandon them.
Without --execution-id, the latest execution in progress. -o json prints the
StopPipelineExecution output.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if execID == "" {
				if execID, err = activeExecution(ctx, cp, args[0]); err != nil {
					return err
				}
			}
			in := &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String(args[0]), PipelineExecutionId: aws.String(execID), Abandon: abandon}
			if reason != "" {
				in.Reason = aws.String(reason)
			}
			out, err := cp.StopPipelineExecution(ctx, in)
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(p.stdout, out)
			}
			how := "Stopping"
			if abandon {
				how = "Abandoning"
			}
			fmt.Fprintf(p.stdout, "%s execution %s of pipeline %s\n", how, aws.ToString(out.PipelineExecutionId), args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&execID, "execution-id", "", "the execution to stop (default the latest in progress)")
	f.BoolVar(&abandon, "abandon", false, "abandon the running actions instead of letting them finish")
	f.StringVar(&reason, "reason", "", "why the execution is stopped")
	return cmd
}

// activeExecution returns the ID of the pipeline's latest execution in
// progress.
func activeExecution(ctx context.Context, cp *codepipeline.Client, name string) (string, error) {
	pager := codepipeline.NewListPipelineExecutionsPaginator(cp, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", sdkError(err)
		}
		for _, e := range page.PipelineExecutionSummaries {
			if e.Status == types.PipelineExecutionStatusInProgress {
				return aws.ToString(e.PipelineExecutionId), nil
			}
		}
	}
	return "", fmt.Errorf("pipeline %s has no execution in progress: pass --execution-id", name)
}

func (p *pipelineCmd) retryCommand() *cobra.Command {
	var stage, execID string
	var allActions bool
	cmd := &cobra.Command{
		Use:   "retry NAME --stage STAGE [--execution-id ID] [--all-actions]",
		Short: "Retry the failed actions of a stage (or all its actions)",
		Long: `Retry a failed stage of an execution: its failed actions, or with --all-actions every
action. Without --execution-id, the stage's latest execution. -o json prints the
RetryStageExecution output.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if stage == "" {
				return usagef("--stage is required")
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if execID == "" {
				st, err := cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(args[0])})
				if err != nil {
					return sdkError(err)
				}
				s := findStage(st, stage)
				if s == nil {
					return fmt.Errorf("%s: pipeline %s has no stage %s", cpapi.StageNotFoundException, args[0], stage)
				}
				if s.LatestExecution == nil {
					return fmt.Errorf("stage %s of pipeline %s has not run: nothing to retry", stage, args[0])
				}
				execID = aws.ToString(s.LatestExecution.PipelineExecutionId)
			}
			mode := types.StageRetryModeFailedActions
			if allActions {
				mode = types.StageRetryModeAllActions
			}
			out, err := cp.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String(args[0]),
				StageName: aws.String(stage), PipelineExecutionId: aws.String(execID), RetryMode: mode})
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(p.stdout, out)
			}
			fmt.Fprintf(p.stdout, "Retrying stage %s of execution %s (%s)\n", stage, aws.ToString(out.PipelineExecutionId), mode)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&stage, "stage", "", "the stage to retry (required)")
	f.StringVar(&execID, "execution-id", "", "the execution (default the stage's latest)")
	f.BoolVar(&allActions, "all-actions", false, "rerun every action of the stage, not only the failed ones")
	return cmd
}

// findStage returns the state of the named stage, or nil.
func findStage(st *codepipeline.GetPipelineStateOutput, name string) *types.StageState {
	for i := range st.StageStates {
		if aws.ToString(st.StageStates[i].StageName) == name {
			return &st.StageStates[i]
		}
	}
	return nil
}

// findAction returns the state of the named action of a stage, or nil.
func findAction(s *types.StageState, name string) *types.ActionState {
	for i := range s.ActionStates {
		if aws.ToString(s.ActionStates[i].ActionName) == name {
			return &s.ActionStates[i]
		}
	}
	return nil
}

// historyRow is one line of pipeline history.
func historyRow(e types.PipelineExecutionSummary) []string {
	var revs []string
	for _, r := range e.SourceRevisions {
		id := aws.ToString(r.RevisionId)
		if len(id) > 12 {
			id = id[:12]
		}
		revs = append(revs, aws.ToString(r.ActionName)+"@"+id)
	}
	trigger := ""
	if e.Trigger != nil {
		trigger = string(e.Trigger.TriggerType)
	}
	return []string{aws.ToString(e.PipelineExecutionId), string(e.Status), clock(e.StartTime), clock(e.LastUpdateTime),
		trigger, oneLine(strings.Join(revs, " "), 60), oneLine(aws.ToString(e.StatusSummary), 60)}
}

func (p *pipelineCmd) historyCommand() *cobra.Command {
	var maxN int
	cmd := &cobra.Command{
		Use:   "history NAME [--max N]",
		Short: "List a pipeline's executions, newest first",
		Long:  "List a pipeline's executions, newest first. -o json prints a JSON array of the ListPipelineExecutions summaries.",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if maxN < 1 {
				return usagef("--max %d: use 1 or more", maxN)
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			all := []types.PipelineExecutionSummary{}
			pager := codepipeline.NewListPipelineExecutionsPaginator(cp, &codepipeline.ListPipelineExecutionsInput{
				PipelineName: aws.String(args[0]), MaxResults: aws.Int32(int32(min(maxN, 100)))})
			for pager.HasMorePages() && len(all) < maxN {
				page, err := pager.NextPage(cmd.Context())
				if err != nil {
					return sdkError(err)
				}
				all = append(all, page.PipelineExecutionSummaries...)
			}
			all = all[:min(len(all), maxN)]
			if format == formatJSON {
				return writeJSON(p.stdout, all)
			}
			t := &table{header: []string{"EXECUTION", "STATUS", "STARTED", "UPDATED", "TRIGGER", "SOURCE", "SUMMARY"}}
			if useColour(p.stdout) {
				t.colour = func(col int, cell string) string {
					if col == 1 {
						return statusColour(cell)
					}
					return cell
				}
			}
			for _, e := range all {
				t.add(historyRow(e)...)
			}
			_, err = io.WriteString(p.stdout, t.render())
			return err
		},
	}
	cmd.Flags().IntVar(&maxN, "max", 20, "how many executions to show")
	return cmd
}

// actionExecutionID finds the action execution whose log to read: of the
// given execution, or the action's latest.
func actionExecutionID(ctx context.Context, cp *codepipeline.Client, name, stage, action, execID string) (string, error) {
	if execID == "" {
		st, err := cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
		if err != nil {
			return "", sdkError(err)
		}
		s := findStage(st, stage)
		if s == nil {
			return "", fmt.Errorf("%s: pipeline %s has no stage %s", cpapi.StageNotFoundException, name, stage)
		}
		a := findAction(s, action)
		if a == nil {
			return "", fmt.Errorf("%s: stage %s of pipeline %s has no action %s", cpapi.ActionNotFoundException, stage, name, action)
		}
		if a.LatestExecution != nil && aws.ToString(a.LatestExecution.ActionExecutionId) != "" {
			return aws.ToString(a.LatestExecution.ActionExecutionId), nil
		}
	}
	in := &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(name)}
	if execID != "" {
		in.Filter = &types.ActionExecutionFilter{PipelineExecutionId: aws.String(execID)}
	}
	var best *types.ActionExecutionDetail
	pager := codepipeline.NewListActionExecutionsPaginator(cp, in)
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", sdkError(err)
		}
		for i, d := range page.ActionExecutionDetails {
			if aws.ToString(d.StageName) != stage || aws.ToString(d.ActionName) != action {
				continue
			}
			if best == nil || aws.ToTime(d.StartTime).After(aws.ToTime(best.StartTime)) {
				best = &page.ActionExecutionDetails[i]
			}
		}
	}
	if best == nil {
		where := "any execution"
		if execID != "" {
			where = "execution " + execID
		}
		return "", fmt.Errorf("action %s of stage %s has not run in %s of pipeline %s", action, stage, where, name)
	}
	return aws.ToString(best.ActionExecutionId), nil
}

// logPage reads one page of a log after seq.
type logPage func(ctx context.Context, after int64) (chunks []slipwayapi.LogChunk, next int64, complete bool, err error)

// streamLog writes a log's chunks (as text, or JSON lines in json
// format) until it is read to its end, or with follow until it is
// complete.
func streamLog(ctx context.Context, w io.Writer, format string, follow bool, page logPage) error {
	var after int64
	for {
		chunks, next, complete, err := page(ctx, after)
		if err != nil {
			return err
		}
		for _, c := range chunks {
			if format == formatJSON {
				data, err := json.Marshal(c)
				if err != nil {
					return fmt.Errorf("encode chunk: %w", err)
				}
				fmt.Fprintf(w, "%s\n", data)
			} else {
				io.WriteString(w, c.Data)
			}
		}
		after = next
		if complete || (!follow && len(chunks) == 0) {
			return nil
		}
		if len(chunks) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pollInterval):
			}
		}
	}
}

func (p *pipelineCmd) logsCommand() *cobra.Command {
	var stage, action, execID string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME --stage STAGE --action ACTION [--execution-id ID] [--follow]",
		Short: "Print the log of an action (a build, commands, function...)",
		Long: `Print the log of an action's latest run (or its run in --execution-id), as the server
keeps it (GetActionLog). With --follow, keep printing until the action ends.
-o json prints one JSON object per log chunk ({"seq", "time", "data"}), one per line.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if stage == "" || action == "" {
				return usagef("--stage and --action are required")
			}
			cp, ext, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			id, err := actionExecutionID(ctx, cp, args[0], stage, action, execID)
			if err != nil {
				return err
			}
			return streamLog(ctx, p.stdout, format, follow, func(ctx context.Context, after int64) ([]slipwayapi.LogChunk, int64, bool, error) {
				out, err := ext.GetActionLog(ctx, &slipwayapi.GetActionLogInput{ActionExecutionID: id, AfterSeq: after, MaxChunks: slipwayapi.MaxMaxChunks})
				if err != nil {
					return nil, 0, false, apiError(err)
				}
				return out.Chunks, out.NextSeq, out.Complete, nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&stage, "stage", "", "the stage of the action (required)")
	f.StringVar(&action, "action", "", "the action (required)")
	f.StringVar(&execID, "execution-id", "", "the pipeline execution (default the action's latest run)")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing until the action ends")
	return cmd
}

func (p *pipelineCmd) transitionCommand(enable bool) *cobra.Command {
	var stage, kind, reason string
	use, short := "disable-transition NAME --stage STAGE [--type Inbound|Outbound] --reason TEXT", "Stop executions from entering (or leaving) a stage"
	if enable {
		use, short = "enable-transition NAME --stage STAGE [--type Inbound|Outbound]", "Let executions enter (or leave) a stage again"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := outputFormat(cmd, false); err != nil {
				return err
			}
			if stage == "" {
				return usagef("--stage is required")
			}
			var tt types.StageTransitionType
			switch strings.ToLower(kind) {
			case "inbound":
				tt = types.StageTransitionTypeInbound
			case "outbound":
				tt = types.StageTransitionTypeOutbound
			default:
				return usagef("--type %q: use Inbound or Outbound", kind)
			}
			if !enable && reason == "" {
				return usagef("--reason is required")
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			verb := "Enabled"
			if enable {
				_, err = cp.EnableStageTransition(ctx, &codepipeline.EnableStageTransitionInput{PipelineName: aws.String(args[0]),
					StageName: aws.String(stage), TransitionType: tt})
			} else {
				verb = "Disabled"
				_, err = cp.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String(args[0]),
					StageName: aws.String(stage), TransitionType: tt, Reason: aws.String(reason)})
			}
			if err != nil {
				return sdkError(err)
			}
			fmt.Fprintf(p.stdout, "%s the %s transition of stage %s of pipeline %s\n", verb, strings.ToLower(string(tt)), stage, args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&stage, "stage", "", "the stage (required)")
	f.StringVar(&kind, "type", "Inbound", "Inbound (into the stage) or Outbound (out of it)")
	if !enable {
		f.StringVar(&reason, "reason", "", "why the transition is disabled (required; shown with the stage)")
	}
	return cmd
}
