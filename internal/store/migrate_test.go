package store

import (
	"database/sql"
	"errors"
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

	if got := sqliteMigrationCount(t); got < 1 {
		t.Errorf("embedded sqlite migrations: %d", got)
	}
}

// TestMigrateAtomic checks that a failing migration leaves no trace and is
// retried by the next run, and that applied ones are not rerun.
func TestMigrateAtomic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "m.db"), true))
	must(t, "sql.Open", err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	logger := slog.New(slog.DiscardHandler)

	good := migration{version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"}
	bad := migration{version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);"}
	n, err := migrate(ctx, db, dialectSQLite, []migration{good, bad}, logger)
	if err == nil || !strings.Contains(err.Error(), "0002_b") {
		t.Fatalf("migrate with a bad migration = %d, %v", n, err)
	}
	if n != 1 {
		t.Errorf("migrate applied %d before failing, want 1", n)
	}
	var tables int
	must(t, "count table b", db.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'b'`).Scan(&tables))
	if tables != 0 {
		t.Error("failed migration left table b behind")
	}

	fixed := migration{version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER);"}
	n, err = migrate(ctx, db, dialectSQLite, []migration{good, fixed}, logger)
	must(t, "migrate fixed", err)
	if n != 1 {
		t.Errorf("migrate fixed applied %d, want 1", n)
	}
	n, err = migrate(ctx, db, dialectSQLite, []migration{good, fixed}, logger)
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

func TestOpenPostgresNotBuilt(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), "postgres://user:secret@localhost/slipway", nil)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open postgres: no error")
	}
	if !strings.Contains(err.Error(), "not built yet") || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open postgres: %v", err)
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
