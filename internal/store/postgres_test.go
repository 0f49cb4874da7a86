package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// postgresDSNEnv names the PostgreSQL server the tests use: a postgres://
// URL for a role that may create databases. Every test creates databases
// of its own through it and drops them when it ends.
const postgresDSNEnv = "SLIPWAY_TEST_POSTGRES_DSN"

// postgresAdminDSN returns the DSN from postgresDSNEnv. When it is unset it
// fails t under CI (CI=true: CI must never skip these silently) and skips
// t otherwise.
func postgresAdminDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(postgresDSNEnv)
	switch {
	case dsn != "":
		return dsn
	case os.Getenv("CI") == "true":
		t.Fatalf("%s is not set and CI=true: CI must run the PostgreSQL tests (.ci/run's PostgreSQL step sets it)", postgresDSNEnv)
	default:
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://slipway:slipway@127.0.0.1:5432/slipway?sslmode=disable "+
			"(a role with CREATEDB) to run them; README, Usage, PostgreSQL shows how to start a server", postgresDSNEnv)
	}
	return ""
}

// openPostgresAdmin connects to the admin DSN with pgx's database/sql
// driver.
func openPostgresAdmin(t testing.TB, admin string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", postgresDSNEnv, err)
	}
	return db
}

// createPostgresDB creates an empty database for t, dropped when t ends,
// and returns its DSN. A database per test, rather than a schema, gives
// every test the whole of what a server gets: its own writer lock
// (advisory locks are per database) and public schema.
//
// The database collates text with ICU's "en" where the server has ICU, so
// that "a" sorts before "B" unless a column says COLLATE "C": the ordering
// tests then prove the schema does.
func createPostgresDB(t testing.TB, admin string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Not printed: it may hold a password.
		t.Fatalf("%s must be a postgres:// URL", postgresDSNEnv)
	}
	name := "slipway_test_" + hex.EncodeToString(randomBytes(t, 8))

	db := openPostgresAdmin(t, admin)
	defer db.Close()
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name+
		` TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en'`); err != nil {
		t.Logf("create database with ICU collation: %v; using the server's default", err)
		if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0`); err != nil {
			t.Fatalf("create database %s: %v", name, err)
		}
	}
	t.Cleanup(func() { dropPostgresDB(t, admin, name) })

	u.Path = "/" + name
	return u.String()
}

// dropPostgresDB drops the test database name, ending any session still on
// it (a Store that failed to close, say).
func dropPostgresDB(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := openPostgresAdmin(t, admin)
	defer db.Close()
	// Only our own sessions can be ended; others (an autovacuum worker,
	// say) are left to DROP DATABASE ... WITH (FORCE), which waits for or
	// ends them as the server allows.
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid() AND usename = current_user`, name); err != nil {
		t.Errorf("end sessions on %s: %v", name, err)
	}
	var err error
	for range 20 {
		if _, err = db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond) // a short-lived session of the server's own
	}
	t.Errorf("drop database %s: %v", name, err)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// openPostgresTemp opens a Store on a new database.
func openPostgresTemp(t *testing.T) Store {
	t.Helper()
	return openTest(t, createPostgresDB(t, postgresAdminDSN(t)), testLogger(t))
}

// TestPostgres runs the conformance suite on PostgreSQL.
func TestPostgres(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exercise(t, openPostgresTemp)
}

func TestPostgresReopen(t *testing.T) {
	t.Parallel()
	dsn := createPostgresDB(t, postgresAdminDSN(t))
	testReopen(t, dsn, dsn, migrationCount(t, dialectPostgres))
}

// TestPostgresConcurrentOpen opens a fresh database from four Stores at
// once, as servers starting together would: the advisory lock around each
// migration must make exactly one of them apply it.
func TestPostgresConcurrentOpen(t *testing.T) {
	t.Parallel()
	admin := postgresAdminDSN(t)
	for round := range 3 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			t.Parallel()
			testConcurrentOpen(t, createPostgresDB(t, admin), 4, migrationCount(t, dialectPostgres))
		})
	}
}

func TestPostgresMigrateAtomic(t *testing.T) {
	t.Parallel()
	db := openPostgresAdmin(t, createPostgresDB(t, postgresAdminDSN(t)))
	t.Cleanup(func() { _ = db.Close() })
	testMigrateAtomic(t, db, dialectPostgres,
		`SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'b'`)
}

// column is a column as TestPostgresSchema compares them.
type column struct {
	table, name, typ string
	pk               bool
	collation        string // postgres only
}

// TestPostgresSchema checks that the postgres migrations make the same
// tables as the sqlite ones, with the types the conventions in
// migrations/*/0001_init.sql say, and every text key column COLLATE "C".
func TestPostgresSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg := openPostgresTemp(t).(*sqlStore).readPool
	lite := openSQLiteTemp(t).(*sqlStore).readPool

	query := func(db *sql.DB, q string) []column {
		t.Helper()
		rows, err := db.QueryContext(ctx, q)
		must(t, "query columns", err)
		defer rows.Close()
		var cs []column
		for rows.Next() {
			var c column
			must(t, "scan column", rows.Scan(&c.table, &c.name, &c.typ, &c.pk, &c.collation))
			cs = append(cs, c)
		}
		must(t, "read columns", rows.Err())
		return cs
	}
	liteCols := query(lite, `SELECT m.name, p.name, p.type, p.pk > 0, ''
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
ORDER BY m.name, p.cid`)
	pgCols := query(pg, `SELECT c.table_name, c.column_name, c.data_type,
	EXISTS (SELECT 1 FROM information_schema.table_constraints tc
		JOIN information_schema.key_column_usage k
		ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name
		WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema
		AND tc.table_name = c.table_name AND k.column_name = c.column_name),
	COALESCE(c.collation_name, '')
FROM information_schema.columns c
WHERE c.table_schema = current_schema()
ORDER BY c.table_name, c.ordinal_position`)

	if len(liteCols) == 0 || len(liteCols) != len(pgCols) {
		t.Fatalf("sqlite has %d columns, postgres %d:\nsqlite   %v\npostgres %v", len(liteCols), len(pgCols), liteCols, pgCols)
	}
	// The postgres types each sqlite type may become.
	types := map[string][]string{
		"TEXT":    {"text"},
		"BLOB":    {"bytea"},
		"INTEGER": {"integer", "bigint"},
		"BIGINT":  {"bigint"},
	}
	for i, l := range liteCols {
		p := pgCols[i]
		where := p.table + "." + p.name
		switch {
		case l.table != p.table || l.name != p.name || l.pk != p.pk:
			t.Errorf("column %d: sqlite %+v, postgres %+v", i, l, p)
		case !slices.Contains(types[strings.ToUpper(l.typ)], p.typ):
			t.Errorf("%s: sqlite %s, postgres %s; want one of %v", where, l.typ, p.typ, types[strings.ToUpper(l.typ)])
		case strings.HasSuffix(p.name, "_ms") && p.typ != "bigint":
			t.Errorf("%s: %s, want bigint milliseconds", where, p.typ)
		case p.pk && p.typ == "text" && p.collation != "C":
			t.Errorf(`%s: collation %q, want "C" (byte-wise, as SQLite)`, where, p.collation)
		}
	}
}
