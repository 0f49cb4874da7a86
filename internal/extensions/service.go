// Package extensions implements Slipway's own API, the AWS JSON 1.1
// service Slipway_20261122 (wire shapes and client in package
// slipwayapi), over the store: reading the event log and managing the
// notification targets that receive manual approval notifications (the
// notifier, package notify, delivers them).
//
// It is registered on the same awsproto.Server as CodePipeline, so the
// same access keys sign its requests (for signing name "slipway") and
// its errors use the same envelope.
package extensions

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/providers"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Sealer seals target secrets before they are stored (auth.Sealer is
// one: AES-256-GCM under the master key, as for access-key secrets).
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
}

// Service serves the Slipway extension API.
type Service struct {
	Store  store.Store
	Sealer Sealer // required to store a target with a secret
	Logger *slog.Logger
	Now    func() time.Time // defaults to time.Now
	// Keys and AccountID serve CreateInstanceCredentials.
	Keys      KeyCreator
	AccountID string
	Repos     *Repositories // hosted git repositories; nil fails their operations
	// Connections serves the connection operations; nil fails them.
	Connections *Connections
	// Bundles is the artifact store UploadBundle writes to and
	// GetArtifact reads; nil fails them.
	Bundles artifact.Store
	// Engine serves HeartbeatJob and PutJobLog (remote workers); nil
	// fails them.
	Engine *engine.Engine
	// Builds serves the job build operations (GetJobBuildProject,
	// NextJobBuildNumber, GetJobSecret) of remote workers; nil fails them.
	Builds *providers.StoreBuilds
}

// Register adds the service's operations to srv.
func (s *Service) Register(srv *awsproto.Server) {
	svc := awsproto.NewService(slipwayapi.TargetPrefix, slipwayapi.SigningName, slipwayapi.Operations)
	awsproto.Handle(svc, "ListEvents", s.ListEvents)
	awsproto.Handle(svc, "PutNotificationTarget", s.PutNotificationTarget)
	awsproto.Handle(svc, "GetNotificationTarget", s.GetNotificationTarget)
	awsproto.Handle(svc, "ListNotificationTargets", s.ListNotificationTargets)
	awsproto.Handle(svc, "DeleteNotificationTarget", s.DeleteNotificationTarget)
	awsproto.Handle(svc, "CreateRepository", s.CreateRepository)
	awsproto.Handle(svc, "GetRepository", s.GetRepository)
	awsproto.Handle(svc, "ListRepositories", s.ListRepositories)
	awsproto.Handle(svc, "DeleteRepository", s.DeleteRepository)
	awsproto.Handle(svc, "CreateBuildProject", s.CreateBuildProject)
	awsproto.Handle(svc, "UpdateBuildProject", s.UpdateBuildProject)
	awsproto.Handle(svc, "GetBuildProject", s.GetBuildProject)
	awsproto.Handle(svc, "ListBuildProjects", s.ListBuildProjects)
	awsproto.Handle(svc, "DeleteBuildProject", s.DeleteBuildProject)
	awsproto.Handle(svc, "PutSecret", s.PutSecret)
	awsproto.Handle(svc, "DeleteSecret", s.DeleteSecret)
	awsproto.Handle(svc, "ListSecrets", s.ListSecrets)
	awsproto.Handle(svc, "GetActionLog", s.GetActionLog)
	awsproto.Handle(svc, "CreateFunction", s.CreateFunction)
	awsproto.Handle(svc, "GetFunction", s.GetFunction)
	awsproto.Handle(svc, "ListFunctions", s.ListFunctions)
	awsproto.Handle(svc, "DeleteFunction", s.DeleteFunction)
	awsproto.Handle(svc, "CreateInstanceCredentials", s.CreateInstanceCredentials)
	awsproto.Handle(svc, "CreateConnection", s.CreateConnection)
	awsproto.Handle(svc, "GetConnection", s.GetConnection)
	awsproto.Handle(svc, "ListConnections", s.ListConnections)
	awsproto.Handle(svc, "DeleteConnection", s.DeleteConnection)
	awsproto.Handle(svc, "UploadBundle", s.UploadBundle)
	awsproto.Handle(svc, "GetArtifact", s.GetArtifact)
	awsproto.Handle(svc, "GetLifecycleEventLog", s.GetLifecycleEventLog)
	awsproto.Handle(svc, "HeartbeatJob", s.HeartbeatJob)
	awsproto.Handle(svc, "PutJobLog", s.PutJobLog)
	awsproto.Handle(svc, "GetJobBuildProject", s.GetJobBuildProject)
	awsproto.Handle(svc, "NextJobBuildNumber", s.NextJobBuildNumber)
	awsproto.Handle(svc, "GetJobSecret", s.GetJobSecret)
	awsproto.Handle(svc, "CreateEnrollmentToken", s.CreateEnrollmentToken)
	awsproto.Handle(svc, "ListEnrollmentTokens", s.ListEnrollmentTokens)
	awsproto.Handle(svc, "DeleteEnrollmentToken", s.DeleteEnrollmentToken)
	srv.Register(svc)
}

