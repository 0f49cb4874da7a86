package codedeploy

import (
	"context"
	"regexp"
	"strings"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// arnParts splits an ARN: partition, service, region, account, resource.
var arnParts = regexp.MustCompile(`^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]*):(.+)$`)

// resolveARN checks that arn names an existing application or deployment
// group of this server and returns the ARN in canonical form. A malformed
// ARN, or one of another region or account, is an InvalidArnException; a
// well-formed ARN of something else (another service, a deployment
// configuration, an instance) is an ArnNotSupportedException.
func (s *Service) resolveARN(ctx context.Context, q store.Queries, arn string) (string, error) {
	m := arnParts.FindStringSubmatch(arn)
	if m == nil {
		return "", awsproto.Errorf(cdapi.InvalidArnException, "%q is not an ARN (arn:aws:codedeploy:%s:%s:application:<name>)", arn, s.Region, s.AccountID)
	}
	service, region, account, resource := m[2], m[3], m[4], m[5]
	if service != "codedeploy" {
		return "", awsproto.Errorf(cdapi.ArnNotSupportedException, "%q is not a CodeDeploy ARN; tags go on applications and deployment groups", arn)
	}
	if region != s.Region || account != s.AccountID {
		return "", awsproto.Errorf(cdapi.InvalidArnException, "%q is not of this server: its resources are arn:aws:codedeploy:%s:%s:...", arn, s.Region, s.AccountID)
	}
	kind, name, _ := strings.Cut(resource, ":")
	switch kind {
	case "application":
		if name == "" {
			break
		}
		if _, err := getApplication(ctx, q, name); err != nil {
			return "", err
		}
		return s.ApplicationARN(name), nil
	case "deploymentgroup":
		if !strings.Contains(name, "/") {
			break
		}
		// An application name may itself contain "/": try each split,
		// reporting a missing group over a missing application.
		var notFound error
		for i := range len(name) {
			if name[i] != '/' {
				continue
			}
			app, group := name[:i], name[i+1:]
			_, _, err := getGroup(ctx, q, app, group)
			e := awsproto.AsError(err)
			switch {
			case err == nil:
				return s.DeploymentGroupARN(app, group), nil
			case e == nil:
				return "", err
			case notFound == nil || e.Code == cdapi.DeploymentGroupDoesNotExistException:
				notFound = err
			}
		}
		return "", notFound
	case "deploymentconfig":
		return "", awsproto.Errorf(cdapi.ArnNotSupportedException, "%q cannot be tagged: tags go on applications and deployment groups", arn)
	}
	if strings.HasPrefix(resource, "instance/") {
		return "", awsproto.Errorf(cdapi.ArnNotSupportedException, "%q cannot be tagged with TagResource: tag on-premises instances with AddTagsToOnPremisesInstances", arn)
	}
	return "", awsproto.Errorf(cdapi.InvalidArnException, "%q names no CodeDeploy resource (...:application:<name> or ...:deploymentgroup:<application>/<group>)", arn)
}

// TagResource adds tags to an application or deployment group, or
// replaces the values of its tags with the same keys.
func (s *Service) TagResource(ctx context.Context, in *cdapi.TagResourceInput) (*cdapi.TagResourceOutput, error) {
	if len(in.Tags) == 0 {
		return nil, awsproto.Errorf(cdapi.TagRequiredException, "no tags given")
	}
	if err := checkResourceTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		arn, err := s.resolveARN(ctx, q, in.ResourceArn)
		if err != nil {
			return err
		}
		cur, err := q.ListTags(ctx, arn)
		if err != nil {
			return err
		}
		keys := map[string]bool{}
		for _, t := range cur {
			keys[t.Key] = true
		}
		for _, t := range in.Tags {
			keys[t.Key] = true
		}
		if limit := s.limits().TagsPerResource; len(keys) > limit {
			return awsproto.Errorf(cdapi.InvalidTagsToAddException, "the resource would have %d tags; at most %d are allowed", len(keys), limit)
		}
		return q.TagResource(ctx, arn, storeTags(in.Tags))
	})
	if err != nil {
		return nil, err
	}
	return &cdapi.TagResourceOutput{}, nil
}

// UntagResource removes tags, by key, from an application or deployment
// group; keys it does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, in *cdapi.UntagResourceInput) (*cdapi.UntagResourceOutput, error) {
	if len(in.TagKeys) == 0 {
		return nil, awsproto.Errorf(cdapi.TagRequiredException, "no tag keys given")
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		arn, err := s.resolveARN(ctx, q, in.ResourceArn)
		if err != nil {
			return err
		}
		return q.UntagResource(ctx, arn, in.TagKeys)
	})
	if err != nil {
		return nil, err
	}
	return &cdapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists an application's or deployment group's tags
// by key, paged.
func (s *Service) ListTagsForResource(ctx context.Context, in *cdapi.ListTagsForResourceInput) (*cdapi.ListTagsForResourceOutput, error) {
	const kind = "tags"
	// ListTagsForResource models no InvalidNextTokenException.
	after, err := decodeTokenAs(kind, in.NextToken, awsproto.ValidationException)
	if err != nil {
		return nil, err
	}
	arn, err := s.resolveARN(ctx, s.Store, in.ResourceArn)
	if e := awsproto.AsError(err); e != nil && (e.Code == cdapi.ApplicationDoesNotExistException || e.Code == cdapi.DeploymentGroupDoesNotExistException) {
		// ListTagsForResource models only ARN errors.
		return nil, awsproto.Errorf(cdapi.InvalidArnException, "%q names no existing resource: %s", in.ResourceArn, e.Message)
	}
	if err != nil {
		return nil, err
	}
	tags, err := s.Store.ListTags(ctx, arn)
	if err != nil {
		return nil, err
	}
	out := &cdapi.ListTagsForResourceOutput{Tags: []cdapi.Tag{}}
	size := s.limits().PageSize
	for _, t := range tags {
		if after != "" && t.Key <= after {
			continue
		}
		if len(out.Tags) == size {
			out.NextToken = encodeToken(kind, out.Tags[size-1].Key)
			break
		}
		out.Tags = append(out.Tags, cdapi.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}
