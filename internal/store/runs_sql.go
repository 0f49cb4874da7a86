package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RunQueries, implemented once for every dialect on the queries of
// queries.go (tables in migrations/*/0002_runs.sql).
//
// Conventions beyond queries.go's:
//   - times are stored as Unix milliseconds with the zero time as 0
//     (optMillis, optTime), so "has a deadline" or "has a lease" is
//     `*_ms > 0` in SQL, and a zero time reads back as the zero time. The
//     store fills in no timestamps: the engine owns its clock.
//   - booleans are INTEGER 0/1 on both databases;
//   - nil and empty JSON documents are stored as empty BLOB/BYTEA (the
//     columns are NOT NULL) and read back as nil;
//   - listings return an empty, non-nil slice when nothing matches.

// activeStatuses are the statuses of active executions, as an SQL list.
// The partial index executions_active (0002_runs.sql) has the same text,
// and the planners use it only for queries that spell the condition out
// with literals, not parameters.
const activeStatuses = `('InProgress', 'Stopping')`

// jobDispatched is the status DispatchJobs gives the jobs it hands out.
const jobDispatched = "Dispatched"

// idChunk is how many IDs one IN (...) list binds at most, well below
// SQLite's 32766 and PostgreSQL's 65535 parameters per statement.
const idChunk = 500

// dispatchBatch is how many candidate jobs DispatchJobs reads at a time.
const dispatchBatch = 100

// optMillis is t in milliseconds, 0 for the zero time.
func optMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMillis(t)
}

// optTime is optMillis reversed: 0 is the zero time.
func optTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// flag is b as stored: 1 or 0.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// blob is a document as stored: never nil, which would bind as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// unblob is a stored document as returned: nil when empty.
func unblob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// withLimit appends LIMIT limit to query when limit > 0.
func withLimit(query string, args []any, limit int) (string, []any) {
	if limit <= 0 {
		return query, args
	}
	return query + ` LIMIT ?`, append(args, limit)
}

// writeRow runs a write that returns one row (... RETURNING) and scans it
// into dest. It runs in a write transaction, the current one or a new one:
// the plain writer only executes statements, and SQLite's read pool is
// query_only.
func (q *queries) writeRow(ctx context.Context, dest []any, query string, args ...any) error {
	return q.atomic(ctx, func(q *queries) error {
		return q.queryRow(ctx, query, args...).Scan(dest...)
	})
}

