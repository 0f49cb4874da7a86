package store

import (
	"errors"
	"testing"
	"time"
)

// The FunctionQueries part of the conformance suite. exerciseFunctions
// runs it on the Stores open returns; TestSQLiteFunctions and
// TestPostgresFunctions run it on both databases.
func exerciseFunctions(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Functions", testFunctions},
		{"FunctionsInTx", testFunctionsInTx},
		{"JobKeys", testJobKeys},
		{"ObjectPollStates", testObjectPollStates},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

func TestSQLiteFunctions(t *testing.T) {
	t.Parallel()
	exerciseFunctions(t, openSQLiteTemp)
}

func TestPostgresFunctions(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseFunctions(t, openPostgresTemp)
}

func functionName(f *Function) string { return f.Name }

func testFunctions(t *testing.T, s Store) {
	ctx := t.Context()
	fs, err := s.ListFunctions(ctx)
	wantKeys(t, "ListFunctions empty", fs, err, functionName)
	_, err = s.GetFunction(ctx, "f")
	wantErr(t, "GetFunction missing", err, ErrNotFound)
	wantErr(t, "DeleteFunction missing", s.DeleteFunction(ctx, "f"), ErrNotFound)

	a := &Function{Name: "a", Definition: []byte(`{"command":["/bin/true"]}`), Created: at(0), Updated: at(time.Second)}
	b := &Function{Name: "B", Definition: []byte(`{"url":"http://127.0.0.1/"}`)} // times from the store
	u := &Function{Name: "_u", Definition: []byte{0, 1, 0xff}, Created: at(time.Minute), Updated: at(time.Minute)}
	before := time.Now().Add(-time.Second)
	for _, f := range []*Function{a, b, u} {
		must(t, "CreateFunction "+f.Name, s.CreateFunction(ctx, f))
	}
	if b.Created.Before(before) || !b.Updated.Equal(b.Created) || b.Created.Location() != time.UTC {
		t.Errorf("zero times were set to %v / %v, want the current UTC time", b.Created, b.Updated)
	}
	wantErr(t, "CreateFunction taken", s.CreateFunction(ctx, &Function{Name: "a", Definition: []byte("{}")}), ErrExists)
	got, err := s.GetFunction(ctx, "a")
	must(t, "GetFunction a", err)
	wantEqual(t, "GetFunction a", got, a)
	_, err = s.GetFunction(ctx, "A")
	wantErr(t, "GetFunction is case-sensitive", err, ErrNotFound)

	// Byte-wise order on every database: "B" < "_u" < "a".
	fs, err = s.ListFunctions(ctx)
	wantKeys(t, "ListFunctions", fs, err, functionName, "B", "_u", "a")
	wantEqual(t, "ListFunctions", fs, []*Function{b, u, a})

	must(t, "DeleteFunction a", s.DeleteFunction(ctx, "a"))
	_, err = s.GetFunction(ctx, "a")
	wantErr(t, "GetFunction deleted", err, ErrNotFound)
	wantErr(t, "DeleteFunction twice", s.DeleteFunction(ctx, "a"), ErrNotFound)
	fs, err = s.ListFunctions(ctx)
	wantKeys(t, "ListFunctions after delete", fs, err, functionName, "B", "_u")
}

func testFunctionsInTx(t *testing.T, s Store) {
	ctx := t.Context()
	errRollback := errors.New("roll back")
	must(t, "CreateFunction", s.CreateFunction(ctx, &Function{Name: "x", Definition: []byte("{}")}))
	err := s.InTx(ctx, func(q Queries) error {
		// Misses and duplicates leave the transaction usable (PostgreSQL
		// aborts a transaction on any failed statement).
		if err := q.CreateFunction(ctx, &Function{Name: "x", Definition: []byte("{}")}); !errors.Is(err, ErrExists) {
			t.Errorf("CreateFunction taken in tx: %v, want ErrExists", err)
		}
		if err := q.DeleteJobKey(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteJobKey missing in tx: %v, want ErrNotFound", err)
		}
		if _, err := q.GetObjectPollState(ctx, "b", "k"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetObjectPollState missing in tx: %v, want ErrNotFound", err)
		}
		must(t, "CreateFunction in tx", q.CreateFunction(ctx, &Function{Name: "y", Definition: []byte("{}")}))
		must(t, "PutObjectPollState in tx", q.PutObjectPollState(ctx, &ObjectPollState{Bucket: "b", Key: "k", ETag: "e"}))
		fs, err := q.ListFunctions(ctx)
		wantKeys(t, "ListFunctions in tx", fs, err, functionName, "x", "y")
		return errRollback
	})
	wantErr(t, "InTx", err, errRollback)
	_, err = s.GetFunction(ctx, "y")
	wantErr(t, "GetFunction after rollback", err, ErrNotFound)
	_, err = s.GetObjectPollState(ctx, "b", "k")
	wantErr(t, "GetObjectPollState after rollback", err, ErrNotFound)
}

func testJobKeys(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetJobKey(ctx, "ASIA1")
	wantErr(t, "GetJobKey missing", err, ErrNotFound)

	k1 := &JobKey{ID: "ASIA1", SealedSecret: []byte{1, 0, 2}, TokenHash: "ab12", JobID: "job-1", Expires: at(time.Minute), Created: at(0)}
	k2 := &JobKey{ID: "ASIA2", SealedSecret: []byte("s2"), TokenHash: "cd34", JobID: "job-2", Expires: at(time.Hour)}
	k3 := &JobKey{ID: "ASIA3", SealedSecret: []byte("s3"), TokenHash: "ef56", JobID: "job-1", Expires: at(2 * time.Minute), Created: at(0)}
	for _, k := range []*JobKey{k1, k2, k3} {
		must(t, "CreateJobKey "+k.ID, s.CreateJobKey(ctx, k))
	}
	if k2.Created.IsZero() || k2.Created.Location() != time.UTC {
		t.Errorf("zero creation time was set to %v, want the current UTC time", k2.Created)
	}
	wantErr(t, "CreateJobKey taken", s.CreateJobKey(ctx, &JobKey{ID: "ASIA1", SealedSecret: []byte("x"), JobID: "j", Expires: at(0)}), ErrExists)
	got, err := s.GetJobKey(ctx, "ASIA1")
	must(t, "GetJobKey", err)
	wantEqual(t, "GetJobKey", got, k1)

	// Expiry is inclusive: a key expiring exactly at t goes.
	n, err := s.DeleteExpiredJobKeys(ctx, at(2*time.Minute))
	must(t, "DeleteExpiredJobKeys", err)
	if n != 2 {
		t.Errorf("DeleteExpiredJobKeys removed %d keys, want 2", n)
	}
	for _, id := range []string{"ASIA1", "ASIA3"} {
		_, err = s.GetJobKey(ctx, id)
		wantErr(t, "GetJobKey expired "+id, err, ErrNotFound)
	}
	n, err = s.DeleteExpiredJobKeys(ctx, at(2*time.Minute))
	must(t, "DeleteExpiredJobKeys again", err)
	if n != 0 {
		t.Errorf("DeleteExpiredJobKeys again removed %d keys, want 0", n)
	}
	got, err = s.GetJobKey(ctx, "ASIA2")
	must(t, "GetJobKey kept", err)
	wantEqual(t, "GetJobKey kept", got, k2)

	must(t, "DeleteJobKey", s.DeleteJobKey(ctx, "ASIA2"))
	wantErr(t, "DeleteJobKey twice", s.DeleteJobKey(ctx, "ASIA2"), ErrNotFound)
}

func pollStateName(o *ObjectPollState) string { return o.Bucket + "/" + o.Key }

func testObjectPollStates(t *testing.T, s Store) {
	ctx := t.Context()
	states, err := s.ListObjectPollStates(ctx)
	wantKeys(t, "ListObjectPollStates empty", states, err, pollStateName)
	_, err = s.GetObjectPollState(ctx, "b", "k")
	wantErr(t, "GetObjectPollState missing", err, ErrNotFound)
	wantErr(t, "DeleteObjectPollState missing", s.DeleteObjectPollState(ctx, "b", "k"), ErrNotFound)

	seen := &ObjectPollState{Bucket: "b", Key: "app.zip", ETag: "0123abcd", VersionID: "00000000000000000001", Modified: at(time.Second), Updated: at(2 * time.Second)}
	missing := &ObjectPollState{Bucket: "b", Key: "Z/missing.zip"} // the object was missing; Updated from the store
	other := &ObjectPollState{Bucket: "a-bucket", Key: "app.zip", ETag: "e", Updated: at(0)}
	for _, o := range []*ObjectPollState{seen, missing, other} {
		must(t, "PutObjectPollState "+pollStateName(o), s.PutObjectPollState(ctx, o))
	}
	if missing.Updated.IsZero() {
		t.Error("a zero update time was not set")
	}
	got, err := s.GetObjectPollState(ctx, "b", "app.zip")
	must(t, "GetObjectPollState", err)
	wantEqual(t, "GetObjectPollState", got, seen)
	got, err = s.GetObjectPollState(ctx, "b", "Z/missing.zip")
	must(t, "GetObjectPollState missing object", err)
	wantEqual(t, "GetObjectPollState missing object", got, missing)
	if !got.Modified.IsZero() {
		t.Errorf("a zero modification time reads back as %v", got.Modified)
	}

	states, err = s.ListObjectPollStates(ctx)
	wantKeys(t, "ListObjectPollStates", states, err, pollStateName, "a-bucket/app.zip", "b/Z/missing.zip", "b/app.zip")

	// Replacing.
	next := &ObjectPollState{Bucket: "b", Key: "app.zip", ETag: "ffff", VersionID: "00000000000000000002", Modified: at(time.Hour), Updated: at(time.Hour)}
	must(t, "PutObjectPollState replace", s.PutObjectPollState(ctx, next))
	got, err = s.GetObjectPollState(ctx, "b", "app.zip")
	must(t, "GetObjectPollState replaced", err)
	wantEqual(t, "GetObjectPollState replaced", got, next)

	must(t, "DeleteObjectPollState", s.DeleteObjectPollState(ctx, "b", "app.zip"))
	_, err = s.GetObjectPollState(ctx, "b", "app.zip")
	wantErr(t, "GetObjectPollState deleted", err, ErrNotFound)
	states, err = s.ListObjectPollStates(ctx)
	wantKeys(t, "ListObjectPollStates after delete", states, err, pollStateName, "a-bucket/app.zip", "b/Z/missing.zip")
}
