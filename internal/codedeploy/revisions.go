package codedeploy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/store"
)

var (
	// gitHubRepository is owner-or-org/repo-name (§1.5).
	gitHubRepository = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	// gitHubCommit is a full commit ID: "typically 40 characters… Do not
	// use the shorter version" (§1.5); 64 for SHA-256 repositories.
	gitHubCommit = regexp.MustCompile(`^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$`)
)

// serverBundleTypes are the archive formats of a server revision (§1.5).
var serverBundleTypes = []string{cdapi.BundleTypeZip, cdapi.BundleTypeTar, cdapi.BundleTypeTgz}

// revision is a checked revision location and its identity.
type revision struct {
	key      string // store.ApplicationRevision.Key
	typ      string // S3 or GitHub
	location cdapi.RevisionLocation
	bucket   string
	s3Key    string
}

// checkRevision checks a revision location of a Server application and
// returns its identity: an S3 object is identified by bucket, key, version
// and ETag ("uniquely identified by its Amazon S3 object key and its ETag,
// version, or both", §1.5), a GitHub revision by repository and commit.
// The revision type may be left out when exactly one location is given.
func checkRevision(r *cdapi.RevisionLocation) (*revision, error) {
	if r == nil {
		return nil, awsproto.Errorf(cdapi.RevisionRequiredException, "a revision is required")
	}
	typ := r.RevisionType
	if typ == "" {
		switch {
		case r.S3Location != nil && r.GitHubLocation == nil:
			typ = cdapi.RevisionLocationTypeS3
		case r.GitHubLocation != nil && r.S3Location == nil:
			typ = cdapi.RevisionLocationTypeGitHub
		default:
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "revisionType is required: S3 (with s3Location) or GitHub (with gitHubLocation)")
		}
	}
	switch typ {
	case cdapi.RevisionLocationTypeS3:
		s3 := r.S3Location
		switch {
		case s3 == nil:
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "revisionType S3 needs an s3Location")
		case r.GitHubLocation != nil || r.String != nil || r.AppSpecContent != nil:
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "an S3 revision has an s3Location only")
		case s3.Bucket == "" || s3.Key == "":
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "s3Location needs a bucket and a key")
		case s3.BundleType == "":
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "s3Location.bundleType is required: zip, tar or tgz")
		case !slices.Contains(serverBundleTypes, s3.BundleType):
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException,
				"bundleType %s is for Lambda and ECS AppSpec files; a server revision is a zip, tar or tgz archive", s3.BundleType)
		}
		loc := *s3
		return &revision{
			key:      identity(typ, s3.Bucket, s3.Key, s3.Version, s3.ETag),
			typ:      typ,
			location: cdapi.RevisionLocation{RevisionType: typ, S3Location: &loc},
			bucket:   s3.Bucket, s3Key: s3.Key,
		}, nil
	case cdapi.RevisionLocationTypeGitHub:
		gh := r.GitHubLocation
		switch {
		case gh == nil:
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "revisionType GitHub needs a gitHubLocation")
		case r.S3Location != nil || r.String != nil || r.AppSpecContent != nil:
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "a GitHub revision has a gitHubLocation only")
		case !gitHubRepository.MatchString(gh.Repository):
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "gitHubLocation.repository %q is not owner/repository", gh.Repository)
		case !gitHubCommit.MatchString(gh.CommitId):
			return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "gitHubLocation.commitId %q is not a full commit ID (40 hexadecimal digits)", gh.CommitId)
		}
		loc := *gh
		return &revision{
			key:      identity(typ, gh.Repository, gh.CommitId),
			typ:      typ,
			location: cdapi.RevisionLocation{RevisionType: typ, GitHubLocation: &loc},
		}, nil
	case cdapi.RevisionLocationTypeString, cdapi.RevisionLocationTypeAppSpecContent:
		return nil, awsproto.Errorf(cdapi.InvalidRevisionException,
			"revisionType %s is for Lambda and ECS deployments; Slipway deploys to servers, whose revisions are in S3 or GitHub", typ)
	}
	return nil, awsproto.Errorf(cdapi.InvalidRevisionException, "unknown revisionType %q", typ)
}

// identity encodes the parts of a revision's identity unambiguously.
func identity(parts ...string) string {
	b, _ := json.Marshal(parts) // strings always encode
	return string(b)
}

// RevisionKey returns the store key of a revision location (deployments
// look revisions up by it), or an InvalidRevisionException.
func RevisionKey(r *cdapi.RevisionLocation) (string, error) {
	rev, err := checkRevision(r)
	if err != nil {
		return "", err
	}
	return rev.key, nil
}

