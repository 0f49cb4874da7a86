package gitsource

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/slipway-cd/slipway/internal/store"
)

// RepositoryPlaceholder in a connection's remote URL stands for the
// FullRepositoryId of the action that uses the connection: a connection
// whose URL has it is a host of many repositories (for example
// https://git.example.com/{FullRepositoryId}.git); a connection without it
// is one repository, and FullRepositoryId is then informational.
const RepositoryPlaceholder = "{FullRepositoryId}"

// ARNPrefix is the service part of connection ARNs; the older service name
// codestar-connections is accepted as a synonym (NormalizeARN).
const ARNPrefix = "arn:aws:codeconnections:"

// ConnectionARN returns the ARN of the connection id in region and
// account.
func ConnectionARN(region, accountID, id string) string {
	return ARNPrefix + region + ":" + accountID + ":connection/" + id
}

// NormalizeARN rewrites an arn:aws:codestar-connections: ARN (the service's
// former name, which CodePipeline still accepts) to arn:aws:codeconnections:.
func NormalizeARN(arn string) string {
	if rest, ok := strings.CutPrefix(arn, "arn:aws:codestar-connections:"); ok {
		return ARNPrefix + rest
	}
	return arn
}

// RemoteKind is what kind of git remote a URL names.
type RemoteKind string

// The kinds of remotes.
const (
	KindHTTP  RemoteKind = "http"  // http:// or https://: basic credentials
	KindSSH   RemoteKind = "ssh"   // ssh:// or user@host:path: the server's ssh keys
	KindGit   RemoteKind = "git"   // git://: anonymous
	KindLocal RemoteKind = "local" // file:// or an absolute path on the server
)

var (
	// scpRE is git's scp-like syntax: [user@]host:path, where the host has
	// no slash (else git takes it for a local path).
	scpRE = regexp.MustCompile(`^(?:[A-Za-z0-9._~+-]+@)?[A-Za-z0-9.-]+:[^:]`)
	// repositoryIDRE is what may replace the placeholder: path segments of
	// letters, digits, '.', '_', '-' and '~', joined by '/', not starting
	// with '-'.
	repositoryIDRE = regexp.MustCompile(`^[A-Za-z0-9_~][A-Za-z0-9._~-]*(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$`)
)

// probeID stands for the placeholder while a URL template is checked.
const probeID = "slipway-repository"

// CheckRemoteURL returns the kind of remote raw names, or a description of
// what is wrong with it (without repeating a password it may hold). The
// placeholder {FullRepositoryId} may appear once, in the path.
func CheckRemoteURL(raw string) (RemoteKind, error) {
	if strings.Count(raw, "{") != strings.Count(raw, RepositoryPlaceholder) || strings.Count(raw, "}") != strings.Count(raw, RepositoryPlaceholder) {
		return "", errors.New("the only braces a remote URL may have are those of the placeholder " + RepositoryPlaceholder)
	}
	if strings.Count(raw, RepositoryPlaceholder) > 1 {
		return "", errors.New("the placeholder " + RepositoryPlaceholder + " may appear only once")
	}
	probe := strings.ReplaceAll(raw, RepositoryPlaceholder, probeID)
	for _, r := range probe {
		if r <= ' ' || r == 0x7f {
			return "", errors.New("a remote URL must not contain spaces or control characters")
		}
	}
	switch {
	case probe == "":
		return "", errors.New("the remote URL is empty")
	case strings.HasPrefix(probe, "-"):
		return "", errors.New("a remote URL must not start with '-'")
	case strings.HasPrefix(probe, "/"):
		if strings.Contains(probe, "/../") || strings.HasSuffix(probe, "/..") {
			return "", errors.New("a local path must not contain '..'")
		}
		return KindLocal, nil
	case strings.Contains(probe, "::"):
		return "", errors.New("git's <transport>::<address> remotes are not allowed")
	case strings.Contains(probe, "://"):
		return checkURLForm(raw, probe)
	case scpRE.MatchString(probe):
		if i := strings.Index(probe, probeID); i >= 0 && i < strings.IndexByte(probe, ':') {
			return "", errors.New("the placeholder " + RepositoryPlaceholder + " belongs in the path, after the ':'")
		}
		return KindSSH, nil
	}
	return "", errors.New("a remote URL is https://, http://, ssh://, git://, file://, user@host:path or an absolute local path")
}

