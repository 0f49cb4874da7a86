package codedeploy

import (
	"context"
	"errors"
	"regexp"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

var (
	// iamUserARN is an IAM user ARN, with an optional path. A Slipway
	// access key's user has one: arn:aws:iam::<account>:user/<name>.
	iamUserARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:user/([\x21-\x7e]+/)*[\w+=,.@-]{1,64}$`)
	// iamSessionARN is an STS assumed-role session ARN.
	iamSessionARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sts::[0-9]{12}:assumed-role/([\x21-\x7e]+/)*[\w+=,.@-]{1,64}/[\w+=,.@-]{2,64}$`)
)

func instanceInfo(i *store.OnPremisesInstance) cdapi.InstanceInfo {
	return cdapi.InstanceInfo{
		InstanceName:   i.Name,
		IamUserArn:     i.IAMUserARN,
		IamSessionArn:  i.IAMSessionARN,
		InstanceArn:    i.InstanceARN,
		RegisterTime:   awsproto.NewTime(i.Registered),
		DeregisterTime: awsproto.NewTime(i.Deregistered),
		Tags:           wireTags(i.Tags),
	}
}

func instanceNotRegistered(name string) *awsproto.Error {
	return awsproto.Errorf(cdapi.InstanceNotRegisteredException, "no on-premises instance named %q is registered; ListOnPremisesInstances shows the instances there are", name)
}

// checkIAMARNs checks the identity an instance registers with: exactly one
// of an IAM user ARN and an IAM session ARN. As the session ARN Slipway
// also accepts the instance's own Slipway ARN (see the package
// documentation).
func (s *Service) checkIAMARNs(name, user, session string) error {
	switch {
	case user == "" && session == "":
		return awsproto.Errorf(cdapi.IamArnRequiredException,
			"register the instance with an iamUserArn (arn:aws:iam::<account>:user/<name>) or an iamSessionArn (arn:aws:sts::<account>:assumed-role/<role>/<session>, or %s)", s.InstanceARN(name))
	case user != "" && session != "":
		return awsproto.Errorf(cdapi.MultipleIamArnsProvidedException, "give either iamUserArn or iamSessionArn, not both")
	case user != "" && !iamUserARN.MatchString(user):
		return awsproto.Errorf(cdapi.InvalidIamUserArnException, "iamUserArn %q is not an IAM user ARN (arn:aws:iam::<account>:user/<name>)", user)
	case session != "" && !iamSessionARN.MatchString(session) && session != s.InstanceARN(name):
		return awsproto.Errorf(cdapi.InvalidIamSessionArnException,
			"iamSessionArn %q is neither an IAM session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>) nor this instance's ARN %s", session, s.InstanceARN(name))
	}
	return nil
}

// RegisterOnPremisesInstance registers an on-premises instance with the
// IAM identity its agent will present. One identity belongs to one
// registered instance. A deregistered instance's name can be registered
// again at once; the new instance starts without tags.
func (s *Service) RegisterOnPremisesInstance(ctx context.Context, in *cdapi.RegisterOnPremisesInstanceInput) (*struct{}, error) {
	if err := checkInstanceName(in.InstanceName); err != nil {
		return nil, err
	}
	if err := s.checkIAMARNs(in.InstanceName, in.IamUserArn, in.IamSessionArn); err != nil {
		return nil, err
	}
	i := &store.OnPremisesInstance{Name: in.InstanceName, IAMUserARN: in.IamUserArn, IAMSessionARN: in.IamSessionArn,
		InstanceARN: s.InstanceARN(in.InstanceName), Registered: s.now()}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		arn := in.IamUserArn + in.IamSessionArn // exactly one is set
		other, err := q.FindOnPremisesInstanceByIAMARN(ctx, arn)
		switch {
		case err == nil && other.Name == i.Name:
			return awsproto.Errorf(cdapi.InstanceNameAlreadyRegisteredException, "an on-premises instance named %q is already registered", i.Name)
		case err == nil && in.IamUserArn != "":
			return awsproto.Errorf(cdapi.IamUserArnAlreadyRegisteredException,
				"IAM user %s is already registered for instance %q; an IAM user belongs to one instance", arn, other.Name)
		case err == nil:
			return awsproto.Errorf(cdapi.IamSessionArnAlreadyRegisteredException,
				"IAM session %s is already registered for instance %q; a session belongs to one instance", arn, other.Name)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return storeErr(q.RegisterOnPremisesInstance(ctx, i), nil,
			awsproto.Errorf(cdapi.InstanceNameAlreadyRegisteredException, "an on-premises instance named %q is already registered", i.Name))
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "on-premises instance registered", "instance", i.Name, "iam_arn", i.IAMUserARN+i.IAMSessionARN)
	return nil, nil
}

