package providers

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/buildspec"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
	"github.com/slipway-cd/slipway/internal/worker"
)

// BuildBackend is what the build executors need of the server: build
// projects, secrets and build numbers. A worker without one runs every
// CodeBuild action as for an unknown project and resolves no secrets.
//
// Each call names the job the build runs for: a remote worker's backend
// (worker.RemoteBuilds) asks the server, which answers only the worker
// holding that job; the server's own (StoreBuilds) ignores it.
type BuildBackend interface {
	// Project returns the named build project (the job's ProjectName), or
	// nil and no error when there is none.
	Project(ctx context.Context, j *worker.Job, name string) (*slipwayapi.BuildProject, error)
	// Secret returns the value of the named Slipway secret; the error
	// wraps ErrNoSecret when there is none.
	Secret(ctx context.Context, j *worker.Job, name string) (string, error)
	// NextBuildNumber returns the project's next build number, from 1.
	NextBuildNumber(ctx context.Context, j *worker.Job, project string) (int64, error)
}

// The build backends of a server and of a remote worker.
var (
	_ BuildBackend = (*StoreBuilds)(nil)
	_ BuildBackend = (*worker.RemoteBuilds)(nil)
)

// ErrNoSecret is wrapped by BuildBackend.Secret's error for a secret that
// does not exist (worker.ErrNoSecret, which worker.RemoteBuilds wraps).
var ErrNoSecret = worker.ErrNoSecret

// SecretOpener opens sealed secret values (auth.Sealer is one).
type SecretOpener interface {
	Open(sealed []byte) ([]byte, error)
}

// StoreBuilds is the BuildBackend of a server: projects and secrets from
// its store, secret values opened with its master key, build numbers from
// the store's counters ("codebuild:<project>").
type StoreBuilds struct {
	Store  store.Store
	Opener SecretOpener
}

// Project implements BuildBackend.
func (s *StoreBuilds) Project(ctx context.Context, _ *worker.Job, name string) (*slipwayapi.BuildProject, error) {
	rec, err := s.Store.GetBuildProject(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p slipwayapi.BuildProject
	if err := json.Unmarshal(rec.Declaration, &p); err != nil {
		return nil, fmt.Errorf("decode build project %q: %w", name, err)
	}
	p.Name = rec.Name
	p.Normalize()
	return &p, nil
}

// Secret implements BuildBackend.
func (s *StoreBuilds) Secret(ctx context.Context, _ *worker.Job, name string) (string, error) {
	rec, err := s.Store.GetSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("secret %q: %w", name, ErrNoSecret)
	}
	if err != nil {
		return "", err
	}
	plain, err := s.Opener.Open(rec.SealedValue)
	if err != nil {
		return "", fmt.Errorf("secret %q cannot be opened with this server's master key (set it again with PutSecret): %w", name, err)
	}
	return string(plain), nil
}

// NextBuildNumber implements BuildBackend.
func (s *StoreBuilds) NextBuildNumber(ctx context.Context, _ *worker.Job, project string) (int64, error) {
	return s.Store.NextSeq(ctx, "codebuild:"+project)
}

// CodeBuild runs Build/AWS/CodeBuild and Test/AWS/CodeBuild actions: the
// buildspec of the build project the ProjectName configuration names (or,
// for a project this server does not know, the buildspec.yml at the root
// of the primary source) in a fresh working directory, in real shell
// processes (package buildspec).
type CodeBuild struct {
	Deps
	// Category is cpapi.ActionCategoryBuild or cpapi.ActionCategoryTest.
	Category string
}

// Type returns <Category>/AWS/CodeBuild/1.
func (b *CodeBuild) Type() cpapi.ActionTypeId { return awsType(b.Category, "CodeBuild") }

