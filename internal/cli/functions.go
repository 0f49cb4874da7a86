package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// readInputFile decodes a JSON file ("-": standard input) holding an
// extension API input into in, refusing unknown members.
func readInputFile(cmd *cobra.Command, path string, in any) error {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("read -f: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// created formats a server timestamp of the extension API.
func created(t *awsproto.Time) string {
	if t == nil {
		return ""
	}
	return clock(&t.Time)
}

// extCommand is the parent of the commands of one extension API resource.
func extCommand(use, short, long string, f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: long}
	f.register(cmd)
	return cmd
}

// deleteCommand is the delete subcommand of a resource.
func deleteCommand(stdout io.Writer, f *apiFlags, what string, del func(cmd *cobra.Command, c *slipwayapi.Client, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a " + what,
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := outputFormat(cmd, false); err != nil {
				return err
			}
			c, _, _, err := f.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			if err := del(cmd, c, args[0]); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(stdout, "Deleted %s %s\n", what, args[0])
			return nil
		},
	}
}

// listCommand is the list subcommand of a resource: it calls list and
// prints its output as JSON (-o json) or as the table render makes.
func listCommand[T any](stdout io.Writer, f *apiFlags, short, long string,
	list func(ctx context.Context, c *slipwayapi.Client) (T, error), render func(T) *table) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: short,
		Long:  long,
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			c, _, _, err := f.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			out, err := list(cmd.Context(), c)
			if err != nil {
				return apiError(err)
			}
			if format == formatJSON {
				return writeJSON(stdout, out)
			}
			_, err = io.WriteString(stdout, render(out).render())
			return err
		},
	}
}

// report prints a create call's output: as JSON (-o json) or as the
// line done makes; err is the call's error.
func report(stdout io.Writer, format string, out any, err error, done func() string) error {
	if err != nil {
		return apiError(err)
	}
	if format == formatJSON {
		return writeJSON(stdout, out)
	}
	_, err = fmt.Fprintln(stdout, done())
	return err
}

// nameArg takes the NAME argument into *name unless -f gave one; an
// argument that differs from the file's name is an error.
func nameArg(args []string, name *string, flag string) error {
	switch {
	case len(args) == 1 && *name != "" && *name != args[0]:
		return usagef("NAME %s differs from the name %s in -f", args[0], *name)
	case len(args) == 1:
		*name = args[0]
	case *name == "":
		return usagef("give the %s as NAME or in -f", flag)
	}
	return nil
}

func newFunctionCommand(stdout io.Writer) *cobra.Command {
	var f apiFlags
	cmd := extCommand("function", "Manage the functions Lambda actions invoke",
		`Manage Slipway functions: a command the server runs, or a URL it posts to, for each
invocation of a Lambda pipeline action naming it (docs/api-extensions.md, "Functions").`, &f)

	list := listCommand(stdout, &f, "List the functions", "List the functions. -o json prints the ListFunctions output.",
		func(ctx context.Context, c *slipwayapi.Client) (*slipwayapi.ListFunctionsOutput, error) {
			return c.ListFunctions(ctx, nil)
		},
		func(out *slipwayapi.ListFunctionsOutput) *table {
			t := &table{header: []string{"NAME", "KIND", "TARGET", "TIMEOUT", "CREATED"}}
			for _, fn := range out.Functions {
				kind, target := "url", fn.URL
				if len(fn.Command) > 0 {
					kind, target = "command", strings.Join(fn.Command, " ")
				}
				t.add(fn.FunctionName, kind, oneLine(target, 60), fmt.Sprintf("%ds", fn.Timeout()), created(fn.Created))
			}
			return t
		})

	var in slipwayapi.CreateFunctionInput
	var file string
	var env []string
	create := &cobra.Command{
		Use:   "create NAME (--url URL | -- PROGRAM [ARG...]) [--timeout SECONDS] [--env KEY=VALUE]... | create -f FILE",
		Short: "Create a function that runs a command or posts to a URL",
		Long: `Create a function. It runs PROGRAM with its arguments (no shell; the event on standard
input and in SLIPWAY_EVENT), or posts the event to --url. -f FILE takes the
CreateFunctionInput as JSON ({"functionName", "command", "url", "timeoutSeconds",
"environment"}) instead. -o json prints the CreateFunction output.

  slipway function create smoke-test --timeout 60 -- /usr/local/bin/smoke --quick`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			dash := cmd.ArgsLenAtDash()
			names, command := args, []string(nil)
			if dash >= 0 {
				names, command = args[:dash], args[dash:]
			}
			if len(names) > 1 {
				return usagef("one NAME; put the command after --")
			}
			if file != "" {
				if cmd.Flags().Changed("url") || cmd.Flags().Changed("timeout") || len(env) > 0 || len(command) > 0 {
					return usagef("-f FILE takes the whole function: no --url, --timeout, --env or command with it")
				}
				if err := readInputFile(cmd, file, &in); err != nil {
					return err
				}
			} else {
				in.Command = command
				kvs, err := parseKeyValues("--env", env)
				if err != nil {
					return err
				}
				for _, kv := range kvs {
					if in.Environment == nil {
						in.Environment = map[string]string{}
					}
					in.Environment[kv[0]] = kv[1]
				}
				if (in.URL == "") == (len(in.Command) == 0) {
					return usagef("give either --url or a command after --")
				}
			}
			if err := nameArg(names, &in.FunctionName, "function name"); err != nil {
				return err
			}
			c, _, _, err := f.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			out, err := c.CreateFunction(cmd.Context(), &in)
			return report(stdout, format, out, err, func() string { return fmt.Sprintf("Created function %s", out.Function.FunctionName) })
		},
	}
	cf := create.Flags()
	cf.StringVarP(&file, "file", "f", "", `a JSON file of the CreateFunction input ("-": standard input)`)
	cf.StringVar(&in.URL, "url", "", "post each event to this http:// or https:// URL")
	cf.Int32Var(&in.TimeoutSeconds, "timeout", 0, "seconds one invocation may take (1-900; default 300)")
	cf.StringArrayVar(&env, "env", nil, "an environment variable KEY=VALUE of the command (repeatable)")

	del := deleteCommand(stdout, &f, "function", func(cmd *cobra.Command, c *slipwayapi.Client, name string) error {
		_, err := c.DeleteFunction(cmd.Context(), &slipwayapi.DeleteFunctionInput{FunctionName: name})
		return err
	})
	cmd.AddCommand(list, create, del)
	return cmd
}

