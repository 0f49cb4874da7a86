package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DeployQueries, implemented once for every dialect on the queries of
// queries.go (tables in migrations/*/0004_deploy.sql). Conventions as in
// runs_sql.go: a zero time is stored as 0; nil documents as empty
// BLOB/BYTEA; listings return an empty, non-nil slice. Renames and deletes
// that touch several tables run in one write transaction (atomic), and
// check for a taken name with a read first, so a conflict is reported as
// ErrExists without a failing statement (which would abort a PostgreSQL
// transaction).

// Applications.

const selectApplication = `SELECT name, id, compute_platform, created_ms FROM deploy_applications`

func scanApplication(s scanner) (*Application, error) {
	var a Application
	var created int64
	if err := s.Scan(&a.Name, &a.ID, &a.ComputePlatform, &created); err != nil {
		return nil, err
	}
	a.Created = fromMillis(created)
	return &a, nil
}

// CreateApplication implements DeployQueries.
func (q *queries) CreateApplication(ctx context.Context, a *Application) error {
	if a.Created.IsZero() {
		a.Created = now()
	}
	if err := q.insertNew(ctx, `INSERT INTO deploy_applications (name, id, compute_platform, created_ms) VALUES (?, ?, ?, ?)`,
		a.Name, a.ID, a.ComputePlatform, toMillis(a.Created)); err != nil {
		return q.interpretError(err, "create application %q", a.Name)
	}
	return nil
}

// GetApplication implements DeployQueries.
func (q *queries) GetApplication(ctx context.Context, name string) (*Application, error) {
	a, err := scanApplication(q.queryRow(ctx, selectApplication+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get application %q", name)
	}
	return a, nil
}

// deployRowExists reports whether query finds a row.
func (q *queries) deployRowExists(ctx context.Context, query string, args ...any) (bool, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM (`+query+`) x`, args...).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// RenameApplication implements DeployQueries.
func (q *queries) RenameApplication(ctx context.Context, oldName, newName string) error {
	err := q.atomic(ctx, func(q *queries) error {
		if oldName == newName {
			ok, err := q.deployRowExists(ctx, `SELECT 1 FROM deploy_applications WHERE name = ?`, oldName)
			if err == nil && !ok {
				err = ErrNotFound
			}
			return err
		}
		taken, err := q.deployRowExists(ctx, `SELECT 1 FROM deploy_applications WHERE name = ?`, newName)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("application %q: %w", newName, ErrExists)
		}
		if err := q.execOne(ctx, `UPDATE deploy_applications SET name = ? WHERE name = ?`, newName, oldName); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `UPDATE deploy_groups SET application = ? WHERE application = ?`, newName, oldName); err != nil {
			return fmt.Errorf("rename deployment groups: %w", err)
		}
		if _, err := q.exec(ctx, `UPDATE deploy_revisions SET application = ? WHERE application = ?`, newName, oldName); err != nil {
			return fmt.Errorf("rename revisions: %w", err)
		}
		return nil
	})
	if err != nil {
		return q.interpretError(err, "rename application %q to %q", oldName, newName)
	}
	return nil
}

// DeleteApplication implements DeployQueries.
func (q *queries) DeleteApplication(ctx context.Context, name string) error {
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `DELETE FROM deploy_groups WHERE application = ?`, name); err != nil {
			return fmt.Errorf("delete deployment groups: %w", err)
		}
		if _, err := q.exec(ctx, `DELETE FROM deploy_revisions WHERE application = ?`, name); err != nil {
			return fmt.Errorf("delete revisions: %w", err)
		}
		return q.execOne(ctx, `DELETE FROM deploy_applications WHERE name = ?`, name)
	})
	if err != nil {
		return q.interpretError(err, "delete application %q", name)
	}
	return nil
}

// pageQuery appends "col > After" (with where or and) and ORDER BY col
// LIMIT to query.
func deployPageQuery(query string, args []any, hasWhere bool, col string, page Page) (string, []any) {
	if page.After != "" {
		if hasWhere {
			query += ` AND `
		} else {
			query += ` WHERE `
		}
		query += col + ` > ?`
		args = append(args, page.After)
	}
	query += ` ORDER BY ` + col
	return withLimit(query, args, page.Limit)
}

// ListApplications implements DeployQueries.
func (q *queries) ListApplications(ctx context.Context, page Page) ([]*Application, error) {
	query, args := deployPageQuery(selectApplication, nil, false, "name", page)
	as, err := queryAll(ctx, q, scanApplication, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list applications after %q", page.After)
	}
	return as, nil
}

// CountApplications implements DeployQueries.
func (q *queries) CountApplications(ctx context.Context) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM deploy_applications`).Scan(&n); err != nil {
		return 0, q.interpretError(err, "count applications")
	}
	return n, nil
}

