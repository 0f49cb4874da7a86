package hostcmd

import "testing"

// FuzzEnvelopes: signed specifications and diagnostics from the wire are
// verified or refused with an error, never a panic.
func FuzzEnvelopes(f *testing.F) {
	f.Add(FormatJSON, `{"error_code":0,"script_name":"","message":"ok","log":""}`)
	f.Add(FormatPKCS7JSON, "MIIB")
	f.Add("TEXT", "")
	f.Add(FormatJSON, `{"error_code":"x"`)
	f.Fuzz(func(t *testing.T, format, payload string) {
		e := Envelope{Format: format, Payload: payload}
		_, _ = ParseDiagnostics(e)
		if s, err := Verify(e); err == nil && s == nil {
			t.Fatal("verified without a specification")
		}
	})
}
