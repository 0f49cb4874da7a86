package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // pgx's database/sql driver; also registers it as "pgx"
)

// PostgreSQL pool sizes. Writers are serialised by the writer lock
// (dialect.lockWriter), so more write connections would only be more
// backends waiting on it; a few let the next writers have BEGIN done and
// be queued at the server while the holder commits. Reads run in parallel
// and use a pool of their own, as on SQLite, so that fn inside InTx can
// always read through the Store even while every write connection is
// taken by a writer waiting for the lock fn's transaction holds.
const (
	postgresWriteConns = 4
	postgresIdleTime   = 5 * time.Minute
)

// parsePostgresDSN parses a postgres:// URL with pgx, which also applies
// the PG* environment variables and ~/.pgpass for what the URL leaves out.
// A parse error does not carry the DSN, which may hold a password (pgx
// masks it only on a best-effort basis).
func parsePostgresDSN(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("cannot parse the postgres DSN (not shown: it may hold a password); " +
			"want postgres://user:password@host:port/database?sslmode=disable|require|verify-full")
	}
	return cfg, nil
}

// postgresName names the database in logs and errors: host:port/database,
// without the user's password.
func postgresName(cfg *pgx.ConnConfig) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
}

// openPostgres opens the write and read pools on the database of cfg and
// migrates it. Unlike SQLite there is no single-connection writer: the
// advisory writer lock serialises write transactions, across processes
// too, and single-statement writes take it as well (dialect.plainWriter).
func openPostgres(ctx context.Context, cfg *pgx.ConnConfig, logger *slog.Logger) (*sqlStore, error) {
	const d = dialectPostgres
	ms, err := loadMigrations(migrationFiles, "migrations/"+d.String())
	if err != nil {
		return nil, err
	}

	write := stdlib.OpenDB(*cfg)
	write.SetMaxOpenConns(postgresWriteConns)
	write.SetMaxIdleConns(postgresWriteConns)
	write.SetConnMaxIdleTime(postgresIdleTime)
	if err := write.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect: %w", err), write.Close())
	}
	applied, err := migrate(ctx, write, d, ms, logger)
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}

	read := stdlib.OpenDB(*cfg)
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(postgresIdleTime)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect read pool: %w", err), read.Close(), write.Close())
	}

	logger.InfoContext(ctx, "opened store", "dialect", d.String(), "database", postgresName(cfg),
		"user", cfg.User, "migrations_applied", applied, "read_conns", n, "write_conns", postgresWriteConns)
	s := newSQLStore(d, write, read, logger)
	s.listener = newPGListener(cfg, s.hub, logger)
	return s, nil
}
