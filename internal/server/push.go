package server

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/store"
)

// onPush starts the pipelines whose CodeCommit source action watches a
// pushed branch of a hosted repository, pinned to the pushed commit.
func (s *Server) onPush(repo string, updates []githost.RefUpdate) {
	ctx := context.Background()
	pipes, err := s.store.ListPipelines(ctx, store.Page{})
	if err != nil {
		s.cfg.Logger.Error("push trigger: list pipelines", "err", err)
		return
	}
	for _, u := range updates {
		branch, ok := strings.CutPrefix(u.Ref, "refs/heads/")
		if !ok || u.New == "" {
			continue
		}
		for _, p := range pipes {
			var decl cpapi.PipelineDeclaration
			if err := json.Unmarshal(p.Declaration, &decl); err != nil || len(decl.Stages) == 0 {
				continue
			}
			for _, a := range decl.Stages[0].Actions {
				id := a.ActionTypeId
				if id == nil || id.Provider != "CodeCommit" || id.Owner != cpapi.ActionOwnerAws ||
					a.Configuration["RepositoryName"] != repo || a.Configuration["BranchName"] != branch {
					continue
				}
				execID, err := s.engine.StartExecution(ctx, p.Name, engine.StartParams{
					TriggerType:   cpapi.TriggerTypeCloudWatchEvent,
					TriggerDetail: "git push to " + repo + " " + u.Ref,
					SourceRevisions: []cpapi.SourceRevisionOverride{{ActionName: a.Name,
						RevisionType: cpapi.SourceRevisionTypeCommitId, RevisionValue: u.New}},
				})
				if err != nil {
					s.cfg.Logger.Error("push trigger: start execution", "pipeline", p.Name, "err", err)
					continue
				}
				s.cfg.Logger.Info("push started an execution", "pipeline", p.Name, "execution", execID, "repo", repo, "commit", u.New)
			}
		}
	}
}
