package awsproto

import (
	"bytes"
	"encoding/json"
)

// duplicateMember returns the first member name that appears twice in one
// object of body, which must be valid JSON. encoding/json keeps the last
// of duplicate members silently; a request whose meaning depends on which
// copy a parser keeps is refused instead.
func duplicateMember(body []byte) (string, bool) {
	type frame struct {
		keys      map[string]bool // nil for an array
		expectKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{keys: map[string]bool{}, expectKey: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].keys != nil && stack[n-1].expectKey {
				f := stack[n-1]
				if f.keys[v] {
					return v, true
				}
				f.keys[v], f.expectKey = true, false
				continue
			}
		}
		// A value ended: an enclosing object expects a member name next.
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].expectKey = true
		}
	}
}
