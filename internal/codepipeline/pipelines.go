package codepipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/store"
)

func pipelineNotFound(name string) *awsproto.Error {
	return awsproto.Errorf(cpapi.PipelineNotFoundException, "pipeline %q does not exist; ListPipelines shows the pipelines there are", name)
}

// catalog returns the built-in action types plus the stored custom ones.
func (s *Service) catalog(ctx context.Context, q store.Queries) (*pipeline.Catalog, error) {
	custom, err := s.customActionTypes(ctx, q)
	if err != nil {
		return nil, err
	}
	return pipeline.NewCatalog(custom), nil
}

func (s *Service) customActionTypes(ctx context.Context, q store.Queries) ([]cpapi.ActionType, error) {
	rows, err := q.ListActionTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list action types: %w", err)
	}
	out := make([]cpapi.ActionType, 0, len(rows))
	for _, r := range rows {
		var t cpapi.ActionType
		if err := json.Unmarshal(r.Declaration, &t); err != nil {
			return nil, fmt.Errorf("decode action type %v: %w", r.ActionTypeKey, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func decodePipeline(p *store.Pipeline) (*cpapi.PipelineDeclaration, error) {
	var d cpapi.PipelineDeclaration
	if err := json.Unmarshal(p.Declaration, &d); err != nil {
		return nil, fmt.Errorf("decode pipeline %q version %d: %w", p.Name, p.Version, err)
	}
	return &d, nil
}

func (s *Service) checkTags(tags []cpapi.Tag) error {
	if len(tags) > s.Limits.TagsPerResource {
		return awsproto.Errorf(cpapi.TooManyTagsException, "%d tags given; a resource can have at most %d", len(tags), s.Limits.TagsPerResource)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if len(t.Key) >= 4 && (t.Key[:4] == "aws:" || t.Key[:4] == "AWS:") {
			return awsproto.Errorf(cpapi.InvalidTagsException, "tag key %q uses the reserved prefix \"aws:\"", t.Key)
		}
		if seen[t.Key] {
			return awsproto.Errorf(cpapi.InvalidTagsException, "tag key %q is given twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func storeTags(tags []cpapi.Tag) []store.Tag {
	out := make([]store.Tag, len(tags))
	for i, t := range tags {
		out[i] = store.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func wireTags(tags []store.Tag) []cpapi.Tag {
	out := make([]cpapi.Tag, len(tags))
	for i, t := range tags {
		out[i] = cpapi.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// CreatePipeline validates and stores version 1 of a new pipeline.
func (s *Service) CreatePipeline(ctx context.Context, in *cpapi.CreatePipelineInput) (*cpapi.CreatePipelineOutput, error) {
	decl := in.Pipeline
	pipeline.Normalize(decl)
	decl.Version = aws.Int32(1)
	if err := s.checkTags(in.Tags); err != nil {
		return nil, err
	}
	var cat *pipeline.Catalog
	now := s.now()
	err := s.inTx(ctx, func(q store.Queries) error {
		var err error
		if cat, err = s.catalog(ctx, q); err != nil {
			return err
		}
		if err := pipeline.Validate(decl, cat, s.Limits.Structure); err != nil {
			return err
		}
		if _, err := q.GetPipeline(ctx, decl.Name); err == nil {
			return awsproto.Errorf(cpapi.PipelineNameInUseException, "a pipeline named %q already exists; choose another name or use UpdatePipeline", decl.Name)
		}
		n, err := q.CountPipelines(ctx)
		if err != nil {
			return fmt.Errorf("count pipelines: %w", err)
		}
		if n >= s.Limits.Pipelines {
			return awsproto.Errorf(cpapi.LimitExceededException, "this account already has %d pipelines, the most it may have; delete one or raise the server's pipeline limit", n)
		}
		body, err := json.Marshal(decl)
		if err != nil {
			return fmt.Errorf("encode pipeline: %w", err)
		}
		err = q.CreatePipeline(ctx, &store.Pipeline{Name: decl.Name, Version: 1, Declaration: body, Created: now, Updated: now})
		if err := storeErr(err, nil, awsproto.Errorf(cpapi.PipelineNameInUseException, "a pipeline named %q already exists", decl.Name)); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			if err := q.TagResource(ctx, s.PipelineARN(decl.Name), storeTags(in.Tags)); err != nil {
				return fmt.Errorf("tag pipeline: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger().Info("pipeline created", "pipeline", decl.Name)
	// A pipeline starts as soon as it is created.
	if _, err := s.Engine.StartExecution(ctx, decl.Name, engine.StartParams{
		TriggerType: cpapi.TriggerTypeCreatePipeline, TriggerDetail: awsproto.CallerFrom(ctx).ARN,
	}); err != nil {
		s.logger().Error("start first execution", "pipeline", decl.Name, "err", err)
	}
	return &cpapi.CreatePipelineOutput{Pipeline: pipeline.Mask(decl, cat), Tags: in.Tags}, nil
}

// GetPipeline returns a pipeline's latest or requested version, secrets masked.
func (s *Service) GetPipeline(ctx context.Context, in *cpapi.GetPipelineInput) (*cpapi.GetPipelineOutput, error) {
	var rec *store.Pipeline
	var err error
	if in.Version != nil {
		rec, err = s.Store.GetPipelineVersion(ctx, in.Name, *in.Version)
		if err != nil {
			if _, gerr := s.Store.GetPipeline(ctx, in.Name); gerr != nil {
				return nil, storeErr(gerr, pipelineNotFound(in.Name), nil)
			}
			return nil, storeErr(err, awsproto.Errorf(cpapi.PipelineVersionNotFoundException, "pipeline %q has no version %d", in.Name, *in.Version), nil)
		}
	} else if rec, err = s.Store.GetPipeline(ctx, in.Name); err != nil {
		return nil, storeErr(err, pipelineNotFound(in.Name), nil)
	}
	latest := rec
	if in.Version != nil {
		if latest, err = s.Store.GetPipeline(ctx, in.Name); err != nil {
			return nil, storeErr(err, pipelineNotFound(in.Name), nil)
		}
	}
	decl, err := decodePipeline(rec)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	return &cpapi.GetPipelineOutput{
		Pipeline: pipeline.Mask(decl, cat),
		Metadata: &cpapi.PipelineMetadata{
			PipelineArn: s.PipelineARN(rec.Name),
			Created:     awsproto.NewTime(latest.Created),
			Updated:     awsproto.NewTime(latest.Updated),
		},
	}, nil
}

// UpdatePipeline stores a new version of an existing pipeline. Secret
// configuration values sent back as **** keep their stored values.
func (s *Service) UpdatePipeline(ctx context.Context, in *cpapi.UpdatePipelineInput) (*cpapi.UpdatePipelineOutput, error) {
	decl := in.Pipeline
	pipeline.Normalize(decl)
	var cat *pipeline.Catalog
	err := s.inTx(ctx, func(q store.Queries) error {
		cur, err := q.GetPipeline(ctx, decl.Name)
		if err != nil {
			return storeErr(err, pipelineNotFound(decl.Name), nil)
		}
		old, err := decodePipeline(cur)
		if err != nil {
			return err
		}
		if cat, err = s.catalog(ctx, q); err != nil {
			return err
		}
		if err := pipeline.KeepSecrets(decl, old, cat); err != nil {
			return err
		}
		if err := pipeline.Validate(decl, cat, s.Limits.Structure); err != nil {
			return err
		}
		decl.Version = aws.Int32(cur.Version + 1)
		body, err := json.Marshal(decl)
		if err != nil {
			return fmt.Errorf("encode pipeline: %w", err)
		}
		next := &store.Pipeline{Name: decl.Name, Version: cur.Version + 1, Declaration: body, Created: cur.Created, Updated: s.now()}
		return storeErr(q.UpdatePipeline(ctx, next), pipelineNotFound(decl.Name), nil)
	})
	if err != nil {
		return nil, err
	}
	s.logger().Info("pipeline updated", "pipeline", decl.Name, "version", *decl.Version)
	s.Engine.Kick(decl.Name) // executions of the old version are cancelled
	return &cpapi.UpdatePipelineOutput{Pipeline: pipeline.Mask(decl, cat)}, nil
}

// DeletePipeline removes a pipeline, its versions and its tags. Deleting a
// pipeline that does not exist succeeds, as the model has no not-found
// error for this operation.
func (s *Service) DeletePipeline(ctx context.Context, in *cpapi.DeletePipelineInput) (*struct{}, error) {
	err := s.inTx(ctx, func(q store.Queries) error {
		if err := q.DeletePipeline(ctx, in.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete pipeline %q: %w", in.Name, err)
		}
		if err := q.DeletePipelineRuns(ctx, in.Name); err != nil {
			return fmt.Errorf("delete runs of pipeline %q: %w", in.Name, err)
		}
		return q.DeleteTags(ctx, s.PipelineARN(in.Name))
	})
	if err != nil {
		return nil, err
	}
	s.logger().Info("pipeline deleted", "pipeline", in.Name)
	return nil, nil
}

// ListPipelines returns pipeline summaries ordered by name, paged.
func (s *Service) ListPipelines(ctx context.Context, in *cpapi.ListPipelinesInput) (*cpapi.ListPipelinesOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := pageLimit(in.MaxResults, 100)
	rows, err := s.Store.ListPipelines(ctx, store.Page{After: after, Limit: limit + 1})
	if err != nil {
		return nil, fmt.Errorf("list pipelines: %w", err)
	}
	out := &cpapi.ListPipelinesOutput{Pipelines: []cpapi.PipelineSummary{}}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextToken = encodeToken(rows[limit-1].Name)
	}
	for _, r := range rows {
		d, err := decodePipeline(r)
		if err != nil {
			return nil, err
		}
		out.Pipelines = append(out.Pipelines, cpapi.PipelineSummary{
			Name: r.Name, Version: aws.Int32(r.Version),
			PipelineType: d.PipelineType, ExecutionMode: d.ExecutionMode,
			Created: awsproto.NewTime(r.Created), Updated: awsproto.NewTime(r.Updated),
		})
	}
	return out, nil
}
