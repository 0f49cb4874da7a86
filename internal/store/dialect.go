package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the databases the store runs
// on. The SQL in queries.go is written once, with ? placeholders and types
// both databases accept (TEXT, INTEGER/BIGINT, ON CONFLICT upserts); the
// column types that do differ (BLOB vs BYTEA, collations) live in the
// per-dialect migration files under migrations/<dialect>/.
type dialect int

const (
	dialectSQLite dialect = iota + 1
	dialectPostgres
)

// String returns the dialect's name, which is also its migrations directory.
func (d dialect) String() string {
	switch d {
	case dialectSQLite:
		return "sqlite"
	case dialectPostgres:
		return "postgres"
	default:
		return "dialect(" + strconv.Itoa(int(d)) + ")"
	}
}

// rebind rewrites the ? placeholders of query for the dialect.
//
// Divergence: SQLite accepts ?, PostgreSQL wants $1, $2, ... The rewrite is
// naive (it does not skip ? inside string literals), which is fine because
// the store's SQL never has literal question marks.
func (d dialect) rebind(query string) string {
	if d != dialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for _, r := range query {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// isUniqueViolation reports whether err is a unique or primary key
// constraint violation.
//
// Divergence: each driver has its own error type. SQLite reports the
// extended result codes SQLITE_CONSTRAINT_UNIQUE/_PRIMARYKEY (modernc turns
// extended codes on for every connection); PostgreSQL reports SQLSTATE
// 23505, which both pgx (*pgconn.PgError) and lib/pq expose through a
// SQLState method, so no driver import is needed here.
func (d dialect) isUniqueViolation(err error) bool {
	switch d {
	case dialectSQLite:
		var e *sqlite.Error
		if errors.As(err, &e) {
			return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
				e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
	case dialectPostgres:
		var e interface{ SQLState() string }
		if errors.As(err, &e) {
			return e.SQLState() == "23505"
		}
	}
	return false
}

// writerLockID is the PostgreSQL advisory lock key that serialises writers;
// arbitrary, but fixed forever ("slipway" in ASCII). Advisory locks are
// per database, so stores on different databases of one server do not
// contend.
const writerLockID = 0x736c6970776179

// lockWriter is the first statement of every write transaction (InTx, the
// multi-statement writes, plain writes on PostgreSQL (see plainWriter) and
// each migration). It makes the transaction the only writer until it ends,
// so read-modify-write sequences inside InTx are serialised the same way on
// every database.
//
// Divergence: on SQLite the write pool opens transactions with BEGIN
// IMMEDIATE (_txlock=immediate), which already takes the database's single
// write lock (and waits busy_timeout for it), so there is nothing to do.
// PostgreSQL runs READ COMMITTED with row locks, so it takes the
// transaction-scoped advisory lock pg_advisory_xact_lock instead, held
// until COMMIT or ROLLBACK (also when the connection dies); the same lock
// makes two processes migrating at once apply each migration once.
//
// Why a lock and not SERIALIZABLE with retries: with the lock, InTx runs fn
// exactly once and never fails with a serialization error, as on SQLite,
// so callers need not make fn safe to re-run. Its cost, one writer at a
// time per database, is what SQLite has anyway, and Slipway writes little.
// Waiting for the lock ends with ctx (pgx cancels the statement).
//
// The transaction must stay READ COMMITTED (the server default; BeginTx
// passes no isolation level): each statement then reads a snapshot taken
// after the lock was granted, so it sees everything the previous holder
// committed. Under REPEATABLE READ the snapshot would date from the lock
// statement itself, taken before waiting, and increments would be lost.
func (d dialect) lockWriter(ctx context.Context, tx *sql.Tx) error {
	if d != dialectPostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, d.rebind("SELECT pg_advisory_xact_lock(?)"), int64(writerLockID))
	return err
}

// plainWriter returns what single-statement writes outside a transaction
// (PutSetting, CreateAccessKey, ...) run on, given the write pool.
//
// Divergence: SQLite's write pool has one connection, so a plain write
// waits for any InTx in progress and lands before or after it, never
// inside. On PostgreSQL it would run at once, and one landing between an
// InTx's read and its write would be silently overwritten when that
// transaction writes (a lost update). So on PostgreSQL each plain write
// runs in its own transaction that takes the writer lock first; that costs
// three more round trips (BEGIN, the lock, COMMIT) on writes, which are
// rare next to reads.
func (d dialect) plainWriter(pool *sql.DB) execer {
	if d != dialectPostgres {
		return pool
	}
	return lockedWriter{pool: pool, d: d}
}

// lockedWriter runs each statement in a write transaction of its own,
// holding the writer lock.
type lockedWriter struct {
	pool *sql.DB
	d    dialect
}

// ExecContext runs query, already rebound, under the writer lock.
func (w lockedWriter) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := writeTx(ctx, w.pool, w.d, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
