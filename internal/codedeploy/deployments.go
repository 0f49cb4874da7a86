package codedeploy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/fleet"
	"github.com/slipway-cd/slipway/internal/store"
)

// Deployments: CreateDeployment and friends over package deploy, whose
// Runner (Service.Runner) inserts, stops and runs them.

var deploymentIDPattern = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)

const maxBatchDeployments = 25

func registerDeployments(s *Service, svc *awsproto.Service) {
	awsproto.Handle(svc, "CreateDeployment", s.CreateDeployment)
	awsproto.Handle(svc, "GetDeployment", s.GetDeployment)
	awsproto.Handle(svc, "BatchGetDeployments", s.BatchGetDeployments)
	awsproto.Handle(svc, "ListDeployments", s.ListDeployments)
	awsproto.Handle(svc, "StopDeployment", s.StopDeployment)
	awsproto.Handle(svc, "ContinueDeployment", s.ContinueDeployment)
	awsproto.Handle(svc, "ListDeploymentInstances", s.ListDeploymentInstances)
	awsproto.Handle(svc, "GetDeploymentInstance", s.GetDeploymentInstance)
	awsproto.Handle(svc, "BatchGetDeploymentInstances", s.BatchGetDeploymentInstances)
	awsproto.Handle(svc, "ListDeploymentTargets", s.ListDeploymentTargets)
	awsproto.Handle(svc, "GetDeploymentTarget", s.GetDeploymentTarget)
	awsproto.Handle(svc, "BatchGetDeploymentTargets", s.BatchGetDeploymentTargets)
}

// fleetConfig returns the planner configuration of a deployment
// configuration name.
func fleetConfig(ctx context.Context, q store.Queries, name string) (fleet.Config, error) {
	if cfg, ok := fleet.Predefined(name); ok {
		return cfg, nil
	}
	if err := resolveConfig(ctx, q, name); err != nil {
		return fleet.Config{}, err
	}
	c, err := q.GetDeploymentConfig(ctx, name)
	if err != nil {
		return fleet.Config{}, storeErr(err, configNotFound(name), nil)
	}
	return fleet.Config{MinHealthyHosts: fleet.MinHealthyHosts{Type: c.MinHealthyType, Value: int(c.MinHealthyValue)}}, nil
}