// targetGroups maps a revision key to the names of the application's
// deployment groups whose target revision it is.
func targetGroups(ctx context.Context, q store.Queries, application string) (map[string][]string, error) {
	groups, err := q.ListDeploymentGroups(ctx, application, store.Page{})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, g := range groups {
		info, err := decodeGroup(g)
		if err != nil {
			return nil, err
		}
		if info.TargetRevision == nil {
			continue
		}
		if key, err := RevisionKey(info.TargetRevision); err == nil {
			out[key] = append(out[key], g.Name)
		}
	}
	return out, nil
}

func decodeRevision(r *store.ApplicationRevision) (*cdapi.RevisionLocation, error) {
	var loc cdapi.RevisionLocation
	if err := json.Unmarshal(r.Location, &loc); err != nil {
		return nil, fmt.Errorf("decode revision %s of application %q: %w", r.Key, r.Application, err)
	}
	return &loc, nil
}

func genericInfo(r *store.ApplicationRevision, groups []string) *cdapi.GenericRevisionInfo {
	return &cdapi.GenericRevisionInfo{
		Description:      r.Description,
		DeploymentGroups: groups,
		RegisterTime:     awsproto.NewTime(r.Registered),
		FirstUsedTime:    awsproto.NewTime(r.FirstUsed),
		LastUsedTime:     awsproto.NewTime(r.LastUsed),
	}
}

func revisionNotFound(application string, r *cdapi.RevisionLocation) *awsproto.Error {
	b, _ := json.Marshal(r)
	return awsproto.Errorf(cdapi.RevisionDoesNotExistException,
		"application %q has no registered revision at %s (an S3 revision is identified by bucket, key, version and eTag as registered)", application, b)
}

