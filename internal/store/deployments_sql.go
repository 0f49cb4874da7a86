package store

import (
	"context"
	"strings"
)

const selectDeployment = `SELECT id, application, group_name, group_id, status, active, created_ms, updated_ms, detail FROM deploy_deployments`

func scanDeployment(s scanner) (*Deployment, error) {
	var d Deployment
	var active, created, updated int64
	if err := s.Scan(&d.ID, &d.Application, &d.GroupName, &d.GroupID, &d.Status, &active, &created, &updated, &d.Detail); err != nil {
		return nil, err
	}
	d.Active = active != 0
	d.Created, d.Updated = fromMillis(created), fromMillis(updated)
	d.Detail = unblob(d.Detail)
	return &d, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// CreateDeployment implements DeploymentQueries.
func (q *queries) CreateDeployment(ctx context.Context, d *Deployment) error {
	t := now()
	if d.Created.IsZero() {
		d.Created = t
	}
	if d.Updated.IsZero() {
		d.Updated = d.Created
	}
	if err := q.insertNew(ctx, `INSERT INTO deploy_deployments (id, application, group_name, group_id, status, active, created_ms, updated_ms, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Application, d.GroupName, d.GroupID, d.Status, boolInt(d.Active),
		toMillis(d.Created), toMillis(d.Updated), blob(d.Detail)); err != nil {
		return q.interpretError(err, "create deployment %s", d.ID)
	}
	return nil
}

// GetDeployment implements DeploymentQueries.
func (q *queries) GetDeployment(ctx context.Context, id string) (*Deployment, error) {
	d, err := scanDeployment(q.queryRow(ctx, selectDeployment+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get deployment %s", id)
	}
	return d, nil
}

// UpdateDeployment implements DeploymentQueries.
func (q *queries) UpdateDeployment(ctx context.Context, d *Deployment) error {
	if d.Updated.IsZero() {
		d.Updated = now()
	}
	if err := q.execOne(ctx, `UPDATE deploy_deployments SET status = ?, active = ?, updated_ms = ?, detail = ? WHERE id = ?`,
		d.Status, boolInt(d.Active), toMillis(d.Updated), blob(d.Detail), d.ID); err != nil {
		return q.interpretError(err, "update deployment %s", d.ID)
	}
	return nil
}

// inList appends "AND col IN (?, ...)" for values.
func inList(where []string, args []any, col string, values []string) ([]string, []any) {
	if len(values) == 0 {
		return where, args
	}
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = "?"
		args = append(args, v)
	}
	return append(where, col+" IN ("+strings.Join(marks, ", ")+")"), args
}

func whereClause(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// ListDeployments implements DeploymentQueries.
func (q *queries) ListDeployments(ctx context.Context, f DeploymentFilter) ([]*Deployment, error) {
	var where []string
	var args []any
	if f.Application != "" {
		where, args = append(where, "application = ?"), append(args, f.Application)
	}
	if f.GroupName != "" {
		where, args = append(where, "group_name = ?"), append(args, f.GroupName)
	}
	if f.ActiveOnly {
		where = append(where, "active = 1")
	}
	if !f.CreatedAfter.IsZero() {
		where, args = append(where, "created_ms >= ?"), append(args, toMillis(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		where, args = append(where, "created_ms <= ?"), append(args, toMillis(f.CreatedBefore))
	}
	where, args = inList(where, args, "status", f.Statuses)
	out, err := queryAll(ctx, q, scanDeployment, selectDeployment+whereClause(where)+` ORDER BY created_ms, id`, args...)
	if err != nil {
		return nil, q.interpretError(err, "list deployments")
	}
	return out, nil
}

const selectTarget = `SELECT deployment_id, instance, status, updated_ms, detail FROM deploy_targets`

func scanTarget(s scanner) (*DeploymentTarget, error) {
	var t DeploymentTarget
	var updated int64
	if err := s.Scan(&t.DeploymentID, &t.Instance, &t.Status, &updated, &t.Detail); err != nil {
		return nil, err
	}
	t.Updated = fromMillis(updated)
	t.Detail = unblob(t.Detail)
	return &t, nil
}

// PutDeploymentTarget implements DeploymentQueries.
func (q *queries) PutDeploymentTarget(ctx context.Context, t *DeploymentTarget) error {
	if t.Updated.IsZero() {
		t.Updated = now()
	}
	_, err := q.exec(ctx, `INSERT INTO deploy_targets (deployment_id, instance, status, updated_ms, detail) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (deployment_id, instance) DO UPDATE SET status = excluded.status, updated_ms = excluded.updated_ms, detail = excluded.detail`,
		t.DeploymentID, t.Instance, t.Status, toMillis(t.Updated), blob(t.Detail))
	if err != nil {
		return q.interpretError(err, "put target %s of deployment %s", t.Instance, t.DeploymentID)
	}
	return nil
}

// GetDeploymentTarget implements DeploymentQueries.
func (q *queries) GetDeploymentTarget(ctx context.Context, deploymentID, instance string) (*DeploymentTarget, error) {
	t, err := scanTarget(q.queryRow(ctx, selectTarget+` WHERE deployment_id = ? AND instance = ?`, deploymentID, instance))
	if err != nil {
		return nil, q.interpretError(err, "get target %s of deployment %s", instance, deploymentID)
	}
	return t, nil
}

// ListDeploymentTargets implements DeploymentQueries.
func (q *queries) ListDeploymentTargets(ctx context.Context, deploymentID string) ([]*DeploymentTarget, error) {
	out, err := queryAll(ctx, q, scanTarget, selectTarget+` WHERE deployment_id = ? ORDER BY instance`, deploymentID)
	if err != nil {
		return nil, q.interpretError(err, "list targets of deployment %s", deploymentID)
	}
	return out, nil
}

const selectHostCommand = `SELECT id, deployment_id, instance, name, status, nonce, created_ms, updated_ms FROM deploy_host_commands`

func scanHostCommand(s scanner) (*HostCommand, error) {
	var c HostCommand
	var created, updated int64
	if err := s.Scan(&c.ID, &c.DeploymentID, &c.Instance, &c.Name, &c.Status, &c.Nonce, &created, &updated); err != nil {
		return nil, err
	}
	c.Created, c.Updated = fromMillis(created), fromMillis(updated)
	return &c, nil
}

// CreateHostCommand implements DeploymentQueries.
func (q *queries) CreateHostCommand(ctx context.Context, c *HostCommand) error {
	t := now()
	if c.Created.IsZero() {
		c.Created = t
	}
	if c.Updated.IsZero() {
		c.Updated = c.Created
	}
	if err := q.insertNew(ctx, `INSERT INTO deploy_host_commands (id, deployment_id, instance, name, status, nonce, created_ms, updated_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.DeploymentID, c.Instance, c.Name, c.Status, c.Nonce, toMillis(c.Created), toMillis(c.Updated)); err != nil {
		return q.interpretError(err, "create host command %s", c.ID)
	}
	return nil
}

// GetHostCommand implements DeploymentQueries.
func (q *queries) GetHostCommand(ctx context.Context, id string) (*HostCommand, error) {
	c, err := scanHostCommand(q.queryRow(ctx, selectHostCommand+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get host command %s", id)
	}
	return c, nil
}

// UpdateHostCommand implements DeploymentQueries.
func (q *queries) UpdateHostCommand(ctx context.Context, c *HostCommand) error {
	if c.Updated.IsZero() {
		c.Updated = now()
	}
	if err := q.execOne(ctx, `UPDATE deploy_host_commands SET status = ?, nonce = ?, updated_ms = ? WHERE id = ?`,
		c.Status, c.Nonce, toMillis(c.Updated), c.ID); err != nil {
		return q.interpretError(err, "update host command %s", c.ID)
	}
	return nil
}

// ListHostCommands implements DeploymentQueries.
func (q *queries) ListHostCommands(ctx context.Context, f HostCommandFilter) ([]*HostCommand, error) {
	var where []string
	var args []any
	if f.Instance != "" {
		where, args = append(where, "instance = ?"), append(args, f.Instance)
	}
	if f.DeploymentID != "" {
		where, args = append(where, "deployment_id = ?"), append(args, f.DeploymentID)
	}
	where, args = inList(where, args, "status", f.Statuses)
	out, err := queryAll(ctx, q, scanHostCommand, selectHostCommand+whereClause(where)+` ORDER BY created_ms, id`, args...)
	if err != nil {
		return nil, q.interpretError(err, "list host commands")
	}
	return out, nil
}

// PutGroupInstance implements DeploymentQueries.
func (q *queries) PutGroupInstance(ctx context.Context, g *GroupInstance) error {
	if g.Updated.IsZero() {
		g.Updated = now()
	}
	_, err := q.exec(ctx, `INSERT INTO deploy_group_instances (group_id, instance, updated_ms, detail) VALUES (?, ?, ?, ?)
ON CONFLICT (group_id, instance) DO UPDATE SET updated_ms = excluded.updated_ms, detail = excluded.detail`,
		g.GroupID, g.Instance, toMillis(g.Updated), blob(g.Detail))
	if err != nil {
		return q.interpretError(err, "put instance %s of group %s", g.Instance, g.GroupID)
	}
	return nil
}

// ListGroupInstances implements DeploymentQueries.
func (q *queries) ListGroupInstances(ctx context.Context, groupID string) ([]*GroupInstance, error) {
	out, err := queryAll(ctx, q, func(s scanner) (*GroupInstance, error) {
		var g GroupInstance
		var updated int64
		if err := s.Scan(&g.GroupID, &g.Instance, &updated, &g.Detail); err != nil {
			return nil, err
		}
		g.Updated = fromMillis(updated)
		g.Detail = unblob(g.Detail)
		return &g, nil
	}, `SELECT group_id, instance, updated_ms, detail FROM deploy_group_instances WHERE group_id = ? ORDER BY instance`, groupID)
	if err != nil {
		return nil, q.interpretError(err, "list instances of group %s", groupID)
	}
	return out, nil
}
