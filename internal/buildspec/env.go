package buildspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// BuildInfo describes one build for the CODEBUILD_* variables that the
// caller passes in Runner.Env. CODEBUILD_SRC_DIR and
// CODEBUILD_BUILD_SUCCEEDING are set by the runner itself.
type BuildInfo struct {
	// ID is CODEBUILD_BUILD_ID, "<project>:<uuid>".
	ID string
	// ARN is CODEBUILD_BUILD_ARN.
	ARN string
	// Number is CODEBUILD_BUILD_NUMBER, the project's build counter.
	Number int64
	// Initiator is CODEBUILD_INITIATOR, "codepipeline/<pipeline>" for
	// pipeline builds.
	Initiator string
	// ResolvedSourceVersion is CODEBUILD_RESOLVED_SOURCE_VERSION, the
	// source revision (commit ID).
	ResolvedSourceVersion string
	// SourceVersion is CODEBUILD_SOURCE_VERSION.
	SourceVersion string
	// SourceRepoURL is CODEBUILD_SOURCE_REPO_URL.
	SourceRepoURL string
	// Image is CODEBUILD_BUILD_IMAGE.
	Image string
	// Start is CODEBUILD_START_TIME (Unix milliseconds).
	Start time.Time
	// Region is AWS_REGION and AWS_DEFAULT_REGION.
	Region string
}

// Env returns the variables of b that are set, for Runner.Env.
func (b BuildInfo) Env() map[string]string {
	env := map[string]string{"CODEBUILD_CI": "true"}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	set("CODEBUILD_BUILD_ID", b.ID)
	set("CODEBUILD_BUILD_ARN", b.ARN)
	if b.Number > 0 {
		env["CODEBUILD_BUILD_NUMBER"] = strconv.FormatInt(b.Number, 10)
	}
	set("CODEBUILD_INITIATOR", b.Initiator)
	set("CODEBUILD_RESOLVED_SOURCE_VERSION", b.ResolvedSourceVersion)
	set("CODEBUILD_SOURCE_VERSION", b.SourceVersion)
	set("CODEBUILD_SOURCE_REPO_URL", b.SourceRepoURL)
	set("CODEBUILD_BUILD_IMAGE", b.Image)
	if !b.Start.IsZero() {
		env["CODEBUILD_START_TIME"] = strconv.FormatInt(b.Start.UnixMilli(), 10)
	}
	set("AWS_REGION", b.Region)
	set("AWS_DEFAULT_REGION", b.Region)
	return env
}

// shellFor picks the shell: env.shell, else Runner.Shell, else /bin/sh.
func (r *Runner) shellFor(spec *Spec) (string, error) {
	switch spec.Env.Shell {
	case "bash", "/bin/bash":
		return findBash()
	case "sh", "/bin/sh":
		return checkShell("/bin/sh")
	case "":
		if r.Shell == "" {
			return checkShell(DefaultShell)
		}
		return checkShell(r.Shell)
	}
	return "", fmt.Errorf("buildspec: env.shell %q is not supported; use bash or /bin/sh", spec.Env.Shell)
}

// findBash locates bash on the build host.
func findBash() (string, error) {
	for _, p := range []string{"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"} {
		if _, err := checkShell(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("bash"); err == nil && filepath.IsAbs(p) {
		return checkShell(p)
	}
	return "", errors.New("buildspec: env.shell is bash, but bash is not installed on the build host")
}

// checkShell accepts an absolute path to an executable POSIX shell whose
// `set` and `export -p` output the session understands.
func checkShell(p string) (string, error) {
	switch filepath.Base(p) {
	case "sh", "bash", "dash", "ash":
	default:
		return "", fmt.Errorf("buildspec: shell %q is not supported; use sh or bash", p)
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("buildspec: shell %q must be an absolute path", p)
	}
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("buildspec: shell %q is not an executable file", p)
	}
	return p, nil
}

// initialEnv assembles the build's starting environment, lowest precedence
// first: the clean defaults (PATH, HOME), env.variables, the buildspec
// secrets, Runner.Env, and CODEBUILD_SRC_DIR. It returns the secret values
// to redact and the first error resolving a secret.
func (b *build) initialEnv() (map[string]string, []string, error) {
	env := map[string]string{"PATH": defaultPath, "HOME": b.home}
	for _, v := range b.spec.Env.Variables {
		env[v.Name] = v.Value
	}
	var secrets []string
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for _, v := range b.spec.Env.ParameterStore {
		val, err := b.secret(SecretKindParameterStore, v.Value)
		if err != nil {
			keep(fmt.Errorf("env.parameter-store.%s: %w", v.Name, err))
			continue
		}
		env[v.Name], secrets = val, append(secrets, val)
	}
	for _, ref := range b.spec.Env.SecretsManager {
		val, raw, err := b.secretsManager(ref)
		secrets = append(secrets, raw, val)
		if err != nil {
			keep(fmt.Errorf("env.secrets-manager.%s: %w", ref.Name, err))
			continue
		}
		env[ref.Name] = val
	}
	for k, v := range b.r.Env {
		env[k] = v
	}
	env["CODEBUILD_SRC_DIR"] = b.srcDir
	return env, secrets, firstErr
}

// secret resolves one reference through Runner.Secrets.
func (b *build) secret(kind, name string) (string, error) {
	if b.r.Secrets == nil {
		return "", fmt.Errorf("the buildspec uses env.%s, but no secret store is configured", kind)
	}
	v, err := b.r.Secrets(kind, name)
	if err != nil {
		return "", fmt.Errorf("resolving %s %q: %w", kind, name, err)
	}
	return v, nil
}

// secretsManager resolves a secrets-manager reference and applies its
// json-key. It returns the value and the whole secret text.
func (b *build) secretsManager(ref SecretRef) (string, string, error) {
	raw, err := b.secret(SecretKindSecretsManager, ref.SecretID)
	if err != nil || ref.JSONKey == "" {
		return raw, raw, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return "", raw, fmt.Errorf("secret %q is not a JSON object, so json-key %q cannot be read", ref.SecretID, ref.JSONKey)
	}
	field, ok := obj[ref.JSONKey]
	if !ok {
		return "", raw, fmt.Errorf("secret %q has no JSON key %q", ref.SecretID, ref.JSONKey)
	}
	var s string
	if json.Unmarshal(field, &s) == nil {
		return s, raw, nil
	}
	return string(field), raw, nil
}
