package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "pg: " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

func TestUnwritable(t *testing.T) {
	plain := errors.New("boom")
	for _, tc := range []struct {
		name   string
		d      dialect
		err    error
		reason string
	}{
		{"nil", dialectSQLite, nil, ""},
		{"other", dialectSQLite, plain, ""},
		{"pg disk full", dialectPostgres, fmt.Errorf("insert: %w", sqlStateErr("53100")), "disk is full"},
		{"pg read-only", dialectPostgres, sqlStateErr("25006"), "read-only"},
		{"pg unique", dialectPostgres, sqlStateErr("23505"), ""},
		{"pg state on sqlite", dialectSQLite, sqlStateErr("53100"), ""},
	} {
		got := tc.d.unwritable(tc.err)
		var u *UnwritableError
		isU := errors.As(got, &u)
		if isU != (tc.reason != "") || (isU && !strings.Contains(u.Reason, tc.reason)) {
			t.Errorf("%s: unwritable(%v) = %v; want reason %q", tc.name, tc.err, got, tc.reason)
		}
		if !isU && got != tc.err {
			t.Errorf("%s: unwritable changed an error it does not classify: %v", tc.name, got)
		}
		if isU && (!errors.Is(got, tc.err) || !strings.Contains(u.ServiceUnavailable(), "cannot be written")) {
			t.Errorf("%s: %v does not wrap %v or lacks a client message", tc.name, got, tc.err)
		}
	}
}