// DeregisterOnPremisesInstance deregisters an instance, keeping its tags
// (deregister-on-premises-instance removes nothing else, §7.5). Deployments
// no longer select it. Deregistering an instance that is not registered
// succeeds: the model has no error for it.
func (s *Service) DeregisterOnPremisesInstance(ctx context.Context, in *cdapi.DeregisterOnPremisesInstanceInput) (*struct{}, error) {
	if err := checkInstanceName(in.InstanceName); err != nil {
		return nil, err
	}
	err := s.Store.DeregisterOnPremisesInstance(ctx, in.InstanceName, s.now())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		s.logger().InfoContext(ctx, "on-premises instance deregistered", "instance", in.InstanceName)
	}
	return nil, nil
}

// GetOnPremisesInstance returns an instance, registered or deregistered
// (then with its deregistration time).
func (s *Service) GetOnPremisesInstance(ctx context.Context, in *cdapi.GetOnPremisesInstanceInput) (*cdapi.GetOnPremisesInstanceOutput, error) {
	if err := checkInstanceName(in.InstanceName); err != nil {
		return nil, err
	}
	i, err := s.Store.GetOnPremisesInstance(ctx, in.InstanceName)
	if err != nil {
		return nil, storeErr(err, instanceNotRegistered(in.InstanceName), nil)
	}
	info := instanceInfo(i)
	return &cdapi.GetOnPremisesInstanceOutput{InstanceInfo: &info}, nil
}

