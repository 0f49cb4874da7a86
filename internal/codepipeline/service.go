// Package codepipeline implements the CodePipeline_20150709 operations of
// the AWS CodePipeline API over the store: pipeline definitions, tags and
// action types. It turns wire shapes (package cpapi) into stored records and
// back, and maps store errors to the model's exception names in one place.
package codepipeline

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/store"
)

// SigningName is the SigV4 service name of CodePipeline.
const SigningName = "codepipeline"

// Limits are the account quotas the service enforces; the zero value of a
// field means the default.
type Limits struct {
	Pipelines         int // pipelines per account (default 20)
	CustomActionTypes int // custom action types per account (default 20)
	TagsPerResource   int // tags per resource (default 50)
	Structure         pipeline.Limits
}

// DefaultLimits returns the quotas of the CodePipeline user guide.
func DefaultLimits() Limits {
	return Limits{Pipelines: 20, CustomActionTypes: 20, TagsPerResource: 50, Structure: pipeline.DefaultLimits()}
}

// Service serves the CodePipeline API.
type Service struct {
	Store     store.Store
	Engine    *engine.Engine
	Region    string
	AccountID string
	Limits    Limits
	Logger    *slog.Logger
	Now       func() time.Time // defaults to time.Now
	// Sealer seals webhook secret tokens; PublicURL is the base of webhook
	// URLs (<PublicURL>/webhooks/<name>), "" for the address a request
	// arrived at (webhooks.go).
	Sealer    Sealer
	PublicURL string
}

// Register adds the service's operations to srv.
func (s *Service) Register(srv *awsproto.Server) {
	svc := awsproto.NewService(cpapi.TargetPrefix, SigningName, cpapi.Operations)
	awsproto.Handle(svc, "CreatePipeline", s.CreatePipeline)
	awsproto.Handle(svc, "GetPipeline", s.GetPipeline)
	awsproto.Handle(svc, "UpdatePipeline", s.UpdatePipeline)
	awsproto.Handle(svc, "DeletePipeline", s.DeletePipeline)
	awsproto.Handle(svc, "ListPipelines", s.ListPipelines)
	awsproto.Handle(svc, "TagResource", s.TagResource)
	awsproto.Handle(svc, "UntagResource", s.UntagResource)
	awsproto.Handle(svc, "ListTagsForResource", s.ListTagsForResource)
	awsproto.Handle(svc, "ListActionTypes", s.ListActionTypes)
	awsproto.Handle(svc, "CreateCustomActionType", s.CreateCustomActionType)
	awsproto.Handle(svc, "DeleteCustomActionType", s.DeleteCustomActionType)
	awsproto.Handle(svc, "GetActionType", s.GetActionType)
	awsproto.Handle(svc, "StartPipelineExecution", s.StartPipelineExecution)
	awsproto.Handle(svc, "StopPipelineExecution", s.StopPipelineExecution)
	awsproto.Handle(svc, "RetryStageExecution", s.RetryStageExecution)
	awsproto.Handle(svc, "DisableStageTransition", s.DisableStageTransition)
	awsproto.Handle(svc, "EnableStageTransition", s.EnableStageTransition)
	awsproto.Handle(svc, "PutApprovalResult", s.PutApprovalResult)
	awsproto.Handle(svc, "GetPipelineState", s.GetPipelineState)
	awsproto.Handle(svc, "GetPipelineExecution", s.GetPipelineExecution)
	awsproto.Handle(svc, "ListPipelineExecutions", s.ListPipelineExecutions)
	awsproto.Handle(svc, "ListActionExecutions", s.ListActionExecutions)
	awsproto.Handle(svc, "PollForJobs", s.PollForJobs)
	awsproto.Handle(svc, "AcknowledgeJob", s.AcknowledgeJob)
	awsproto.Handle(svc, "GetJobDetails", s.GetJobDetails)
	awsproto.Handle(svc, "PutJobSuccessResult", s.PutJobSuccessResult)
	awsproto.Handle(svc, "PutJobFailureResult", s.PutJobFailureResult)
	awsproto.Handle(svc, "PollForThirdPartyJobs", s.PollForThirdPartyJobs)
	awsproto.Handle(svc, "GetThirdPartyJobDetails", s.GetThirdPartyJobDetails)
	awsproto.Handle(svc, "AcknowledgeThirdPartyJob", s.AcknowledgeThirdPartyJob)
	awsproto.Handle(svc, "PutThirdPartyJobSuccessResult", s.PutThirdPartyJobSuccessResult)
	awsproto.Handle(svc, "PutThirdPartyJobFailureResult", s.PutThirdPartyJobFailureResult)
	awsproto.Handle(svc, "PutWebhook", s.PutWebhook)
	awsproto.Handle(svc, "ListWebhooks", s.ListWebhooks)
	awsproto.Handle(svc, "DeleteWebhook", s.DeleteWebhook)
	awsproto.Handle(svc, "RegisterWebhookWithThirdParty", s.RegisterWebhookWithThirdParty)
	awsproto.Handle(svc, "DeregisterWebhookWithThirdParty", s.DeregisterWebhookWithThirdParty)
	srv.Register(svc)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// PipelineARN returns the ARN of the named pipeline.
func (s *Service) PipelineARN(name string) string {
	return fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", s.Region, s.AccountID, name)
}

// ActionTypeARN returns the ARN of a custom action type.
func (s *Service) ActionTypeARN(id cpapi.ActionTypeId) string {
	return fmt.Sprintf("arn:aws:codepipeline:%s:%s:actiontype:%s/%s/%s/%s", s.Region, s.AccountID, id.Owner, id.Category, id.Provider, id.Version)
}

// storeErr maps a store error to the API: not-found and exists errors become
// the exception given for them, anything else stays an internal error.
func storeErr(err error, notFound, exists *awsproto.Error) error {
	switch {
	case err == nil:
		return nil
	case notFound != nil && errors.Is(err, store.ErrNotFound):
		return notFound
	case exists != nil && errors.Is(err, store.ErrExists):
		return exists
	case errors.Is(err, store.ErrConflict):
		return awsproto.Errorf(cpapi.ConcurrentModificationException, "the resource was changed by another request at the same time; read it again and retry")
	}
	return err
}

// encodeToken and decodeToken make opaque pagination tokens from a sort key.
func encodeToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + key))
}

func decodeToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	key, ok := strings.CutPrefix(string(b), "v1:")
	if err != nil || !ok {
		return "", awsproto.Errorf(cpapi.InvalidNextTokenException, "the nextToken is not one this server returned; start the listing again without it")
	}
	return key, nil
}

// inTx runs fn in a store transaction.
func (s *Service) inTx(ctx context.Context, fn func(q store.Queries) error) error {
	return s.Store.InTx(ctx, fn)
}