// RegisterApplicationRevision registers an S3 or GitHub revision of an
// application. Registering the same revision again replaces its
// description.
func (s *Service) RegisterApplicationRevision(ctx context.Context, in *cdapi.RegisterApplicationRevisionInput) (*struct{}, error) {
	if n := utf8.RuneCountInString(in.Description); n > maxRevisionDescription {
		return nil, awsproto.Errorf(cdapi.DescriptionTooLongException, "the description has %d characters; at most %d are allowed", n, maxRevisionDescription)
	}
	rev, err := checkRevision(in.Revision)
	if err != nil {
		return nil, err
	}
	loc, err := json.Marshal(rev.location)
	if err != nil {
		return nil, err
	}
	r := &store.ApplicationRevision{Application: in.ApplicationName, Key: rev.key, Type: rev.typ, Location: loc,
		Description: in.Description, S3Bucket: rev.bucket, S3Key: rev.s3Key, Registered: s.now()}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if _, err := getApplication(ctx, q, in.ApplicationName); err != nil {
			return err
		}
		return q.PutApplicationRevision(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	s.logger().InfoContext(ctx, "application revision registered", "application", in.ApplicationName, "revision", rev.key)
	return nil, nil
}

// GetApplicationRevision returns a registered revision: the location must
// be given as registered (with the same version and eTag).
func (s *Service) GetApplicationRevision(ctx context.Context, in *cdapi.GetApplicationRevisionInput) (*cdapi.GetApplicationRevisionOutput, error) {
	rev, err := checkRevision(in.Revision)
	if err != nil {
		return nil, err
	}
	if _, err := getApplication(ctx, s.Store, in.ApplicationName); err != nil {
		return nil, err
	}
	r, err := s.Store.GetApplicationRevision(ctx, in.ApplicationName, rev.key)
	if err != nil {
		return nil, storeErr(err, revisionNotFound(in.ApplicationName, &rev.location), nil)
	}
	loc, err := decodeRevision(r)
	if err != nil {
		return nil, err
	}
	targets, err := targetGroups(ctx, s.Store, in.ApplicationName)
	if err != nil {
		return nil, err
	}
	return &cdapi.GetApplicationRevisionOutput{ApplicationName: in.ApplicationName, Revision: loc, RevisionInfo: genericInfo(r, targets[r.Key])}, nil
}

// ListApplicationRevisions lists an application's revisions: filtered by
// S3 bucket and key prefix (which needs the bucket; GitHub revisions are
// then left out, as there is no way to list only those) and by whether
// they are some deployment group's target revision (deployed include,
// exclude, or ignore), sorted by registerTime (the default), firstUsedTime
// or lastUsedTime (never used sorts first), ascending by default, paged.
func (s *Service) ListApplicationRevisions(ctx context.Context, in *cdapi.ListApplicationRevisionsInput) (*cdapi.ListApplicationRevisionsOutput, error) {
	if in.S3KeyPrefix != "" && in.S3Bucket == "" {
		return nil, awsproto.Errorf(cdapi.BucketNameFilterRequiredException, "s3KeyPrefix filters keys within a bucket: give s3Bucket too")
	}
	kind := "revisions/" + in.ApplicationName
	offsetText, err := decodeToken(kind, in.NextToken)
	if err != nil {
		return nil, err
	}
	offset := 0
	if offsetText != "" {
		if offset, err = strconv.Atoi(offsetText); err != nil || offset < 0 {
			return nil, awsproto.Errorf(cdapi.InvalidNextTokenException, "the nextToken is not one this listing returned; start the listing again without it")
		}
	}
	if _, err := getApplication(ctx, s.Store, in.ApplicationName); err != nil {
		return nil, err
	}
	rows, err := s.Store.ListApplicationRevisions(ctx, in.ApplicationName)
	if err != nil {
		return nil, err
	}
	targets, err := targetGroups(ctx, s.Store, in.ApplicationName)
	if err != nil {
		return nil, err
	}
	var kept []*store.ApplicationRevision
	for _, r := range rows {
		if in.S3Bucket != "" && (r.Type != cdapi.RevisionLocationTypeS3 || r.S3Bucket != in.S3Bucket || !strings.HasPrefix(r.S3Key, in.S3KeyPrefix)) {
			continue
		}
		deployed := len(targets[r.Key]) > 0
		if (in.Deployed == cdapi.ListStateFilterActionInclude && !deployed) || (in.Deployed == cdapi.ListStateFilterActionExclude && deployed) {
			continue
		}
		kept = append(kept, r)
	}
	by := func(r *store.ApplicationRevision) time.Time { return r.Registered }
	switch in.SortBy {
	case cdapi.ApplicationRevisionSortByFirstUsedTime:
		by = func(r *store.ApplicationRevision) time.Time { return r.FirstUsed }
	case cdapi.ApplicationRevisionSortByLastUsedTime:
		by = func(r *store.ApplicationRevision) time.Time { return r.LastUsed }
	}
	slices.SortFunc(kept, func(a, b *store.ApplicationRevision) int {
		c := cmp.Or(by(a).Compare(by(b)), a.Registered.Compare(b.Registered), strings.Compare(a.Key, b.Key))
		if in.SortOrder == cdapi.SortOrderDescending {
			c = -c
		}
		return c
	})
	out := &cdapi.ListApplicationRevisionsOutput{Revisions: []cdapi.RevisionLocation{}}
	size := s.limits().PageSize
	for i := offset; i < len(kept); i++ {
		if len(out.Revisions) == size {
			out.NextToken = encodeToken(kind, strconv.Itoa(i))
			break
		}
		loc, err := decodeRevision(kept[i])
		if err != nil {
			return nil, err
		}
		out.Revisions = append(out.Revisions, *loc)
	}
	return out, nil
}

// BatchGetApplicationRevisions returns registered revisions of an
// application; locations not registered are reported in errorMessage.
func (s *Service) BatchGetApplicationRevisions(ctx context.Context, in *cdapi.BatchGetApplicationRevisionsInput) (*cdapi.BatchGetApplicationRevisionsOutput, error) {
	if len(in.Revisions) > maxBatchRevisions {
		return nil, awsproto.Errorf(cdapi.BatchLimitExceededException, "%d revisions given; at most %d are allowed", len(in.Revisions), maxBatchRevisions)
	}
	if len(in.Revisions) == 0 {
		return nil, awsproto.Errorf(cdapi.RevisionRequiredException, "revisions lists no revisions")
	}
	revs := make([]*revision, len(in.Revisions))
	for i := range in.Revisions {
		var err error
		if revs[i], err = checkRevision(&in.Revisions[i]); err != nil {
			return nil, err
		}
	}
	if _, err := getApplication(ctx, s.Store, in.ApplicationName); err != nil {
		return nil, err
	}
	targets, err := targetGroups(ctx, s.Store, in.ApplicationName)
	if err != nil {
		return nil, err
	}
	out := &cdapi.BatchGetApplicationRevisionsOutput{ApplicationName: in.ApplicationName, Revisions: []cdapi.RevisionInfo{}}
	var missing []string
	for _, rev := range revs {
		r, err := s.Store.GetApplicationRevision(ctx, in.ApplicationName, rev.key)
		if errors.Is(err, store.ErrNotFound) {
			b, _ := json.Marshal(rev.location)
			missing = append(missing, string(b))
			continue
		}
		if err != nil {
			return nil, err
		}
		loc, err := decodeRevision(r)
		if err != nil {
			return nil, err
		}
		out.Revisions = append(out.Revisions, cdapi.RevisionInfo{RevisionLocation: loc, GenericRevisionInfo: genericInfo(r, targets[r.Key])})
	}
	if len(missing) > 0 {
		out.ErrorMessage = fmt.Sprintf("application %q has no registered revisions at: %s", in.ApplicationName, strings.Join(missing, "; "))
	}
	return out, nil
}
