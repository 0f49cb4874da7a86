package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema, one directory per dialect. Files are
// named NNNN_description.sql and applied in version order; a file, once
// released, is never edited: change the schema by adding the next number.
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string // the file name without the version and .sql
	sql     string
}

// loadMigrations reads the migrations in dir of fsys, ordered by version.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", dir, err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || version <= 0 || name == "" {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_description.sql", dir, e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", dir, e.Name(), err)
		}
		ms = append(ms, migration{version: version, name: name, sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s: version %d appears twice", dir, ms[i].version)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("migrations %s: none found", dir)
	}
	return ms, nil
}

// createMigrationsTable records which migrations have been applied. It is
// not itself a numbered migration because it must exist before they run.
// The DDL is portable: BIGINT has INTEGER affinity in SQLite.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	name       TEXT   NOT NULL,
	applied_ms BIGINT NOT NULL
)`

// migrate applies the migrations db has not seen yet, each in its own
// transaction on the write pool, and returns how many it applied.
//
// Several processes may open a fresh database at once. Each transaction
// starts with the writer lock (BEGIN IMMEDIATE on SQLite, an advisory lock
// on PostgreSQL; see dialect.lockWriter) and only then checks
// schema_migrations, so whichever process gets the lock first applies a
// migration and the others see it recorded and skip it.
func migrate(ctx context.Context, db *sql.DB, d dialect, ms []migration, logger *slog.Logger) (int, error) {
	if err := writeTx(ctx, db, d, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, createMigrationsTable)
		return err
	}); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}

	applied := 0
	for _, m := range ms {
		var did bool
		err := writeTx(ctx, db, d, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`),
				m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			start := time.Now()
			// Both drivers run a multi-statement string when it has no
			// arguments (pgx then uses the simple protocol).
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`),
				m.version, m.name, toMillis(time.Now())); err != nil {
				return err
			}
			did = true
			logger.InfoContext(ctx, "applied schema migration",
				"version", m.version, "name", m.name, "took", time.Since(start))
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if did {
			applied++
		}
	}

	// A newer binary may have migrated this database further; say so, since
	// this binary does not know those tables.
	var latest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&latest); err != nil {
		return applied, fmt.Errorf("read schema version: %w", err)
	}
	if known := ms[len(ms)-1].version; latest.Int64 > known {
		logger.WarnContext(ctx, "database schema is newer than this binary",
			"database_version", latest.Int64, "binary_version", known)
	}
	return applied, nil
}

// writeTx runs fn in a transaction on the write pool, holding the writer
// lock: committed if fn returns nil, rolled back otherwise, including when
// fn panics (the panic then carries on).
func writeTx(ctx context.Context, db *sql.DB, d dialect, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return d.unwritable(fmt.Errorf("begin transaction: %w", err))
	}
	done := false
	defer func() {
		if !done {
			// The result does not matter: the transaction is abandoned
			// either way, and Rollback after a cancelled context reports
			// sql.ErrTxDone because database/sql already rolled it back.
			_ = tx.Rollback()
		}
	}()
	if err := d.lockWriter(ctx, tx); err != nil {
		return fmt.Errorf("take writer lock: %w", err)
	}
	if err := fn(tx); err != nil {
		return d.unwritable(err)
	}
	done = true
	if err := tx.Commit(); err != nil {
		return d.unwritable(fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}
