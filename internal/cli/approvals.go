package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// pendingApproval is a manual approval waiting for an answer; pipeline
// approvals -o json prints a list of them.
type pendingApproval struct {
	PipelineName        string     `json:"pipelineName"`
	StageName           string     `json:"stageName"`
	ActionName          string     `json:"actionName"`
	PipelineExecutionID string     `json:"pipelineExecutionId,omitempty"`
	Token               string     `json:"token"`
	Since               *time.Time `json:"since,omitempty"`
	ExternalEntityLink  string     `json:"externalEntityLink,omitempty"`
	CustomData          string     `json:"customData,omitempty"`
}

// pendingApprovals picks the manual approvals waiting for an answer out of
// a pipeline's declaration and state.
func pendingApprovals(decl *types.PipelineDeclaration, st *codepipeline.GetPipelineStateOutput) []pendingApproval {
	var out []pendingApproval
	for _, s := range st.StageStates {
		for _, a := range s.ActionStates {
			e := a.LatestExecution
			if e == nil || e.Status != types.ActionExecutionStatusInProgress || aws.ToString(e.Token) == "" {
				continue
			}
			p := pendingApproval{PipelineName: aws.ToString(st.PipelineName), StageName: aws.ToString(s.StageName),
				ActionName: aws.ToString(a.ActionName), Token: aws.ToString(e.Token), Since: e.LastStatusChange}
			if s.LatestExecution != nil {
				p.PipelineExecutionID = aws.ToString(s.LatestExecution.PipelineExecutionId)
			}
			if d := declaredAction(decl, p.StageName, p.ActionName); d != nil {
				if d.ActionTypeId == nil || d.ActionTypeId.Category != types.ActionCategoryApproval {
					continue
				}
				p.ExternalEntityLink, p.CustomData = d.Configuration["ExternalEntityLink"], d.Configuration["CustomData"]
			}
			out = append(out, p)
		}
	}
	return out
}

// declaredAction returns the declaration of an action, or nil.
func declaredAction(decl *types.PipelineDeclaration, stage, action string) *types.ActionDeclaration {
	if decl == nil {
		return nil
	}
	for _, s := range decl.Stages {
		if aws.ToString(s.Name) != stage {
			continue
		}
		for i := range s.Actions {
			if aws.ToString(s.Actions[i].Name) == action {
				return &s.Actions[i]
			}
		}
	}
	return nil
}

// approvalsOf returns the pending approvals of one pipeline (errors as the
// SDK returns them).
func approvalsOf(ctx context.Context, cp *codepipeline.Client, name string) ([]pendingApproval, error) {
	pl, err := cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String(name)})
	if err != nil {
		return nil, err
	}
	st, err := cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return pendingApprovals(pl.Pipeline, st), nil
}

func (p *pipelineCmd) approvalsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "approvals [NAME]",
		Short: "List the manual approvals waiting for an answer",
		Long: `List the manual approvals waiting for an answer, of one pipeline or of all: pipeline,
stage, action, how long it has waited, and the URL and comments it was declared with.
-o json prints a JSON array of {pipelineName, stageName, actionName, pipelineExecutionId,
token, since, externalEntityLink, customData}.`,
		Args: withUsage(cobra.MaximumNArgs(1)),
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
			names := args
			if len(names) == 0 {
				pager := codepipeline.NewListPipelinesPaginator(cp, &codepipeline.ListPipelinesInput{})
				for pager.HasMorePages() {
					page, err := pager.NextPage(ctx)
					if err != nil {
						return sdkError(err)
					}
					for _, s := range page.Pipelines {
						names = append(names, aws.ToString(s.Name))
					}
				}
			}
			all := []pendingApproval{}
			for _, n := range names {
				got, err := approvalsOf(ctx, cp, n)
				if err != nil {
					if len(args) == 0 && isCode(err, cpapi.PipelineNotFoundException) {
						continue // deleted meanwhile
					}
					return sdkError(err)
				}
				all = append(all, got...)
			}
			if format == formatJSON {
				return writeJSON(p.stdout, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(p.stdout, "No approvals are waiting.")
				return nil
			}
			t := &table{header: []string{"PIPELINE", "STAGE", "ACTION", "WAITING", "URL", "COMMENTS"}}
			now := time.Now()
			for _, a := range all {
				since := ""
				if a.Since != nil {
					since = shortDuration(now.Sub(*a.Since))
				}
				t.add(a.PipelineName, a.StageName, a.ActionName, since, a.ExternalEntityLink, oneLine(a.CustomData, 80))
			}
			_, err = io.WriteString(p.stdout, t.render())
			return err
		},
	}
}

func (p *pipelineCmd) answerCommand(status types.ApprovalStatus) *cobra.Command {
	var stage, action, summary string
	verb, title, done := "approve", "Approve", "Approved"
	if status == types.ApprovalStatusRejected {
		verb, title, done = "reject", "Reject", "Rejected"
	}
	cmd := &cobra.Command{
		Use:   verb + " NAME --stage STAGE --action ACTION [--summary TEXT]",
		Short: title + " a manual approval that is waiting",
		Long: fmt.Sprintf(`%s the manual approval action that is waiting in a stage, with the token
GetPipelineState shows for it (PutApprovalResult). -o json prints the PutApprovalResult output.`, title),
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if stage == "" || action == "" {
				return usagef("--stage and --action are required")
			}
			cp, _, err := p.clients(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(args[0])})
			if err != nil {
				return sdkError(err)
			}
			s := findStage(st, stage)
			if s == nil {
				return fmt.Errorf("%s: pipeline %s has no stage %s", cpapi.StageNotFoundException, args[0], stage)
			}
			a := findAction(s, action)
			if a == nil {
				return fmt.Errorf("%s: stage %s of pipeline %s has no action %s", cpapi.ActionNotFoundException, stage, args[0], action)
			}
			e := a.LatestExecution
			if e == nil || e.Status != types.ActionExecutionStatusInProgress || aws.ToString(e.Token) == "" {
				return fmt.Errorf("%s: action %s of stage %s is not waiting for an approval (see slipway pipeline approvals)",
					cpapi.InvalidApprovalTokenException, action, stage)
			}
			if summary == "" {
				summary = done + " with slipway pipeline " + verb
			}
			out, err := cp.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String(args[0]),
				StageName: aws.String(stage), ActionName: aws.String(action), Token: e.Token,
				Result: &types.ApprovalResult{Status: status, Summary: aws.String(summary)}})
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(p.stdout, out)
			}
			fmt.Fprintf(p.stdout, "%s %s in stage %s of pipeline %s\n", done, action, stage, args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&stage, "stage", "", "the stage of the approval (required)")
	f.StringVar(&action, "action", "", "the approval action (required)")
	f.StringVar(&summary, "summary", "", "a comment kept with the answer")
	return cmd
}
