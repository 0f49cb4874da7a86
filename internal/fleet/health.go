package fleet

import (
	"errors"
	"fmt"

	"github.com/slipway-cd/slipway/internal/cdapi"
)

// Instance health values (codedeploy.md §3.2, "Per-instance health states").
const (
	// Healthy: "the last deployment to the instance succeeded".
	Healthy = "Healthy"
	// Unhealthy: "the last attempt failed, or no revision has been deployed
	// yet".
	Unhealthy = "Unhealthy"
)

// Revision health values (§3.2).
const (
	// RevisionCurrent: the instance's revision "matches the deployment
	// group's last successful deployment".
	RevisionCurrent = "Current"
	// RevisionOld: the instance's revision "matches an older version".
	RevisionOld = "Old"
	// RevisionUnknown: "the revision has not been installed successfully".
	RevisionUnknown = "Unknown"
)

// Error messages of the deployment error codes the planner reports
// (§10.2, §10.3).
const (
	// MessageHealthConstraints is the message of HEALTH_CONSTRAINTS.
	MessageHealthConstraints = "The overall deployment failed because too many individual instances failed deployment, " +
		"too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems."
	// MessageHealthConstraintsInvalid is the message of
	// HEALTH_CONSTRAINTS_INVALID.
	MessageHealthConstraintsInvalid = "The deployment can't start because the minimum number of healthy instances, " +
		"as defined by your deployment configuration, are not available. You can reduce the required number of healthy " +
		"instances by updating your deployment configuration or increase the number of instances in this deployment group."
	// MessageNoInstances is the message of NO_INSTANCES.
	MessageNoInstances = "The deployment failed because no instances were found for your deployment group. " +
		"Check your deployment group settings to make sure the tags for your EC2 instances or Auto Scaling groups " +
		"correctly identify the instances you want to deploy to, and then try again."
)

// Health is an instance's health in its deployment group. The zero value is
// the health of an instance never deployed to: Unhealthy ("no revision has
// been deployed yet") with an Unknown revision.
type Health struct {
	Instance string // Healthy or Unhealthy; "" reads as Unhealthy
	Revision string // Current, Old or Unknown; "" reads as Unknown
}

// IsHealthy reports whether the instance health is Healthy.
func (h Health) IsHealthy() bool { return h.Instance == Healthy }

// normalized returns h with empty fields spelled out.
func (h Health) normalized() Health {
	if h.Instance != Healthy {
		h.Instance = Unhealthy
	}
	if h.Revision != RevisionCurrent && h.Revision != RevisionOld {
		h.Revision = RevisionUnknown
	}
	return h
}

// rank orders instances for scheduling (§3.2): "1. Unhealthy instance
// health 2. Unknown revision health 3. Old revision health 4. Current
// revision health". Unhealthy instances are further ordered by revision.
func (h Health) rank() int {
	h = h.normalized()
	r := 0
	switch h.Revision {
	case RevisionOld:
		r = 1
	case RevisionCurrent:
		r = 2
	}
	if h.Instance == Healthy {
		r += 3
	}
	return r
}

// NextHealth returns an instance's health after a deployment that ended
// with deploymentStatus, given its health before and its status in that
// deployment (§3.2).
//
// After an overall success: "current instances that succeeded stay current,
// otherwise they become unknown; old/unknown instances that succeeded become
// current, otherwise they stay old/unknown; healthy instances that succeeded
// stay healthy, otherwise they become unhealthy; unhealthy instances that
// succeeded become healthy, otherwise they stay unhealthy."
//
// After an overall failure or stop: "attempted instances become healthy or
// unhealthy according to their result; untouched instances keep their
// health", and the group's revision stays the same. The reference says no
// more about revision health there; since the group's revision does not
// move, no instance becomes Current: an attempted instance that succeeded
// holds a revision that is neither the group's nor an older one and becomes
// Unknown, and one that did not succeed follows the success-case rule
// (Current becomes Unknown, Old and Unknown stay).
//
// Attempted means Succeeded, Failed or Unknown (stopped mid-lifecycle);
// Pending and Skipped instances are untouched.
func NextHealth(before Health, instanceStatus, deploymentStatus string) Health {
	h := before.normalized()
	succeeded := instanceStatus == cdapi.InstanceStatusSucceeded
	if deploymentStatus != cdapi.DeploymentStatusSucceeded && !attempted(instanceStatus) {
		return h
	}
	switch {
	case succeeded && deploymentStatus == cdapi.DeploymentStatusSucceeded:
		h.Revision = RevisionCurrent
	case succeeded, h.Revision == RevisionCurrent:
		h.Revision = RevisionUnknown
	}
	h.Instance = Unhealthy
	if succeeded {
		h.Instance = Healthy
	}
	return h
}

// attempted reports whether an instance with this status was deployed to.
func attempted(status string) bool {
	switch status {
	case cdapi.InstanceStatusSucceeded, cdapi.InstanceStatusFailed, cdapi.InstanceStatusUnknown:
		return true
	}
	return false
}

// MinHealthyHosts is a deployment configuration's minimum healthy hosts.
type MinHealthyHosts struct {
	Type  string // HOST_COUNT or FLEET_PERCENT
	Value int
}

