package store

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

	ms, err := loadMigrations(fstest.MapFS{
		"m/0010_ten.sql":   file("ten"),
		"m/0002_two.sql":   file("two"),
		"m/0001_one.sql":   file("one"),
		"m/README.md":      file("ignored"),
		"m/sub/0003_x.sql": file("ignored"),
	}, "m")
	must(t, "loadMigrations", err)
	var got []string
	for _, m := range ms {
		got = append(got, m.name+"="+m.sql)
	}
	if want := []string{"one=one", "two=two", "ten=ten"}; !slices.Equal(got, want) {
		t.Errorf("loadMigrations = %v, want %v", got, want)
	}

	for name, fsys := range map[string]fstest.MapFS{
		"no number":   {"m/init.sql": file("")},
		"zero":        {"m/0000_init.sql": file("")},
		"no name":     {"m/0001_.sql": file("")},
		"duplicate":   {"m/0001_a.sql": file(""), "m/1_b.sql": file("")},
		"empty":       {"m/README.md": file("")},
		"missing dir": {},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("loadMigrations %s: no error", name)
		}
	}

	for _, d := range []dialect{dialectSQLite, dialectPostgres} {
		if got := migrationCount(t, d); got < 1 {
			t.Errorf("embedded %s migrations: %d", d, got)
		}
	}
	// Every dialect has the same migrations.
	sq, err := loadMigrations(migrationFiles, "migrations/sqlite")
	must(t, "loadMigrations sqlite", err)
	pg, err := loadMigrations(migrationFiles, "migrations/postgres")
	must(t, "loadMigrations postgres", err)
	name := func(m migration) string { return fmt.Sprintf("%04d_%s", m.version, m.name) }
	if a, b := mapSlice(sq, name), mapSlice(pg, name); !slices.Equal(a, b) {
		t.Errorf("sqlite migrations %v, postgres migrations %v; want the same", a, b)
	}
}

func mapSlice[T, U any](s []T, f func(T) U) []U {
	out := make([]U, 0, len(s))
	for _, v := range s {
		out = append(out, f(v))
	}
	return out
}

// TestMigrateAtomic checks that a failing migration leaves no trace and is
// retried by the next run, and that applied ones are not rerun.
func TestMigrateAtomic(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "m.db"), true))
	must(t, "sql.Open", err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	testMigrateAtomic(t, db, dialectSQLite, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'b'`)
}

// testMigrateAtomic is TestMigrateAtomic on db, an empty database of
// dialect d; countB counts the tables named b.
func testMigrateAtomic(t *testing.T, db *sql.DB, d dialect, countB string) {
	ctx := t.Context()
	logger := slog.New(slog.DiscardHandler)

	good := migration{version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"}
	bad := migration{version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);"}
	n, err := migrate(ctx, db, d, []migration{good, bad}, logger)
	if err == nil || !strings.Contains(err.Error(), "0002_b") {
		t.Fatalf("migrate with a bad migration = %d, %v", n, err)
	}
	if n != 1 {
		t.Errorf("migrate applied %d before failing, want 1", n)
	}
	var tables int
	must(t, "count table b", db.QueryRowContext(ctx, countB).Scan(&tables))
	if tables != 0 {
		t.Error("failed migration left table b behind")
	}

	fixed := migration{version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER);"}
	n, err = migrate(ctx, db, d, []migration{good, fixed}, logger)
	must(t, "migrate fixed", err)
	if n != 1 {
		t.Errorf("migrate fixed applied %d, want 1", n)
	}
	n, err = migrate(ctx, db, d, []migration{good, fixed}, logger)
	must(t, "migrate again", err)
	if n != 0 {
		t.Errorf("migrate again applied %d, want 0", n)
	}
	var rows int
	must(t, "count a", db.QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&rows))
	if rows != 1 {
		t.Errorf("table a has %d rows, want 1 (migration 1 ran more than once?)", rows)
	}
}

func TestParseDSN(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs("rel/x.db")
	must(t, "Abs", err)
	for _, tc := range []struct {
		dsn     string
		dialect dialect
		target  string
	}{
		{"sqlite:///var/lib/slipway/slipway.db", dialectSQLite, "/var/lib/slipway/slipway.db"},
		{"/var/lib/slipway/slipway.db", dialectSQLite, "/var/lib/slipway/slipway.db"},
		{"sqlite://rel/x.db", dialectSQLite, abs},
		{"rel/x.db", dialectSQLite, abs},
		{"postgres://u:p@h/db", dialectPostgres, "postgres://u:p@h/db"},
		{"postgresql://h/db", dialectPostgres, "postgresql://h/db"},
	} {
		d, target, err := parseDSN(tc.dsn)
		if err != nil || d != tc.dialect || target != tc.target {
			t.Errorf("parseDSN(%q) = %v, %q, %v; want %v, %q", tc.dsn, d, target, err, tc.dialect, tc.target)
		}
	}
	for _, dsn := range []string{"", "sqlite://", ":memory:", "sqlite://:memory:", "file:x.db",
		"sqlite:///x.db?_pragma=foo", "mysql://h/db"} {
		if d, target, err := parseDSN(dsn); err == nil {
			t.Errorf("parseDSN(%q) = %v, %q; want an error", dsn, d, target)
		}
	}
}

// TestOpenPostgresErrors needs no server: a DSN that does not parse and a
// server that is not there both fail Open, without the password in the
// error.
func TestOpenPostgresErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://user:secret@localhost:notaport/slipway", "cannot parse the postgres DSN"},
		{"postgres://user:secret@127.0.0.1:1/slipway?sslmode=disable&connect_timeout=5", "postgres 127.0.0.1:1/slipway: connect:"},
	} {
		s, err := Open(t.Context(), tc.dsn, nil)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q): no error", tc.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) = %v; want an error with %q and without the password", tc.dsn, err, tc.want)
		}
	}
}

// sqlStateError mimics *pgconn.PgError.
type sqlStateError string

func (e sqlStateError) Error() string    { return "pg error " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

func TestDialect(t *testing.T) {
	t.Parallel()
	const q = `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`
	if got := dialectSQLite.rebind(q); got != q {
		t.Errorf("sqlite rebind = %q", got)
	}
	if got, want := dialectPostgres.rebind(q), `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`; got != want {
		t.Errorf("postgres rebind = %q, want %q", got, want)
	}

	wrapped := errors.Join(errors.New("context"), sqlStateError("23505"))
	if !dialectPostgres.isUniqueViolation(wrapped) {
		t.Error("postgres: 23505 is not a unique violation")
	}
	if dialectPostgres.isUniqueViolation(sqlStateError("23503")) || dialectSQLite.isUniqueViolation(wrapped) {
		t.Error("unique violation reported for another error")
	}
}
