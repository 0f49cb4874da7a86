package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The BuildQueries part of the conformance suite. exerciseBuilds runs it on
// the Stores open returns; TestSQLiteBuilds and TestPostgresBuilds run it
// on both databases.
func exerciseBuilds(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"BuildProjects", testBuildProjects},
		{"Secrets", testSecrets},
		{"ActionLogs", testActionLogs},
		{"ActionLogsConcurrent", testActionLogsConcurrent},
		{"BuildsInTx", testBuildsInTx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

func TestSQLiteBuilds(t *testing.T) {
	t.Parallel()
	exerciseBuilds(t, openSQLiteTemp)
}

func TestPostgresBuilds(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseBuilds(t, openPostgresTemp)
}

func projectName(p *BuildProject) string { return p.Name }
func secretName(s *Secret) string        { return s.Name }

func testBuildProjects(t *testing.T, s Store) {
	ctx := t.Context()
	ps, err := s.ListBuildProjects(ctx)
	wantKeys(t, "ListBuildProjects empty", ps, err, projectName)
	_, err = s.GetBuildProject(ctx, "web")
	wantErr(t, "GetBuildProject missing", err, ErrNotFound)
	wantErr(t, "DeleteBuildProject missing", s.DeleteBuildProject(ctx, "web"), ErrNotFound)
	wantErr(t, "UpdateBuildProject missing", s.UpdateBuildProject(ctx, &BuildProject{Name: "web", Declaration: []byte(`{}`)}), ErrNotFound)

	web := &BuildProject{Name: "web", Declaration: []byte(`{"name":"web","buildspecPath":"ci/buildspec.yml"}`), Created: at(0), Updated: at(0)}
	api := &BuildProject{Name: "API"} // times from the store, no declaration
	und := &BuildProject{Name: "_x", Declaration: []byte(`{"name":"_x"}`), Created: at(time.Minute), Updated: at(time.Minute)}
	before := time.Now().Add(-time.Second)
	for _, p := range []*BuildProject{web, api, und} {
		must(t, "CreateBuildProject "+p.Name, s.CreateBuildProject(ctx, p))
	}
	if api.Created.Before(before) || !api.Updated.Equal(api.Created) || api.Created.Location() != time.UTC {
		t.Errorf("zero times were set to %v / %v, want the current UTC time", api.Created, api.Updated)
	}
	wantErr(t, "CreateBuildProject duplicate", s.CreateBuildProject(ctx, &BuildProject{Name: "web", Declaration: []byte(`{}`)}), ErrExists)

	got, err := s.GetBuildProject(ctx, "web")
	must(t, "GetBuildProject web", err)
	wantEqual(t, "GetBuildProject web", got, web)
	got, err = s.GetBuildProject(ctx, "API")
	must(t, "GetBuildProject API", err)
	wantEqual(t, "GetBuildProject API", got, api)
	_, err = s.GetBuildProject(ctx, "Web")
	wantErr(t, "GetBuildProject is case-sensitive", err, ErrNotFound)

	// Byte-wise order on every database: "API" < "_x" < "web".
	ps, err = s.ListBuildProjects(ctx)
	wantKeys(t, "ListBuildProjects", ps, err, projectName, "API", "_x", "web")
	wantEqual(t, "ListBuildProjects", ps, []*BuildProject{api, und, web})

	// Updating replaces the declaration and keeps the creation time.
	upd := &BuildProject{Name: "web", Declaration: []byte(`{"name":"web","buildspec":"version: 0.2"}`), Created: at(time.Hour), Updated: at(time.Hour)}
	must(t, "UpdateBuildProject", s.UpdateBuildProject(ctx, upd))
	want := &BuildProject{Name: "web", Declaration: upd.Declaration, Created: at(0), Updated: at(time.Hour)}
	wantEqual(t, "updated project as written back", upd, want)
	got, err = s.GetBuildProject(ctx, "web")
	must(t, "GetBuildProject updated", err)
	wantEqual(t, "GetBuildProject updated", got, want)

	must(t, "DeleteBuildProject", s.DeleteBuildProject(ctx, "web"))
	_, err = s.GetBuildProject(ctx, "web")
	wantErr(t, "GetBuildProject deleted", err, ErrNotFound)
	wantErr(t, "DeleteBuildProject twice", s.DeleteBuildProject(ctx, "web"), ErrNotFound)
	ps, err = s.ListBuildProjects(ctx)
	wantKeys(t, "ListBuildProjects after delete", ps, err, projectName, "API", "_x")
}

func testSecrets(t *testing.T, s Store) {
	ctx := t.Context()
	ss, err := s.ListSecrets(ctx)
	wantKeys(t, "ListSecrets empty", ss, err, secretName)
	_, err = s.GetSecret(ctx, "db")
	wantErr(t, "GetSecret missing", err, ErrNotFound)
	wantErr(t, "DeleteSecret missing", s.DeleteSecret(ctx, "db"), ErrNotFound)

	// Sealed values are opaque bytes, zero bytes included; names may be
	// parameter paths.
	db := &Secret{Name: "db", SealedValue: []byte{1, 0, 2, 0xff}, Created: at(0), Updated: at(0)}
	param := &Secret{Name: "/prod/api/token", SealedValue: []byte("sealed")}
	for _, x := range []*Secret{db, param} {
		must(t, "PutSecret "+x.Name, s.PutSecret(ctx, x))
	}
	got, err := s.GetSecret(ctx, "db")
	must(t, "GetSecret db", err)
	wantEqual(t, "GetSecret db", got, db)
	got, err = s.GetSecret(ctx, "/prod/api/token")
	must(t, "GetSecret path", err)
	wantEqual(t, "GetSecret path", got, param)
	ss, err = s.ListSecrets(ctx)
	wantKeys(t, "ListSecrets", ss, err, secretName, "/prod/api/token", "db")

	// Replacing keeps the creation time.
	repl := &Secret{Name: "db", SealedValue: []byte("new"), Created: at(time.Hour), Updated: at(time.Hour)}
	must(t, "PutSecret replace", s.PutSecret(ctx, repl))
	want := &Secret{Name: "db", SealedValue: []byte("new"), Created: at(0), Updated: at(time.Hour)}
	wantEqual(t, "replaced secret as written back", repl, want)
	got, err = s.GetSecret(ctx, "db")
	must(t, "GetSecret replaced", err)
	wantEqual(t, "GetSecret replaced", got, want)

	must(t, "DeleteSecret", s.DeleteSecret(ctx, "db"))
	_, err = s.GetSecret(ctx, "db")
	wantErr(t, "GetSecret deleted", err, ErrNotFound)
	ss, err = s.ListSecrets(ctx)
	wantKeys(t, "ListSecrets after delete", ss, err, secretName, "/prod/api/token")
}

func testActionLogs(t *testing.T, s Store) {
	ctx := t.Context()
	cs, err := s.ReadActionLog(ctx, "run-a", 0, 0)
	must(t, "ReadActionLog empty", err)
	if cs == nil || len(cs) != 0 {
		t.Errorf("ReadActionLog of an empty log = %#v, want an empty non-nil slice", cs)
	}

	before := time.Now().Add(-time.Second)
	var want []string
	for i := range 5 {
		data := fmt.Appendf(nil, "line %d\n", i)
		if i == 2 {
			data = []byte{0, 0xff, '\n'} // raw bytes, not necessarily UTF-8
		}
		seq, err := s.AppendActionLog(ctx, "run-a", data)
		must(t, "AppendActionLog", err)
		if seq != int64(i+1) {
			t.Errorf("chunk %d got seq %d, want %d", i, seq, i+1)
		}
		want = append(want, string(data))
	}
	// Another run's log is numbered on its own.
	seq, err := s.AppendActionLog(ctx, "run-b", []byte("other"))
	must(t, "AppendActionLog run-b", err)
	if seq != 1 {
		t.Errorf("first chunk of run-b got seq %d, want 1", seq)
	}
	seq, err = s.AppendActionLog(ctx, "run-b", nil)
	must(t, "AppendActionLog empty chunk", err)
	if seq != 2 {
		t.Errorf("second chunk of run-b got seq %d, want 2", seq)
	}

	cs, err = s.ReadActionLog(ctx, "run-a", 0, 0)
	must(t, "ReadActionLog all", err)
	if len(cs) != 5 {
		t.Fatalf("ReadActionLog all returned %d chunks, want 5", len(cs))
	}
	for i, c := range cs {
		if c.Seq != int64(i+1) || string(c.Data) != want[i] {
			t.Errorf("chunk %d = seq %d %q, want seq %d %q", i, c.Seq, c.Data, i+1, want[i])
		}
		if c.Time.Before(before) || c.Time.Location() != time.UTC {
			t.Errorf("chunk %d time = %v, want the current UTC time", i, c.Time)
		}
	}

	// Paging: after a sequence number, with a limit.
	cs, err = s.ReadActionLog(ctx, "run-a", 1, 2)
	must(t, "ReadActionLog page", err)
	if len(cs) != 2 || cs[0].Seq != 2 || cs[1].Seq != 3 || !bytes.Equal(cs[1].Data, []byte(want[2])) {
		t.Errorf("ReadActionLog(after 1, limit 2) = %+v, want chunks 2 and 3", cs)
	}
	cs, err = s.ReadActionLog(ctx, "run-a", 5, 10)
	must(t, "ReadActionLog at the end", err)
	if len(cs) != 0 {
		t.Errorf("ReadActionLog after the last chunk = %+v, want none", cs)
	}
	cs, err = s.ReadActionLog(ctx, "run-b", 1, 0)
	must(t, "ReadActionLog run-b", err)
	if len(cs) != 1 || cs[0].Seq != 2 || cs[0].Data == nil || len(cs[0].Data) != 0 {
		t.Errorf("empty chunk reads back as %+v, want seq 2 with empty non-nil data", cs)
	}
}

// testActionLogsConcurrent: appends from many goroutines get distinct,
// gapless sequence numbers.
func testActionLogsConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	const n = 40
	var wg sync.WaitGroup
	seqs := make(chan int64, n)
	for i := range n {
		wg.Go(func() {
			seq, err := s.AppendActionLog(ctx, "run", fmt.Appendf(nil, "%d", i))
			if err != nil {
				t.Errorf("AppendActionLog: %v", err)
				return
			}
			seqs <- seq
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[int64]bool{}
	for seq := range seqs {
		if seen[seq] {
			t.Errorf("seq %d handed out twice", seq)
		}
		seen[seq] = true
	}
	for i := int64(1); i <= n; i++ {
		if !seen[i] {
			t.Errorf("seq %d missing", i)
		}
	}
}

func testBuildsInTx(t *testing.T, s Store) {
	ctx := t.Context()
	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(q Queries) error {
		// Misses leave the transaction usable (PostgreSQL aborts a
		// transaction on any failed statement).
		if err := q.DeleteSecret(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteSecret missing in tx: %v, want ErrNotFound", err)
		}
		if err := q.UpdateBuildProject(ctx, &BuildProject{Name: "x"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateBuildProject missing in tx: %v, want ErrNotFound", err)
		}
		must(t, "CreateBuildProject in tx", q.CreateBuildProject(ctx, &BuildProject{Name: "x", Declaration: []byte(`{}`)}))
		if err := q.CreateBuildProject(ctx, &BuildProject{Name: "x"}); !errors.Is(err, ErrExists) {
			t.Errorf("CreateBuildProject duplicate in tx: %v, want ErrExists", err)
		}
		must(t, "PutSecret in tx", q.PutSecret(ctx, &Secret{Name: "x", SealedValue: []byte("s")}))
		for want := int64(1); want <= 2; want++ {
			seq, err := q.AppendActionLog(ctx, "run", []byte("x"))
			must(t, "AppendActionLog in tx", err)
			if seq != want {
				t.Errorf("AppendActionLog in tx = %d, want %d", seq, want)
			}
		}
		cs, err := q.ReadActionLog(ctx, "run", 0, 0)
		must(t, "ReadActionLog in tx", err)
		if len(cs) != 2 {
			t.Errorf("ReadActionLog in tx sees %d chunks, want its own 2", len(cs))
		}
		return errRollback
	})
	wantErr(t, "InTx", err, errRollback)
	_, err = s.GetBuildProject(ctx, "x")
	wantErr(t, "GetBuildProject after rollback", err, ErrNotFound)
	_, err = s.GetSecret(ctx, "x")
	wantErr(t, "GetSecret after rollback", err, ErrNotFound)
	cs, err := s.ReadActionLog(ctx, "run", 0, 0)
	must(t, "ReadActionLog after rollback", err)
	if len(cs) != 0 {
		t.Errorf("rolled-back chunks are visible: %+v", cs)
	}
	seq, err := s.AppendActionLog(ctx, "run", []byte("y"))
	must(t, "AppendActionLog after rollback", err)
	if seq != 1 {
		t.Errorf("first chunk after a rollback got seq %d, want 1", seq)
	}
}
