package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSQLite runs the conformance suite on SQLite files. TestPostgres
// (postgres_test.go) runs it on PostgreSQL.
func TestSQLite(t *testing.T) {
	t.Parallel()
	exercise(t, openSQLiteTemp)
}

// openSQLiteTemp opens a Store on a new SQLite file in t.TempDir().
func openSQLiteTemp(t *testing.T) Store {
	t.Helper()
	return openTest(t, "sqlite://"+filepath.Join(t.TempDir(), "slipway.db"), testLogger(t))
}

// openTest opens dsn and closes the Store when t ends.
func openTest(t *testing.T, dsn string, logger *slog.Logger) Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// exercise is the conformance suite every Store must pass. open must return
// an empty, migrated Store that is closed when its test ends; every subtest
// opens its own, so they run in parallel.
func exercise(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Pipelines", func(t *testing.T) {
		t.Parallel()
		testPipelines(t, open(t))
	})
	t.Run("ListPipelines", func(t *testing.T) {
		t.Parallel()
		testListPipelines(t, open(t))
	})
	t.Run("Tags", func(t *testing.T) {
		t.Parallel()
		testTags(t, open(t))
	})
	t.Run("ActionTypes", func(t *testing.T) {
		t.Parallel()
		testActionTypes(t, open(t))
	})
	t.Run("AccessKeys", func(t *testing.T) {
		t.Parallel()
		testAccessKeys(t, open(t))
	})
	t.Run("Settings", func(t *testing.T) {
		t.Parallel()
		testSettings(t, open(t))
	})
	t.Run("InTxCommit", func(t *testing.T) {
		t.Parallel()
		testInTxCommit(t, open(t))
	})
	t.Run("InTxRollback", func(t *testing.T) {
		t.Parallel()
		testInTxRollback(t, open(t))
	})
	t.Run("InTxPanic", func(t *testing.T) {
		t.Parallel()
		testInTxPanic(t, open(t))
	})
	t.Run("InTxAfterExists", func(t *testing.T) {
		t.Parallel()
		testInTxAfterExists(t, open(t))
	})
	t.Run("ConcurrentIncrements", func(t *testing.T) {
		t.Parallel()
		testConcurrentIncrements(t, open(t))
	})
	t.Run("PlainWriteDuringTx", func(t *testing.T) {
		t.Parallel()
		testPlainWriteDuringTx(t, open(t))
	})
	t.Run("InTxWaitEndsWithContext", func(t *testing.T) {
		t.Parallel()
		testInTxWaitEndsWithContext(t, open(t))
	})

	// Runs (runs_test.go).
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Counters", testCounters},
		{"Executions", testExecutions},
		{"StageRuns", testStageRuns},
		{"ActionRuns", testActionRuns},
		{"Jobs", testJobs},
		{"Transitions", testTransitions},
		{"Events", testEvents},
		{"DeletePipelineRuns", testDeletePipelineRuns},
		{"RunsInTx", testRunsInTx},
		{"ConcurrentDispatch", testConcurrentDispatch},
		// Notifications and agent liveness (notifications_test.go).
		{"Notifications", testNotifications},
		{"NotificationsInTx", testNotificationsInTx},
		{"AgentSeen", testAgentSeen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testPipelines(t *testing.T, s Store) {
	ctx := t.Context()

	// Timestamps come back in UTC, at millisecond precision.
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	p1 := &Pipeline{Name: "alpha", Version: 1, Declaration: []byte(`{"v":1}`), Created: created, Updated: created}
	must(t, "CreatePipeline", s.CreatePipeline(ctx, p1))
	got, err := s.GetPipeline(ctx, "alpha")
	must(t, "GetPipeline", err)
	wantCreated := created.Truncate(time.Millisecond).UTC()
	if got.Name != "alpha" || got.Version != 1 || string(got.Declaration) != `{"v":1}` ||
		!got.Created.Equal(wantCreated) || got.Created.Location() != time.UTC || !got.Updated.Equal(wantCreated) {
		t.Fatalf("GetPipeline = %+v", got)
	}

	err = s.CreatePipeline(ctx, &Pipeline{Name: "alpha", Version: 1, Declaration: []byte(`{}`)})
	wantErr(t, "duplicate CreatePipeline", err, ErrExists)

	_, err = s.GetPipeline(ctx, "nope")
	wantErr(t, "GetPipeline missing", err, ErrNotFound)
	if want := `get pipeline "nope"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	_, err = s.GetPipelineVersion(ctx, "alpha", 2)
	wantErr(t, "GetPipelineVersion missing", err, ErrNotFound)

	// Update with the right expected version; zero timestamps are filled,
	// Created from the previous version.
	p2 := &Pipeline{Name: "alpha", Version: 2, Declaration: []byte(`{"v":2}`)}
	before := time.Now().Add(-time.Second)
	must(t, "UpdatePipeline v2", s.UpdatePipeline(ctx, p2))
	if !p2.Created.Equal(wantCreated) || p2.Updated.Before(before) {
		t.Errorf("UpdatePipeline filled Created=%v Updated=%v", p2.Created, p2.Updated)
	}

	// Wrong expected versions: stale, and skipping ahead.
	err = s.UpdatePipeline(ctx, &Pipeline{Name: "alpha", Version: 2, Declaration: []byte(`{"v":"stale"}`)})
	wantErr(t, "stale UpdatePipeline", err, ErrConflict)
	err = s.UpdatePipeline(ctx, &Pipeline{Name: "alpha", Version: 4, Declaration: []byte(`{}`)})
	wantErr(t, "skipping UpdatePipeline", err, ErrConflict)
	err = s.UpdatePipeline(ctx, &Pipeline{Name: "nope", Version: 2, Declaration: []byte(`{}`)})
	wantErr(t, "UpdatePipeline missing", err, ErrNotFound)

	got, err = s.GetPipeline(ctx, "alpha")
	must(t, "GetPipeline after update", err)
	if got.Version != 2 || string(got.Declaration) != `{"v":2}` || !got.Created.Equal(wantCreated) {
		t.Errorf("GetPipeline after update = %+v", got)
	}
	old, err := s.GetPipelineVersion(ctx, "alpha", 1)
	must(t, "GetPipelineVersion 1", err)
	if old.Version != 1 || string(old.Declaration) != `{"v":1}` {
		t.Errorf("GetPipelineVersion 1 = %+v", old)
	}
	v2, err := s.GetPipelineVersion(ctx, "alpha", 2)
	must(t, "GetPipelineVersion 2", err)
	if string(v2.Declaration) != `{"v":2}` {
		t.Errorf("GetPipelineVersion 2 = %+v", v2)
	}

	// Delete removes every version; the name can then be reused from 1.
	must(t, "DeletePipeline", s.DeletePipeline(ctx, "alpha"))
	_, err = s.GetPipeline(ctx, "alpha")
	wantErr(t, "GetPipeline deleted", err, ErrNotFound)
	_, err = s.GetPipelineVersion(ctx, "alpha", 1)
	wantErr(t, "GetPipelineVersion deleted", err, ErrNotFound)
	wantErr(t, "DeletePipeline again", s.DeletePipeline(ctx, "alpha"), ErrNotFound)
	must(t, "CreatePipeline reused name",
		s.CreatePipeline(ctx, &Pipeline{Name: "alpha", Version: 1, Declaration: []byte(`{"v":"new"}`)}))
	got, err = s.GetPipeline(ctx, "alpha")
	must(t, "GetPipeline reused name", err)
	if got.Version != 1 || string(got.Declaration) != `{"v":"new"}` {
		t.Errorf("GetPipeline reused name = %+v", got)
	}
}

func pipelineNames(ps []*Pipeline) []string {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

func testListPipelines(t *testing.T, s Store) {
	ctx := t.Context()
	n, err := s.CountPipelines(ctx)
	must(t, "CountPipelines empty", err)
	if n != 0 {
		t.Fatalf("CountPipelines empty = %d", n)
	}
	all, err := s.ListPipelines(ctx, Page{})
	must(t, "ListPipelines empty", err)
	if len(all) != 0 {
		t.Fatalf("ListPipelines empty = %v", pipelineNames(all))
	}

	for _, name := range []string{"c", "a", "e", "B", "d", "b"} {
		must(t, "CreatePipeline "+name,
			s.CreatePipeline(ctx, &Pipeline{Name: name, Version: 1, Declaration: []byte(name)}))
	}
	must(t, "UpdatePipeline c",
		s.UpdatePipeline(ctx, &Pipeline{Name: "c", Version: 2, Declaration: []byte("c2")}))

	n, err = s.CountPipelines(ctx)
	must(t, "CountPipelines", err)
	if n != 6 {
		t.Errorf("CountPipelines = %d, want 6", n)
	}

	// Names order byte-wise ("B" before "a") on every database.
	for _, tc := range []struct {
		page Page
		want []string
	}{
		{Page{}, []string{"B", "a", "b", "c", "d", "e"}},
		{Page{Limit: -1}, []string{"B", "a", "b", "c", "d", "e"}},
		{Page{Limit: 2}, []string{"B", "a"}},
		{Page{After: "a", Limit: 2}, []string{"b", "c"}},
		{Page{After: "c", Limit: 2}, []string{"d", "e"}},
		{Page{After: "d"}, []string{"e"}},
		{Page{After: "e", Limit: 2}, []string{}},
		{Page{After: "bb"}, []string{"c", "d", "e"}},
	} {
		ps, err := s.ListPipelines(ctx, tc.page)
		must(t, fmt.Sprintf("ListPipelines(%+v)", tc.page), err)
		if got := pipelineNames(ps); !slices.Equal(got, tc.want) {
			t.Errorf("ListPipelines(%+v) = %q, want %q", tc.page, got, tc.want)
		}
	}

	// Listing shows the latest version.
	ps, err := s.ListPipelines(ctx, Page{After: "b", Limit: 1})
	must(t, "ListPipelines c", err)
	if len(ps) != 1 || ps[0].Version != 2 || string(ps[0].Declaration) != "c2" {
		t.Errorf("ListPipelines c = %+v", ps)
	}
}

func testTags(t *testing.T, s Store) {
	ctx := t.Context()
	const arn1, arn2 = "arn:aws:codepipeline:eu-west-1:123:one", "arn:aws:codepipeline:eu-west-1:123:two"
	list := func(arn string, want ...Tag) {
		t.Helper()
		got, err := s.ListTags(ctx, arn)
		must(t, "ListTags", err)
		if want == nil {
			want = []Tag{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("ListTags(%s) = %v, want %v", arn, got, want)
		}
	}

	list(arn1)
	must(t, "TagResource none", s.TagResource(ctx, arn1, nil))
	must(t, "TagResource", s.TagResource(ctx, arn1, []Tag{{"b", "1"}, {"a", "2"}}))
	must(t, "TagResource other", s.TagResource(ctx, arn2, []Tag{{"a", "x"}}))
	list(arn1, Tag{"a", "2"}, Tag{"b", "1"})

	must(t, "TagResource replace", s.TagResource(ctx, arn1, []Tag{{"a", "3"}, {"c", "4"}}))
	list(arn1, Tag{"a", "3"}, Tag{"b", "1"}, Tag{"c", "4"})

	must(t, "UntagResource", s.UntagResource(ctx, arn1, []string{"b", "missing"}))
	must(t, "UntagResource none", s.UntagResource(ctx, arn1, nil))
	list(arn1, Tag{"a", "3"}, Tag{"c", "4"})

	must(t, "DeleteTags", s.DeleteTags(ctx, arn1))
	must(t, "DeleteTags again", s.DeleteTags(ctx, arn1))
	list(arn1)
	list(arn2, Tag{"a", "x"})
}

func testActionTypes(t *testing.T, s Store) {
	ctx := t.Context()
	key := func(provider, version string) ActionTypeKey {
		return ActionTypeKey{Category: "Build", Owner: "Custom", Provider: provider, Version: version}
	}
	at := &ActionType{ActionTypeKey: key("Make", "2"), Declaration: []byte(`{"id":1}`)}
	must(t, "CreateActionType", s.CreateActionType(ctx, at))
	if at.Created.IsZero() {
		t.Error("CreateActionType did not fill Created")
	}
	wantErr(t, "duplicate CreateActionType",
		s.CreateActionType(ctx, &ActionType{ActionTypeKey: key("Make", "2"), Declaration: []byte(`{}`)}), ErrExists)
	must(t, "CreateActionType 1", s.CreateActionType(ctx, &ActionType{ActionTypeKey: key("Make", "1"), Declaration: []byte(`{}`)}))
	must(t, "CreateActionType Ant", s.CreateActionType(ctx, &ActionType{ActionTypeKey: key("Ant", "9"), Declaration: []byte(`{}`)}))

	got, err := s.GetActionType(ctx, key("Make", "2"))
	must(t, "GetActionType", err)
	if got.ActionTypeKey != key("Make", "2") || string(got.Declaration) != `{"id":1}` || !got.Created.Equal(at.Created) {
		t.Errorf("GetActionType = %+v, want %+v", got, at)
	}
	_, err = s.GetActionType(ctx, key("Make", "3"))
	wantErr(t, "GetActionType missing", err, ErrNotFound)

	all, err := s.ListActionTypes(ctx)
	must(t, "ListActionTypes", err)
	var keys []ActionTypeKey
	for _, a := range all {
		keys = append(keys, a.ActionTypeKey)
	}
	if want := []ActionTypeKey{key("Ant", "9"), key("Make", "1"), key("Make", "2")}; !slices.Equal(keys, want) {
		t.Errorf("ListActionTypes = %v, want %v", keys, want)
	}

	must(t, "DeleteActionType", s.DeleteActionType(ctx, key("Make", "1")))
	wantErr(t, "DeleteActionType again", s.DeleteActionType(ctx, key("Make", "1")), ErrNotFound)
	_, err = s.GetActionType(ctx, key("Make", "1"))
	wantErr(t, "GetActionType deleted", err, ErrNotFound)
	all, err = s.ListActionTypes(ctx)
	must(t, "ListActionTypes after delete", err)
	if len(all) != 2 {
		t.Errorf("ListActionTypes after delete has %d", len(all))
	}
}

func testAccessKeys(t *testing.T, s Store) {
	ctx := t.Context()
	secret := []byte{0, 1, 2, 0xff, 0}
	k := &AccessKey{ID: "AKIDB", SealedSecret: secret, UserName: "admin"}
	must(t, "CreateAccessKey", s.CreateAccessKey(ctx, k))
	wantErr(t, "duplicate CreateAccessKey",
		s.CreateAccessKey(ctx, &AccessKey{ID: "AKIDB", SealedSecret: []byte("x"), UserName: "other"}), ErrExists)
	must(t, "CreateAccessKey A",
		s.CreateAccessKey(ctx, &AccessKey{ID: "AKIDA", SealedSecret: []byte("y"), UserName: "ci"}))

	got, err := s.GetAccessKey(ctx, "AKIDB")
	must(t, "GetAccessKey", err)
	if got.ID != "AKIDB" || !bytes.Equal(got.SealedSecret, secret) || got.UserName != "admin" || !got.Created.Equal(k.Created) {
		t.Errorf("GetAccessKey = %+v, want %+v", got, k)
	}
	_, err = s.GetAccessKey(ctx, "AKIDC")
	wantErr(t, "GetAccessKey missing", err, ErrNotFound)

	all, err := s.ListAccessKeys(ctx)
	must(t, "ListAccessKeys", err)
	if len(all) != 2 || all[0].ID != "AKIDA" || all[1].ID != "AKIDB" {
		t.Errorf("ListAccessKeys = %+v", all)
	}
}

func testSettings(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetSetting(ctx, "region")
	wantErr(t, "GetSetting unset", err, ErrNotFound)
	for _, v := range []string{"eu-west-1", "us-east-1", ""} {
		must(t, "PutSetting", s.PutSetting(ctx, "region", v))
		got, err := s.GetSetting(ctx, "region")
		must(t, "GetSetting", err)
		if got != v {
			t.Errorf("GetSetting = %q, want %q", got, v)
		}
	}
}

// txContext bounds a transaction test, so that a transaction waiting on
// itself fails instead of hanging.
func txContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// writeAll writes one of everything through q.
func writeAll(ctx context.Context, q Queries) error {
	if err := q.CreatePipeline(ctx, &Pipeline{Name: "p", Version: 1, Declaration: []byte(`{}`)}); err != nil {
		return err
	}
	if err := q.UpdatePipeline(ctx, &Pipeline{Name: "p", Version: 2, Declaration: []byte(`{"v":2}`)}); err != nil {
		return err
	}
	if err := q.TagResource(ctx, "arn:p", []Tag{{"k", "v"}, {"k2", "v2"}}); err != nil {
		return err
	}
	if err := q.UntagResource(ctx, "arn:p", []string{"k2"}); err != nil {
		return err
	}
	if err := q.CreateActionType(ctx, &ActionType{ActionTypeKey: ActionTypeKey{"Test", "Custom", "T", "1"}, Declaration: []byte(`{}`)}); err != nil {
		return err
	}
	if err := q.CreateAccessKey(ctx, &AccessKey{ID: "AKID", SealedSecret: []byte("s"), UserName: "u"}); err != nil {
		return err
	}
	return q.PutSetting(ctx, "s", "v")
}

// wantNothingWritten fails t if anything writeAll writes is in s.
func wantNothingWritten(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetPipeline(ctx, "p")
	wantErr(t, "GetPipeline", err, ErrNotFound)
	tags, err := s.ListTags(ctx, "arn:p")
	must(t, "ListTags", err)
	if len(tags) != 0 {
		t.Errorf("ListTags = %v", tags)
	}
	_, err = s.GetActionType(ctx, ActionTypeKey{"Test", "Custom", "T", "1"})
	wantErr(t, "GetActionType", err, ErrNotFound)
	_, err = s.GetAccessKey(ctx, "AKID")
	wantErr(t, "GetAccessKey", err, ErrNotFound)
	_, err = s.GetSetting(ctx, "s")
	wantErr(t, "GetSetting", err, ErrNotFound)
}

func testInTxCommit(t *testing.T, s Store) {
	ctx := txContext(t)
	err := s.InTx(ctx, func(q Queries) error {
		if err := writeAll(ctx, q); err != nil {
			return err
		}
		// q reads its own writes; the Store does not see them yet.
		if v, err := q.GetSetting(ctx, "s"); err != nil || v != "v" {
			return fmt.Errorf("GetSetting in tx = %q, %v", v, err)
		}
		if p, err := q.GetPipeline(ctx, "p"); err != nil || p.Version != 2 {
			return fmt.Errorf("GetPipeline in tx = %+v, %v", p, err)
		}
		if _, err := s.GetSetting(ctx, "s"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("GetSetting outside tx before commit: got %v, want ErrNotFound", err)
		}
		return nil
	})
	must(t, "InTx", err)

	p, err := s.GetPipeline(ctx, "p")
	must(t, "GetPipeline", err)
	if p.Version != 2 {
		t.Errorf("GetPipeline version = %d", p.Version)
	}
	tags, err := s.ListTags(ctx, "arn:p")
	must(t, "ListTags", err)
	if !slices.Equal(tags, []Tag{{"k", "v"}}) {
		t.Errorf("ListTags = %v", tags)
	}
	if v, err := s.GetSetting(ctx, "s"); err != nil || v != "v" {
		t.Errorf("GetSetting = %q, %v", v, err)
	}

	// A sentinel error inside a transaction reaches fn's caller.
	err = s.InTx(ctx, func(q Queries) error {
		return q.CreatePipeline(ctx, &Pipeline{Name: "p", Version: 1, Declaration: []byte(`{}`)})
	})
	wantErr(t, "duplicate CreatePipeline in tx", err, ErrExists)
}

func testInTxRollback(t *testing.T, s Store) {
	ctx := txContext(t)
	errBoom := errors.New("boom")
	err := s.InTx(ctx, func(q Queries) error {
		if err := writeAll(ctx, q); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want %v", err, errBoom)
	}
	wantNothingWritten(t, s)
	// The write connection is back in service.
	must(t, "PutSetting after rollback", s.PutSetting(ctx, "after", "1"))
}

func testInTxPanic(t *testing.T, s Store) {
	ctx := txContext(t)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want boom", r)
			}
		}()
		_ = s.InTx(ctx, func(q Queries) error {
			if err := writeAll(ctx, q); err != nil {
				return err
			}
			panic("boom")
		})
		t.Error("InTx returned instead of panicking")
	}()
	wantNothingWritten(t, s)
	must(t, "PutSetting after panic", s.PutSetting(ctx, "after", "1"))
}

// testInTxAfterExists checks that a Create reporting ErrExists inside InTx
// leaves the transaction usable (on PostgreSQL a failed statement would
// abort it) and changes nothing.
func testInTxAfterExists(t *testing.T, s Store) {
	ctx := txContext(t)
	atKey := ActionTypeKey{"Test", "Custom", "T", "1"}
	must(t, "CreatePipeline", s.CreatePipeline(ctx, &Pipeline{Name: "p", Version: 1, Declaration: []byte(`{"v":1}`)}))
	must(t, "CreateActionType", s.CreateActionType(ctx, &ActionType{ActionTypeKey: atKey, Declaration: []byte(`{"v":1}`)}))
	must(t, "CreateAccessKey", s.CreateAccessKey(ctx, &AccessKey{ID: "AKID", SealedSecret: []byte("s1"), UserName: "u1"}))

	err := s.InTx(ctx, func(q Queries) error {
		if err := q.CreatePipeline(ctx, &Pipeline{Name: "p", Version: 1, Declaration: []byte(`{"v":2}`)}); !errors.Is(err, ErrExists) {
			return fmt.Errorf("duplicate CreatePipeline: got %v, want ErrExists", err)
		}
		if err := q.CreateActionType(ctx, &ActionType{ActionTypeKey: atKey, Declaration: []byte(`{"v":2}`)}); !errors.Is(err, ErrExists) {
			return fmt.Errorf("duplicate CreateActionType: got %v, want ErrExists", err)
		}
		if err := q.CreateAccessKey(ctx, &AccessKey{ID: "AKID", SealedSecret: []byte("s2"), UserName: "u2"}); !errors.Is(err, ErrExists) {
			return fmt.Errorf("duplicate CreateAccessKey: got %v, want ErrExists", err)
		}
		if err := q.CreatePipeline(ctx, &Pipeline{Name: "p2", Version: 1, Declaration: []byte(`{}`)}); err != nil {
			return fmt.Errorf("CreatePipeline after ErrExists: %w", err)
		}
		return q.PutSetting(ctx, "after", "yes")
	})
	must(t, "InTx", err)

	if v, err := s.GetSetting(ctx, "after"); err != nil || v != "yes" {
		t.Errorf("GetSetting after = %q, %v", v, err)
	}
	if _, err := s.GetPipeline(ctx, "p2"); err != nil {
		t.Errorf("GetPipeline p2: %v", err)
	}
	if p, err := s.GetPipeline(ctx, "p"); err != nil || string(p.Declaration) != `{"v":1}` {
		t.Errorf("GetPipeline p = %+v, %v; want the first declaration", p, err)
	}
	if at, err := s.GetActionType(ctx, atKey); err != nil || string(at.Declaration) != `{"v":1}` {
		t.Errorf("GetActionType = %+v, %v; want the first declaration", at, err)
	}
	if k, err := s.GetAccessKey(ctx, "AKID"); err != nil || k.UserName != "u1" {
		t.Errorf("GetAccessKey = %+v, %v; want the first key", k, err)
	}
}

// testPlainWriteDuringTx checks that a write outside InTx never lands
// between a transaction's read and its write, where the transaction would
// overwrite it unseen: it waits for the transaction to end.
func testPlainWriteDuringTx(t *testing.T, s Store) {
	ctx := txContext(t)
	plain := make(chan error, 1)
	err := s.InTx(ctx, func(q Queries) error {
		if _, err := q.GetSetting(ctx, "x"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("GetSetting in tx: got %v, want ErrNotFound", err)
		}
		go func() { plain <- s.PutSetting(ctx, "x", "plain") }()
		// Time for the plain write to commit, were nothing holding it back.
		time.Sleep(200 * time.Millisecond)
		return q.PutSetting(ctx, "x", "tx")
	})
	must(t, "InTx", err)
	must(t, "plain PutSetting", <-plain)
	if v, err := s.GetSetting(ctx, "x"); err != nil || v != "plain" {
		t.Errorf("GetSetting = %q, %v; want %q, written after the transaction", v, err, "plain")
	}
}

// testInTxWaitEndsWithContext checks that writes waiting for another
// transaction give up when their context ends, and leave the Store usable.
func testInTxWaitEndsWithContext(t *testing.T, s Store) {
	ctx := txContext(t)
	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.InTx(ctx, func(q Queries) error {
			if err := q.PutSetting(ctx, "held", "1"); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	select {
	case <-holding:
	case err := <-held:
		t.Fatalf("holding InTx: %v", err)
	}

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err := s.InTx(short, func(q Queries) error { return q.PutSetting(short, "waiter", "1") })
	wantErr(t, "waiting InTx", err, context.DeadlineExceeded)
	err = s.PutSetting(short, "waiter", "1")
	wantErr(t, "waiting PutSetting", err, context.DeadlineExceeded)

	close(release)
	must(t, "holding InTx", <-held)
	must(t, "PutSetting after", s.PutSetting(ctx, "after", "1"))
	if _, err := s.GetSetting(ctx, "waiter"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSetting waiter: got %v, want ErrNotFound", err)
	}
}

// testConcurrentIncrements proves InTx serialises read-modify-write: no
// increment is lost while readers run alongside.
func testConcurrentIncrements(t *testing.T, s Store) {
	ctx := txContext(t)
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	done := make(chan struct{})
	for range workers {
		wg.Go(func() {
			for range rounds {
				err := s.InTx(ctx, func(q Queries) error {
					n := 0
					v, err := q.GetSetting(ctx, "counter")
					switch {
					case errors.Is(err, ErrNotFound):
					case err != nil:
						return err
					default:
						if n, err = strconv.Atoi(v); err != nil {
							return err
						}
					}
					return q.PutSetting(ctx, "counter", strconv.Itoa(n+1))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.GetSetting(ctx, "counter"); err != nil && !errors.Is(err, ErrNotFound) {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	v, err := s.GetSetting(ctx, "counter")
	must(t, "GetSetting", err)
	if v != strconv.Itoa(workers*rounds) {
		t.Errorf("counter = %s, want %d", v, workers*rounds)
	}
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const appliedMsg = "applied schema migration"

// appliedMigrations returns version → applied_ms from schema_migrations.
func appliedMigrations(t *testing.T, s Store) map[int64]int64 {
	t.Helper()
	rows, err := s.(*sqlStore).readPool.QueryContext(t.Context(), `SELECT version, applied_ms FROM schema_migrations`)
	must(t, "query schema_migrations", err)
	defer rows.Close()
	m := map[int64]int64{}
	for rows.Next() {
		var v, at int64
		must(t, "scan schema_migrations", rows.Scan(&v, &at))
		m[v] = at
	}
	must(t, "read schema_migrations", rows.Err())
	return m
}

// migrationCount is how many migrations d has.
func migrationCount(t *testing.T, d dialect) int {
	t.Helper()
	ms, err := loadMigrations(migrationFiles, "migrations/"+d.String())
	must(t, "loadMigrations", err)
	return len(ms)
}

func TestSQLiteReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "slipway.db")
	// A plain path works too.
	testReopen(t, path, "sqlite://"+path, migrationCount(t, dialectSQLite))
}

// testReopen opens a fresh database as dsn1, writes, closes it, and opens
// it again as dsn2: migrations must not run again and the data must be
// there. want is the number of migrations.
func testReopen(t *testing.T, dsn1, dsn2 string, want int) {
	ctx := t.Context()
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	s1, err := Open(ctx, dsn1, logger)
	must(t, "Open", err)
	must(t, "CreatePipeline", s1.CreatePipeline(ctx, &Pipeline{Name: "kept", Version: 1, Declaration: []byte(`{}`)}))
	must(t, "PutSetting", s1.PutSetting(ctx, "k", "v"))
	first := appliedMigrations(t, s1)
	if len(first) != want {
		t.Fatalf("schema_migrations = %v after first Open, want %d rows", first, want)
	}
	must(t, "Close", s1.Close())
	if n := strings.Count(logs.String(), appliedMsg); n != len(first) {
		t.Errorf("first Open logged %d migrations, want %d", n, len(first))
	}

	logs.mu.Lock()
	logs.b.Reset()
	logs.mu.Unlock()
	s2 := openTest(t, dsn2, logger)
	if strings.Contains(logs.String(), appliedMsg) {
		t.Errorf("reopen applied migrations again:\n%s", logs.String())
	}
	if again := appliedMigrations(t, s2); !mapsEqual(again, first) {
		t.Errorf("schema_migrations changed on reopen: %v, was %v", again, first)
	}
	p, err := s2.GetPipeline(ctx, "kept")
	must(t, "GetPipeline after reopen", err)
	if p.Version != 1 {
		t.Errorf("GetPipeline after reopen = %+v", p)
	}
	if v, err := s2.GetSetting(ctx, "k"); err != nil || v != "v" {
		t.Errorf("GetSetting after reopen = %q, %v", v, err)
	}
}

func mapsEqual(a, b map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestSQLiteConcurrentOpen opens a fresh file from two Stores at once, as
// two server processes starting together would: both must work, and each
// migration must be applied once. Several rounds widen the race window.
func TestSQLiteConcurrentOpen(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			t.Parallel()
			testConcurrentOpen(t, "sqlite://"+filepath.Join(t.TempDir(), "slipway.db"), 2, migrationCount(t, dialectSQLite))
		})
	}
}

// testConcurrentOpen opens the fresh database dsn from n Stores at once:
// every Store must work, and each of the want migrations must be applied
// exactly once in all.
func testConcurrentOpen(t *testing.T, dsn string, n, want int) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	stores := make([]Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), dsn, logger)
		})
	}
	close(start)
	wg.Wait()
	for i, s := range stores {
		if s == nil {
			continue
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close %d: %v", i, err)
			}
		})
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
	}

	ctx := t.Context()
	for i, s := range stores {
		must(t, "PutSetting", s.PutSetting(ctx, "from"+strconv.Itoa(i), "yes"))
	}
	for _, s := range stores {
		for i := range n {
			if v, err := s.GetSetting(ctx, "from"+strconv.Itoa(i)); err != nil || v != "yes" {
				t.Errorf("GetSetting from%d = %q, %v", i, v, err)
			}
		}
	}

	// Each version once (the primary key guarantees that much) and every
	// version there.
	var rows, versions int
	must(t, "count schema_migrations", stores[0].(*sqlStore).readPool.QueryRowContext(ctx,
		`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions))
	if rows != want || versions != want {
		t.Errorf("schema_migrations has %d rows, %d versions; want %d of each", rows, versions, want)
	}
	if got := strings.Count(logs.String(), appliedMsg); got != want {
		t.Errorf("migrations applied %d times in all, want %d:\n%s", got, want, logs.String())
	}
}
