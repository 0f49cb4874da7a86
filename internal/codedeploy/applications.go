package codedeploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

func applicationInfo(a *store.Application) cdapi.ApplicationInfo {
	return cdapi.ApplicationInfo{
		ApplicationId:   a.ID,
		ApplicationName: a.Name,
		ComputePlatform: a.ComputePlatform,
		CreateTime:      awsproto.NewTime(a.Created),
		LinkedToGitHub:  aws.Bool(false),
	}
}

// checkComputePlatform accepts Server (the default when empty) and refuses
// the platforms Slipway does not deploy to.
func checkComputePlatform(platform, what string) error {
	if platform == "" || platform == ComputePlatformServer {
		return nil
	}
	return awsproto.Errorf(cdapi.InvalidComputePlatformException,
		"compute platform %s is not supported: Slipway deploys to servers (EC2/On-Premises), so %s must use computePlatform Server", platform, what)
}

// CreateApplication creates an application for the Server platform.
func (s *Service) CreateApplication(ctx context.Context, in *cdapi.CreateApplicationInput) (*cdapi.CreateApplicationOutput, error) {
	if err := checkComputePlatform(in.ComputePlatform, "an application"); err != nil {
		return nil, err
	}
	if err := checkResourceTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > s.limits().TagsPerResource {
		return nil, awsproto.Errorf(cdapi.InvalidTagsToAddException, "%d tags given; a resource can have at most %d", len(in.Tags), s.limits().TagsPerResource)
	}
	a := &store.Application{Name: in.ApplicationName, ID: uuid.NewString(), ComputePlatform: ComputePlatformServer, Created: s.now()}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		n, err := q.CountApplications(ctx)
		if err != nil {
			return err
		}
		if limit := s.limits().Applications; n >= limit {
			return awsproto.Errorf(cdapi.ApplicationLimitExceededException, "this account already has %d applications, the most it may have; delete one or raise the server's limit", n)
		}
		err = q.CreateApplication(ctx, a)
		if err := storeErr(err, nil, awsproto.Errorf(cdapi.ApplicationAlreadyExistsException,
			"an application named %q already exists; choose another name", a.Name)); err != nil {
			return err
		}
		// DeleteApplication and renames take their tags along; clearing
		// the ARN anyway means a new application never inherits any.
		arn := s.ApplicationARN(a.Name)
		if err := q.DeleteTags(ctx, arn); err != nil {
			return err
		}
		return q.TagResource(ctx, arn, storeTags(in.Tags))
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "application created", "application", a.Name, "id", a.ID)
	return &cdapi.CreateApplicationOutput{ApplicationId: a.ID}, nil
}

// GetApplication returns an application.
func (s *Service) GetApplication(ctx context.Context, in *cdapi.GetApplicationInput) (*cdapi.GetApplicationOutput, error) {
	a, err := getApplication(ctx, s.Store, in.ApplicationName)
	if err != nil {
		return nil, err
	}
	info := applicationInfo(a)
	return &cdapi.GetApplicationOutput{Application: &info}, nil
}

// moveTags moves every tag of the resource oldARN to newARN.
func moveTags(ctx context.Context, q store.Queries, oldARN, newARN string) error {
	tags, err := q.ListTags(ctx, oldARN)
	if err != nil {
		return fmt.Errorf("list tags of %s: %w", oldARN, err)
	}
	if err := q.DeleteTags(ctx, oldARN); err != nil {
		return fmt.Errorf("delete tags of %s: %w", oldARN, err)
	}
	if err := q.DeleteTags(ctx, newARN); err != nil {
		return fmt.Errorf("delete tags of %s: %w", newARN, err)
	}
	return q.TagResource(ctx, newARN, tags)
}