// Run runs one build.
func (b *CodeBuild) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	lg := &buildLog{w: j.LogOutput()}
	name := cfg["ProjectName"]
	project, err := b.project(ctx, j, name, lg)
	if err != nil {
		return nil, err
	}
	actionVars, err := parseActionVariables(cfg["EnvironmentVariables"])
	if err != nil {
		return nil, err
	}
	number := int64(0)
	if b.Builds != nil {
		if number, err = b.Builds.NextBuildNumber(ctx, j, name); err != nil {
			return nil, fmt.Errorf("next build number of project %s: %w", name, err)
		}
	}
	info := buildInfo(j, name+":"+actionExecutionID(j), number)
	info.ARN = arnOf(j, "codebuild", "build/"+info.ID)
	lg.printf("Build %s of project %s (build number %d)", info.ID, name, number)

	ws, err := newWorkspace(b.WorkDir)
	if err != nil {
		return nil, err
	}
	defer ws.remove()
	in, err := ws.fetchInputs(ctx, b.Artifacts, j, cfg["PrimarySource"], lg)
	if err != nil {
		return nil, err
	}
	info.ResolvedSourceVersion, info.SourceVersion = in.revision, in.location

	spec, err := b.loadSpec(project, ws.src, lg)
	if err != nil {
		return nil, err
	}
	env := info.Env()
	for k, v := range in.env {
		env[k] = v
	}
	if err := applyVariables(env, spec, project.EnvironmentVariables, actionVars); err != nil {
		return nil, err
	}
	runner := &buildspec.Runner{
		Env:     env,
		Secrets: secretResolver(ctx, b.Builds, j),
		Log:     lg.w,
		Timeout: time.Duration(project.TimeoutInMinutes) * time.Minute,
	}
	res, runErr := runner.Run(ctx, spec, ws.src)
	if res == nil {
		return nil, fmt.Errorf("the build could not start: %w", runErr)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // stopped: the job is no longer ours to report
	}
	summary := strings.TrimRight(res.Summary(), "\n")
	if runErr != nil {
		return nil, &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: summary}
	}
	if err := b.uploadOutputs(ctx, j, ws.src, res, lg); err != nil {
		return nil, err
	}
	return &worker.Result{Summary: summary, ExternalExecutionID: info.ID, OutputVariables: res.ExportedVariables}, nil
}

// project returns the named build project, or the defaults (and says so
// in the log) when this server has none of that name.
func (b *CodeBuild) project(ctx context.Context, j *worker.Job, name string, lg *buildLog) (*slipwayapi.BuildProject, error) {
	if b.Builds != nil {
		p, err := b.Builds.Project(ctx, j, name)
		if err != nil {
			return nil, fmt.Errorf("read build project %s: %w", name, err)
		}
		if p != nil {
			return p, nil
		}
	}
	lg.printf("Build project %q does not exist on this Slipway server: running %s from the root of the primary source "+
		"with the default settings (%d-minute timeout, no project variables). Create the project with CreateBuildProject to configure it.",
		name, slipwayapi.DefaultBuildspecPath, slipwayapi.DefaultBuildTimeout)
	p := &slipwayapi.BuildProject{Name: name}
	p.Normalize()
	return p, nil
}

// loadSpec parses the project's inline buildspec or the file at its path
// in the source.
func (b *CodeBuild) loadSpec(p *slipwayapi.BuildProject, src string, lg *buildLog) (*buildspec.Spec, error) {
	data, where := []byte(p.Buildspec), "the inline buildspec of project "+p.Name
	if p.Buildspec == "" {
		where = p.BuildspecPath
		root, err := os.OpenRoot(src)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		data, err = fs.ReadFile(root.FS(), p.BuildspecPath)
		if err != nil {
			msg := fmt.Sprintf("YAML_FILE_ERROR: %s not found in the primary source: %v", p.BuildspecPath, unwrapPath(err))
			if p.BuildspecPath == slipwayapi.DefaultBuildspecPath {
				msg += "; add buildspec.yml to the root of the source, or set the project's buildspec or buildspecPath"
			}
			lg.printf("%s", msg)
			return nil, &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: msg}
		}
	}
	lg.printf("Using %s", where)
	spec, err := buildspec.Parse(data)
	if err != nil {
		msg := "YAML_FILE_ERROR: " + err.Error()
		var pe *buildspec.ParseError
		if errors.As(err, &pe) && p.Buildspec == "" && pe.Line > 0 {
			msg = fmt.Sprintf("YAML_FILE_ERROR: %s line %d: %s", p.BuildspecPath, pe.Line, pe.Msg)
		}
		lg.printf("%s", msg)
		return nil, &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: msg}
	}
	return spec, nil
}