func newBuildProjectCommand(stdout io.Writer) *cobra.Command {
	var f apiFlags
	cmd := extCommand("build-project", "Manage the build projects CodeBuild actions run",
		`Manage build projects: what a CodeBuild pipeline action whose ProjectName names one runs
(docs/api-extensions.md, "Build projects").`, &f)

	list := listCommand(stdout, &f, "List the build projects", "List the build projects. -o json prints the ListBuildProjects output.",
		func(ctx context.Context, c *slipwayapi.Client) (*slipwayapi.ListBuildProjectsOutput, error) {
			return c.ListBuildProjects(ctx, nil)
		},
		func(out *slipwayapi.ListBuildProjectsOutput) *table {
			t := &table{header: []string{"NAME", "BUILDSPEC", "TIMEOUT", "VARIABLES", "DESCRIPTION"}}
			for _, p := range out.Projects {
				spec := p.BuildspecPath
				if p.Buildspec != "" {
					spec = "(inline)"
				}
				var vars []string
				for _, v := range p.EnvironmentVariables {
					vars = append(vars, v.Name)
				}
				t.add(p.Name, spec, fmt.Sprintf("%dm", p.TimeoutInMinutes), oneLine(strings.Join(vars, ","), 40), oneLine(p.Description, 60))
			}
			return t
		})

	var in slipwayapi.CreateBuildProjectInput
	var file, buildspecFile string
	var env, secretEnv []string
	create := &cobra.Command{
		Use:   "create NAME [--buildspec-file FILE | --buildspec-path PATH] [flags] | create -f FILE",
		Short: "Create a build project",
		Long: `Create a build project: an inline buildspec (--buildspec-file reads it) or the path of
the buildspec in the source (--buildspec-path, default buildspec.yml), environment
variables (--env KEY=VALUE; --secret-env KEY=SECRET-NAME for a secret from PutSecret)
and a timeout. -f FILE takes the CreateBuildProjectInput as JSON ({"name", "description",
"buildspec", "buildspecPath", "environmentVariables", "timeoutInMinutes", "workerLabels"})
instead. -o json prints the CreateBuildProject output.`,
		Args: withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if file != "" {
				for _, fl := range []string{"buildspec-file", "buildspec-path", "description", "timeout", "env", "secret-env", "worker-label"} {
					if cmd.Flags().Changed(fl) {
						return usagef("-f FILE takes the whole project: no --%s with it", fl)
					}
				}
				if err := readInputFile(cmd, file, &in); err != nil {
					return err
				}
			} else {
				if buildspecFile != "" {
					data, err := os.ReadFile(buildspecFile)
					if err != nil {
						return fmt.Errorf("--buildspec-file: %w", err)
					}
					in.Buildspec = string(data)
				}
				plain, err := parseKeyValues("--env", env)
				if err != nil {
					return err
				}
				secret, err := parseKeyValues("--secret-env", secretEnv)
				if err != nil {
					return err
				}
				for _, kv := range plain {
					in.EnvironmentVariables = append(in.EnvironmentVariables, slipwayapi.BuildEnvironmentVariable{Name: kv[0], Value: kv[1], Type: slipwayapi.EnvTypePlaintext})
				}
				for _, kv := range secret {
					in.EnvironmentVariables = append(in.EnvironmentVariables, slipwayapi.BuildEnvironmentVariable{Name: kv[0], Value: kv[1], Type: slipwayapi.EnvTypeSecret})
				}
			}
			if err := nameArg(args, &in.Name, "project name"); err != nil {
				return err
			}
			c, _, _, err := f.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			out, err := c.CreateBuildProject(cmd.Context(), &in)
			return report(stdout, format, out, err, func() string { return fmt.Sprintf("Created build project %s", out.Project.Name) })
		},
	}
	cf := create.Flags()
	cf.StringVarP(&file, "file", "f", "", `a JSON file of the CreateBuildProject input ("-": standard input)`)
	cf.StringVar(&buildspecFile, "buildspec-file", "", "a buildspec file to keep inline in the project")
	cf.StringVar(&in.BuildspecPath, "buildspec-path", "", "the buildspec's path in the source (default buildspec.yml)")
	cf.StringVar(&in.Description, "description", "", "a description of the project")
	cf.Int32Var(&in.TimeoutInMinutes, "timeout", 0, "minutes a build may take (5-480; default 60)")
	cf.StringArrayVar(&env, "env", nil, "a plain environment variable KEY=VALUE (repeatable)")
	cf.StringArrayVar(&secretEnv, "secret-env", nil, "an environment variable KEY=SECRET-NAME set from a secret (repeatable)")
	cf.StringArrayVar(&in.WorkerLabels, "worker-label", nil, "a worker label of the project (repeatable)")

	del := deleteCommand(stdout, &f, "build project", func(cmd *cobra.Command, c *slipwayapi.Client, name string) error {
		_, err := c.DeleteBuildProject(cmd.Context(), &slipwayapi.DeleteBuildProjectInput{Name: name})
		return err
	})
	cmd.AddCommand(list, create, del)
	return cmd
}

