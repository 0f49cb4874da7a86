package codepipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// ListActionTypes lists the built-in and custom action types, optionally
// filtered by owner. Everything fits on one page.
func (s *Service) ListActionTypes(ctx context.Context, in *cpapi.ListActionTypesInput) (*cpapi.ListActionTypesOutput, error) {
	if _, err := decodeToken(in.NextToken); err != nil {
		return nil, err
	}
	cat, err := s.catalog(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	out := &cpapi.ListActionTypesOutput{ActionTypes: []cpapi.ActionType{}}
	for _, t := range cat.Types() {
		if in.ActionOwnerFilter == "" || t.Id.Owner == in.ActionOwnerFilter {
			out.ActionTypes = append(out.ActionTypes, t)
		}
	}
	return out, nil
}

var configRefRE = regexp.MustCompile(`\{Config:([^}]*)\}`)

// checkCustomActionType applies the rules the model cannot express.
func checkCustomActionType(in *cpapi.CreateCustomActionTypeInput) error {
	props := map[string]cpapi.ActionConfigurationProperty{}
	queryable := ""
	for _, p := range in.ConfigurationProperties {
		if _, dup := props[p.Name]; dup {
			return awsproto.Errorf(cpapi.ValidationException, "configuration property %q is declared twice", p.Name)
		}
		props[p.Name] = p
		if aws.ToBool(p.Queryable) {
			if queryable != "" {
				return awsproto.Errorf(cpapi.ValidationException, "configuration properties %q and %q are both queryable; an action type may have at most one queryable property", queryable, p.Name)
			}
			if !aws.ToBool(p.Required) || aws.ToBool(p.Secret) {
				return awsproto.Errorf(cpapi.ValidationException, "queryable configuration property %q must be required and not secret", p.Name)
			}
			queryable = p.Name
		}
	}
	for _, d := range []struct {
		what string
		det  *cpapi.ArtifactDetails
	}{{"inputArtifactDetails", in.InputArtifactDetails}, {"outputArtifactDetails", in.OutputArtifactDetails}} {
		if aws.ToInt32(d.det.MinimumCount) > aws.ToInt32(d.det.MaximumCount) {
			return awsproto.Errorf(cpapi.ValidationException, "%s: minimumCount %d is greater than maximumCount %d", d.what, aws.ToInt32(d.det.MinimumCount), aws.ToInt32(d.det.MaximumCount))
		}
	}
	if in.Settings != nil {
		for _, tpl := range []string{in.Settings.EntityUrlTemplate, in.Settings.ExecutionUrlTemplate, in.Settings.RevisionUrlTemplate} {
			for _, m := range configRefRE.FindAllStringSubmatch(tpl, -1) {
				p, ok := props[m[1]]
				if !ok || !aws.ToBool(p.Required) || aws.ToBool(p.Secret) {
					return awsproto.Errorf(cpapi.ValidationException, "URL template %q refers to {Config:%s}, which must name a required, non-secret configuration property", tpl, m[1])
				}
			}
		}
	}
	return nil
}

// CreateCustomActionType registers a Custom action type for job workers.
func (s *Service) CreateCustomActionType(ctx context.Context, in *cpapi.CreateCustomActionTypeInput) (*cpapi.CreateCustomActionTypeOutput, error) {
	if err := checkCustomActionType(in); err != nil {
		return nil, err
	}
	if err := s.checkTags(in.Tags); err != nil {
		return nil, err
	}
	t := cpapi.ActionType{
		Id:                            &cpapi.ActionTypeId{Category: in.Category, Owner: cpapi.ActionOwnerCustom, Provider: in.Provider, Version: in.Version},
		Settings:                      in.Settings,
		ActionConfigurationProperties: in.ConfigurationProperties,
		InputArtifactDetails:          in.InputArtifactDetails,
		OutputArtifactDetails:         in.OutputArtifactDetails,
	}
	body, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode action type: %w", err)
	}
	key := store.ActionTypeKey{Category: in.Category, Owner: cpapi.ActionOwnerCustom, Provider: in.Provider, Version: in.Version}
	err = s.inTx(ctx, func(q store.Queries) error {
		all, err := q.ListActionTypes(ctx)
		if err != nil {
			return fmt.Errorf("list action types: %w", err)
		}
		if len(all) >= s.Limits.CustomActionTypes {
			return awsproto.Errorf(cpapi.LimitExceededException, "this account already has %d custom action types, the most it may have; delete one or raise the server's limit", len(all))
		}
		err = q.CreateActionType(ctx, &store.ActionType{ActionTypeKey: key, Declaration: body, Created: s.now()})
		if err := storeErr(err, nil, awsproto.Errorf(cpapi.ActionTypeAlreadyExistsException,
			"custom action type %s/%s/%s version %s already exists; use a new version", in.Category, cpapi.ActionOwnerCustom, in.Provider, in.Version)); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			return q.TagResource(ctx, s.ActionTypeARN(*t.Id), storeTags(in.Tags))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cpapi.CreateCustomActionTypeOutput{ActionType: &t, Tags: in.Tags}, nil
}

// DeleteCustomActionType removes a custom action type and its tags.
func (s *Service) DeleteCustomActionType(ctx context.Context, in *cpapi.DeleteCustomActionTypeInput) (*struct{}, error) {
	key := store.ActionTypeKey{Category: in.Category, Owner: cpapi.ActionOwnerCustom, Provider: in.Provider, Version: in.Version}
	err := s.inTx(ctx, func(q store.Queries) error {
		err := q.DeleteActionType(ctx, key)
		// The model lists no not-found error for this operation, so a
		// missing type is a ValidationException (typed in every SDK).
		if err := storeErr(err, awsproto.Errorf(cpapi.ValidationException,
			"custom action type %s/Custom/%s version %s does not exist", in.Category, in.Provider, in.Version), nil); err != nil {
			return err
		}
		return q.DeleteTags(ctx, s.ActionTypeARN(cpapi.ActionTypeId{Category: in.Category, Owner: cpapi.ActionOwnerCustom, Provider: in.Provider, Version: in.Version}))
	})
	return nil, err
}

// GetActionType describes one action type in the ActionTypeDeclaration shape.
func (s *Service) GetActionType(ctx context.Context, in *cpapi.GetActionTypeInput) (*cpapi.GetActionTypeOutput, error) {
	cat, err := s.catalog(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	t, ok := cat.Lookup(cpapi.ActionTypeId{Category: in.Category, Owner: in.Owner, Provider: in.Provider, Version: in.Version})
	if !ok {
		return nil, awsproto.Errorf(cpapi.ActionTypeNotFoundException, "action type %s/%s/%s version %s does not exist; ListActionTypes shows the types there are", in.Category, in.Owner, in.Provider, in.Version)
	}
	return &cpapi.GetActionTypeOutput{ActionType: declaration(t)}, nil
}

func declaration(t *cpapi.ActionType) *cpapi.ActionTypeDeclaration {
	d := &cpapi.ActionTypeDeclaration{
		Executor: &cpapi.ActionTypeExecutor{Type: cpapi.ExecutorTypeJobWorker,
			Configuration: &cpapi.ExecutorConfiguration{JobWorkerExecutorConfiguration: &cpapi.JobWorkerExecutorConfiguration{}}},
		Id: &cpapi.ActionTypeIdentifier{Category: t.Id.Category, Owner: t.Id.Owner, Provider: t.Id.Provider, Version: t.Id.Version},
		InputArtifactDetails: &cpapi.ActionTypeArtifactDetails{
			MinimumCount: t.InputArtifactDetails.MinimumCount, MaximumCount: t.InputArtifactDetails.MaximumCount},
		OutputArtifactDetails: &cpapi.ActionTypeArtifactDetails{
			MinimumCount: t.OutputArtifactDetails.MinimumCount, MaximumCount: t.OutputArtifactDetails.MaximumCount},
	}
	for _, p := range t.ActionConfigurationProperties {
		d.Properties = append(d.Properties, cpapi.ActionTypeProperty{
			Name: p.Name, Optional: aws.Bool(!aws.ToBool(p.Required)), Key: aws.Bool(aws.ToBool(p.Key)),
			NoEcho: aws.Bool(aws.ToBool(p.Secret)), Queryable: p.Queryable, Description: p.Description,
		})
	}
	if st := t.Settings; st != nil {
		d.Urls = &cpapi.ActionTypeUrls{ConfigurationUrl: st.ThirdPartyConfigurationUrl, EntityUrlTemplate: st.EntityUrlTemplate,
			ExecutionUrlTemplate: st.ExecutionUrlTemplate, RevisionUrlTemplate: st.RevisionUrlTemplate}
	}
	return d
}