// uploadOutputs zips the build's artifacts into the action's output
// artifacts: an output artifact named like a secondary artifact gets that
// one, the first output artifact otherwise gets the primary artifact.
func (b *CodeBuild) uploadOutputs(ctx context.Context, j *worker.Job, src string, res *buildspec.Result, lg *buildLog) error {
	for i, out := range j.Data.OutputArtifacts {
		set := res.SecondaryArtifacts[out.Name]
		if set == nil && i == 0 {
			set = res.Artifacts
		}
		if set == nil {
			msg := fmt.Sprintf("CLIENT_ERROR: the buildspec produces no artifact for output artifact %s; "+
				"declare artifacts (for the first output artifact) or a secondary artifact with the identifier %s", out.Name, out.Name)
			lg.printf("%s", msg)
			return &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: msg}
		}
		if err := uploadSet(ctx, b.Artifacts, j, i, src, set, lg); err != nil {
			return err
		}
	}
	if len(j.Data.OutputArtifacts) == 0 && res.Artifacts != nil {
		lg.printf("The action declares no output artifact: the buildspec's artifacts are not kept")
	}
	return nil
}

// secretResolver resolves buildspec and variable secret references to
// Slipway secrets by name. An ARN (of Secrets Manager or Parameter Store)
// resolves to the secret named by its last part, so buildspecs written for
// AWS work once secrets of those names exist.
func secretResolver(ctx context.Context, backend BuildBackend, j *worker.Job) func(kind, name string) (string, error) {
	return func(kind, name string) (string, error) {
		if backend == nil {
			return "", errors.New("this worker has no build backend: it cannot resolve Slipway secrets")
		}
		var err error
		for _, n := range secretCandidates(name) {
			var v string
			if v, err = backend.Secret(ctx, j, n); err == nil {
				return v, nil
			}
			if !errors.Is(err, ErrNoSecret) {
				return "", err
			}
		}
		return "", fmt.Errorf("Slipway secret %q does not exist; create it with PutSecret", name)
	}
}

var smSuffixRE = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// secretCandidates returns the names a secret reference may mean: the
// reference itself and, for an ARN, its resource name (without the random
// suffix Secrets Manager adds, too).
func secretCandidates(ref string) []string {
	out := []string{ref}
	if !strings.HasPrefix(ref, "arn:") {
		return out
	}
	parts := strings.SplitN(ref, ":", 7)
	if len(parts) < 6 {
		return out
	}
	switch {
	case parts[2] == "secretsmanager" && len(parts) == 7 && parts[5] == "secret":
		name := parts[6]
		out = append(out, name)
		if trimmed := smSuffixRE.ReplaceAllString(name, ""); trimmed != name {
			out = append(out, trimmed)
		}
	case parts[2] == "ssm" && strings.HasPrefix(parts[5], "parameter/"):
		name := strings.TrimPrefix(parts[5], "parameter")
		if len(parts) == 7 {
			name += ":" + parts[6]
		}
		out = append(out, name, strings.TrimPrefix(name, "/"))
	}
	return out
}

// parseActionVariables reads a CodeBuild action's EnvironmentVariables
// configuration: a JSON array of {name, value, type}, as CodePipeline
// sends it.
func parseActionVariables(raw string) ([]slipwayapi.BuildEnvironmentVariable, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var vars []slipwayapi.BuildEnvironmentVariable
	if err := json.Unmarshal([]byte(raw), &vars); err != nil {
		return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
			Message: `EnvironmentVariables must be a JSON array of {"name", "value", "type"} objects: ` + err.Error()}
	}
	for _, v := range vars {
		if problem := slipwayapi.ValidateVariable(v); problem != "" {
			return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: "EnvironmentVariables: " + problem}
		}
	}
	return vars, nil
}

