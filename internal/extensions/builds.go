package extensions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/buildspec"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Build projects, secrets and action logs: the operations CodeBuild and
// Commands actions rely on (docs/api-extensions.md, "Builds").

// CreateBuildProject stores a new build project.
func (s *Service) CreateBuildProject(ctx context.Context, in *slipwayapi.CreateBuildProjectInput) (*slipwayapi.CreateBuildProjectOutput, error) {
	p, err := storedProject(&in.BuildProject)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rec := &store.BuildProject{Name: p.Name, Declaration: encodeProject(p), Created: now, Updated: now}
	if err := s.Store.CreateBuildProject(ctx, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, awsproto.Errorf(slipwayapi.ResourceAlreadyExistsException,
				"build project %q already exists; change it with UpdateBuildProject", p.Name)
		}
		return nil, err
	}
	s.logger().InfoContext(ctx, "created build project", "name", p.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.CreateBuildProjectOutput{Project: wireProject(rec, p)}, nil
}

// UpdateBuildProject replaces a build project.
func (s *Service) UpdateBuildProject(ctx context.Context, in *slipwayapi.UpdateBuildProjectInput) (*slipwayapi.UpdateBuildProjectOutput, error) {
	p, err := storedProject(&in.BuildProject)
	if err != nil {
		return nil, err
	}
	rec := &store.BuildProject{Name: p.Name, Declaration: encodeProject(p), Updated: s.now()}
	if err := s.Store.UpdateBuildProject(ctx, rec); err != nil {
		return nil, projectNotFound(err, p.Name)
	}
	s.logger().InfoContext(ctx, "updated build project", "name", p.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.UpdateBuildProjectOutput{Project: wireProject(rec, p)}, nil
}

// GetBuildProject returns a build project.
func (s *Service) GetBuildProject(ctx context.Context, in *slipwayapi.GetBuildProjectInput) (*slipwayapi.GetBuildProjectOutput, error) {
	rec, err := s.Store.GetBuildProject(ctx, in.Name)
	if err != nil {
		return nil, projectNotFound(err, in.Name)
	}
	p, err := decodeProject(rec)
	if err != nil {
		return nil, err
	}
	return &slipwayapi.GetBuildProjectOutput{Project: wireProject(rec, p)}, nil
}

// ListBuildProjects returns every build project by name.
func (s *Service) ListBuildProjects(ctx context.Context, _ *slipwayapi.ListBuildProjectsInput) (*slipwayapi.ListBuildProjectsOutput, error) {
	recs, err := s.Store.ListBuildProjects(ctx)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListBuildProjectsOutput{Projects: make([]slipwayapi.BuildProject, 0, len(recs))}
	for _, rec := range recs {
		p, err := decodeProject(rec)
		if err != nil {
			return nil, err
		}
		out.Projects = append(out.Projects, *wireProject(rec, p))
	}
	return out, nil
}

// DeleteBuildProject removes a build project. CodeBuild actions that name
// it afterwards run the buildspec.yml of their source with the defaults.
func (s *Service) DeleteBuildProject(ctx context.Context, in *slipwayapi.DeleteBuildProjectInput) (*slipwayapi.DeleteBuildProjectOutput, error) {
	if err := s.Store.DeleteBuildProject(ctx, in.Name); err != nil {
		return nil, projectNotFound(err, in.Name)
	}
	s.logger().InfoContext(ctx, "deleted build project", "name", in.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteBuildProjectOutput{}, nil
}

// PutSecret creates a secret or replaces its value, sealed.
func (s *Service) PutSecret(ctx context.Context, in *slipwayapi.PutSecretInput) (*slipwayapi.PutSecretOutput, error) {
	if s.Sealer == nil {
		return nil, errors.New("extensions: no Sealer configured to store a secret")
	}
	sealed, err := s.Sealer.Seal([]byte(in.Value))
	if err != nil {
		return nil, err
	}
	now := s.now()
	rec := &store.Secret{Name: in.Name, SealedValue: sealed, Created: now, Updated: now}
	if err := s.Store.PutSecret(ctx, rec); err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "put secret", "name", in.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.PutSecretOutput{Secret: wireSecret(rec)}, nil
}

// DeleteSecret removes a secret.
func (s *Service) DeleteSecret(ctx context.Context, in *slipwayapi.DeleteSecretInput) (*slipwayapi.DeleteSecretOutput, error) {
	if err := s.Store.DeleteSecret(ctx, in.Name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, awsproto.Errorf(slipwayapi.ResourceNotFoundException, "secret %q does not exist", in.Name)
		}
		return nil, err
	}
	s.logger().InfoContext(ctx, "deleted secret", "name", in.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteSecretOutput{}, nil
}

// ListSecrets returns every secret's name and times, never a value.
func (s *Service) ListSecrets(ctx context.Context, _ *slipwayapi.ListSecretsInput) (*slipwayapi.ListSecretsOutput, error) {
	recs, err := s.Store.ListSecrets(ctx)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListSecretsOutput{Secrets: make([]slipwayapi.Secret, 0, len(recs))}
	for _, rec := range recs {
		out.Secrets = append(out.Secrets, *wireSecret(rec))
	}
	return out, nil
}

// GetActionLog reads an action execution's log after a sequence number.
func (s *Service) GetActionLog(ctx context.Context, in *slipwayapi.GetActionLogInput) (*slipwayapi.GetActionLogOutput, error) {
	limit := int(in.MaxChunks)
	if limit == 0 {
		limit = slipwayapi.DefaultMaxChunks
	}
	l, err := engine.ReadActionLog(ctx, s.Store, in.ActionExecutionID, in.AfterSeq, limit)
	if errors.Is(err, store.ErrNotFound) {
		return nil, awsproto.Errorf(slipwayapi.ResourceNotFoundException,
			"action execution %q does not exist; ListActionExecutions shows the actionExecutionId of each run", in.ActionExecutionID)
	}
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.GetActionLogOutput{Chunks: make([]slipwayapi.LogChunk, 0, len(l.Chunks)), NextSeq: l.NextSeq, Complete: l.Complete}
	for _, c := range l.Chunks {
		out.Chunks = append(out.Chunks, slipwayapi.LogChunk{Seq: c.Seq, Time: awsproto.NewTime(c.Time), Data: string(c.Data)})
	}
	return out, nil
}

// storedProject is the project as stored: defaults filled in, output-only
// members dropped, an inline buildspec checked.
func storedProject(in *slipwayapi.BuildProject) (*slipwayapi.BuildProject, error) {
	p := *in
	p.Created, p.Updated = nil, nil
	p.EnvironmentVariables = append([]slipwayapi.BuildEnvironmentVariable(nil), in.EnvironmentVariables...)
	p.Normalize()
	if p.Buildspec != "" {
		if _, err := buildspec.Parse([]byte(p.Buildspec)); err != nil {
			return nil, awsproto.Errorf(slipwayapi.ValidationException, "the inline buildspec of project %q is not valid: %v", p.Name, err)
		}
	}
	return &p, nil
}

func encodeProject(p *slipwayapi.BuildProject) []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("extensions: encode build project: %v", err)) // strings and numbers only
	}
	return b
}

func decodeProject(rec *store.BuildProject) (*slipwayapi.BuildProject, error) {
	var p slipwayapi.BuildProject
	if err := json.Unmarshal(rec.Declaration, &p); err != nil {
		return nil, fmt.Errorf("decode build project %q: %w", rec.Name, err)
	}
	p.Name = rec.Name
	return &p, nil
}

// wireProject is p with the stored times.
func wireProject(rec *store.BuildProject, p *slipwayapi.BuildProject) *slipwayapi.BuildProject {
	out := *p
	out.Created, out.Updated = awsproto.NewTime(rec.Created), awsproto.NewTime(rec.Updated)
	return &out
}

func wireSecret(rec *store.Secret) *slipwayapi.Secret {
	return &slipwayapi.Secret{Name: rec.Name, Created: awsproto.NewTime(rec.Created), Updated: awsproto.NewTime(rec.Updated)}
}

func projectNotFound(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return awsproto.Errorf(slipwayapi.ResourceNotFoundException,
			"build project %q does not exist; create it with CreateBuildProject", name)
	}
	return err
}
