package store

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// UnwritableError reports that the database refused a write because of its
// own storage (the disk is full, the file or database is read-only, a
// write failed), not because of what was written: the same request may
// succeed once the storage is fixed, and reads still work.
type UnwritableError struct {
	// Reason says what is wrong, e.g. "the disk is full".
	Reason string
	// Err is the database's error, with context.
	Err error
}

// Error returns the reason and the database's error.
func (e *UnwritableError) Error() string {
	return "the database cannot be written (" + e.Reason + "): " + e.Err.Error()
}

// Unwrap returns the database's error.
func (e *UnwritableError) Unwrap() error { return e.Err }

// ServiceUnavailable is the message API clients get for e.
func (e *UnwritableError) ServiceUnavailable() string {
	return "the database cannot be written (" + e.Reason + "); the request was not applied. " +
		"Free space on (or make writable) the server's data volume and retry; reads still work"
}

// unwritable wraps err in an *UnwritableError when the database reports a
// storage problem, and returns it unchanged otherwise.
//
// Divergence: SQLite reports SQLITE_FULL, SQLITE_READONLY* and
// SQLITE_IOERR* (a write or fsync failed, e.g. EFBIG under RLIMIT_FSIZE);
// PostgreSQL reports SQLSTATE 53100 (disk_full) and 25006
// (read_only_sql_transaction, e.g. a standby).
func (d dialect) unwritable(err error) error {
	if err == nil {
		return nil
	}
	var u *UnwritableError
	if errors.As(err, &u) {
		return err
	}
	reason := ""
	switch d {
	case dialectSQLite:
		var e *sqlite.Error
		if errors.As(err, &e) {
			switch e.Code() & 0xff {
			case sqlite3.SQLITE_FULL:
				reason = "the disk is full"
			case sqlite3.SQLITE_READONLY:
				reason = "the database file is read-only"
			case sqlite3.SQLITE_IOERR:
				reason = "a disk write failed"
			}
		}
	case dialectPostgres:
		var e interface{ SQLState() string }
		if errors.As(err, &e) {
			switch e.SQLState() {
			case "53100":
				reason = "the PostgreSQL server's disk is full"
			case "25006":
				reason = "the PostgreSQL database is read-only"
			}
		}
	}
	if reason == "" {
		return err
	}
	return &UnwritableError{Reason: reason, Err: err}
}