// Custom deployment configurations.

const selectDeploymentConfig = `SELECT name, id, compute_platform, min_healthy_type, min_healthy_value, created_ms FROM deploy_configs`

func scanDeploymentConfig(s scanner) (*DeploymentConfig, error) {
	var c DeploymentConfig
	var created int64
	if err := s.Scan(&c.Name, &c.ID, &c.ComputePlatform, &c.MinHealthyType, &c.MinHealthyValue, &created); err != nil {
		return nil, err
	}
	c.Created = fromMillis(created)
	return &c, nil
}

// CreateDeploymentConfig implements DeployQueries.
func (q *queries) CreateDeploymentConfig(ctx context.Context, c *DeploymentConfig) error {
	if c.Created.IsZero() {
		c.Created = now()
	}
	if err := q.insertNew(ctx, `INSERT INTO deploy_configs (name, id, compute_platform, min_healthy_type, min_healthy_value, created_ms)
VALUES (?, ?, ?, ?, ?, ?)`, c.Name, c.ID, c.ComputePlatform, c.MinHealthyType, c.MinHealthyValue, toMillis(c.Created)); err != nil {
		return q.interpretError(err, "create deployment config %q", c.Name)
	}
	return nil
}

// GetDeploymentConfig implements DeployQueries.
func (q *queries) GetDeploymentConfig(ctx context.Context, name string) (*DeploymentConfig, error) {
	c, err := scanDeploymentConfig(q.queryRow(ctx, selectDeploymentConfig+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get deployment config %q", name)
	}
	return c, nil
}

// DeleteDeploymentConfig implements DeployQueries.
func (q *queries) DeleteDeploymentConfig(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM deploy_configs WHERE name = ?`, name); err != nil {
		return q.interpretError(err, "delete deployment config %q", name)
	}
	return nil
}

// ListDeploymentConfigs implements DeployQueries.
func (q *queries) ListDeploymentConfigs(ctx context.Context) ([]*DeploymentConfig, error) {
	cs, err := queryAll(ctx, q, scanDeploymentConfig, selectDeploymentConfig+` ORDER BY name`)
	if err != nil {
		return nil, q.interpretError(err, "list deployment configs")
	}
	return cs, nil
}

// CountDeploymentConfigs implements DeployQueries.
func (q *queries) CountDeploymentConfigs(ctx context.Context) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM deploy_configs`).Scan(&n); err != nil {
		return 0, q.interpretError(err, "count deployment configs")
	}
	return n, nil
}

// Deployment groups.

const selectDeploymentGroup = `SELECT application, name, id, config_name, info, created_ms, updated_ms FROM deploy_groups`

func scanDeploymentGroup(s scanner) (*DeploymentGroup, error) {
	var g DeploymentGroup
	var created, updated int64
	if err := s.Scan(&g.Application, &g.Name, &g.ID, &g.ConfigName, &g.Info, &created, &updated); err != nil {
		return nil, err
	}
	g.Info = unblob(g.Info)
	g.Created, g.Updated = fromMillis(created), fromMillis(updated)
	return &g, nil
}

// CreateDeploymentGroup implements DeployQueries.
func (q *queries) CreateDeploymentGroup(ctx context.Context, g *DeploymentGroup) error {
	t := now()
	if g.Created.IsZero() {
		g.Created = t
	}
	if g.Updated.IsZero() {
		g.Updated = t
	}
	if err := q.insertNew(ctx, `INSERT INTO deploy_groups (application, name, id, config_name, info, created_ms, updated_ms)
VALUES (?, ?, ?, ?, ?, ?, ?)`, g.Application, g.Name, g.ID, g.ConfigName, blob(g.Info), toMillis(g.Created), toMillis(g.Updated)); err != nil {
		return q.interpretError(err, "create deployment group %q of application %q", g.Name, g.Application)
	}
	return nil
}