// CreateDeployment deploys a registered revision to a deployment group's
// registered instances. One deployment per group runs at a time; a group
// tagged slipway:queue=true queues one more instead of refusing it.
func (s *Service) CreateDeployment(ctx context.Context, in *cdapi.CreateDeploymentInput) (*cdapi.CreateDeploymentOutput, error) {
	if in.DeploymentGroupName == "" {
		return nil, awsproto.Errorf(cdapi.DeploymentGroupNameRequiredException, "deploymentGroupName is required")
	}
	if n := utf8.RuneCountInString(in.Description); n > maxRevisionDescription {
		return nil, awsproto.Errorf(cdapi.DescriptionTooLongException, "the description has %d characters; at most %d are allowed", n, maxRevisionDescription)
	}
	if in.TargetInstances != nil {
		return nil, awsproto.Errorf(cdapi.InvalidTargetInstancesException, "targetInstances is for blue/green deployments; Slipway deploys in place")
	}
	if in.OverrideAlarmConfiguration != nil && in.OverrideAlarmConfiguration.Enabled != nil && *in.OverrideAlarmConfiguration.Enabled {
		return nil, awsproto.Errorf(cdapi.InvalidAlarmConfigException, "Slipway has no CloudWatch alarms to monitor")
	}
	if a := in.AutoRollbackConfiguration; a != nil {
		for _, e := range a.Events {
			if e == cdapi.AutoRollbackEventDeploymentStopOnAlarm {
				return nil, awsproto.Errorf(cdapi.InvalidAutoRollbackConfigException, "rollback on DEPLOYMENT_STOP_ON_ALARM needs alarms, which Slipway does not have")
			}
		}
	}
	if s.Runner == nil {
		return nil, errors.New("codedeploy: no deployment runner configured")
	}
	var d *store.Deployment
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		if _, err := getApplication(ctx, q, in.ApplicationName); err != nil {
			return err
		}
		g, info, err := getGroup(ctx, q, in.ApplicationName, in.DeploymentGroupName)
		if err != nil {
			return err
		}
		revLoc := in.Revision
		if revLoc == nil {
			if info.TargetRevision == nil {
				return awsproto.Errorf(cdapi.RevisionRequiredException, "a revision is required: deployment group %q has no target revision yet", g.Name)
			}
			revLoc = info.TargetRevision
		}
		rev, err := checkRevision(revLoc)
		if err != nil {
			return err
		}
		if _, err := q.GetApplicationRevision(ctx, in.ApplicationName, rev.key); err != nil {
			return storeErr(err, revisionNotFound(in.ApplicationName, &rev.location), nil)
		}
		cfgName := cmpOr(in.DeploymentConfigName, g.ConfigName, defaultDeploymentConfig)
		cfg, err := fleetConfig(ctx, q, cfgName)
		if err != nil {
			return err
		}
		instances, err := q.ListOnPremisesInstances(ctx, store.InstanceFilter{Status: store.InstanceRegistered})
		if err != nil {
			return err
		}
		var names []string
		for _, i := range MatchInstances(info, instances) {
			names = append(names, i.Name)
		}
		auto := info.AutoRollbackConfiguration
		if in.AutoRollbackConfiguration != nil {
			auto = in.AutoRollbackConfiguration
		}
		queue, err := s.groupQueues(ctx, q, g)
		if err != nil {
			return err
		}
		loc := rev.location
		d, err = s.Runner.Insert(ctx, q, &deploy.Request{Group: g, Instances: names, Queue: queue, Detail: deploy.Detail{
			Revision: &loc, RevisionKey: rev.key, ConfigName: cfgName, Config: cfg, Description: in.Description,
			IgnoreApplicationStopFailures: in.IgnoreApplicationStopFailures != nil && *in.IgnoreApplicationStopFailures,
			UpdateOutdatedInstancesOnly:   in.UpdateOutdatedInstancesOnly != nil && *in.UpdateOutdatedInstancesOnly,
			FileExistsBehavior:            cmpOr(in.FileExistsBehavior, cdapi.FileExistsBehaviorDisallow),
			AutoRollback:                  auto,
		}})
		var busy *deploy.ErrGroupBusy
		if errors.As(err, &busy) {
			return awsproto.Errorf(cdapi.DeploymentLimitExceededException, "%s", busy.Error())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Runner.Kick(d.ID)
	s.logger().InfoContext(ctx, "deployment created", "deployment", d.ID, "application", d.Application, "group", d.GroupName)
	return &cdapi.CreateDeploymentOutput{DeploymentId: d.ID}, nil
}

// groupQueues reports whether a deployment group opted into the Slipway
// deployment queue: its tag deploy.QueueTag ("slipway:queue") is "true".
func (s *Service) groupQueues(ctx context.Context, q store.Queries, g *store.DeploymentGroup) (bool, error) {
	tags, err := q.ListTags(ctx, s.DeploymentGroupARN(g.Application, g.Name))
	if err != nil {
		return false, err
	}
	for _, t := range tags {
		if t.Key == deploy.QueueTag {
			return strings.EqualFold(strings.TrimSpace(t.Value), "true"), nil
		}
	}
	return false, nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func checkDeploymentID(id string) error {
	switch {
	case id == "":
		return awsproto.Errorf(cdapi.DeploymentIdRequiredException, "deploymentId is required")
	case !deploymentIDPattern.MatchString(id):
		return awsproto.Errorf(cdapi.InvalidDeploymentIdException, "deploymentId %q is not a deployment ID (d- and 9 uppercase letters or digits)", id)
	}
	return nil
}

func deploymentNotFound(id string) *awsproto.Error {
	return awsproto.Errorf(cdapi.DeploymentDoesNotExistException, "deployment %s does not exist", id)
}

func getDeployment(ctx context.Context, q store.Queries, id string) (*store.Deployment, *deploy.Detail, error) {
	if err := checkDeploymentID(id); err != nil {
		return nil, nil, err
	}
	d, err := q.GetDeployment(ctx, id)
	if err != nil {
		return nil, nil, storeErr(err, deploymentNotFound(id), nil)
	}
	det, err := deploy.DecodeDetail(d)
	return d, det, err
}

func i64(n int) *int64 { v := int64(n); return &v }

func (s *Service) deploymentInfo(ctx context.Context, d *store.Deployment, det *deploy.Detail) (*cdapi.DeploymentInfo, error) {
	targets, err := s.Store.ListDeploymentTargets(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, t := range targets {
		counts[t.Status]++
	}
	ignore, outdated := det.IgnoreApplicationStopFailures, det.UpdateOutdatedInstancesOnly
	info := &cdapi.DeploymentInfo{
		ApplicationName: d.Application, DeploymentGroupName: d.GroupName, DeploymentId: d.ID, Status: d.Status,
		DeploymentConfigName: det.ConfigName, Creator: det.Creator, Description: det.Description,
		ComputePlatform: ComputePlatformServer, Revision: det.Revision, PreviousRevision: det.PreviousRevision,
		CreateTime: awsproto.NewTime(d.Created), StartTime: awsproto.NewTime(det.Started), CompleteTime: awsproto.NewTime(det.Completed),
		IgnoreApplicationStopFailures: &ignore, UpdateOutdatedInstancesOnly: &outdated,
		FileExistsBehavior: det.FileExistsBehavior, AutoRollbackConfiguration: det.AutoRollback,
		ErrorInformation: det.Error, RollbackInfo: det.RollbackInfo,
		DeploymentStyle: &cdapi.DeploymentStyle{DeploymentType: cdapi.DeploymentTypeInPlace, DeploymentOption: cdapi.DeploymentOptionWithoutTrafficControl},
		DeploymentOverview: &cdapi.DeploymentOverview{
			Pending: i64(counts[cdapi.InstanceStatusPending]), InProgress: i64(counts[cdapi.InstanceStatusInProgress]),
			Succeeded: i64(counts[cdapi.InstanceStatusSucceeded]), Failed: i64(counts[cdapi.InstanceStatusFailed] + counts[cdapi.InstanceStatusUnknown]),
			Skipped: i64(counts[cdapi.InstanceStatusSkipped]), Ready: i64(0),
		},
	}
	return info, nil
}

// GetDeployment returns a deployment.
func (s *Service) GetDeployment(ctx context.Context, in *cdapi.GetDeploymentInput) (*cdapi.GetDeploymentOutput, error) {
	d, det, err := getDeployment(ctx, s.Store, in.DeploymentId)
	if err != nil {
		return nil, err
	}
	info, err := s.deploymentInfo(ctx, d, det)
	if err != nil {
		return nil, err
	}
	return &cdapi.GetDeploymentOutput{DeploymentInfo: info}, nil
}

// BatchGetDeployments returns the deployments that exist of those named.
func (s *Service) BatchGetDeployments(ctx context.Context, in *cdapi.BatchGetDeploymentsInput) (*cdapi.BatchGetDeploymentsOutput, error) {
	if len(in.DeploymentIds) > maxBatchDeployments {
		return nil, awsproto.Errorf(cdapi.BatchLimitExceededException, "%d deployment IDs given; at most %d are allowed", len(in.DeploymentIds), maxBatchDeployments)
	}
	out := &cdapi.BatchGetDeploymentsOutput{DeploymentsInfo: []cdapi.DeploymentInfo{}}
	for _, id := range dedupe(in.DeploymentIds) {
		if err := checkDeploymentID(id); err != nil {
			return nil, err
		}
		d, err := s.Store.GetDeployment(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		det, err := deploy.DecodeDetail(d)
		if err != nil {
			return nil, err
		}
		info, err := s.deploymentInfo(ctx, d, det)
		if err != nil {
			return nil, err
		}
		out.DeploymentsInfo = append(out.DeploymentsInfo, *info)
	}
	return out, nil
}

// ListDeployments lists deployment IDs, newest first, filtered by
// application and group, statuses and creation time.
func (s *Service) ListDeployments(ctx context.Context, in *cdapi.ListDeploymentsInput) (*cdapi.ListDeploymentsOutput, error) {
	f := store.DeploymentFilter{Application: in.ApplicationName, GroupName: in.DeploymentGroupName, Statuses: in.IncludeOnlyStatuses}
	if in.DeploymentGroupName != "" && in.ApplicationName == "" {
		return nil, awsproto.Errorf(cdapi.ApplicationNameRequiredException, "deploymentGroupName needs applicationName")
	}
	if in.ApplicationName != "" {
		if _, err := getApplication(ctx, s.Store, in.ApplicationName); err != nil {
			return nil, err
		}
		if in.DeploymentGroupName != "" {
			if _, _, err := getGroup(ctx, s.Store, in.ApplicationName, in.DeploymentGroupName); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range in.IncludeOnlyStatuses {
		if !slices.Contains(cdapi.DeploymentStatusValues, st) {
			return nil, awsproto.Errorf(cdapi.InvalidDeploymentStatusException, "%q is not a deployment status", st)
		}
	}
	if r := in.CreateTimeRange; r != nil {
		if r.Start != nil {
			f.CreatedAfter = r.Start.Time
		}
		if r.End != nil {
			f.CreatedBefore = r.End.Time
		}
		if r.Start != nil && r.End != nil && r.End.Before(r.Start.Time) {
			return nil, awsproto.Errorf(cdapi.InvalidTimeRangeException, "createTimeRange ends before it starts")
		}
	}
	const kind = "deployments"
	off, err := decodeToken(kind, in.NextToken)
	if err != nil {
		return nil, err
	}
	offset, _ := strconv.Atoi(off)
	ds, err := s.Store.ListDeployments(ctx, f)
	if err != nil {
		return nil, err
	}
	slices.Reverse(ds)
	out := &cdapi.ListDeploymentsOutput{Deployments: []string{}}
	size := s.limits().PageSize
	for i := offset; i < len(ds); i++ {
		if len(out.Deployments) == size {
			out.NextToken = encodeToken(kind, strconv.Itoa(i))
			break
		}
		out.Deployments = append(out.Deployments, ds[i].ID)
	}
	return out, nil
}

// StopDeployment stops a deployment (§6.7), optionally rolling back.
func (s *Service) StopDeployment(ctx context.Context, in *cdapi.StopDeploymentInput) (*cdapi.StopDeploymentOutput, error) {
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	status, err := s.Runner.Stop(ctx, in.DeploymentId, in.AutoRollbackEnabled != nil && *in.AutoRollbackEnabled)
	if errors.Is(err, deploy.ErrCompleted) {
		return nil, awsproto.Errorf(cdapi.DeploymentAlreadyCompletedException, "deployment %s has already completed", in.DeploymentId)
	}
	if err != nil {
		return nil, err
	}
	msg := "Deployment stopped: no more lifecycle events are run"
	if status == cdapi.StopStatusPending {
		msg = "Deployment stop pending: lifecycle events already running on instances finish first"
	}
	return &cdapi.StopDeploymentOutput{Status: status, StatusMessage: msg}, nil
}

// ContinueDeployment applies to blue/green deployments waiting for
// traffic rerouting; Slipway's in-place deployments never wait.
func (s *Service) ContinueDeployment(ctx context.Context, in *cdapi.ContinueDeploymentInput) (*struct{}, error) {
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	return nil, awsproto.Errorf(cdapi.UnsupportedActionForDeploymentTypeException,
		"ContinueDeployment applies to blue/green deployments waiting for traffic rerouting; deployment %s is an in-place deployment, which never waits", in.DeploymentId)
}

func lifecycleEvents(doc *deploy.Target) []cdapi.LifecycleEvent {
	out := make([]cdapi.LifecycleEvent, 0, len(doc.Events))
	for _, e := range doc.Events {
		le := cdapi.LifecycleEvent{LifecycleEventName: e.Name, Status: e.Status, StartTime: awsproto.NewTime(e.Start), EndTime: awsproto.NewTime(e.End)}
		if e.ErrorCode != "" || e.Message != "" || e.LogTail != "" || e.Log != "" {
			logTail := e.LogTail
			if logTail == "" {
				logTail = tailString(e.Log, deploy.LogTailSize)
			}
			le.Diagnostics = &cdapi.Diagnostics{ErrorCode: e.ErrorCode, ScriptName: e.ScriptName, Message: e.Message, LogTail: logTail}
		}
		out = append(out, le)
	}
	return out
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// loadTarget reads a target of an existing deployment; a missing target
// is store.ErrNotFound, for the caller to report.
func (s *Service) loadTarget(ctx context.Context, deploymentID, instance string) (*store.DeploymentTarget, *deploy.Target, error) {
	t, err := s.Store.GetDeploymentTarget(ctx, deploymentID, instance)
	if err != nil {
		return nil, nil, err
	}
	doc, err := deploy.DecodeTarget(t)
	return t, doc, err
}

func instanceNotInDeployment(instance, deploymentID string) *awsproto.Error {
	return awsproto.Errorf(cdapi.InstanceDoesNotExistException, "instance %q is not part of deployment %s", instance, deploymentID)
}

func targetNotInDeployment(target, deploymentID string) *awsproto.Error {
	return awsproto.Errorf(cdapi.DeploymentTargetDoesNotExistException, "target %q is not part of deployment %s", target, deploymentID)
}

func instanceSummary(t *store.DeploymentTarget, doc *deploy.Target) cdapi.InstanceSummary {
	return cdapi.InstanceSummary{DeploymentId: t.DeploymentID, InstanceId: t.Instance, Status: t.Status,
		LastUpdatedAt: awsproto.NewTime(t.Updated), LifecycleEvents: lifecycleEvents(doc)}
}

// ListDeploymentInstances lists the instances of a deployment.
func (s *Service) ListDeploymentInstances(ctx context.Context, in *cdapi.ListDeploymentInstancesInput) (*cdapi.ListDeploymentInstancesOutput, error) {
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	for _, st := range in.InstanceStatusFilter {
		if !slices.Contains(cdapi.InstanceStatusValues, st) {
			return nil, awsproto.Errorf(cdapi.InvalidInstanceStatusException, "%q is not an instance status", st)
		}
	}
	ts, err := s.Store.ListDeploymentTargets(ctx, in.DeploymentId)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range ts {
		if len(in.InstanceStatusFilter) == 0 || slices.Contains(in.InstanceStatusFilter, t.Status) {
			names = append(names, t.Instance)
		}
	}
	page, next, err := page("deployment-instances/"+in.DeploymentId, names, in.NextToken, s.limits().PageSize)
	if err != nil {
		return nil, err
	}
	return &cdapi.ListDeploymentInstancesOutput{InstancesList: page, NextToken: next}, nil
}

// GetDeploymentInstance returns one instance of a deployment with its
// lifecycle events.
func (s *Service) GetDeploymentInstance(ctx context.Context, in *cdapi.GetDeploymentInstanceInput) (*cdapi.GetDeploymentInstanceOutput, error) {
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	if in.InstanceId == "" {
		return nil, awsproto.Errorf(cdapi.InstanceIdRequiredException, "instanceId is required")
	}
	t, doc, err := s.loadTarget(ctx, in.DeploymentId, in.InstanceId)
	if err != nil {
		return nil, storeErr(err, instanceNotInDeployment(in.InstanceId, in.DeploymentId), nil)
	}
	sum := instanceSummary(t, doc)
	return &cdapi.GetDeploymentInstanceOutput{InstanceSummary: &sum}, nil
}

// BatchGetDeploymentInstances returns instances of a deployment.
func (s *Service) BatchGetDeploymentInstances(ctx context.Context, in *cdapi.BatchGetDeploymentInstancesInput) (*cdapi.BatchGetDeploymentInstancesOutput, error) {
	if len(in.InstanceIds) > maxBatchInstances {
		return nil, awsproto.Errorf(cdapi.BatchLimitExceededException, "%d instance IDs given; at most %d are allowed", len(in.InstanceIds), maxBatchInstances)
	}
	out := &cdapi.BatchGetDeploymentInstancesOutput{InstancesSummary: []cdapi.InstanceSummary{}}
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	var missing []string
	for _, id := range dedupe(in.InstanceIds) {
		t, doc, err := s.loadTarget(ctx, in.DeploymentId, id)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.InstancesSummary = append(out.InstancesSummary, instanceSummary(t, doc))
	}
	if len(missing) > 0 {
		out.ErrorMessage = fmt.Sprintf("instances not in deployment %s: %v", in.DeploymentId, missing)
	}
	return out, nil
}

func (s *Service) deploymentTarget(t *store.DeploymentTarget, doc *deploy.Target) cdapi.DeploymentTarget {
	return cdapi.DeploymentTarget{DeploymentTargetType: cdapi.DeploymentTargetTypeInstanceTarget, InstanceTarget: &cdapi.InstanceTarget{
		DeploymentId: t.DeploymentID, TargetId: t.Instance, TargetArn: s.InstanceARN(t.Instance), Status: t.Status,
		LastUpdatedAt: awsproto.NewTime(t.Updated), LifecycleEvents: lifecycleEvents(doc),
	}}
}

// ListDeploymentTargets lists the target IDs (instance names) of a
// deployment, filtered by TargetStatus.
func (s *Service) ListDeploymentTargets(ctx context.Context, in *cdapi.ListDeploymentTargetsInput) (*cdapi.ListDeploymentTargetsOutput, error) {
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	statuses := in.TargetFilters[cdapi.TargetFilterNameTargetStatus]
	for k := range in.TargetFilters {
		if k != cdapi.TargetFilterNameTargetStatus && k != cdapi.TargetFilterNameServerInstanceLabel {
			return nil, awsproto.Errorf(cdapi.InvalidTargetFilterNameException, "unknown target filter %q", k)
		}
	}
	ts, err := s.Store.ListDeploymentTargets(ctx, in.DeploymentId)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range ts {
		if len(statuses) == 0 || slices.Contains(statuses, t.Status) {
			names = append(names, t.Instance)
		}
	}
	page, next, err := page("deployment-targets/"+in.DeploymentId, names, in.NextToken, s.limits().PageSize)
	if err != nil {
		return nil, err
	}
	return &cdapi.ListDeploymentTargetsOutput{TargetIds: page, NextToken: next}, nil
}

// GetDeploymentTarget returns one instance target of a deployment.
func (s *Service) GetDeploymentTarget(ctx context.Context, in *cdapi.GetDeploymentTargetInput) (*cdapi.GetDeploymentTargetOutput, error) {
	if in.TargetId == "" {
		return nil, awsproto.Errorf(cdapi.DeploymentTargetIdRequiredException, "targetId is required")
	}
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	t, doc, err := s.loadTarget(ctx, in.DeploymentId, in.TargetId)
	if err != nil {
		return nil, storeErr(err, targetNotInDeployment(in.TargetId, in.DeploymentId), nil)
	}
	dt := s.deploymentTarget(t, doc)
	return &cdapi.GetDeploymentTargetOutput{DeploymentTarget: &dt}, nil
}

// BatchGetDeploymentTargets returns instance targets of a deployment.
func (s *Service) BatchGetDeploymentTargets(ctx context.Context, in *cdapi.BatchGetDeploymentTargetsInput) (*cdapi.BatchGetDeploymentTargetsOutput, error) {
	if len(in.TargetIds) > 25 {
		return nil, awsproto.Errorf(cdapi.DeploymentTargetListSizeExceededException, "%d target IDs given; at most 25 are allowed", len(in.TargetIds))
	}
	out := &cdapi.BatchGetDeploymentTargetsOutput{DeploymentTargets: []cdapi.DeploymentTarget{}}
	if _, _, err := getDeployment(ctx, s.Store, in.DeploymentId); err != nil {
		return nil, err
	}
	for _, id := range dedupe(in.TargetIds) {
		t, doc, err := s.loadTarget(ctx, in.DeploymentId, id)
		if err != nil {
			return nil, storeErr(err, targetNotInDeployment(id, in.DeploymentId), nil)
		}
		out.DeploymentTargets = append(out.DeploymentTargets, s.deploymentTarget(t, doc))
	}
	return out, nil
}
