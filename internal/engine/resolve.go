package engine

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Vars are the values variable references resolve to.
type Vars struct {
	ExecutionID string
	Pipeline    map[string]string            // #{variables.Name}
	Namespaces  map[string]map[string]string // #{Namespace.Key}: output variables of earlier actions
}

var refRE = regexp.MustCompile(`#\{([^}.]+)\.([^}]+)\}`)

// ResolveVariables returns config with every #{Namespace.Key} reference
// replaced by its value. A reference that cannot be resolved is an error
// naming the configuration key and the reference.
func ResolveVariables(config map[string]string, v Vars) (map[string]string, error) {
	out := make(map[string]string, len(config))
	for _, key := range slices.Sorted(maps.Keys(config)) {
		var missing string
		out[key] = refRE.ReplaceAllStringFunc(config[key], func(ref string) string {
			m := refRE.FindStringSubmatch(ref)
			val, ok := v.lookup(m[1], m[2])
			if !ok && missing == "" {
				missing = ref
			}
			return val
		})
		if missing != "" {
			return nil, fmt.Errorf("configuration %q refers to %s, which %s", key, missing, v.why(missing))
		}
	}
	return out, nil
}

func (v Vars) lookup(ns, name string) (string, bool) {
	switch ns {
	case "codepipeline":
		if name == "PipelineExecutionId" {
			return v.ExecutionID, true
		}
		return "", false
	case "variables":
		val, ok := v.Pipeline[name]
		return val, ok
	}
	val, ok := v.Namespaces[ns][name]
	return val, ok
}

func (v Vars) why(ref string) string {
	m := refRE.FindStringSubmatch(ref)
	switch {
	case m[1] == "codepipeline":
		return "is not a CodePipeline variable (only #{codepipeline.PipelineExecutionId} is)"
	case m[1] == "variables":
		return "is not a pipeline variable of this execution"
	case v.Namespaces[m[1]] == nil:
		return "names no namespace of an action that succeeded earlier in this execution"
	}
	return "is not an output variable of namespace " + m[1]
}

// ArtifactLocation returns where an output artifact of an execution is
// stored: <pipeline name, 20 chars>/<artifact name, 10 chars>/<suffix>,
// the layout CodePipeline uses in its artifact bucket.
func ArtifactLocation(bucket, pipeline, artifact, suffix string) *cpapi.S3ArtifactLocation {
	return &cpapi.S3ArtifactLocation{BucketName: bucket, ObjectKey: trunc(pipeline, 20) + "/" + trunc(artifact, 10) + "/" + suffix}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// InputArtifacts resolves an action's input artifacts to the outputs that
// earlier actions of the same execution produced (produced maps artifact
// name to artifact). A missing one is an error naming it.
func InputArtifacts(want []cpapi.InputArtifact, produced map[string]cpapi.Artifact) ([]cpapi.Artifact, error) {
	out := make([]cpapi.Artifact, 0, len(want))
	for _, in := range want {
		a, ok := produced[in.Name]
		if !ok {
			return nil, fmt.Errorf("input artifact %q was not produced by an earlier action of this execution", in.Name)
		}
		out = append(out, a)
	}
	return out, nil
}

// storeBucket returns the artifact bucket of a pipeline for an action region.
func storeBucket(d *cpapi.PipelineDeclaration, region string) (string, *cpapi.EncryptionKey) {
	if d.ArtifactStore != nil {
		return d.ArtifactStore.Location, d.ArtifactStore.EncryptionKey
	}
	if s, ok := d.ArtifactStores[region]; ok {
		return s.Location, s.EncryptionKey
	}
	for _, k := range slices.Sorted(maps.Keys(d.ArtifactStores)) {
		s := d.ArtifactStores[k]
		return s.Location, s.EncryptionKey
	}
	return "", nil
}

// fillTemplate substitutes {Config:Name} and {ExternalExecutionId} in a
// custom action type's URL template.
func fillTemplate(tpl string, config map[string]string, externalID string) string {
	if tpl == "" {
		return ""
	}
	s := strings.ReplaceAll(tpl, "{ExternalExecutionId}", externalID)
	return configRE.ReplaceAllStringFunc(s, func(m string) string {
		return config[configRE.FindStringSubmatch(m)[1]]
	})
}

var configRE = regexp.MustCompile(`\{Config:([^}]*)\}`)
