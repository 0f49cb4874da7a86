package slipwayapi

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
)

// TargetPrefix is the X-Amz-Target prefix of the service.
const TargetPrefix = "Slipway_20261122"

// SigningName is the SigV4 service name requests are signed for.
const SigningName = "slipway"

// Operations lists the operations of the service.
var Operations = []string{
	"DeleteNotificationTarget",
	"GetNotificationTarget",
	"ListEvents",
	"ListNotificationTargets",
	"PutNotificationTarget",
}

// Error codes (the __type of an error response) of the service, besides
// awsproto's common ones (ValidationException, SerializationException,
// the authentication errors, InternalFailure).
const (
	// ValidationException: the input breaks a documented constraint.
	ValidationException = awsproto.ValidationException
	// ResourceNotFoundException: the named notification target does not
	// exist.
	ResourceNotFoundException = "ResourceNotFoundException"
)

// SecretMask is what the API shows in place of a notification target's
// secret: secrets are write-only.
const SecretMask = "****"

// Limits of the inputs.
const (
	// DefaultMaxEvents is how many events ListEvents returns when
	// maxResults is absent or 0.
	DefaultMaxEvents = 100
	// MaxMaxEvents is the largest maxResults of ListEvents.
	MaxMaxEvents = 1000
	// MaxURLLength bounds a notification target's URL.
	MaxURLLength = 2048
	// MaxSecretLength bounds a notification target's secret.
	MaxSecretLength = 1024
)

// Constraint patterns, as the validation messages quote them.
const (
	// TargetNamePattern is what a notification target name must match.
	TargetNamePattern = `[A-Za-z0-9_-]{1,256}`
	// PipelineNamePattern is CodePipeline's pipeline name pattern.
	PipelineNamePattern = `[A-Za-z0-9.@\-_]+`
)

var (
	targetNameRE   = regexp.MustCompile(`^` + TargetNamePattern + `$`)
	pipelineNameRE = regexp.MustCompile(`^` + PipelineNamePattern + `$`)
)

// ListEventsInput is the input of ListEvents.
type ListEventsInput struct {
	// PipelineName, when set, selects the events of one pipeline.
	PipelineName string `json:"pipelineName,omitempty"`
	// AfterID selects events with a greater ID: 0 (or absent) from the
	// first event, else the nextAfterId of a previous call.
	AfterID int64 `json:"afterId,omitempty"`
	// MaxResults bounds the events returned: 1 to 1000; 0 or absent
	// means 100.
	MaxResults int32 `json:"maxResults,omitempty"`
}

// Validate checks the input's constraints (ValidationException).
func (s *ListEventsInput) Validate() error {
	var v awsproto.Violations
	if s.PipelineName != "" {
		if utf8.RuneCountInString(s.PipelineName) > 100 {
			v.Add("pipelineName", s.PipelineName, "Member must have length less than or equal to 100")
		}
		if !pipelineNameRE.MatchString(s.PipelineName) {
			v.Add("pipelineName", s.PipelineName, "Member must satisfy regular expression pattern: "+PipelineNamePattern)
		}
	}
	if s.AfterID < 0 {
		v.Add("afterId", s.AfterID, "Member must have value greater than or equal to 0")
	}
	if s.MaxResults < 0 {
		v.Add("maxResults", s.MaxResults, "Member must have value greater than or equal to 1")
	}
	if s.MaxResults > MaxMaxEvents {
		v.Add("maxResults", s.MaxResults, "Member must have value less than or equal to 1000")
	}
	return v.Err()
}

// Event is one entry of the event log.
type Event struct {
	// ID orders the log: IDs increase in commit order and are never
	// reused.
	ID int64 `json:"id"`
	// Time is when the event happened (epoch seconds on the wire).
	Time *awsproto.Time `json:"time,omitempty"`
	// DetailType is the EventBridge detail-type, e.g. "CodePipeline Stage
	// Execution State Change" or "Slipway Manual Approval Notification".
	DetailType string `json:"detailType"`
	// PipelineName is the pipeline the event is about.
	PipelineName string `json:"pipelineName"`
	// PipelineExecutionID is the execution the event is about, if any.
	PipelineExecutionID string `json:"pipelineExecutionId,omitempty"`
	// Detail is the whole event as stored: the EventBridge envelope
	// (version, id, detail-type, source, account, time, region,
	// resources, detail), a JSON object.
	Detail json.RawMessage `json:"detail"`
}

// ListEventsOutput is the output of ListEvents.
type ListEventsOutput struct {
	// Events are in ID order; empty when there are none (yet) after
	// afterId.
	Events []Event `json:"events"`
	// NextAfterID is the afterId of the next call: the ID of the last event
	// returned, or the request's afterId when none was. Fewer events than
	// maxResults means the log has been read to its end, for now.
	NextAfterID int64 `json:"nextAfterId"`
}