// ListOnPremisesInstances returns instance names in byte order, paged:
// registered, deregistered or (without registrationStatus) both, and with
// tagFilters those with a tag matching at least one filter (the filters
// are one tag group, as a deployment group's onPremisesInstanceTagFilters).
func (s *Service) ListOnPremisesInstances(ctx context.Context, in *cdapi.ListOnPremisesInstancesInput) (*cdapi.ListOnPremisesInstancesOutput, error) {
	for i, f := range in.TagFilters {
		if err := checkTagFilter(f, where("tagFilters", i), cdapi.InvalidTagFilterException); err != nil {
			return nil, err
		}
	}
	const kind = "instances"
	after, err := decodeToken(kind, in.NextToken)
	if err != nil {
		return nil, err
	}
	size := s.limits().PageSize
	f := store.InstanceFilter{Status: in.RegistrationStatus, Page: store.Page{After: after}}
	if len(in.TagFilters) == 0 {
		f.Limit = size + 1 // otherwise filtered here, after reading
	}
	rows, err := s.Store.ListOnPremisesInstances(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &cdapi.ListOnPremisesInstancesOutput{InstanceNames: []string{}}
	for _, i := range rows {
		if len(in.TagFilters) > 0 && !MatchTagGroup(in.TagFilters, i.Tags) {
			continue
		}
		if len(out.InstanceNames) == size {
			out.NextToken = encodeToken(kind, out.InstanceNames[size-1])
			break
		}
		out.InstanceNames = append(out.InstanceNames, i.Name)
	}
	return out, nil
}

// BatchGetOnPremisesInstances returns the named instances that exist, in
// name order; names that do not are left out.
func (s *Service) BatchGetOnPremisesInstances(ctx context.Context, in *cdapi.BatchGetOnPremisesInstancesInput) (*cdapi.BatchGetOnPremisesInstancesOutput, error) {
	if len(in.InstanceNames) > maxBatchInstances {
		return nil, awsproto.Errorf(cdapi.BatchLimitExceededException, "%d instance names given; at most %d are allowed", len(in.InstanceNames), maxBatchInstances)
	}
	for _, n := range in.InstanceNames {
		if err := checkInstanceName(n); err != nil {
			return nil, err
		}
	}
	rows, err := s.Store.BatchGetOnPremisesInstances(ctx, in.InstanceNames)
	if err != nil {
		return nil, err
	}
	out := &cdapi.BatchGetOnPremisesInstancesOutput{InstanceInfos: make([]cdapi.InstanceInfo, 0, len(rows))}
	for _, i := range rows {
		out.InstanceInfos = append(out.InstanceInfos, instanceInfo(i))
	}
	return out, nil
}

// checkInstanceNames checks the instance names of a tag call.
func checkInstanceNames(names []string) error {
	if len(names) == 0 {
		return awsproto.Errorf(cdapi.InstanceNameRequiredException, "instanceNames lists no instances")
	}
	if len(names) > maxInstancesPerTagCall {
		return awsproto.Errorf(cdapi.InstanceLimitExceededException, "%d instances given; at most %d are allowed in one call", len(names), maxInstancesPerTagCall)
	}
	for _, n := range names {
		if err := checkInstanceName(n); err != nil {
			return err
		}
	}
	return nil
}

// registeredInstance reads an instance that must be registered.
func registeredInstance(ctx context.Context, q store.Queries, name string) (*store.OnPremisesInstance, error) {
	i, err := q.GetOnPremisesInstance(ctx, name)
	if err != nil {
		return nil, storeErr(err, instanceNotRegistered(name), nil)
	}
	if !i.IsRegistered() {
		return nil, awsproto.Errorf(cdapi.InstanceNotRegisteredException, "on-premises instance %q is deregistered; register it again to tag it", name)
	}
	return i, nil
}

// AddTagsToOnPremisesInstances adds tags to registered instances (or
// replaces the values of their tags with the same keys); all or none.
func (s *Service) AddTagsToOnPremisesInstances(ctx context.Context, in *cdapi.AddTagsToOnPremisesInstancesInput) (*struct{}, error) {
	if err := checkInstanceNames(in.InstanceNames); err != nil {
		return nil, err
	}
	if err := checkInstanceTags(in.Tags, true); err != nil {
		return nil, err
	}
	limit := s.limits().InstanceTags
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		for _, n := range dedupe(in.InstanceNames) {
			i, err := registeredInstance(ctx, q, n)
			if err != nil {
				return err
			}
			keys := map[string]bool{}
			for _, t := range i.Tags {
				keys[t.Key] = true
			}
			for _, t := range in.Tags {
				keys[t.Key] = true
			}
			if len(keys) > limit {
				return awsproto.Errorf(cdapi.TagLimitExceededException, "instance %q would have %d tags; an on-premises instance has at most %d", n, len(keys), limit)
			}
			if err := q.PutOnPremisesInstanceTags(ctx, n, storeTags(in.Tags)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return nil, nil
}

// RemoveTagsFromOnPremisesInstances removes tags from registered
// instances: a tag given with a Value is removed if the instance's value
// matches; one given with a Key only is removed whatever its value.
func (s *Service) RemoveTagsFromOnPremisesInstances(ctx context.Context, in *cdapi.RemoveTagsFromOnPremisesInstancesInput) (*struct{}, error) {
	if err := checkInstanceNames(in.InstanceNames); err != nil {
		return nil, err
	}
	if err := checkInstanceTags(in.Tags, false); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		for _, n := range dedupe(in.InstanceNames) {
			if _, err := registeredInstance(ctx, q, n); err != nil {
				return err
			}
			if err := q.RemoveOnPremisesInstanceTags(ctx, n, storeTags(in.Tags)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return nil, nil
}