// UpdateApplication renames an application; its deployment groups,
// revisions and tags (and its groups' tags) go with it, and its ID stays.
func (s *Service) UpdateApplication(ctx context.Context, in *cdapi.UpdateApplicationInput) (*struct{}, error) {
	switch {
	case in.ApplicationName == "":
		return nil, awsproto.Errorf(cdapi.ApplicationNameRequiredException, "applicationName (the current name) is required")
	case in.NewApplicationName == "":
		return nil, awsproto.Errorf(cdapi.ApplicationNameRequiredException, "newApplicationName is required: UpdateApplication renames an application")
	case in.NewApplicationName == in.ApplicationName:
		_, err := getApplication(ctx, s.Store, in.ApplicationName)
		return nil, err
	}
	oldName, newName := in.ApplicationName, in.NewApplicationName
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		err := q.RenameApplication(ctx, oldName, newName)
		if err := storeErr(err, applicationNotFound(oldName), awsproto.Errorf(cdapi.ApplicationAlreadyExistsException,
			"an application named %q already exists; choose another name", newName)); err != nil {
			return err
		}
		if err := moveTags(ctx, q, s.ApplicationARN(oldName), s.ApplicationARN(newName)); err != nil {
			return err
		}
		groups, err := q.ListDeploymentGroups(ctx, newName, store.Page{})
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := moveTags(ctx, q, s.DeploymentGroupARN(oldName, g.Name), s.DeploymentGroupARN(newName, g.Name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "application renamed", "application", oldName, "new_name", newName)
	return nil, nil
}

// DeleteApplication deletes an application with its deployment groups,
// revisions and tags. Deleting an application that does not exist
// succeeds: the model has no not-found error for this operation.
func (s *Service) DeleteApplication(ctx context.Context, in *cdapi.DeleteApplicationInput) (*struct{}, error) {
	name := in.ApplicationName
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		groups, err := q.ListDeploymentGroups(ctx, name, store.Page{})
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := q.DeleteTags(ctx, s.DeploymentGroupARN(name, g.Name)); err != nil {
				return err
			}
		}
		if err := q.DeleteTags(ctx, s.ApplicationARN(name)); err != nil {
			return err
		}
		if err := q.DeleteApplication(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "application deleted", "application", name)
	return nil, nil
}

// ListApplications returns application names in byte order, paged.
func (s *Service) ListApplications(ctx context.Context, in *cdapi.ListApplicationsInput) (*cdapi.ListApplicationsOutput, error) {
	after, err := decodeToken("applications", in.NextToken)
	if err != nil {
		return nil, err
	}
	size := s.limits().PageSize
	rows, err := s.Store.ListApplications(ctx, store.Page{After: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	out := &cdapi.ListApplicationsOutput{Applications: []string{}}
	for i, a := range rows {
		if i == size {
			out.NextToken = encodeToken("applications", rows[size-1].Name)
			break
		}
		out.Applications = append(out.Applications, a.Name)
	}
	return out, nil
}

// dedupe returns names without repeats, in first-seen order.
func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// BatchGetApplications returns the named applications, in the order
// asked; one that does not exist fails the call.
func (s *Service) BatchGetApplications(ctx context.Context, in *cdapi.BatchGetApplicationsInput) (*cdapi.BatchGetApplicationsOutput, error) {
	if len(in.ApplicationNames) > maxBatchApplications {
		return nil, awsproto.Errorf(cdapi.BatchLimitExceededException, "%d application names given; at most %d are allowed", len(in.ApplicationNames), maxBatchApplications)
	}
	out := &cdapi.BatchGetApplicationsOutput{ApplicationsInfo: []cdapi.ApplicationInfo{}}
	for _, n := range dedupe(in.ApplicationNames) {
		if n == "" {
			return nil, awsproto.Errorf(cdapi.ApplicationNameRequiredException, "an application name in applicationNames is empty")
		}
		a, err := getApplication(ctx, s.Store, n)
		if err != nil {
			return nil, err
		}
		out.ApplicationsInfo = append(out.ApplicationsInfo, applicationInfo(a))
	}
	return out, nil
}
