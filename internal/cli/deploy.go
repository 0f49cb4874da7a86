package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/spf13/cobra"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// defaultBundleBucket is the artifact-store bucket deploy push uploads to
// without --s3-location.
const defaultBundleBucket = "slipway-deploy-bundles"

// pushResult is what deploy push prints with -o json.
type pushResult struct {
	ApplicationName string `json:"applicationName"`
	S3Location      struct {
		Bucket     string `json:"bucket"`
		Key        string `json:"key"`
		BundleType string `json:"bundleType"`
		ETag       string `json:"eTag"`
		Version    string `json:"version,omitempty"`
	} `json:"s3Location"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func newDeployCommand(stdout io.Writer) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Bundle revisions; create, follow and stop CodeDeploy deployments",
	}
	f.register(cmd)

	var app, source, s3Location, description string
	push := &cobra.Command{
		Use:   "push --application NAME --source DIR",
		Short: "Zip a directory, upload it to the server's artifact store and register it as a revision",
		Long: `Like "aws deploy push": zip --source (which holds appspec.yml), upload the zip to the
server's artifact store as --s3-location BUCKET/KEY (UploadBundle; at most 64 MiB), and
register it as an S3 revision (bundleType zip, with its eTag) of --application. Then
create a deployment of it with the printed command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if app == "" || source == "" {
				return fmt.Errorf("--application and --source are required")
			}
			format, err := outputFormat(cmd, false)
			if err != nil {
				return err
			}
			cd, ext, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			rev, up, err := pushDirectory(ctx, cd, ext, app, source, s3Location, description)
			if err != nil {
				return err
			}
			bucket, key := aws.ToString(rev.S3Location.Bucket), aws.ToString(rev.S3Location.Key)
			if format == formatJSON {
				var r pushResult
				r.ApplicationName = app
				r.S3Location.Bucket, r.S3Location.Key, r.S3Location.BundleType, r.S3Location.ETag = bucket, key, "zip", up.ETag
				r.S3Location.Version = up.VersionID
				r.Size, r.SHA256 = up.Size, up.SHA256
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(&r)
			}
			fmt.Fprintf(stdout, `Pushed %s (%d bytes) to s3://%s/%s and registered it with application %s.
To deploy with this revision, run:
aws deploy create-deployment --endpoint-url %s --application-name %s --s3-location bucket=%s,key=%s,bundleType=zip,eTag=%s --deployment-group-name <deployment-group-name> [--deployment-config-name <deployment-config-name>] [--description <description>]
`, source, up.Size, bucket, key, app, f.endpoint, shellQuote(app), bucket, key, up.ETag)
			return nil
		},
	}
	pf := push.Flags()
	pf.StringVar(&app, "application", "", "the CodeDeploy application the revision belongs to (required)")
	pf.StringVar(&source, "source", "", "the directory to bundle; it holds appspec.yml (required)")
	pf.StringVar(&s3Location, "s3-location", "", "where in the artifact store the bundle goes, as BUCKET/KEY (default "+defaultBundleBucket+"/<application>/<time>.zip)")
	pf.StringVar(&description, "description", "", "a description of the revision")
	cmd.AddCommand(push)
	cmd.AddCommand(deploymentCommands(&f, stdout)...)
	return cmd
}

// pushDirectory zips dir (which holds appspec.yml), uploads it to the
// server's artifact store at location (BUCKET/KEY, or s3://BUCKET/KEY; ""
// picks one under defaultBundleBucket) and registers it as an S3 revision
// of app.
func pushDirectory(ctx context.Context, cd *codedeploy.Client, ext *slipwayapi.Client, app, dir, location, description string) (*cdtypes.RevisionLocation, *slipwayapi.UploadBundleOutput, error) {
	bucket, key := defaultBundleBucket, app+"/"+time.Now().UTC().Format("20060102T150405.000000000Z")+".zip"
	if location != "" {
		var ok bool
		bucket, key, ok = strings.Cut(strings.TrimPrefix(location, "s3://"), "/")
		if !ok || bucket == "" || key == "" {
			return nil, nil, usagef("--s3-location %q: use BUCKET/KEY", location)
		}
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("bundle directory: %w", err)
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a directory", dir)
	}
	var buf bytes.Buffer
	if err := artifact.Zip(dir, &buf); err != nil {
		return nil, nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	if buf.Len() > slipwayapi.MaxBundleBytes {
		return nil, nil, fmt.Errorf("the bundle of %s has %d bytes; UploadBundle takes at most %d", dir, buf.Len(), slipwayapi.MaxBundleBytes)
	}
	up, err := ext.UploadBundle(ctx, &slipwayapi.UploadBundleInput{Bucket: bucket, Key: key,
		Content: base64.StdEncoding.EncodeToString(buf.Bytes())})
	if err != nil {
		return nil, nil, apiError(err)
	}
	loc := &cdtypes.S3Location{Bucket: aws.String(bucket), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(up.ETag)}
	rev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: loc}
	in := &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String(app), Revision: rev}
	if description != "" {
		in.Description = aws.String(description)
	}
	if _, err := cd.RegisterApplicationRevision(ctx, in); err != nil {
		return nil, nil, sdkError(err)
	}
	return rev, up, nil
}
