package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
		Short: "Register the on-premises instances deployments go to",
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
	cmd.AddCommand(register)
	return cmd
}