// GetDeploymentGroup implements DeployQueries.
func (q *queries) GetDeploymentGroup(ctx context.Context, application, name string) (*DeploymentGroup, error) {
	g, err := scanDeploymentGroup(q.queryRow(ctx, selectDeploymentGroup+` WHERE application = ? AND name = ?`, application, name))
	if err != nil {
		return nil, q.interpretError(err, "get deployment group %q of application %q", name, application)
	}
	return g, nil
}

// GetDeploymentGroupByID implements DeployQueries.
func (q *queries) GetDeploymentGroupByID(ctx context.Context, id string) (*DeploymentGroup, error) {
	g, err := scanDeploymentGroup(q.queryRow(ctx, selectDeploymentGroup+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get deployment group with ID %q", id)
	}
	return g, nil
}

// UpdateDeploymentGroup implements DeployQueries.
func (q *queries) UpdateDeploymentGroup(ctx context.Context, oldName string, g *DeploymentGroup) error {
	if g.Updated.IsZero() {
		g.Updated = now()
	}
	err := q.atomic(ctx, func(q *queries) error {
		cur, err := scanDeploymentGroup(q.queryRow(ctx, selectDeploymentGroup+` WHERE application = ? AND name = ?`, g.Application, oldName))
		if err != nil {
			return err
		}
		if g.Name != oldName {
			taken, err := q.deployRowExists(ctx, `SELECT 1 FROM deploy_groups WHERE application = ? AND name = ?`, g.Application, g.Name)
			if err != nil {
				return err
			}
			if taken {
				return fmt.Errorf("deployment group %q: %w", g.Name, ErrExists)
			}
		}
		if _, err := q.exec(ctx, `UPDATE deploy_groups SET name = ?, config_name = ?, info = ?, updated_ms = ?
WHERE application = ? AND name = ?`, g.Name, g.ConfigName, blob(g.Info), toMillis(g.Updated), g.Application, oldName); err != nil {
			return err
		}
		g.ID, g.Created = cur.ID, cur.Created
		return nil
	})
	if err != nil {
		return q.interpretError(err, "update deployment group %q of application %q", oldName, g.Application)
	}
	return nil
}

// DeleteDeploymentGroup implements DeployQueries.
func (q *queries) DeleteDeploymentGroup(ctx context.Context, application, name string) error {
	if err := q.execOne(ctx, `DELETE FROM deploy_groups WHERE application = ? AND name = ?`, application, name); err != nil {
		return q.interpretError(err, "delete deployment group %q of application %q", name, application)
	}
	return nil
}

// ListDeploymentGroups implements DeployQueries.
func (q *queries) ListDeploymentGroups(ctx context.Context, application string, page Page) ([]*DeploymentGroup, error) {
	query, args := deployPageQuery(selectDeploymentGroup+` WHERE application = ?`, []any{application}, true, "name", page)
	gs, err := queryAll(ctx, q, scanDeploymentGroup, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list deployment groups of application %q", application)
	}
	return gs, nil
}

// CountDeploymentGroups implements DeployQueries.
func (q *queries) CountDeploymentGroups(ctx context.Context, application string) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM deploy_groups WHERE application = ?`, application).Scan(&n); err != nil {
		return 0, q.interpretError(err, "count deployment groups of application %q", application)
	}
	return n, nil
}

// CountDeploymentGroupsByConfig implements DeployQueries.
func (q *queries) CountDeploymentGroupsByConfig(ctx context.Context, config string) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM deploy_groups WHERE config_name = ?`, config).Scan(&n); err != nil {
		return 0, q.interpretError(err, "count deployment groups using config %q", config)
	}
	return n, nil
}

// On-premises instances.

const selectOnPremInstance = `SELECT name, iam_user_arn, iam_session_arn, instance_arn, registered_ms, deregistered_ms FROM deploy_instances`