// applyVariables sets the project's variables and then the action's
// (which override the project's by name): plain-text ones in env, secret
// ones as secrets-manager references appended to spec, after the
// buildspec's own, so that the runner resolves them through
// Runner.Secrets and redacts their values from the log.
func applyVariables(env map[string]string, spec *buildspec.Spec, lists ...[]slipwayapi.BuildEnvironmentVariable) error {
	var order []string
	merged := map[string]slipwayapi.BuildEnvironmentVariable{}
	for _, list := range lists {
		for _, v := range list {
			if _, ok := merged[v.Name]; !ok {
				order = append(order, v.Name)
			}
			merged[v.Name] = v
		}
	}
	for _, name := range order {
		v := merged[name]
		switch v.Type {
		case "", slipwayapi.EnvTypePlaintext:
			env[name] = v.Value
		default:
			ref, err := secretRef(v)
			if err != nil {
				return &worker.Failure{Type: cpapi.FailureTypeConfigurationError, Message: "environment variable " + name + ": " + err.Error()}
			}
			spec.Env.SecretsManager = append(spec.Env.SecretsManager, ref)
		}
	}
	return nil
}

// secretRef turns a secret variable into a secrets-manager reference:
// PARAMETER_STORE takes the whole value as the name; SECRET and
// SECRETS_MANAGER take "name" or "name:json-key" (a Secrets Manager ARN
// counts as the name), and SECRETS_MANAGER also the
// ":version-stage:version-id" tail, where only AWSCURRENT is meaningful
// (Slipway secrets are not versioned).
func secretRef(v slipwayapi.BuildEnvironmentVariable) (buildspec.SecretRef, error) {
	ref := buildspec.SecretRef{Name: v.Name, SecretID: v.Value}
	if v.Type == slipwayapi.EnvTypeParameterStore {
		return ref, nil
	}
	rest := v.Value
	if strings.HasPrefix(rest, "arn:") {
		parts := strings.SplitN(rest, ":", 8)
		if len(parts) <= 7 {
			return ref, nil
		}
		ref.SecretID, rest = strings.Join(parts[:7], ":"), parts[7]
	} else {
		ref.SecretID, rest, _ = strings.Cut(rest, ":")
	}
	if ref.SecretID == "" {
		return ref, errors.New("the value names no secret")
	}
	var stage, version string
	ref.JSONKey, rest, _ = strings.Cut(rest, ":")
	stage, version, _ = strings.Cut(rest, ":")
	if (stage != "" && stage != "AWSCURRENT") || version != "" {
		return ref, errors.New("Slipway secrets are not versioned: use name or name:json-key")
	}
	return ref, nil
}

// buildInfo returns the CODEBUILD_* values of a job's build.
func buildInfo(j *worker.Job, id string, number int64) buildspec.BuildInfo {
	info := buildspec.BuildInfo{ID: id, Number: number, Image: "slipway/host", Start: time.Now()}
	if pc := j.Data.PipelineContext; pc != nil {
		info.Initiator = "codepipeline/" + pc.PipelineName
		if parts := strings.Split(pc.PipelineArn, ":"); len(parts) >= 6 {
			info.Region = parts[3]
		}
	}
	return info
}

// arnOf returns an ARN of service in the pipeline's region and account.
func arnOf(j *worker.Job, service, resource string) string {
	region, account := "us-east-1", "000000000000"
	if pc := j.Data.PipelineContext; pc != nil {
		if parts := strings.Split(pc.PipelineArn, ":"); len(parts) >= 6 {
			region, account = parts[3], parts[4]
		}
	}
	return "arn:aws:" + service + ":" + region + ":" + account + ":" + resource
}

