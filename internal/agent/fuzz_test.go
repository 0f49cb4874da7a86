package agent

import "testing"

// FuzzParseConfig: any configuration file is parsed or refused with an
// error, never a panic; what is accepted is a complete configuration.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("endpoint: http://127.0.0.1:7700\ninstance_name: web-1\n"))
	f.Add([]byte(":log_dir: /var/log/slipway\n:max_revisions: 3\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err == nil && c == nil {
			t.Fatal("no configuration and no error")
		}
	})
}

// FuzzParseDeploymentSpec: any payload is a checked specification or an
// error; an accepted one has the required identifiers.
func FuzzParseDeploymentSpec(f *testing.F) {
	f.Add([]byte(`{"DeploymentId":"arn:aws:codedeploy:us-east-1:1:deployment/d-ABC","DeploymentGroupId":"g","DeploymentGroupName":"G","ApplicationName":"A","Revision":{"RevisionType":"S3","S3Revision":{"Bucket":"b","Key":"k","BundleType":"zip"}}}`))
	f.Add([]byte(`{"DeploymentId":""}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseDeploymentSpec(data)
		if err != nil {
			return
		}
		if s.DeploymentID == "" || s.DeploymentGroupID == "" {
			t.Fatalf("accepted a specification without identifiers: %+v", s)
		}
	})
}