func checkURLForm(raw, probe string) (RemoteKind, error) {
	u, err := url.Parse(probe)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return "", fmt.Errorf("not a URL: %v", err)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return "", errors.New("a remote URL must not hold a password: give it as the connection's password")
	}
	if strings.Contains(u.Host, probeID) || strings.Contains(u.User.String(), probeID) {
		return "", errors.New("the placeholder " + RepositoryPlaceholder + " belongs in the URL's path")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return "", errors.New("an http(s) remote URL needs a host")
		}
		if u.User != nil {
			return "", errors.New("an http(s) remote URL must not hold a user name: give it as the connection's username")
		}
		return KindHTTP, nil
	case "ssh":
		if u.Host == "" {
			return "", errors.New("an ssh remote URL needs a host")
		}
		return KindSSH, nil
	case "git":
		if u.Host == "" {
			return "", errors.New("a git:// remote URL needs a host")
		}
		return KindGit, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return "", errors.New("a file:// remote URL names a path on this server: file:///path")
		}
		return KindLocal, nil
	}
	return "", fmt.Errorf("remote URL scheme %q is not supported: use https, http, ssh, git or file", u.Scheme)
}

// ExpandURL puts the action's FullRepositoryId into a connection's remote
// URL template; a URL without the placeholder is returned as it is.
func ExpandURL(template, fullRepositoryID string) (string, error) {
	if !strings.Contains(template, RepositoryPlaceholder) {
		return template, nil
	}
	if !repositoryIDRE.MatchString(fullRepositoryID) || strings.Contains(fullRepositoryID, "..") {
		return "", fmt.Errorf("FullRepositoryId %q: %w: a path such as owner/name (letters, digits, '.', '_', '-', '~' and '/', no '..')", fullRepositoryID, ErrRepositoryID)
	}
	return strings.ReplaceAll(template, RepositoryPlaceholder, fullRepositoryID), nil
}

// ErrRepositoryID is wrapped by the error for a FullRepositoryId that
// cannot go into a connection's URL template.
var ErrRepositoryID = errors.New("not a repository path")

// ErrNoConnection is wrapped by Resolve's error for a connection ARN that
// names no connection.
var ErrNoConnection = errors.New("no such connection")

// Opener opens sealed secrets (auth.Sealer is one).
type Opener interface {
	Open(sealed []byte) ([]byte, error)
}

// ConnectionGetter reads connections (store.Queries is one).
type ConnectionGetter interface {
	GetConnection(ctx context.Context, arn string) (*store.Connection, error)
}

// Resolver turns a connection and a repository into a Remote.
type Resolver struct {
	Store  ConnectionGetter
	Opener Opener
}

// Resolve returns the remote that the connection arn and the action's
// FullRepositoryId name, with the connection's credentials. Its error
// wraps ErrNoConnection when the connection does not exist.
func (r *Resolver) Resolve(ctx context.Context, arn, fullRepositoryID string) (*Remote, error) {
	arn = NormalizeARN(arn)
	c, err := r.Store.GetConnection(ctx, arn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("connection %s: %w; create it with CreateConnection", arn, ErrNoConnection)
	}
	if err != nil {
		return nil, err
	}
	u, err := ExpandURL(c.RemoteURL, fullRepositoryID)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", arn, err)
	}
	rem := &Remote{URL: u, Username: c.Username, ConnectionARN: arn}
	if c.SealedPassword != nil {
		if r.Opener == nil {
			return nil, fmt.Errorf("connection %s: no key to open its password", arn)
		}
		plain, err := r.Opener.Open(c.SealedPassword)
		if err != nil {
			return nil, fmt.Errorf("connection %s: open its password: %w", arn, err)
		}
		rem.Password = string(plain)
		if rem.Username == "" {
			rem.Username = DefaultUsername
		}
	}
	return rem, nil
}

// DefaultUsername is the HTTP user name sent with a connection's password
// when the connection has none: GitHub, GitLab and Gitea accept an access
// token as the password with any user name.
const DefaultUsername = "git"