func actionExecutionID(j *worker.Job) string {
	if pc := j.Data.PipelineContext; pc != nil && pc.Action != nil && pc.Action.ActionExecutionId != "" {
		return pc.Action.ActionExecutionId
	}
	return j.ID
}

// buildLog writes Slipway's own lines into a job's log, in the shape of
// the buildspec runner's [Container] lines.
type buildLog struct{ w io.Writer }

func (l *buildLog) printf(format string, args ...any) {
	fmt.Fprintf(l.w, "[Slipway] %s %s\n", time.Now().UTC().Format("2006/01/02 15:04:05"), fmt.Sprintf(format, args...))
}

// workspace is a job's fresh working directory: src holds the primary
// source (CODEBUILD_SRC_DIR), src2/<name> the secondary ones.
type workspace struct {
	root, src string
}

func newWorkspace(workDir string) (*workspace, error) {
	if workDir == "" {
		workDir = os.TempDir()
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the work directory: %w", err)
	}
	root, err := os.MkdirTemp(workDir, "job-")
	if err != nil {
		return nil, fmt.Errorf("create a working directory: %w", err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	ws := &workspace{root: root, src: filepath.Join(root, "src")}
	if err := os.Mkdir(ws.src, 0o755); err != nil {
		ws.remove()
		return nil, err
	}
	return ws, nil
}

// remove deletes the workspace, making read-only directories (which tools
// such as the Go module cache leave behind) writable when needed.
func (ws *workspace) remove() {
	if os.RemoveAll(ws.root) == nil {
		return
	}
	_ = filepath.WalkDir(ws.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(ws.root)
}

// inputs is what fetchInputs found.
type inputs struct {
	revision string            // the primary input artifact's revision
	location string            // the primary input artifact's S3 ARN
	env      map[string]string // CODEBUILD_SRC_DIR_<name> of the secondary sources
}

var nonEnvRE = regexp.MustCompile(`[^A-Za-z0-9_]`)

// fetchInputs downloads and extracts the input artifacts: the primary one
// (named by primary, else the first) into ws.src, every other one into a
// directory of its own, which CODEBUILD_SRC_DIR_<artifact name> names, as
// CodeBuild does for secondary sources.
func (ws *workspace) fetchInputs(ctx context.Context, st artifact.Store, j *worker.Job, primary string, lg *buildLog) (*inputs, error) {
	arts := j.Data.InputArtifacts
	out := &inputs{env: map[string]string{}}
	if len(arts) == 0 {
		return out, nil
	}
	pi := 0
	if primary != "" {
		pi = -1
		for i, a := range arts {
			if a.Name == primary {
				pi = i
			}
		}
		if pi < 0 {
			return nil, &worker.Failure{Type: cpapi.FailureTypeConfigurationError,
				Message: "PrimarySource " + primary + " is not one of the action's input artifacts"}
		}
	}
	for i, a := range arts {
		dest := ws.src
		if i != pi {
			dest = filepath.Join(ws.root, "src2", nonEnvRE.ReplaceAllString(a.Name, "_"))
			out.env["CODEBUILD_SRC_DIR_"+nonEnvRE.ReplaceAllString(a.Name, "_")] = dest
		}
		what := "secondary source"
		if i == pi {
			what = "primary source"
			out.revision = a.Revision
			if l := a.Location; l != nil && l.S3Location != nil {
				out.location = "arn:aws:s3:::" + l.S3Location.BucketName + "/" + l.S3Location.ObjectKey
			}
		}
		lg.printf("Downloading input artifact %s (%s) to %s", a.Name, what, dest)
		if err := ws.fetch(ctx, st, a, dest); err != nil {
			lg.printf("%v", err)
			return nil, err
		}
	}
	return out, nil
}

// fetch downloads one artifact zip and extracts it into dest.
func (ws *workspace) fetch(ctx context.Context, st artifact.Store, a cpapi.Artifact, dest string) error {
	if a.Location == nil || a.Location.S3Location == nil {
		return worker.Failf("input artifact %s has no location", a.Name)
	}
	l := a.Location.S3Location
	r, _, err := st.Get(ctx, l.BucketName, l.ObjectKey)
	if errors.Is(err, artifact.ErrNotFound) {
		return worker.Failf("input artifact %s is missing from the artifact store (%s/%s)", a.Name, l.BucketName, l.ObjectKey)
	}
	if err != nil {
		return fmt.Errorf("download input artifact %s: %w", a.Name, err)
	}
	defer r.Close()
	f, err := os.CreateTemp(ws.root, "artifact-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, r)
	if err != nil {
		return fmt.Errorf("download input artifact %s: %w", a.Name, err)
	}
	if err := artifact.Extract(f, n, dest, artifact.Limits{}); err != nil {
		return worker.Failf("input artifact %s is not a zip file that can be extracted: %v", a.Name, err)
	}
	return nil
}

// uploadSet zips the files of set (relative to src) into output artifact
// #i of the job.
func uploadSet(ctx context.Context, st artifact.Store, j *worker.Job, i int, src string, set *buildspec.ArtifactSet, lg *buildLog) error {
	bucket, key, err := outputLocation(j, i)
	if err != nil {
		return err
	}
	info, err := putArtifact(ctx, st, bucket, key, func(w io.Writer) error { return zipSet(w, src, set, lg) })
	if err != nil {
		return err
	}
	lg.printf("Uploaded output artifact %s: %d files, %d bytes", j.Data.OutputArtifacts[i].Name, len(set.Files), info.Size)
	return nil
}

// uploadDir zips the whole of dir into output artifact #i of the job.
func uploadDir(ctx context.Context, st artifact.Store, j *worker.Job, i int, dir string, lg *buildLog) error {
	bucket, key, err := outputLocation(j, i)
	if err != nil {
		return err
	}
	info, err := putArtifact(ctx, st, bucket, key, func(w io.Writer) error { return artifact.Zip(dir, w) })
	if err != nil {
		var ee *artifact.EntryError
		if errors.As(err, &ee) {
			return worker.Failf("CLIENT_ERROR: packaging output artifact %s: %v", j.Data.OutputArtifacts[i].Name, ee)
		}
		return err
	}
	lg.printf("Uploaded output artifact %s: the working directory, %d bytes", j.Data.OutputArtifacts[i].Name, info.Size)
	return nil
}

// zipSet writes the files of set as a zip, deterministically (entries in
// Dest order, every time artifact.ZipTime, permission bits kept). A
// symbolic link is kept as a link with enable-symlinks and otherwise
// replaced by the file it points to; links to directories or to nothing
// are left out, with a line in the log.
func zipSet(w io.Writer, src string, set *buildspec.ArtifactSet, lg *buildLog) error {
	zw := zip.NewWriter(w)
	seen := map[string]bool{}
	for _, f := range set.Files {
		if seen[f.Dest] {
			lg.printf("Skipping %s: another file already has the path %s in the artifact", f.Source, f.Dest)
			continue
		}
		seen[f.Dest] = true
		p := filepath.Join(src, filepath.FromSlash(f.Source))
		hdr := &zip.FileHeader{Name: f.Dest, Modified: artifact.ZipTime}
		if f.Symlink && set.EnableSymlinks {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			hdr.Method = zip.Store
			hdr.SetMode(fs.ModeSymlink | 0o777)
			fw, err := zw.CreateHeader(hdr)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(fw, target); err != nil {
				return err
			}
			continue
		}
		st, err := os.Stat(p) // follows links
		if err != nil || !st.Mode().IsRegular() {
			lg.printf("Skipping %s: not a regular file (a link to a directory, or to nothing)", f.Source)
			continue
		}
		hdr.Method = zip.Deflate
		hdr.SetMode(st.Mode().Perm())
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(fw, in)
		in.Close()
		if err != nil {
			return fmt.Errorf("artifact file %s: %w", f.Source, err)
		}
	}
	return zw.Close()
}

// unwrapPath drops the path from a file error, which names the workspace.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
