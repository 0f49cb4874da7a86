package codepipeline

import (
	"context"
	"fmt"
	"regexp"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// arnRE matches the resource ARNs this service tags: pipelines and custom
// action types.
var arnRE = regexp.MustCompile(`^arn:aws:codepipeline:([^:]+):([0-9]{12}):(actiontype:(Custom)/([A-Za-z]+)/([0-9A-Za-z_-]+)/([0-9A-Za-z_-]+)|[A-Za-z0-9.@\-_]+)$`)

// checkResource verifies that arn names an existing resource of this server.
func (s *Service) checkResource(ctx context.Context, q store.Queries, arn string) error {
	m := arnRE.FindStringSubmatch(arn)
	if m == nil || m[1] != s.Region || m[2] != s.AccountID {
		return awsproto.Errorf(cpapi.InvalidArnException, "%q is not the ARN of a pipeline or custom action type of this server (expected arn:aws:codepipeline:%s:%s:<pipeline name>)", arn, s.Region, s.AccountID)
	}
	var err error
	if m[4] != "" {
		_, err = q.GetActionType(ctx, store.ActionTypeKey{Owner: m[4], Category: m[5], Provider: m[6], Version: m[7]})
	} else {
		_, err = q.GetPipeline(ctx, m[3])
	}
	return storeErr(err, awsproto.Errorf(cpapi.ResourceNotFoundException, "no resource with ARN %q exists", arn), nil)
}

// TagResource adds or replaces tags on a pipeline or custom action type.
func (s *Service) TagResource(ctx context.Context, in *cpapi.TagResourceInput) (*cpapi.TagResourceOutput, error) {
	if err := s.checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(q store.Queries) error {
		if err := s.checkResource(ctx, q, in.ResourceArn); err != nil {
			return err
		}
		cur, err := q.ListTags(ctx, in.ResourceArn)
		if err != nil {
			return fmt.Errorf("list tags: %w", err)
		}
		keys := map[string]bool{}
		for _, t := range cur {
			keys[t.Key] = true
		}
		for _, t := range in.Tags {
			keys[t.Key] = true
		}
		if len(keys) > s.Limits.TagsPerResource {
			return awsproto.Errorf(cpapi.TooManyTagsException, "the resource would have %d tags; at most %d are allowed", len(keys), s.Limits.TagsPerResource)
		}
		return q.TagResource(ctx, in.ResourceArn, storeTags(in.Tags))
	})
	if err != nil {
		return nil, err
	}
	return &cpapi.TagResourceOutput{}, nil
}

// UntagResource removes tags from a pipeline or custom action type.
func (s *Service) UntagResource(ctx context.Context, in *cpapi.UntagResourceInput) (*cpapi.UntagResourceOutput, error) {
	err := s.inTx(ctx, func(q store.Queries) error {
		if err := s.checkResource(ctx, q, in.ResourceArn); err != nil {
			return err
		}
		return q.UntagResource(ctx, in.ResourceArn, in.TagKeys)
	})
	if err != nil {
		return nil, err
	}
	return &cpapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a resource's tags, paged by key.
func (s *Service) ListTagsForResource(ctx context.Context, in *cpapi.ListTagsForResourceInput) (*cpapi.ListTagsForResourceOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := s.checkResource(ctx, s.Store, in.ResourceArn); err != nil {
		return nil, err
	}
	tags, err := s.Store.ListTags(ctx, in.ResourceArn)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	limit := pageLimit(in.MaxResults, 100)
	out := &cpapi.ListTagsForResourceOutput{Tags: []cpapi.Tag{}}
	for _, t := range tags {
		if t.Key <= after && after != "" {
			continue
		}
		if len(out.Tags) == limit {
			out.NextToken = encodeToken(out.Tags[limit-1].Key)
			break
		}
		out.Tags = append(out.Tags, cpapi.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}
