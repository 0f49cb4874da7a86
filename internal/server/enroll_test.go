package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	slipwayagent "github.com/slipway-cd/slipway/internal/agent"
	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/cdcmdapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// TestEnroll runs the real slipway-agent's enroll against a server
// process: the instance is registered with the token's tags, the written
// configuration's key is accepted, and used-up or expired tokens are 401.
func TestEnroll(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	root := t.TempDir()
	cli, agentBin := buildBinary(t, "cmd/slipway"), buildBinary(t, "cmd/slipway-agent")
	srv := &serverProc{t: t, bin: cli, dir: filepath.Join(root, "data"), addr: freeAddr(t)}
	srv.start()
	t.Cleanup(func() {
		if srv.cmd.ProcessState == nil {
			srv.kill()
		}
	})
	url := "http://" + srv.addr
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(srv.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ext := slipwayapi.New(url, "us-east-1", staticCreds(id, secret))
	cd := codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: staticCreds(id, secret)})

	tok, err := ext.CreateEnrollmentToken(ctx, &slipwayapi.CreateEnrollmentTokenInput{
		Tags: []slipwayapi.EnrollmentTag{{Key: "env", Value: "prod"}, {Key: "role", Value: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	enroll := func(token, name, out string) (string, error) {
		cmd := exec.Command(agentBin, "enroll", "--server", url, "--token", token, "--name", name, "--out", out)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	out := filepath.Join(root, "agent.yml")
	if msg, err := enroll(tok.Token, "web-1", out); err != nil {
		t.Fatalf("enroll: %v\n%s", err, msg)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config %s: %v; want mode 0600", out, err)
	}
	got, err := cd.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range got.InstanceInfo.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if len(tags) != 2 || tags["env"] != "prod" || tags["role"] != "web" {
		t.Errorf("instance tags %v, want env=prod role=web", tags)
	}

	// The configuration's key signs host commands the server accepts.
	cfg, err := slipwayagent.LoadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InstanceName != "web-1" || cfg.Endpoint != url || cfg.IAMUserARN != aws.ToString(got.InstanceInfo.IamUserArn) {
		t.Errorf("config %+v does not match the instance %+v", cfg, got.InstanceInfo)
	}
	c, err := slipwayagent.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := c.PollHostCommand(pctx, &cdcmdapi.PollHostCommandInput{HostIdentifier: cfg.HostID()}); err != nil {
		t.Errorf("PollHostCommand with the enrolled key: %v", err)
	}

	// A maxUses=1 token is used up; a token is listed without its secret.
	if msg, err := enroll(tok.Token, "web-2", filepath.Join(root, "agent2.yml")); err == nil || !strings.Contains(msg, "401") {
		t.Errorf("second use: %v\n%s; want a 401", err, msg)
	}
	list, err := ext.ListEnrollmentTokens(ctx, &slipwayapi.ListEnrollmentTokensInput{})
	if err != nil || len(list.Tokens) != 1 || list.Tokens[0].Uses != 1 || list.Tokens[0].TokenID != tok.TokenID {
		t.Errorf("ListEnrollmentTokens: %+v, %v", list, err)
	}

	// An expired token.
	short, err := ext.CreateEnrollmentToken(ctx, &slipwayapi.CreateEnrollmentTokenInput{ExpiresInSeconds: 1, MaxUses: 5})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if msg, err := enroll(short.Token, "web-3", filepath.Join(root, "agent3.yml")); err == nil || !strings.Contains(msg, "401") {
		t.Errorf("expired token: %v\n%s; want a 401", err, msg)
	}
	// A wrong secret with a real ID, and a deleted token.
	if msg, err := enroll(short.Token[:len(short.Token)-1]+"x", "web-3", filepath.Join(root, "agent3.yml")); err == nil || !strings.Contains(msg, "401") {
		t.Errorf("wrong token: %v\n%s; want a 401", err, msg)
	}
	if _, err := ext.DeleteEnrollmentToken(ctx, &slipwayapi.DeleteEnrollmentTokenInput{TokenID: short.TokenID}); err != nil {
		t.Fatal(err)
	}
	if _, err := cd.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String("web-3")}); err == nil {
		t.Error("web-3 was registered by a refused enrollment")
	}
}