// Config is the part of a deployment configuration the planner uses.
type Config struct {
	MinHealthyHosts MinHealthyHosts
	// OneAtATime marks CodeDeployDefault.OneAtATime, whose rules are its own
	// (§3.1 table) rather than those of its minimum of one healthy host.
	OneAtATime bool
}

// Names of the predefined EC2/on-premises deployment configurations.
const (
	// ConfigOneAtATime is CodeDeployDefault.OneAtATime, the default.
	ConfigOneAtATime = "CodeDeployDefault.OneAtATime"
	// ConfigHalfAtATime is CodeDeployDefault.HalfAtATime.
	ConfigHalfAtATime = "CodeDeployDefault.HalfAtATime"
	// ConfigAllAtOnce is CodeDeployDefault.AllAtOnce.
	ConfigAllAtOnce = "CodeDeployDefault.AllAtOnce"
)

// Predefined returns the planner configuration of a predefined deployment
// configuration (§3.1 table: minimum healthy 1, 50% and 0) and whether name
// is one. An empty name is CodeDeployDefault.OneAtATime ("If no
// configuration is specified, CodeDeployDefault.OneAtATime is used").
func Predefined(name string) (Config, bool) {
	switch name {
	case "", ConfigOneAtATime:
		return Config{MinHealthyHosts{cdapi.MinimumHealthyHostsTypeHostCount, 1}, true}, true
	case ConfigHalfAtATime:
		return Config{MinHealthyHosts: MinHealthyHosts{cdapi.MinimumHealthyHostsTypeFleetPercent, 50}}, true
	case ConfigAllAtOnce:
		return Config{MinHealthyHosts: MinHealthyHosts{cdapi.MinimumHealthyHostsTypeFleetPercent, 0}}, true
	}
	return Config{}, false
}

// MinHealthy returns the minimum number of healthy instances of a
// deployment to total instances: a HOST_COUNT value as is, a FLEET_PERCENT
// value converted to a host count "rounding up any fractional instances"
// (§3.1). OneAtATime's minimum is 1 (§3.1 table). The error reports a
// malformed minimum: an unknown type, a negative value, or a percentage
// above 100.
func MinHealthy(total int, cfg Config) (int, error) {
	if cfg.OneAtATime {
		return 1, nil
	}
	m := cfg.MinHealthyHosts
	switch {
	case total < 0:
		return 0, errors.New("negative number of instances")
	case m.Value < 0:
		return 0, fmt.Errorf("minimum healthy hosts value %d is negative", m.Value)
	}
	switch m.Type {
	case cdapi.MinimumHealthyHostsTypeHostCount:
		return m.Value, nil
	case cdapi.MinimumHealthyHostsTypeFleetPercent:
		if m.Value > 100 {
			return 0, fmt.Errorf("minimum healthy hosts percentage %d is above 100", m.Value)
		}
		return (total*m.Value + 99) / 100, nil
	}
	return 0, fmt.Errorf("unknown minimum healthy hosts type %q", m.Type)
}

// BatchSize returns how many of total instances may be in progress at once:
// "[total-hosts] - [minimum-healthy-hosts]" (§3.2), never negative, and 1
// for OneAtATime ("One instance at a time", §3.1).
func BatchSize(total int, cfg Config) (int, error) {
	if cfg.OneAtATime {
		return 1, nil
	}
	m, err := MinHealthy(total, cfg)
	if err != nil {
		return 0, err
	}
	return max(total-m, 0), nil
}

// ConstraintError is why a deployment cannot start: its error code and
// message for the deployment's errorInformation.
type ConstraintError struct {
	Code    string // ErrorCode: HEALTH_CONSTRAINTS_INVALID or NO_INSTANCES
	Message string
}

// Error implements error.
func (e *ConstraintError) Error() string { return e.Code + ": " + e.Message }

// CheckConstraints reports whether a deployment to total instances with cfg
// can start, checked at deployment start. It returns a *ConstraintError:
//   - NO_INSTANCES when there are no instances (§10.3);
//   - HEALTH_CONSTRAINTS_INVALID when the minimum is malformed or, except
//     for OneAtATime, when the minimum is ≥ total ("If min ≥ total, the
//     deployment fails immediately", §3.2): with 10 instances 95% rounds up
//     to 10 and fails, and 1 instance with HOST_COUNT 1 (or HalfAtATime,
//     which rounds 0.5 up to 1) fails too. OneAtATime runs on a single
//     instance ("With exactly one instance, success only if that instance
//     succeeds", §3.1).
func CheckConstraints(total int, cfg Config) error {
	if total == 0 {
		return &ConstraintError{cdapi.ErrorCodeNoInstances, MessageNoInstances}
	}
	m, err := MinHealthy(total, cfg)
	if err != nil {
		return &ConstraintError{cdapi.ErrorCodeHealthConstraintsInvalid, err.Error()}
	}
	if !cfg.OneAtATime && m >= total {
		return &ConstraintError{cdapi.ErrorCodeHealthConstraintsInvalid, MessageHealthConstraintsInvalid}
	}
	return nil
}