// NotificationTarget is an HTTP endpoint that receives manual approval
// notifications: an approval action whose NotificationArn's last
// ":"-separated segment is the target's name notifies it.
type NotificationTarget struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Secret is "****" when the target has a secret, absent otherwise;
	// the secret itself is never returned.
	Secret  string         `json:"secret,omitempty"`
	Created *awsproto.Time `json:"created,omitempty"`
	Updated *awsproto.Time `json:"updated,omitempty"`
}

// PutNotificationTargetInput is the input of PutNotificationTarget. A
// target of the same name is replaced entirely: a secret not sent again
// is removed.
type PutNotificationTargetInput struct {
	// Name matches [A-Za-z0-9_-]{1,256}.
	Name string `json:"name"`
	// URL is an absolute http:// or https:// URL, at most 2048 characters,
	// without user information (use Secret to authenticate deliveries).
	URL string `json:"url"`
	// Secret, when set, makes every delivery carry the header
	// X-Slipway-Signature: sha256=<hex HMAC-SHA256 of the body keyed with
	// the secret>. At most 1024 characters; not "****".
	Secret string `json:"secret,omitempty"`
}

// Validate checks the input's constraints (ValidationException).
func (s *PutNotificationTargetInput) Validate() error {
	var v awsproto.Violations
	validateTargetName(&v, s.Name)
	switch {
	case s.URL == "":
		v.Null("url")
	case utf8.RuneCountInString(s.URL) > MaxURLLength:
		v.Add("url", s.URL, "Member must have length less than or equal to 2048")
	default:
		if shown, problem := checkURL(s.URL); problem != "" {
			v.Add("url", shown, problem)
		}
	}
	switch {
	case utf8.RuneCountInString(s.Secret) > MaxSecretLength:
		v.Add("secret", SecretMask, "Member must have length less than or equal to 1024")
	case s.Secret == SecretMask:
		v.Add("secret", SecretMask, `Member must not be "****", which is the mask shown in place of a stored secret: send the secret itself, or omit it for unsigned deliveries`)
	}
	return v.Err()
}

// checkURL returns what is wrong with a target URL, or "", and the URL
// as an error message may repeat it (without a password).
func checkURL(raw string) (shown, problem string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		if strings.Contains(raw, "@") {
			raw = "(not shown: it may hold a password)"
		}
		return raw, "Member must be a URL (" + err.Error() + ")"
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"):
		return u.Redacted(), "Member must be an absolute http:// or https:// URL"
	case u.Host == "" || u.Hostname() == "":
		return u.Redacted(), "Member must be an absolute http:// or https:// URL with a host"
	case u.User != nil:
		return u.Redacted(), "Member must not contain user information (user:password@): set a secret to authenticate deliveries"
	}
	return raw, ""
}

// PutNotificationTargetOutput is the output of PutNotificationTarget.
type PutNotificationTargetOutput struct {
	Target *NotificationTarget `json:"target"`
}

// GetNotificationTargetInput is the input of GetNotificationTarget.
type GetNotificationTargetInput struct {
	Name string `json:"name"`
}

// Validate checks the input's constraints (ValidationException).
func (s *GetNotificationTargetInput) Validate() error {
	var v awsproto.Violations
	validateTargetName(&v, s.Name)
	return v.Err()
}

// GetNotificationTargetOutput is the output of GetNotificationTarget.
type GetNotificationTargetOutput struct {
	Target *NotificationTarget `json:"target"`
}

// ListNotificationTargetsInput is the input of ListNotificationTargets.
type ListNotificationTargetsInput struct{}

// ListNotificationTargetsOutput is the output of ListNotificationTargets.
type ListNotificationTargetsOutput struct {
	// Targets are ordered by name (byte-wise).
	Targets []NotificationTarget `json:"targets"`
}

// DeleteNotificationTargetInput is the input of DeleteNotificationTarget.
type DeleteNotificationTargetInput struct {
	Name string `json:"name"`
}

// Validate checks the input's constraints (ValidationException).
func (s *DeleteNotificationTargetInput) Validate() error {
	var v awsproto.Violations
	validateTargetName(&v, s.Name)
	return v.Err()
}

// DeleteNotificationTargetOutput is the (empty) output of
// DeleteNotificationTarget.
type DeleteNotificationTargetOutput struct{}

func validateTargetName(v *awsproto.Violations, name string) {
	switch {
	case name == "":
		v.Null("name")
	case !targetNameRE.MatchString(name):
		v.Add("name", name, "Member must satisfy regular expression pattern: "+TargetNamePattern)
	}
}
