// Package console serves Slipway's web console under /console/: a sign-in
// with an access key, a stateless session cookie, the console's data API
// (the server's AWS JSON operations, authenticated by the session instead
// of SigV4), a server-sent event stream fed from the event log, and the
// embedded single-page application (plain HTML, CSS and JavaScript modules).
package console