func scanOnPremInstance(s scanner) (*OnPremisesInstance, error) {
	var i OnPremisesInstance
	var registered, deregistered int64
	if err := s.Scan(&i.Name, &i.IAMUserARN, &i.IAMSessionARN, &i.InstanceARN, &registered, &deregistered); err != nil {
		return nil, err
	}
	i.Registered, i.Deregistered = fromMillis(registered), optTime(deregistered)
	i.Tags = []Tag{}
	return &i, nil
}

type onPremTag struct {
	instance string
	Tag
}

func scanOnPremTag(s scanner) (onPremTag, error) {
	var t onPremTag
	err := s.Scan(&t.instance, &t.Key, &t.Value)
	return t, err
}

// withTags reads the tags of is and sets each instance's Tags, ordered by
// key.
func (q *queries) withOnPremTags(ctx context.Context, is []*OnPremisesInstance) ([]*OnPremisesInstance, error) {
	if len(is) == 0 {
		return is, nil
	}
	byName := make(map[string]*OnPremisesInstance, len(is))
	names := make([]string, len(is))
	for k, i := range is {
		byName[i.Name] = i
		names[k] = i.Name
	}
	tags, err := queryIn(ctx, q, scanOnPremTag, names, func(in string) string {
		return `SELECT instance, key, value FROM deploy_instance_tags WHERE instance IN ` + in
	})
	if err != nil {
		return nil, fmt.Errorf("read instance tags: %w", err)
	}
	for _, t := range tags {
		if i := byName[t.instance]; i != nil {
			i.Tags = append(i.Tags, t.Tag)
		}
	}
	for _, i := range is {
		slices.SortFunc(i.Tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	}
	return is, nil
}

func (q *queries) putOnPremTags(ctx context.Context, name string, tags []Tag) error {
	for _, t := range tags {
		if _, err := q.exec(ctx, `INSERT INTO deploy_instance_tags (instance, key, value) VALUES (?, ?, ?)
ON CONFLICT (instance, key) DO UPDATE SET value = excluded.value`, name, t.Key, t.Value); err != nil {
			return fmt.Errorf("tag %q: %w", t.Key, err)
		}
	}
	return nil
}

// RegisterOnPremisesInstance implements DeployQueries.
func (q *queries) RegisterOnPremisesInstance(ctx context.Context, i *OnPremisesInstance) error {
	if i.Registered.IsZero() {
		i.Registered = now()
	}
	if !i.Deregistered.IsZero() {
		return fmt.Errorf("register on-premises instance %q: it must not have a deregistration time", i.Name)
	}
	err := q.atomic(ctx, func(q *queries) error {
		cur, err := scanOnPremInstance(q.queryRow(ctx, selectOnPremInstance+` WHERE name = ?`, i.Name))
		switch {
		case err == nil && cur.IsRegistered():
			return ErrExists
		case err == nil:
			if _, err := q.exec(ctx, `DELETE FROM deploy_instance_tags WHERE instance = ?`, i.Name); err != nil {
				return fmt.Errorf("delete tags of the deregistered instance: %w", err)
			}
			if _, err := q.exec(ctx, `DELETE FROM deploy_instances WHERE name = ?`, i.Name); err != nil {
				return fmt.Errorf("delete the deregistered instance: %w", err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := q.exec(ctx, `INSERT INTO deploy_instances (name, iam_user_arn, iam_session_arn, instance_arn, registered_ms, deregistered_ms)
VALUES (?, ?, ?, ?, ?, 0)`, i.Name, i.IAMUserARN, i.IAMSessionARN, i.InstanceARN, toMillis(i.Registered)); err != nil {
			return err
		}
		return q.putOnPremTags(ctx, i.Name, i.Tags)
	})
	if err != nil {
		return q.interpretError(err, "register on-premises instance %q", i.Name)
	}
	return nil
}

// GetOnPremisesInstance implements DeployQueries.
func (q *queries) GetOnPremisesInstance(ctx context.Context, name string) (*OnPremisesInstance, error) {
	i, err := scanOnPremInstance(q.queryRow(ctx, selectOnPremInstance+` WHERE name = ?`, name))
	if err == nil {
		_, err = q.withOnPremTags(ctx, []*OnPremisesInstance{i})
	}
	if err != nil {
		return nil, q.interpretError(err, "get on-premises instance %q", name)
	}
	return i, nil
}

// FindOnPremisesInstanceByIAMARN implements DeployQueries.
func (q *queries) FindOnPremisesInstanceByIAMARN(ctx context.Context, arn string) (*OnPremisesInstance, error) {
	if arn == "" {
		return nil, fmt.Errorf("find on-premises instance by empty IAM ARN: %w", ErrNotFound)
	}
	// Two queries rather than an OR, so each uses its index.
	i, err := scanOnPremInstance(q.queryRow(ctx, selectOnPremInstance+` WHERE iam_user_arn = ? AND deregistered_ms = 0`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		i, err = scanOnPremInstance(q.queryRow(ctx, selectOnPremInstance+` WHERE iam_session_arn = ? AND deregistered_ms = 0`, arn))
	}
	if err == nil {
		_, err = q.withOnPremTags(ctx, []*OnPremisesInstance{i})
	}
	if err != nil {
		return nil, q.interpretError(err, "find on-premises instance by IAM ARN %q", arn)
	}
	return i, nil
}

// DeregisterOnPremisesInstance implements DeployQueries.
func (q *queries) DeregisterOnPremisesInstance(ctx context.Context, name string, at time.Time) error {
	if at.IsZero() {
		at = now()
	}
	if err := q.execOne(ctx, `UPDATE deploy_instances SET deregistered_ms = ? WHERE name = ? AND deregistered_ms = 0`,
		toMillis(at), name); err != nil {
		return q.interpretError(err, "deregister on-premises instance %q", name)
	}
	return nil
}

// ListOnPremisesInstances implements DeployQueries.
func (q *queries) ListOnPremisesInstances(ctx context.Context, f InstanceFilter) ([]*OnPremisesInstance, error) {
	query, args, hasWhere := selectOnPremInstance, []any{}, false
	switch f.Status {
	case "":
	case InstanceRegistered:
		query, hasWhere = query+` WHERE deregistered_ms = 0`, true
	case InstanceDeregistered:
		query, hasWhere = query+` WHERE deregistered_ms > 0`, true
	default:
		return nil, fmt.Errorf("list on-premises instances: unknown registration status %q", f.Status)
	}
	query, args = deployPageQuery(query, args, hasWhere, "name", f.Page)
	is, err := queryAll(ctx, q, scanOnPremInstance, query, args...)
	if err == nil {
		is, err = q.withOnPremTags(ctx, is)
	}
	if err != nil {
		return nil, q.interpretError(err, "list on-premises instances")
	}
	return is, nil
}

// BatchGetOnPremisesInstances implements DeployQueries.
func (q *queries) BatchGetOnPremisesInstances(ctx context.Context, names []string) ([]*OnPremisesInstance, error) {
	is, err := queryIn(ctx, q, scanOnPremInstance, names, func(in string) string {
		return selectOnPremInstance + ` WHERE name IN ` + in
	})
	if err == nil {
		is, err = q.withOnPremTags(ctx, is)
	}
	if err != nil {
		return nil, q.interpretError(err, "get %d on-premises instances", len(names))
	}
	slices.SortFunc(is, func(a, b *OnPremisesInstance) int { return strings.Compare(a.Name, b.Name) })
	return is, nil
}

// onPremExists fails with ErrNotFound unless the named instance exists.
func (q *queries) onPremExists(ctx context.Context, name string) error {
	ok, err := q.deployRowExists(ctx, `SELECT 1 FROM deploy_instances WHERE name = ?`, name)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return err
}

// PutOnPremisesInstanceTags implements DeployQueries.
func (q *queries) PutOnPremisesInstanceTags(ctx context.Context, name string, tags []Tag) error {
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.onPremExists(ctx, name); err != nil {
			return err
		}
		return q.putOnPremTags(ctx, name, tags)
	})
	if err != nil {
		return q.interpretError(err, "tag on-premises instance %q", name)
	}
	return nil
}

// RemoveOnPremisesInstanceTags implements DeployQueries.
func (q *queries) RemoveOnPremisesInstanceTags(ctx context.Context, name string, tags []Tag) error {
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.onPremExists(ctx, name); err != nil {
			return err
		}
		for _, t := range tags {
			var err error
			if t.Value == "" {
				_, err = q.exec(ctx, `DELETE FROM deploy_instance_tags WHERE instance = ? AND key = ?`, name, t.Key)
			} else {
				_, err = q.exec(ctx, `DELETE FROM deploy_instance_tags WHERE instance = ? AND key = ? AND value = ?`, name, t.Key, t.Value)
			}
			if err != nil {
				return fmt.Errorf("untag %q: %w", t.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return q.interpretError(err, "untag on-premises instance %q", name)
	}
	return nil
}

// Application revisions.

const selectAppRevision = `SELECT application, revision_key, revision_type, location, description, s3_bucket, s3_key,
registered_ms, first_used_ms, last_used_ms FROM deploy_revisions`

func scanAppRevision(s scanner) (*ApplicationRevision, error) {
	var r ApplicationRevision
	var registered, first, last int64
	if err := s.Scan(&r.Application, &r.Key, &r.Type, &r.Location, &r.Description, &r.S3Bucket, &r.S3Key,
		&registered, &first, &last); err != nil {
		return nil, err
	}
	r.Location = unblob(r.Location)
	r.Registered, r.FirstUsed, r.LastUsed = fromMillis(registered), optTime(first), optTime(last)
	return &r, nil
}

// PutApplicationRevision implements DeployQueries with one upsert, which
// leaves the times of an existing row alone and returns the stored ones.
func (q *queries) PutApplicationRevision(ctx context.Context, r *ApplicationRevision) error {
	if r.Registered.IsZero() {
		r.Registered = now()
	}
	var registered, first, last int64
	if err := q.writeRow(ctx, []any{&registered, &first, &last}, `INSERT INTO deploy_revisions
(application, revision_key, revision_type, location, description, s3_bucket, s3_key, registered_ms, first_used_ms, last_used_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (application, revision_key) DO UPDATE SET revision_type = excluded.revision_type,
location = excluded.location, description = excluded.description, s3_bucket = excluded.s3_bucket, s3_key = excluded.s3_key
RETURNING registered_ms, first_used_ms, last_used_ms`,
		r.Application, r.Key, r.Type, blob(r.Location), r.Description, r.S3Bucket, r.S3Key,
		toMillis(r.Registered), optMillis(r.FirstUsed), optMillis(r.LastUsed)); err != nil {
		return q.interpretError(err, "register revision %q of application %q", r.Key, r.Application)
	}
	r.Registered, r.FirstUsed, r.LastUsed = fromMillis(registered), optTime(first), optTime(last)
	return nil
}

// GetApplicationRevision implements DeployQueries.
func (q *queries) GetApplicationRevision(ctx context.Context, application, key string) (*ApplicationRevision, error) {
	r, err := scanAppRevision(q.queryRow(ctx, selectAppRevision+` WHERE application = ? AND revision_key = ?`, application, key))
	if err != nil {
		return nil, q.interpretError(err, "get revision %q of application %q", key, application)
	}
	return r, nil
}

// ListApplicationRevisions implements DeployQueries.
func (q *queries) ListApplicationRevisions(ctx context.Context, application string) ([]*ApplicationRevision, error) {
	rs, err := queryAll(ctx, q, scanAppRevision, selectAppRevision+` WHERE application = ? ORDER BY registered_ms, revision_key`, application)
	if err != nil {
		return nil, q.interpretError(err, "list revisions of application %q", application)
	}
	return rs, nil
}

// MarkApplicationRevisionUsed implements DeployQueries.
func (q *queries) MarkApplicationRevisionUsed(ctx context.Context, application, key string, at time.Time) error {
	ms := toMillis(at)
	if err := q.execOne(ctx, `UPDATE deploy_revisions
SET first_used_ms = CASE WHEN first_used_ms = 0 THEN ? ELSE first_used_ms END, last_used_ms = ?
WHERE application = ? AND revision_key = ?`, ms, ms, application, key); err != nil {
		return q.interpretError(err, "mark revision %q of application %q used", key, application)
	}
	return nil
}
