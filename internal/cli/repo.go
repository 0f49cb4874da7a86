package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// apiFlags are the flags of the commands that call a running server.
type apiFlags struct {
	endpoint string
	dataDir  string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	endpoint := os.Getenv("SLIPWAY_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:7700"
	}
	cmd.PersistentFlags().StringVar(&f.endpoint, "endpoint", endpoint, "the server's URL (default $SLIPWAY_ENDPOINT or http://127.0.0.1:7700)")
	cmd.PersistentFlags().StringVar(&f.dataDir, "data-dir", "slipway-data",
		"the server's data directory, whose credentials file signs the requests; without that file, the AWS environment variables and profiles do")
}

// credentials returns the access key the commands sign with: the data
// directory's credentials file when it exists, otherwise the AWS SDK's
// default chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/...). from says
// where they came from.
func (f *apiFlags) credentials(ctx context.Context, cmd *cobra.Command) (creds aws.Credentials, region, from string, err error) {
	path := filepath.Join(f.dataDir, "credentials")
	if _, statErr := os.Stat(path); statErr == nil {
		id, secret, region, err := auth.ReadCredentialsFile(path, "default")
		if err != nil {
			return aws.Credentials{}, "", "", err
		}
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, region, path, nil
	} else if cmd.Flags().Changed("data-dir") {
		return aws.Credentials{}, "", "", fmt.Errorf("--data-dir %s: %w", f.dataDir, statErr)
	}
	// No instance metadata: a Slipway key is never an EC2 role's.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		return aws.Credentials{}, "", "", fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return aws.Credentials{}, "", "", errors.New("no credentials: run next to the server's data directory (or pass --data-dir), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	creds, err = cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, "", "", fmt.Errorf("no credentials (%w): run next to the server's data directory (or pass --data-dir), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	}
	return creds, cfg.Region, "the AWS environment or profile", nil
}

func (f *apiFlags) client(ctx context.Context, cmd *cobra.Command) (*slipwayapi.Client, aws.Credentials, string, error) {
	creds, region, from, err := f.credentials(ctx, cmd)
	if err != nil {
		return nil, creds, "", err
	}
	c := slipwayapi.New(f.endpoint, region, credentials.StaticCredentialsProvider{Value: creds})
	return c, creds, from, nil
}

func newRepoCommand(stdout io.Writer) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Manage the git repositories the server hosts",
		Long: `Manage the git repositories the server hosts. People push to them with git over HTTP;
CodeCommit source actions (RepositoryName, BranchName) read them, and a push starts the
pipelines that watch the pushed branch.`,
	}
	f.register(cmd)

	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a repository and show how to push to it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, creds, from, err := f.client(ctx, cmd)
			if err != nil {
				return err
			}
			desc, _ := cmd.Flags().GetString("description")
			out, err := c.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: args[0], Description: desc})
			if err != nil {
				return apiError(err)
			}
			printPushHowTo(stdout, out.Repository, creds.AccessKeyID, from, f.dataDir)
			return nil
		},
	}
	create.Flags().String("description", "", "a description of the repository")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the repositories and their clone URLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, _, _, err := f.client(ctx, cmd)
			if err != nil {
				return err
			}
			out, err := c.ListRepositories(ctx, nil)
			if err != nil {
				return apiError(err)
			}
			for _, r := range out.Repositories {
				fmt.Fprintf(stdout, "%s\t%s\n", r.RepositoryName, r.CloneURLHTTP)
			}
			return nil
		},
	}

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a repository and its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, _, _, err := f.client(ctx, cmd)
			if err != nil {
				return err
			}
			if _, err := c.DeleteRepository(ctx, &slipwayapi.DeleteRepositoryInput{RepositoryName: args[0]}); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(stdout, "Deleted repository %s\n", args[0])
			return nil
		},
	}

	helper := &cobra.Command{
		Use:   "credential-helper [get|store|erase]",
		Short: "A git credential helper that answers with the access key (see repo create)",
		Long: `A git credential helper (gitcredentials(7)): for "get" it prints the access key ID as the
user name and its secret as the password, from the same place the other commands read them.
Configure it for the server's URL:

  git config --global credential.http://127.0.0.1:7700.helper '!slipway repo credential-helper --data-dir /path/to/slipway-data'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] != "get" {
				return nil // store and erase: nothing to keep or forget
			}
			// Read (and ignore) the request: git writes attributes until
			// a blank line.
			sc := bufio.NewScanner(cmd.InOrStdin())
			for sc.Scan() && sc.Text() != "" {
			}
			creds, _, _, err := f.credentials(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "username=%s\npassword=%s\n", creds.AccessKeyID, creds.SecretAccessKey)
			return nil
		},
	}
	cmd.AddCommand(create, list, del, helper)
	return cmd
}

// apiError words an API error for the command line ("slipway: " is
// added by Execute).
func apiError(err error) error {
	var e *slipwayapi.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %s", e.Code, e.Message)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot reach the server at %s (%v): is it running? Point --endpoint or $SLIPWAY_ENDPOINT at it", op.Addr, op.Err)
	}
	return err
}

// printPushHowTo shows the clone URL and how to push to it, never the
// secret.
func printPushHowTo(w io.Writer, r *slipwayapi.Repository, keyID, from, dataDir string) {
	base := r.CloneURLHTTP
	if u, err := url.Parse(r.CloneURLHTTP); err == nil {
		u.Path, u.RawPath = "", ""
		base = u.String()
	}
	withUser := r.CloneURLHTTP
	if u, err := url.Parse(r.CloneURLHTTP); err == nil {
		u.User = url.User(keyID)
		withUser = u.String()
	}
	helper := "slipway"
	if _, err := exec.LookPath("slipway"); err != nil {
		if exe, err := os.Executable(); err == nil {
			helper = exe
		}
	}
	helper += " repo credential-helper"
	if abs, err := filepath.Abs(dataDir); err == nil && strings.HasSuffix(from, "credentials") {
		helper += " --data-dir " + shellQuote(abs)
	}
	fmt.Fprintf(w, `Created repository %s
Clone URL: %s

Push a working copy to it:

  git remote add slipway %s
  git push slipway main

git authenticates with HTTP basic authentication: the user name is your access key ID
(%s) and the password is its secret access key (from %s).
Let git fetch both with slipway's credential helper (run once):

  git config --global %s %s

or put the key ID in the URL and give the secret when git asks for the password:

  git remote add slipway %s
`, r.RepositoryName, r.CloneURLHTTP, r.CloneURLHTTP, keyID, from,
		shellQuote("credential."+base+".helper"), shellQuote("!"+helper), withUser)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