// queryIn runs the query build returns for each chunk of the distinct ids,
// passing it the chunk's placeholder list "(?, ?, ...)" and binding the
// chunk's IDs as the only arguments, and returns every row. Nothing for no
// IDs. Rows of different chunks are not in any order.
func queryIn[T any](ctx context.Context, q *queries, scan func(scanner) (T, error), ids []string, build func(in string) string) ([]T, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := []T{}
	for chunk := range slices.Chunk(ids, idChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		in := "(?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		rows, err := queryAll(ctx, q, scan, build(in), args...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// Counters.

// NextSeq implements RunQueries. The upsert returns the new value in one
// statement, on both databases (SQLite has RETURNING since 3.35).
func (q *queries) NextSeq(ctx context.Context, name string) (int64, error) {
	var v int64
	if err := q.writeRow(ctx, []any{&v}, `INSERT INTO counters (name, value) VALUES (?, 1)
ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
RETURNING value`, name); err != nil {
		return 0, q.interpretError(err, "next value of counter %q", name)
	}
	return v, nil
}

// Executions.

const selectExecution = `SELECT id, pipeline, seq, version, status, stage, waiting, client_token, detail,
started_ms, updated_ms FROM executions`

func scanExecution(s scanner) (*Execution, error) {
	var e Execution
	var waiting, started, updated int64
	if err := s.Scan(&e.ID, &e.Pipeline, &e.Seq, &e.Version, &e.Status, &e.Stage, &waiting,
		&e.ClientToken, &e.Detail, &started, &updated); err != nil {
		return nil, err
	}
	e.Waiting, e.Detail = waiting != 0, unblob(e.Detail)
	e.Started, e.Updated = optTime(started), optTime(updated)
	return &e, nil
}

// CreateExecution implements RunQueries; ErrExists if the ID is taken.
func (q *queries) CreateExecution(ctx context.Context, e *Execution) error {
	if err := q.insertNew(ctx, `INSERT INTO executions (id, pipeline, seq, version, status, stage, waiting,
client_token, detail, started_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Pipeline, e.Seq, e.Version, e.Status, e.Stage, flag(e.Waiting),
		e.ClientToken, blob(e.Detail), optMillis(e.Started), optMillis(e.Updated)); err != nil {
		return q.interpretError(err, "create execution %q", e.ID)
	}
	return nil
}

// GetExecution implements RunQueries.
func (q *queries) GetExecution(ctx context.Context, id string) (*Execution, error) {
	e, err := scanExecution(q.queryRow(ctx, selectExecution+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get execution %q", id)
	}
	return e, nil
}

// FindExecutionByToken implements RunQueries: ErrNotFound if there is
// none, always for an empty clientToken; the newest if there are several.
func (q *queries) FindExecutionByToken(ctx context.Context, pipeline, clientToken string) (*Execution, error) {
	if clientToken == "" {
		return nil, fmt.Errorf("find execution of pipeline %q by empty client token: %w", pipeline, ErrNotFound)
	}
	e, err := scanExecution(q.queryRow(ctx, selectExecution+` WHERE pipeline = ? AND client_token = ?
ORDER BY seq DESC LIMIT 1`, pipeline, clientToken))
	if err != nil {
		return nil, q.interpretError(err, "find execution of pipeline %q by client token", pipeline)
	}
	return e, nil
}

// UpdateExecution implements RunQueries: it writes every field of e but
// ID and Pipeline to the execution with e's ID; ErrNotFound if none.
func (q *queries) UpdateExecution(ctx context.Context, e *Execution) error {
	if err := q.execOne(ctx, `UPDATE executions SET seq = ?, version = ?, status = ?, stage = ?, waiting = ?,
client_token = ?, detail = ?, started_ms = ?, updated_ms = ? WHERE id = ?`,
		e.Seq, e.Version, e.Status, e.Stage, flag(e.Waiting),
		e.ClientToken, blob(e.Detail), optMillis(e.Started), optMillis(e.Updated), e.ID); err != nil {
		return q.interpretError(err, "update execution %q", e.ID)
	}
	return nil
}

// ListExecutions implements RunQueries; all of them when limit <= 0.
func (q *queries) ListExecutions(ctx context.Context, pipeline string, beforeSeq int64, limit int) ([]*Execution, error) {
	query, args := selectExecution+` WHERE pipeline = ?`, []any{pipeline}
	if beforeSeq > 0 {
		query += ` AND seq < ?`
		args = append(args, beforeSeq)
	}
	query, args = withLimit(query+` ORDER BY seq DESC`, args, limit)
	es, err := queryAll(ctx, q, scanExecution, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list executions of pipeline %q", pipeline)
	}
	return es, nil
}

// ListActiveExecutions implements RunQueries.
func (q *queries) ListActiveExecutions(ctx context.Context, pipeline string) ([]*Execution, error) {
	es, err := queryAll(ctx, q, scanExecution, selectExecution+`
WHERE pipeline = ? AND status IN `+activeStatuses+` ORDER BY seq`, pipeline)
	if err != nil {
		return nil, q.interpretError(err, "list active executions of pipeline %q", pipeline)
	}
	return es, nil
}

// ListActivePipelines implements RunQueries; the names are in order.
func (q *queries) ListActivePipelines(ctx context.Context) ([]string, error) {
	names, err := queryAll(ctx, q, func(s scanner) (string, error) {
		var name string
		err := s.Scan(&name)
		return name, err
	}, `SELECT DISTINCT pipeline FROM executions WHERE status IN `+activeStatuses+` ORDER BY pipeline`)
	if err != nil {
		return nil, q.interpretError(err, "list active pipelines")
	}
	return names, nil
}

// Stage runs.

const stageRunColumns = `execution_id, stage, pipeline, status, attempt, retry_mode, seq, started_ms, updated_ms`

func scanStageRun(s scanner) (*StageRun, error) {
	var r StageRun
	var started, updated int64
	if err := s.Scan(&r.ExecutionID, &r.Stage, &r.Pipeline, &r.Status, &r.Attempt, &r.RetryMode, &r.Seq,
		&started, &updated); err != nil {
		return nil, err
	}
	r.Started, r.Updated = optTime(started), optTime(updated)
	return &r, nil
}

// stageRunsBySeq orders stage runs by Seq, ties by key.
func stageRunsBySeq(a, b *StageRun) int {
	return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ExecutionID, b.ExecutionID), strings.Compare(a.Stage, b.Stage))
}

// PutStageRun implements RunQueries.
func (q *queries) PutStageRun(ctx context.Context, r *StageRun) error {
	if _, err := q.exec(ctx, `INSERT INTO stage_runs (`+stageRunColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (execution_id, stage) DO UPDATE SET pipeline = excluded.pipeline, status = excluded.status,
	attempt = excluded.attempt, retry_mode = excluded.retry_mode, seq = excluded.seq,
	started_ms = excluded.started_ms, updated_ms = excluded.updated_ms`,
		r.ExecutionID, r.Stage, r.Pipeline, r.Status, r.Attempt, r.RetryMode, r.Seq,
		optMillis(r.Started), optMillis(r.Updated)); err != nil {
		return q.interpretError(err, "put run of stage %q of execution %q", r.Stage, r.ExecutionID)
	}
	return nil
}

// ListStageRuns implements RunQueries, ordered by Seq (entry order); none
// for no IDs.
func (q *queries) ListStageRuns(ctx context.Context, executionIDs []string) ([]*StageRun, error) {
	rs, err := queryIn(ctx, q, scanStageRun, executionIDs, func(in string) string {
		return `SELECT ` + stageRunColumns + ` FROM stage_runs WHERE execution_id IN ` + in
	})
	if err != nil {
		return nil, q.interpretError(err, "list stage runs of %d executions", len(executionIDs))
	}
	slices.SortFunc(rs, stageRunsBySeq)
	return rs, nil
}

// LatestStageRuns implements RunQueries, ordered by Seq. ROW_NUMBER picks
// exactly one run per stage (both databases have window functions; SQLite
// since 3.25), the tie on Seq, which NextSeq rules out, broken by
// execution ID.
func (q *queries) LatestStageRuns(ctx context.Context, pipeline string) ([]*StageRun, error) {
	rs, err := queryAll(ctx, q, scanStageRun, `SELECT `+stageRunColumns+` FROM (
	SELECT `+stageRunColumns+`,
		ROW_NUMBER() OVER (PARTITION BY stage ORDER BY seq DESC, execution_id DESC) AS n
	FROM stage_runs WHERE pipeline = ?
) r WHERE n = 1 ORDER BY seq, execution_id, stage`, pipeline)
	if err != nil {
		return nil, q.interpretError(err, "list latest stage runs of pipeline %q", pipeline)
	}
	return rs, nil
}

// Action runs.

const actionRunColumns = `id, seq, pipeline, execution_id, stage, action, stage_attempt, status, deadline_ms,
detail, started_ms, updated_ms`

func scanActionRun(s scanner) (*ActionRun, error) {
	var r ActionRun
	var deadline, started, updated int64
	if err := s.Scan(&r.ID, &r.Seq, &r.Pipeline, &r.ExecutionID, &r.Stage, &r.Action, &r.StageAttempt,
		&r.Status, &deadline, &r.Detail, &started, &updated); err != nil {
		return nil, err
	}
	r.Detail = unblob(r.Detail)
	r.Deadline, r.Started, r.Updated = optTime(deadline), optTime(started), optTime(updated)
	return &r, nil
}

// latestActionRuns selects, from the action runs matching where, the one
// with the highest Seq of each (execution, stage, action) or, when
// perExecution is false, of each (stage, action); ordered by Seq.
func latestActionRuns(where string, perExecution bool) string {
	partition := "stage, action"
	if perExecution {
		partition = "execution_id, " + partition
	}
	return `SELECT ` + actionRunColumns + ` FROM (
	SELECT ` + actionRunColumns + `,
		ROW_NUMBER() OVER (PARTITION BY ` + partition + ` ORDER BY seq DESC, id DESC) AS n
	FROM action_runs WHERE ` + where + `
) r WHERE n = 1 ORDER BY seq, id`
}

// CreateActionRun implements RunQueries; ErrExists if the ID is taken.
func (q *queries) CreateActionRun(ctx context.Context, r *ActionRun) error {
	if err := q.insertNew(ctx, `INSERT INTO action_runs (`+actionRunColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Seq, r.Pipeline, r.ExecutionID, r.Stage, r.Action, r.StageAttempt, r.Status,
		optMillis(r.Deadline), blob(r.Detail), optMillis(r.Started), optMillis(r.Updated)); err != nil {
		return q.interpretError(err, "create action run %q", r.ID)
	}
	return nil
}

// UpdateActionRun implements RunQueries: it writes every field of r but
// ID, Pipeline, ExecutionID, Stage and Action to the run with r's ID;
// ErrNotFound if none.
func (q *queries) UpdateActionRun(ctx context.Context, r *ActionRun) error {
	if err := q.execOne(ctx, `UPDATE action_runs SET seq = ?, stage_attempt = ?, status = ?, deadline_ms = ?,
detail = ?, started_ms = ?, updated_ms = ? WHERE id = ?`,
		r.Seq, r.StageAttempt, r.Status, optMillis(r.Deadline),
		blob(r.Detail), optMillis(r.Started), optMillis(r.Updated), r.ID); err != nil {
		return q.interpretError(err, "update action run %q", r.ID)
	}
	return nil
}

// GetActionRun implements RunQueries.
func (q *queries) GetActionRun(ctx context.Context, id string) (*ActionRun, error) {
	r, err := scanActionRun(q.queryRow(ctx, `SELECT `+actionRunColumns+` FROM action_runs WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get action run %q", id)
	}
	return r, nil
}

// LatestActionRuns implements RunQueries, ordered by Seq; none for no IDs.
// Chunking the IDs keeps every partition whole: it includes the execution.
func (q *queries) LatestActionRuns(ctx context.Context, executionIDs []string) ([]*ActionRun, error) {
	rs, err := queryIn(ctx, q, scanActionRun, executionIDs, func(in string) string {
		return latestActionRuns(`execution_id IN `+in, true)
	})
	if err != nil {
		return nil, q.interpretError(err, "list latest action runs of %d executions", len(executionIDs))
	}
	slices.SortFunc(rs, func(a, b *ActionRun) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ID, b.ID))
	})
	return rs, nil
}

// LatestActionRunsByAction implements RunQueries, ordered by Seq.
func (q *queries) LatestActionRunsByAction(ctx context.Context, pipeline string) ([]*ActionRun, error) {
	rs, err := queryAll(ctx, q, scanActionRun, latestActionRuns(`pipeline = ?`, false), pipeline)
	if err != nil {
		return nil, q.interpretError(err, "list latest action runs of pipeline %q", pipeline)
	}
	return rs, nil
}

// ListActionRuns implements RunQueries; all matching runs when
// f.Limit <= 0.
func (q *queries) ListActionRuns(ctx context.Context, f ActionRunFilter) ([]*ActionRun, error) {
	query, args := `SELECT `+actionRunColumns+` FROM action_runs WHERE pipeline = ?`, []any{f.Pipeline}
	if f.ExecutionID != "" {
		query += ` AND execution_id = ?`
		args = append(args, f.ExecutionID)
	}
	if f.BeforeSeq > 0 {
		query += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	query, args = withLimit(query+` ORDER BY seq DESC`, args, f.Limit)
	rs, err := queryAll(ctx, q, scanActionRun, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list action runs of pipeline %q", f.Pipeline)
	}
	return rs, nil
}

// ListDueActionRuns implements RunQueries, earliest deadline first.
func (q *queries) ListDueActionRuns(ctx context.Context, now time.Time) ([]*ActionRun, error) {
	rs, err := queryAll(ctx, q, scanActionRun, `SELECT `+actionRunColumns+` FROM action_runs
WHERE status = 'InProgress' AND deadline_ms > 0 AND deadline_ms < ? ORDER BY deadline_ms, id`, toMillis(now))
	if err != nil {
		return nil, q.interpretError(err, "list due action runs")
	}
	return rs, nil
}

// Jobs.

const jobColumns = `id, action_run_id, pipeline, category, owner, provider, version, status, nonce,
lease_until_ms, data, created_ms, updated_ms`

func scanJob(s scanner) (*Job, error) {
	var j Job
	var lease, created, updated int64
	if err := s.Scan(&j.ID, &j.ActionRunID, &j.Pipeline, &j.Type.Category, &j.Type.Owner, &j.Type.Provider,
		&j.Type.Version, &j.Status, &j.Nonce, &lease, &j.Data, &created, &updated); err != nil {
		return nil, err
	}
	j.Data = unblob(j.Data)
	j.LeaseUntil, j.Created, j.Updated = optTime(lease), optTime(created), optTime(updated)
	return &j, nil
}

// CreateJob implements RunQueries; ErrExists if the ID is taken.
func (q *queries) CreateJob(ctx context.Context, j *Job) error {
	if err := q.insertNew(ctx, `INSERT INTO jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.ActionRunID, j.Pipeline, j.Type.Category, j.Type.Owner, j.Type.Provider, j.Type.Version,
		j.Status, j.Nonce, optMillis(j.LeaseUntil), blob(j.Data), optMillis(j.Created), optMillis(j.Updated)); err != nil {
		return q.interpretError(err, "create job %q", j.ID)
	}
	return nil
}

// GetJob implements RunQueries.
func (q *queries) GetJob(ctx context.Context, id string) (*Job, error) {
	j, err := scanJob(q.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get job %q", id)
	}
	return j, nil
}

// UpdateJob implements RunQueries: it writes every field of j but ID,
// ActionRunID, Pipeline and Type to the job with j's ID; ErrNotFound if
// none.
func (q *queries) UpdateJob(ctx context.Context, j *Job) error {
	if err := q.execOne(ctx, `UPDATE jobs SET status = ?, nonce = ?, lease_until_ms = ?, data = ?,
created_ms = ?, updated_ms = ? WHERE id = ?`,
		j.Status, j.Nonce, optMillis(j.LeaseUntil), blob(j.Data), optMillis(j.Created), optMillis(j.Updated), j.ID); err != nil {
		return q.interpretError(err, "update job %q", j.ID)
	}
	return nil
}

// dispatchable is the condition on a job DispatchJobs may hand out, with
// one parameter: now in milliseconds.
const dispatchable = `(status = 'Queued' OR (status = 'Dispatched' AND lease_until_ms < ?))`

// DispatchJobs implements RunQueries. A limit <= 0 dispatches nothing; a
// nil accept accepts every job; nonce must not be nil. Jobs go oldest
// first by Created (ties by ID); each accepted one is returned with
// Status, Nonce, LeaseUntil and Updated (= now) as stored.
//
// It reads the candidates and updates the accepted ones in one write
// transaction (the current one inside InTx), which holds the writer lock
// from its start (dialect.lockWriter: BEGIN IMMEDIATE on SQLite, the
// advisory lock on PostgreSQL): no other writer, in this process or
// another, can dispatch or change a job in between, so no job goes to two
// callers. No FOR UPDATE (SKIP LOCKED) is needed on PostgreSQL for that.
// Each UPDATE repeats the dispatchable condition all the same, so a job
// that is no longer dispatchable is skipped, never handed out twice.
//
// Candidates are read dispatchBatch at a time, by keyset on (created_ms,
// id), so a long queue of jobs that accept refuses is not held in memory
// at once; every batch is read to the end before the updates, as a
// connection runs one statement at a time.
func (q *queries) DispatchJobs(ctx context.Context, t ActionTypeKey, limit int, now, leaseUntil time.Time,
	accept func(*Job) bool, nonce func() string) ([]*Job, error) {
	out := []*Job{}
	if limit <= 0 {
		return out, nil
	}
	nowMS := toMillis(now)
	err := q.atomic(ctx, func(q *queries) error {
		var after *Job // the last candidate read
		for len(out) < limit {
			query := `SELECT ` + jobColumns + ` FROM jobs
WHERE category = ? AND owner = ? AND provider = ? AND version = ? AND ` + dispatchable
			args := []any{t.Category, t.Owner, t.Provider, t.Version, nowMS}
			if after != nil {
				// Row values compare lexicographically on both databases
				// (SQLite since 3.15).
				query += ` AND (created_ms, id) > (?, ?)`
				args = append(args, optMillis(after.Created), after.ID)
			}
			query += ` ORDER BY created_ms, id LIMIT ?`
			args = append(args, dispatchBatch)
			batch, err := queryAll(ctx, q, scanJob, query, args...)
			if err != nil {
				return fmt.Errorf("read candidates: %w", err)
			}
			for _, j := range batch {
				if len(out) == limit {
					break
				}
				if accept != nil && !accept(j) {
					continue
				}
				n := nonce()
				err := q.execOne(ctx, `UPDATE jobs SET status = ?, nonce = ?, lease_until_ms = ?, updated_ms = ?
WHERE id = ? AND `+dispatchable, jobDispatched, n, optMillis(leaseUntil), optMillis(now), j.ID, nowMS)
				switch {
				case errors.Is(err, ErrNotFound):
					continue // not dispatchable after all
				case err != nil:
					return fmt.Errorf("dispatch job %q: %w", j.ID, err)
				}
				j.Status, j.Nonce, j.LeaseUntil, j.Updated = jobDispatched, n, optTime(optMillis(leaseUntil)), optTime(optMillis(now))
				out = append(out, j)
			}
			if len(batch) < dispatchBatch {
				break
			}
			after = batch[len(batch)-1]
		}
		return nil
	})
	if err != nil {
		return nil, q.interpretError(err, "dispatch jobs of type %s", actionTypeName(t))
	}
	return out, nil
}

// ListDueJobs implements RunQueries, earliest lease end first.
func (q *queries) ListDueJobs(ctx context.Context, now time.Time) ([]*Job, error) {
	js, err := queryAll(ctx, q, scanJob, `SELECT `+jobColumns+` FROM jobs
WHERE status IN ('Dispatched', 'InProgress') AND lease_until_ms > 0 AND lease_until_ms < ?
ORDER BY lease_until_ms, id`, toMillis(now))
	if err != nil {
		return nil, q.interpretError(err, "list due jobs")
	}
	return js, nil
}

// Transitions.

// PutTransition implements RunQueries: it inserts or replaces the
// transition into (t.Pipeline, t.Stage).
func (q *queries) PutTransition(ctx context.Context, t *Transition) error {
	if _, err := q.exec(ctx, `INSERT INTO transitions (pipeline, stage, disabled, reason, changed_by, changed_at_ms)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (pipeline, stage) DO UPDATE SET disabled = excluded.disabled, reason = excluded.reason,
	changed_by = excluded.changed_by, changed_at_ms = excluded.changed_at_ms`,
		t.Pipeline, t.Stage, flag(t.Disabled), t.Reason, t.ChangedBy, optMillis(t.ChangedAt)); err != nil {
		return q.interpretError(err, "put transition into stage %q of pipeline %q", t.Stage, t.Pipeline)
	}
	return nil
}

// ListTransitions implements RunQueries, ordered by stage name.
func (q *queries) ListTransitions(ctx context.Context, pipeline string) ([]*Transition, error) {
	ts, err := queryAll(ctx, q, func(s scanner) (*Transition, error) {
		var t Transition
		var disabled, changed int64
		if err := s.Scan(&t.Pipeline, &t.Stage, &disabled, &t.Reason, &t.ChangedBy, &changed); err != nil {
			return nil, err
		}
		t.Disabled, t.ChangedAt = disabled != 0, optTime(changed)
		return &t, nil
	}, `SELECT pipeline, stage, disabled, reason, changed_by, changed_at_ms FROM transitions
WHERE pipeline = ? ORDER BY stage`, pipeline)
	if err != nil {
		return nil, q.interpretError(err, "list transitions of pipeline %q", pipeline)
	}
	return ts, nil
}

// Events.

// AppendEvent implements RunQueries. IDs increase in commit order too:
// every write holds the writer lock, so a reader paging with ListEvents
// never sees a later ID before an earlier one commits.
func (q *queries) AppendEvent(ctx context.Context, e *Event) error {
	if err := q.writeRow(ctx, []any{&e.ID}, `INSERT INTO events (time_ms, type, pipeline, execution_id, detail)
VALUES (?, ?, ?, ?, ?) RETURNING id`,
		optMillis(e.Time), e.Type, e.Pipeline, e.ExecutionID, blob(e.Detail)); err != nil {
		return q.interpretError(err, "append event %q", e.Type)
	}
	return nil
}

// ListEvents implements RunQueries: of every pipeline when pipeline is "",
// all of them when limit <= 0.
func (q *queries) ListEvents(ctx context.Context, after int64, pipeline string, limit int) ([]*Event, error) {
	query, args := `SELECT id, time_ms, type, pipeline, execution_id, detail FROM events WHERE id > ?`, []any{after}
	if pipeline != "" {
		query += ` AND pipeline = ?`
		args = append(args, pipeline)
	}
	query, args = withLimit(query+` ORDER BY id`, args, limit)
	es, err := queryAll(ctx, q, func(s scanner) (*Event, error) {
		var e Event
		var at int64
		if err := s.Scan(&e.ID, &at, &e.Type, &e.Pipeline, &e.ExecutionID, &e.Detail); err != nil {
			return nil, err
		}
		e.Time, e.Detail = optTime(at), unblob(e.Detail)
		return &e, nil
	}, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list events after %d", after)
	}
	return es, nil
}

// DeletePipelineRuns implements RunQueries, in one transaction. Events and
// counters stay: the event log is history, and sequence numbers are never
// handed out twice.
func (q *queries) DeletePipelineRuns(ctx context.Context, pipeline string) error {
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `DELETE FROM action_logs WHERE action_run_id IN (SELECT id FROM action_runs WHERE pipeline = ?)`, pipeline); err != nil {
			return fmt.Errorf("delete from action_logs: %w", err)
		}
		for _, table := range []string{"jobs", "action_runs", "stage_runs", "transitions", "executions"} {
			if _, err := q.exec(ctx, `DELETE FROM `+table+` WHERE pipeline = ?`, pipeline); err != nil {
				return fmt.Errorf("delete from %s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return q.interpretError(err, "delete runs of pipeline %q", pipeline)
	}
	return nil
}