func newNotificationTargetCommand(stdout io.Writer) *cobra.Command {
	var f apiFlags
	cmd := extCommand("notification-target", "Manage the HTTP endpoints approval notifications go to",
		`Manage notification targets: HTTP endpoints that receive manual approval notifications.
An approval action whose NotificationArn ends in ":<name>" notifies the target <name>
(docs/api-extensions.md, "Approval notifications").`, &f)

	list := listCommand(stdout, &f, "List the notification targets", `List the notification targets (secrets show as "****"). -o json prints the ListNotificationTargets output.`,
		func(ctx context.Context, c *slipwayapi.Client) (*slipwayapi.ListNotificationTargetsOutput, error) {
			return c.ListNotificationTargets(ctx, nil)
		},
		func(out *slipwayapi.ListNotificationTargetsOutput) *table {
			t := &table{header: []string{"NAME", "URL", "SIGNED", "UPDATED"}}
			for _, nt := range out.Targets {
				signed := "no"
				if nt.Secret != "" {
					signed = "yes"
				}
				upd := nt.Updated
				if upd == nil {
					upd = nt.Created
				}
				t.add(nt.Name, nt.URL, signed, created(upd))
			}
			return t
		})

	var in slipwayapi.PutNotificationTargetInput
	var file string
	create := &cobra.Command{
		Use:   "create NAME --url URL [--secret SECRET] | create -f FILE",
		Short: "Create (or replace) a notification target",
		Long: `Create a notification target, replacing one of the same name. With --secret, each
delivery is signed (X-Slipway-Signature: sha256=<HMAC>); $SLIPWAY_TARGET_SECRET is read
when --secret is absent, to keep the secret out of the process list. -f FILE takes the
PutNotificationTargetInput as JSON ({"name", "url", "secret"}) instead.
-o json prints the PutNotificationTarget output.`,
		Args: withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			if file != "" {
				if cmd.Flags().Changed("url") || cmd.Flags().Changed("secret") {
					return usagef("-f FILE takes the whole target: no --url or --secret with it")
				}
				if err := readInputFile(cmd, file, &in); err != nil {
					return err
				}
			} else {
				if in.URL == "" {
					return usagef("--url is required")
				}
				if in.Secret == "" {
					in.Secret = os.Getenv("SLIPWAY_TARGET_SECRET")
				}
			}
			if err := nameArg(args, &in.Name, "target name"); err != nil {
				return err
			}
			c, _, _, err := f.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			out, err := c.PutNotificationTarget(cmd.Context(), &in)
			return report(stdout, format, out, err, func() string { return fmt.Sprintf("Created notification target %s (%s)", in.Name, in.URL) })
		},
	}
	cf := create.Flags()
	cf.StringVarP(&file, "file", "f", "", `a JSON file of the PutNotificationTarget input ("-": standard input)`)
	cf.StringVar(&in.URL, "url", "", "the http:// or https:// URL notifications are posted to")
	cf.StringVar(&in.Secret, "secret", "", "a secret that signs each delivery (default $SLIPWAY_TARGET_SECRET)")

	del := deleteCommand(stdout, &f, "notification target", func(cmd *cobra.Command, c *slipwayapi.Client, name string) error {
		_, err := c.DeleteNotificationTarget(cmd.Context(), &slipwayapi.DeleteNotificationTargetInput{Name: name})
		return err
	})
	cmd.AddCommand(list, create, del)
	return cmd
}
