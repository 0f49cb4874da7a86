package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the pure-Go "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteBusyTimeoutMS is how long a SQLite connection waits for a lock held
// by another connection (in practice: another process's writer) before
// failing with SQLITE_BUSY.
const sqliteBusyTimeoutMS = 5000

// Open opens the database named by dsn, applies any pending schema
// migrations and returns it as a Store. The forms of dsn are:
//
//   - sqlite:///abs/path/slipway.db, or sqlite://rel/path.db: a SQLite file,
//     created if missing (its directory must exist);
//   - a plain file path, which means the same;
//   - postgres://user:password@host:port/database?sslmode=disable (or
//     postgresql://...): a PostgreSQL database, which must exist; the URL
//     takes every parameter pgx accepts (see openPostgres).
//
// Open never logs dsn, which for PostgreSQL would carry a password, nor
// puts it in its errors. Its errors do not start with "open store": that
// is the caller's to say.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch d {
	case dialectSQLite:
		s, err := openSQLite(ctx, target, logger)
		if err != nil {
			return nil, fmt.Errorf("sqlite %s: %w", target, err)
		}
		return s, nil
	default:
		cfg, err := parsePostgresDSN(target)
		if err != nil {
			return nil, err
		}
		s, err := openPostgres(ctx, cfg, logger)
		if err != nil {
			return nil, fmt.Errorf("postgres %s: %w", postgresName(cfg), err)
		}
		return s, nil
	}
}

// parseDSN picks the dialect from dsn and returns what the driver needs:
// an absolute file path for SQLite, the URL itself for PostgreSQL.
func parseDSN(dsn string) (dialect, string, error) {
	scheme, rest, hasScheme := strings.Cut(dsn, "://")
	switch {
	case !hasScheme:
		rest = dsn
	case scheme == "sqlite":
	case scheme == "postgres" || scheme == "postgresql":
		return dialectPostgres, dsn, nil
	default:
		return 0, "", fmt.Errorf("unsupported database %q: want sqlite:// or postgres://", scheme)
	}
	switch {
	case rest == "":
		return 0, "", errors.New("empty sqlite database path")
	case rest == ":memory:" || strings.HasPrefix(rest, "file:"):
		// Two pools on one in-memory database would be two databases.
		return 0, "", fmt.Errorf("sqlite database %q: want a file path", rest)
	case strings.ContainsAny(rest, "?#"):
		// Connection parameters are chosen by the store (sqliteDSN).
		return 0, "", fmt.Errorf("sqlite database %q: parameters are not supported", rest)
	}
	path, err := filepath.Abs(rest)
	if err != nil {
		return 0, "", fmt.Errorf("sqlite database %q: %w", rest, err)
	}
	return dialectSQLite, path, nil
}

// sqliteDSN is the modernc.org/sqlite data source name for one of the two
// pools on the file at path. Both wait busy_timeout for locks and enforce
// foreign keys. The write pool (one connection) relaxes fsync to once per
// checkpoint (synchronous=NORMAL, safe in WAL mode; see enableWAL) and
// begins every transaction IMMEDIATE, taking the write lock up front so a
// transaction never fails upgrading a read lock. The read pool is
// query_only, so a write sent to it by mistake fails instead of contending
// for the lock.
func sqliteDSN(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	if write {
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	// The path has no '?' (parseDSN), so the driver splits it off cleanly.
	return path + "?" + q.Encode()
}

// openSQLite opens both pools on the file at path and migrates it.
func openSQLite(ctx context.Context, path string, logger *slog.Logger) (*sqlStore, error) {
	const d = dialectSQLite
	ms, err := loadMigrations(migrationFiles, "migrations/"+d.String())
	if err != nil {
		return nil, err
	}

	write, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("open write pool: %w", err)
	}
	// One connection: SQLite has one writer anyway, and queueing writers in
	// database/sql is cheaper and fairer than spinning in busy_timeout.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := enableWAL(ctx, write); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	applied, err := migrate(ctx, write, d, ms, logger)
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}

	// The read pool opens after migration, so the file is in WAL mode.
	read, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open read pool: %w", err), write.Close())
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect read pool: %w", err), read.Close(), write.Close())
	}

	logger.InfoContext(ctx, "opened store", "dialect", d.String(), "path", path,
		"migrations_applied", applied, "read_conns", n)
	return newSQLStore(d, write, read, logger), nil
}

// enableWAL switches the file to write-ahead logging, which is persistent
// and lets readers run while the writer writes.
//
// It is not a DSN _pragma because the switch needs an exclusive lock, and
// when another connection (another process opening the same fresh file)
// holds a lock SQLite may report SQLITE_BUSY at once instead of waiting
// busy_timeout; so this retries for that long itself.
func enableWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeoutMS * time.Millisecond)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("set journal_mode=WAL: journal mode is %q", mode)
		case !isSQLiteBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("set journal_mode=WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set journal_mode=WAL: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isSQLiteBusy reports whether err is SQLITE_BUSY or one of its extended
// codes.
func isSQLiteBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// sqlStore is the database/sql Store. Its embedded queries send plain reads
// to the read pool and writes to the write pool; InTx and multi-statement
// writes run on a transaction of the write pool, and so do single-statement
// writes on PostgreSQL (dialect.plainWriter).
type sqlStore struct {
	*queries
	writePool *sql.DB
	readPool  *sql.DB
	logger    *slog.Logger
	hub       *hub
	listener  *pgListener // PostgreSQL: receives other Stores' notifications; nil on SQLite
}

func newSQLStore(d dialect, write, read *sql.DB, logger *slog.Logger) *sqlStore {
	h := newHub()
	return &sqlStore{
		queries:   &queries{d: d, read: read, write: d.plainWriter(write), pool: write, hub: h},
		writePool: write,
		readPool:  read,
		logger:    logger,
		hub:       h,
	}
}

// InTx implements Store. Every statement fn runs through q, reads
// included, is on the one transaction, which holds the writer lock from
// its start (dialect.lockWriter): transactions run one at a time, on every
// database, and fn runs exactly once. fn may read through the Store (that
// reads committed data only) but must not write through it: that write
// waits for the lock fn's transaction holds (on SQLite, for the write
// pool's one connection), so it would wait until ctx ends.
//
// Notifications fn publishes reach this Store's subscribers after the
// commit, in the order published.
func (s *sqlStore) InTx(ctx context.Context, fn func(q Queries) error) error {
	var pending []Notification
	err := writeTx(ctx, s.writePool, s.d, func(tx *sql.Tx) error {
		pending = pending[:0]
		return fn(txQueries(s.d, tx, s.hub, &pending))
	})
	if err == nil {
		for _, n := range pending {
			s.hub.deliver(n)
		}
	}
	return err
}

// Close implements Store.
func (s *sqlStore) Close() error {
	if s.listener != nil {
		s.listener.stop()
	}
	err := errors.Join(s.readPool.Close(), s.writePool.Close())
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	s.logger.Info("closed store", "dialect", s.d.String())
	return nil
}
