package engine

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// Reserved configuration keys of Compute/AWS/Commands jobs. CodePipeline's
// JobData has no member for what a Commands action declares outside its
// configuration, so the engine passes it to the job in its configuration,
// under these keys, each a JSON value. Pipeline configurations cannot use
// them: the Commands action type has no configuration properties.
const (
	// CommandsKey holds the action's commands, a JSON array of strings,
	// with variable references (#{Namespace.Key}) resolved.
	CommandsKey = "SlipwayCommands"
	// OutputVariablesKey holds the action's outputVariables, a JSON array
	// of environment variable names whose values at the end of the
	// commands become the action's output variables.
	OutputVariablesKey = "SlipwayOutputVariables"
	// OutputFilesKey holds the files of the action's output artifacts, a
	// JSON object from output artifact name to its files (glob patterns,
	// relative to the working directory); artifacts without files are
	// left out (they hold the whole working directory).
	OutputFilesKey = "SlipwayOutputFiles"
	// EnvironmentVariablesKey holds the action's environmentVariables, a
	// JSON array of {name, value, type} (the model's EnvironmentVariable),
	// values with variable references resolved.
	EnvironmentVariablesKey = "SlipwayEnvironmentVariables"
	// TimeoutKey holds the action's timeoutInMinutes as a decimal number,
	// when declared.
	TimeoutKey = "SlipwayTimeoutInMinutes"
)

// isCommandsAction reports whether id is Compute/AWS/Commands.
func isCommandsAction(id *cpapi.ActionTypeId) bool {
	return id != nil && id.Category == cpapi.ActionCategoryCompute && id.Owner == cpapi.ActionOwnerAws && id.Provider == "Commands"
}

// withCommands adds what a Commands action declares besides its
// configuration to its job's configuration, under the reserved keys.
// config is not modified; for other action types it is returned as is.
func withCommands(config map[string]string, decl *cpapi.ActionDeclaration, v Vars) (map[string]string, error) {
	if !isCommandsAction(decl.ActionTypeId) {
		return config, nil
	}
	out := make(map[string]string, len(config)+5)
	for k, val := range config {
		out[k] = val
	}
	raw := map[string]string{}
	for i, c := range decl.Commands {
		raw["commands["+strconv.Itoa(i)+"]"] = c
	}
	for i, ev := range decl.EnvironmentVariables {
		raw["environmentVariables["+strconv.Itoa(i)+"]"] = ev.Value
	}
	resolved, err := ResolveVariables(raw, v)
	if err != nil {
		return nil, err
	}
	cmds := make([]string, len(decl.Commands))
	for i := range decl.Commands {
		cmds[i] = resolved["commands["+strconv.Itoa(i)+"]"]
	}
	out[CommandsKey] = mustJSON(cmds)
	if len(decl.OutputVariables) > 0 {
		out[OutputVariablesKey] = mustJSON(decl.OutputVariables)
	}
	files := map[string][]string{}
	for _, o := range decl.OutputArtifacts {
		if len(o.Files) > 0 {
			files[o.Name] = o.Files
		}
	}
	if len(files) > 0 {
		out[OutputFilesKey] = mustJSON(files)
	}
	if len(decl.EnvironmentVariables) > 0 {
		evs := make([]cpapi.EnvironmentVariable, len(decl.EnvironmentVariables))
		for i, ev := range decl.EnvironmentVariables {
			evs[i] = cpapi.EnvironmentVariable{Name: ev.Name, Type: ev.Type, Value: resolved["environmentVariables["+strconv.Itoa(i)+"]"]}
		}
		out[EnvironmentVariablesKey] = mustJSON(evs)
	}
	if m := aws.ToInt32(decl.TimeoutInMinutes); m > 0 {
		out[TimeoutKey] = strconv.Itoa(int(m))
	}
	return out, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("engine: encode %T: %v", v, err)) // strings only: cannot fail
	}
	return string(b)
}