func (s *Service) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return time.UnixMilli(now().UnixMilli()).UTC() // as the store keeps it
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// ListEvents returns events after in.AfterID in ID order.
func (s *Service) ListEvents(ctx context.Context, in *slipwayapi.ListEventsInput) (*slipwayapi.ListEventsOutput, error) {
	limit := int(in.MaxResults)
	if limit == 0 {
		limit = slipwayapi.DefaultMaxEvents
	}
	es, err := s.Store.ListEvents(ctx, in.AfterID, in.PipelineName, limit)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListEventsOutput{Events: make([]slipwayapi.Event, 0, len(es)), NextAfterID: in.AfterID}
	for _, e := range es {
		detail := json.RawMessage(e.Detail)
		if !json.Valid(detail) {
			// Never expected: the engine writes the envelopes. One bad
			// row must not make the log unreadable.
			s.logger().ErrorContext(ctx, "event detail is not JSON", "event_id", e.ID)
			detail = json.RawMessage(`{}`)
		}
		out.Events = append(out.Events, slipwayapi.Event{
			ID: e.ID, Time: awsproto.NewTime(e.Time), DetailType: e.Type, PipelineName: e.Pipeline,
			PipelineExecutionID: e.ExecutionID, Detail: detail,
		})
		out.NextAfterID = e.ID
	}
	return out, nil
}

// PutNotificationTarget creates or replaces a notification target.
func (s *Service) PutNotificationTarget(ctx context.Context, in *slipwayapi.PutNotificationTargetInput) (*slipwayapi.PutNotificationTargetOutput, error) {
	now := s.now()
	t := &store.NotificationTarget{Name: in.Name, URL: in.URL, Created: now, Updated: now}
	if in.Secret != "" {
		if s.Sealer == nil {
			return nil, errors.New("extensions: no Sealer configured to store a target secret")
		}
		sealed, err := s.Sealer.Seal([]byte(in.Secret))
		if err != nil {
			return nil, err
		}
		t.SealedSecret = sealed
	}
	if err := s.Store.PutNotificationTarget(ctx, t); err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "put notification target", "name", t.Name, "signed", t.SealedSecret != nil,
		"by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.PutNotificationTargetOutput{Target: wireTarget(t)}, nil
}

// GetNotificationTarget returns a notification target, its secret masked.
func (s *Service) GetNotificationTarget(ctx context.Context, in *slipwayapi.GetNotificationTargetInput) (*slipwayapi.GetNotificationTargetOutput, error) {
	t, err := s.Store.GetNotificationTarget(ctx, in.Name)
	if err != nil {
		return nil, notFound(err, in.Name)
	}
	return &slipwayapi.GetNotificationTargetOutput{Target: wireTarget(t)}, nil
}

// ListNotificationTargets returns every notification target by name.
func (s *Service) ListNotificationTargets(ctx context.Context, _ *slipwayapi.ListNotificationTargetsInput) (*slipwayapi.ListNotificationTargetsOutput, error) {
	ts, err := s.Store.ListNotificationTargets(ctx)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListNotificationTargetsOutput{Targets: make([]slipwayapi.NotificationTarget, 0, len(ts))}
	for _, t := range ts {
		out.Targets = append(out.Targets, *wireTarget(t))
	}
	return out, nil
}

// DeleteNotificationTarget removes a notification target.
func (s *Service) DeleteNotificationTarget(ctx context.Context, in *slipwayapi.DeleteNotificationTargetInput) (*slipwayapi.DeleteNotificationTargetOutput, error) {
	if err := s.Store.DeleteNotificationTarget(ctx, in.Name); err != nil {
		return nil, notFound(err, in.Name)
	}
	s.logger().InfoContext(ctx, "deleted notification target", "name", in.Name, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteNotificationTargetOutput{}, nil
}

// notFound maps store.ErrNotFound to ResourceNotFoundException; other
// errors stay internal.
func notFound(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return awsproto.Errorf(slipwayapi.ResourceNotFoundException,
			"notification target %q does not exist; create it with PutNotificationTarget", name)
	}
	return err
}

// wireTarget is t as the API shows it: the secret masked.
func wireTarget(t *store.NotificationTarget) *slipwayapi.NotificationTarget {
	w := &slipwayapi.NotificationTarget{Name: t.Name, URL: t.URL, Created: awsproto.NewTime(t.Created), Updated: awsproto.NewTime(t.Updated)}
	if t.SealedSecret != nil {
		w.Secret = slipwayapi.SecretMask
	}
	return w
}
