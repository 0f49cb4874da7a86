package awsproto

import "testing"

func TestDuplicateMember(t *testing.T) {
	for _, tc := range []struct {
		body string
		dup  string
	}{
		{`{}`, ""},
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`{"a":{"b":1},"c":{"b":2}}`, ""},
		{`{"a":{"b":1,"b":2}}`, "b"},
		{`{"a":["a","a",{"x":1},{"x":1}]}`, ""},
		{`{"a":[{"x":1,"y":[1,2],"x":3}]}`, "x"},
		{`{"a":"b","b":"a"}`, ""},
		{`{"a":[],"b":{},"a":null}`, "a"},
	} {
		dup, ok := duplicateMember([]byte(tc.body))
		if dup != tc.dup || ok != (tc.dup != "") {
			t.Errorf("duplicateMember(%s) = %q, %v; want %q", tc.body, dup, ok, tc.dup)
		}
	}
}
