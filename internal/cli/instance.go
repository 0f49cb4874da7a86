package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/agent"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// codeDeployClient returns an AWS SDK CodeDeploy client for the server,
// signing with the same credentials as the extension API client.
func (f *apiFlags) codeDeployClient(ctx context.Context, cmd *cobra.Command) (*codedeploy.Client, *slipwayapi.Client, error) {
	creds, region, _, err := f.credentials(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	if region == "" {
		region = "us-east-1"
	}
	provider := credentials.StaticCredentialsProvider{Value: creds}
	cd := codedeploy.New(codedeploy.Options{Region: region, BaseEndpoint: aws.String(f.endpoint), Credentials: provider})
	return cd, slipwayapi.New(f.endpoint, region, provider), nil
}

// sdkError words an AWS SDK error for the command line.
func sdkError(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return apiError(err)
}

func newInstanceCommand(stdout io.Writer) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "instance",
		Short: "Register, list and tag the on-premises instances deployments go to",
	}
	f.register(cmd)

	var tags []string
	var out, rootDir, logDir, agentEndpoint string
	register := &cobra.Command{
		Use:   "register NAME",
		Short: "Register an instance, tag it and write its agent's configuration",
		Long: `Register an on-premises instance: create an access key bound to it
(CreateInstanceCredentials), register it with that key's user ARN
(RegisterOnPremisesInstance), add the --tag tags (AddTagsToOnPremisesInstances)
and write a ready slipway-agent configuration holding the key to --out (mode 0600).
Copy that file to the host and start the agent with it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			var cdTags []cdtypes.Tag
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok || k == "" {
					return fmt.Errorf("--tag %q: use KEY=VALUE", t)
				}
				cdTags = append(cdTags, cdtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			cd, ext, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			// Check the file can be written before making a key.
			fh, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			written := false
			defer func() {
				fh.Close()
				if !written {
					os.Remove(out)
				}
			}()
			key, err := ext.CreateInstanceCredentials(ctx, &slipwayapi.CreateInstanceCredentialsInput{InstanceName: name})
			if err != nil {
				return apiError(err)
			}
			if _, err := cd.RegisterOnPremisesInstance(ctx, &codedeploy.RegisterOnPremisesInstanceInput{
				InstanceName: aws.String(name), IamUserArn: aws.String(key.UserArn)}); err != nil {
				return sdkError(err)
			}
			if len(cdTags) > 0 {
				if _, err := cd.AddTagsToOnPremisesInstances(ctx, &codedeploy.AddTagsToOnPremisesInstancesInput{
					InstanceNames: []string{name}, Tags: cdTags}); err != nil {
					return sdkError(err)
				}
			}
			endpoint := f.endpoint
			if agentEndpoint != "" {
				endpoint = agentEndpoint
			}
			data, err := agent.RegistrationConfig(&agent.Registration{Endpoint: endpoint, Region: ext.Region, AccessKeyID: key.AccessKeyID,
				SecretAccessKey: key.SecretAccessKey, IAMUserARN: key.UserArn, InstanceName: name, RootDir: rootDir, LogDir: logDir})
			if err != nil {
				return err
			}
			if _, err := fh.Write(data); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := fh.Close(); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			written = true
			fmt.Fprintf(stdout, `Registered instance %s (IAM user ARN %s)`, name, key.UserArn)
			if len(tags) > 0 {
				fmt.Fprintf(stdout, " with tags %s", strings.Join(tags, ", "))
			}
			fmt.Fprintf(stdout, `.
Wrote the agent configuration, with the instance's access key %s, to %s (mode 0600).

Copy it to the host (e.g. /etc/slipway-agent/agent.yml) and start the agent:

  slipway-agent --config %s
`, key.AccessKeyID, out, shellQuote(out))
			return nil
		},
	}
	rf := register.Flags()
	rf.StringArrayVar(&tags, "tag", nil, "a tag KEY=VALUE of the instance (repeatable); deployment groups select instances by tag")
	rf.StringVar(&out, "out", "agent.yml", "where to write the agent configuration (must not exist)")
	rf.StringVar(&rootDir, "root-dir", "/opt/slipway-agent/deployment-root", "the agent's deployment root (root_dir)")
	rf.StringVar(&logDir, "log-dir", "/var/log/slipway-agent", "the agent's log directory (log_dir)")
	rf.StringVar(&agentEndpoint, "agent-endpoint", "", "the server URL as the host reaches it (default --endpoint)")
	cmd.AddCommand(register, instanceListCommand(&f, stdout), instanceTagCommand(&f, stdout))
	return cmd
}

// instanceRow is one line of instance list.
func instanceRow(in cdtypes.InstanceInfo) []string {
	status := "registered"
	if in.DeregisterTime != nil {
		status = "deregistered"
	}
	var tags []string
	for _, t := range in.Tags {
		tags = append(tags, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	slices.Sort(tags)
	return []string{aws.ToString(in.InstanceName), status, strings.Join(tags, ","), clock(in.RegisterTime), clock(in.DeregisterTime)}
}

func instanceListCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use:   "list [--status Registered|Deregistered]",
		Short: "List the on-premises instances with their tags",
		Long: `List the on-premises instances: name, registration, tags and when they were registered
(and deregistered). -o json prints a JSON array of the BatchGetOnPremisesInstances
instanceInfo.`,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			in := &codedeploy.ListOnPremisesInstancesInput{}
			switch strings.ToLower(status) {
			case "":
			case "registered":
				in.RegistrationStatus = cdtypes.RegistrationStatusRegistered
			case "deregistered":
				in.RegistrationStatus = cdtypes.RegistrationStatusDeregistered
			default:
				return usagef("--status %q: use Registered or Deregistered", status)
			}
			ctx := cmd.Context()
			cd, _, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			var names []string
			for {
				page, err := cd.ListOnPremisesInstances(ctx, in)
				if err != nil {
					return sdkError(err)
				}
				names = append(names, page.InstanceNames...)
				if aws.ToString(page.NextToken) == "" {
					break
				}
				in.NextToken = page.NextToken
			}
			infos := []cdtypes.InstanceInfo{}
			for chunk := range slices.Chunk(names, 25) {
				out, err := cd.BatchGetOnPremisesInstances(ctx, &codedeploy.BatchGetOnPremisesInstancesInput{InstanceNames: chunk})
				if err != nil {
					return sdkError(err)
				}
				infos = append(infos, out.InstanceInfos...)
			}
			slices.SortFunc(infos, func(a, b cdtypes.InstanceInfo) int {
				return strings.Compare(aws.ToString(a.InstanceName), aws.ToString(b.InstanceName))
			})
			if format == formatJSON {
				return writeJSON(stdout, infos)
			}
			t := &table{header: []string{"NAME", "STATUS", "TAGS", "REGISTERED", "DEREGISTERED"}}
			for _, in := range infos {
				t.add(instanceRow(in)...)
			}
			_, err = io.WriteString(stdout, t.render())
			return err
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only Registered or Deregistered instances")
	return cmd
}

func instanceTagCommand(f *apiFlags, stdout io.Writer) *cobra.Command {
	var remove []string
	cmd := &cobra.Command{
		Use:   "tag NAME [KEY=VALUE...] [--remove KEY]...",
		Short: "Add, change or remove tags of an instance",
		Long: `Add or change tags of an on-premises instance (deployment groups select instances by
tag) and remove the --remove keys. -o json prints the instance's instanceInfo afterwards.`,
		Args: withUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			kvs, err := parseKeyValues("tag", args[1:])
			if err != nil {
				return err
			}
			if len(kvs) == 0 && len(remove) == 0 {
				return usagef("give tags KEY=VALUE to add, or --remove KEY")
			}
			ctx := cmd.Context()
			cd, _, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			name := args[0]
			cur, err := cd.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String(name)})
			if err != nil {
				return sdkError(err)
			}
			if len(remove) > 0 {
				var drop []cdtypes.Tag
				for _, k := range remove {
					found := false
					for _, t := range cur.InstanceInfo.Tags {
						if aws.ToString(t.Key) == k {
							drop, found = append(drop, t), true
						}
					}
					if !found {
						return fmt.Errorf("instance %s has no tag %s", name, k)
					}
				}
				if _, err := cd.RemoveTagsFromOnPremisesInstances(ctx, &codedeploy.RemoveTagsFromOnPremisesInstancesInput{
					InstanceNames: []string{name}, Tags: drop}); err != nil {
					return sdkError(err)
				}
			}
			if len(kvs) > 0 {
				var add, replaced []cdtypes.Tag
				for _, kv := range kvs {
					add = append(add, cdtypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
					for _, t := range cur.InstanceInfo.Tags {
						if aws.ToString(t.Key) == kv[0] && aws.ToString(t.Value) != kv[1] && !slices.Contains(remove, kv[0]) {
							replaced = append(replaced, t)
						}
					}
				}
				if len(replaced) > 0 {
					if _, err := cd.RemoveTagsFromOnPremisesInstances(ctx, &codedeploy.RemoveTagsFromOnPremisesInstancesInput{
						InstanceNames: []string{name}, Tags: replaced}); err != nil {
						return sdkError(err)
					}
				}
				if _, err := cd.AddTagsToOnPremisesInstances(ctx, &codedeploy.AddTagsToOnPremisesInstancesInput{
					InstanceNames: []string{name}, Tags: add}); err != nil {
					return sdkError(err)
				}
			}
			now, err := cd.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String(name)})
			if err != nil {
				return sdkError(err)
			}
			if format == formatJSON {
				return writeJSON(stdout, now.InstanceInfo)
			}
			fmt.Fprintf(stdout, "Instance %s now has tags %s\n", name, instanceRow(*now.InstanceInfo)[2])
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&remove, "remove", nil, "a tag key to remove (repeatable)")
	return cmd
}
