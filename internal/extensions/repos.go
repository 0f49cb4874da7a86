package extensions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/githost"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// Repositories is what the repository operations work on: the server's
// hosted git repositories.
type Repositories struct {
	Host *githost.Host
	// PublicURL is the server's public base URL (engine.Config.ConsoleURL,
	// --public-url); clone URLs are PublicURL + "/git/<name>". When empty,
	// they use the address the request came in on.
	PublicURL string
	// Region and AccountID make the repositories' ARNs.
	Region, AccountID string
}

// metaFile holds what the API shows that git does not keep, inside the
// bare repository's directory (git ignores it).
const metaFile = "slipway-repository.json"

type repoMeta struct {
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
}

func (s *Service) repos() (*Repositories, error) {
	if s.Repos == nil || s.Repos.Host == nil {
		return nil, errors.New("extensions: no hosted repositories configured")
	}
	return s.Repos, nil
}

// CreateRepository creates an empty hosted repository.
func (s *Service) CreateRepository(ctx context.Context, in *slipwayapi.CreateRepositoryInput) (*slipwayapi.CreateRepositoryOutput, error) {
	r, err := s.repos()
	if err != nil {
		return nil, err
	}
	if err := validRepoName(in.RepositoryName); err != nil {
		return nil, err
	}
	if err := r.Host.Create(ctx, in.RepositoryName); err != nil {
		if errors.Is(err, githost.ErrExists) {
			return nil, awsproto.Errorf(slipwayapi.RepositoryNameExistsException,
				"repository %q already exists; choose another name or use the existing repository", in.RepositoryName)
		}
		return nil, err
	}
	meta := repoMeta{Description: in.Description, Created: s.now()}
	if err := writeMeta(r.Host.Path(in.RepositoryName), meta); err != nil {
		_ = r.Host.Delete(in.RepositoryName)
		return nil, err
	}
	s.logger().InfoContext(ctx, "created repository", "name", in.RepositoryName, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.CreateRepositoryOutput{Repository: r.wire(ctx, in.RepositoryName, meta)}, nil
}

// GetRepository describes a hosted repository.
func (s *Service) GetRepository(ctx context.Context, in *slipwayapi.GetRepositoryInput) (*slipwayapi.GetRepositoryOutput, error) {
	r, err := s.repos()
	if err != nil {
		return nil, err
	}
	if err := r.exists(in.RepositoryName); err != nil {
		return nil, err
	}
	return &slipwayapi.GetRepositoryOutput{Repository: r.wire(ctx, in.RepositoryName, readMeta(r.Host.Path(in.RepositoryName)))}, nil
}

// ListRepositories describes every hosted repository, by name.
func (s *Service) ListRepositories(ctx context.Context, _ *slipwayapi.ListRepositoriesInput) (*slipwayapi.ListRepositoriesOutput, error) {
	r, err := s.repos()
	if err != nil {
		return nil, err
	}
	names, err := r.Host.List()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := &slipwayapi.ListRepositoriesOutput{Repositories: make([]slipwayapi.Repository, 0, len(names))}
	for _, n := range names {
		out.Repositories = append(out.Repositories, *r.wire(ctx, n, readMeta(r.Host.Path(n))))
	}
	return out, nil
}

// DeleteRepository removes a hosted repository and its history. Pipelines
// whose CodeCommit actions name it stay; their source actions fail until a
// repository of that name exists again.
func (s *Service) DeleteRepository(ctx context.Context, in *slipwayapi.DeleteRepositoryInput) (*slipwayapi.DeleteRepositoryOutput, error) {
	r, err := s.repos()
	if err != nil {
		return nil, err
	}
	if err := r.exists(in.RepositoryName); err != nil {
		return nil, err
	}
	if err := r.Host.Delete(in.RepositoryName); err != nil {
		if errors.Is(err, githost.ErrNotFound) {
			return nil, repoNotFound(in.RepositoryName)
		}
		return nil, err
	}
	s.logger().InfoContext(ctx, "deleted repository", "name", in.RepositoryName, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteRepositoryOutput{}, nil
}

func validRepoName(name string) error {
	if why := githost.ValidName(name); why != "" {
		return awsproto.Errorf(slipwayapi.InvalidRepositoryNameException, "repository name %q is not valid: %s", name, why)
	}
	return nil
}

func (r *Repositories) exists(name string) error {
	if err := validRepoName(name); err != nil {
		return err
	}
	if !r.Host.Exists(name) {
		return repoNotFound(name)
	}
	return nil
}

func repoNotFound(name string) error {
	return awsproto.Errorf(slipwayapi.RepositoryDoesNotExistException,
		"repository %q does not exist; create it with CreateRepository (slipway repo create %s)", name, name)
}

// wire is a repository as the API shows it.
func (r *Repositories) wire(ctx context.Context, name string, meta repoMeta) *slipwayapi.Repository {
	w := &slipwayapi.Repository{
		RepositoryName: name,
		Description:    meta.Description,
		CloneURLHTTP:   r.baseURL(ctx) + "/git/" + name,
		ARN:            fmt.Sprintf("arn:aws:codecommit:%s:%s:%s", r.Region, r.AccountID, name),
	}
	if !meta.Created.IsZero() {
		w.Created = awsproto.NewTime(meta.Created)
	}
	return w
}

// baseURL is PublicURL, or else http:// and the local address the request
// arrived at.
func (r *Repositories) baseURL(ctx context.Context) string {
	if r.PublicURL != "" {
		return strings.TrimRight(r.PublicURL, "/")
	}
	if addr, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); ok && addr != nil {
		if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			return "http://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
		}
		return "http://" + addr.String()
	}
	return "http://127.0.0.1:7700"
}

func writeMeta(dir string, m repoMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write repository metadata: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, metaFile)); err != nil {
		return fmt.Errorf("write repository metadata: %w", err)
	}
	return nil
}

// readMeta reads a repository's metadata; a repository made without the
// API (or whose file is unreadable) gets its HEAD file's time as its
// creation time.
func readMeta(dir string) repoMeta {
	var m repoMeta
	if b, err := os.ReadFile(filepath.Join(dir, metaFile)); err == nil && json.Unmarshal(b, &m) == nil {
		return m
	}
	if st, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		m.Created = st.ModTime().UTC()
	}
	return m
}
