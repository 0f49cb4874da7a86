package cli

import (
	"bytes"
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
		Short: "Bundle and register application revisions for CodeDeploy deployments",
	}
	f.register(cmd)

	var app, source, s3Location, description, output string
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
			if output != "" && output != "json" && output != "text" {
				return fmt.Errorf("-o %q: use json or text", output)
			}
			bucket, key := defaultBundleBucket, app+"/"+time.Now().UTC().Format("20060102T150405.000000000Z")+".zip"
			if s3Location != "" {
				var ok bool
				bucket, key, ok = strings.Cut(strings.TrimPrefix(s3Location, "s3://"), "/")
				if !ok || bucket == "" || key == "" {
					return fmt.Errorf("--s3-location %q: use BUCKET/KEY", s3Location)
				}
			}
			if st, err := os.Stat(source); err != nil {
				return fmt.Errorf("--source: %w", err)
			} else if !st.IsDir() {
				return fmt.Errorf("--source %s is not a directory", source)
			}
			var buf bytes.Buffer
			if err := artifact.Zip(source, &buf); err != nil {
				return fmt.Errorf("zip %s: %w", source, err)
			}
			if buf.Len() > slipwayapi.MaxBundleBytes {
				return fmt.Errorf("the bundle of %s has %d bytes; UploadBundle takes at most %d", source, buf.Len(), slipwayapi.MaxBundleBytes)
			}
			cd, ext, err := f.codeDeployClient(ctx, cmd)
			if err != nil {
				return err
			}
			up, err := ext.UploadBundle(ctx, &slipwayapi.UploadBundleInput{Bucket: bucket, Key: key,
				Content: base64.StdEncoding.EncodeToString(buf.Bytes())})
			if err != nil {
				return apiError(err)
			}
			loc := &cdtypes.S3Location{Bucket: aws.String(bucket), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(up.ETag)}
			in := &codedeploy.RegisterApplicationRevisionInput{ApplicationName: aws.String(app),
				Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: loc}}
			if description != "" {
				in.Description = aws.String(description)
			}
			if _, err := cd.RegisterApplicationRevision(ctx, in); err != nil {
				return sdkError(err)
			}
			if output == "json" {
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
	pf.StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.AddCommand(push)
	return cmd
}
