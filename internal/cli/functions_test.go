package cli

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

func TestFunctionCommands(t *testing.T) {
	s := startServer(t)
	if out := s.ok("function", "create", "smoke", "--timeout", "60", "--env", "MODE=quick", "--", "/bin/sh", "-c", "echo ok"); out != "Created function smoke\n" {
		t.Errorf("function create printed %q", out)
	}
	var created slipwayapi.CreateFunctionOutput
	s.jsonOut(&created, "function", "create", "-f", writeTemp(t, `{"functionName": "hook", "url": "https://hooks.example.com/run"}`))
	if created.Function == nil || created.Function.FunctionName != "hook" || created.Function.URL != "https://hooks.example.com/run" {
		t.Errorf("function create -f -o json = %+v", created.Function)
	}
	list := s.ok("function", "list")
	if !regexp.MustCompile(`(?m)^NAME +KIND +TARGET +TIMEOUT +CREATED\nhook +url +https://hooks\.example\.com/run +300s +\S+.*\nsmoke +command +/bin/sh -c echo ok +60s +`).MatchString(list) {
		t.Errorf("function list:\n%s", list)
	}
	var fns slipwayapi.ListFunctionsOutput
	s.jsonOut(&fns, "function", "list")
	if len(fns.Functions) != 2 || fns.Functions[1].Environment["MODE"] != "quick" || len(fns.Functions[1].Command) != 3 {
		t.Errorf("function list -o json = %+v", fns)
	}
	s.wantFail(1, "slipway: ResourceConflictException: ", "function", "create", "smoke", "--url", "https://example.com")
	s.wantFail(2, "slipway: give either --url or a command after --", "function", "create", "nothing")
	s.wantFail(1, "slipway: ValidationException: ", "function", "create", "bad name!", "--url", "https://example.com")
	if out := s.ok("function", "delete", "smoke"); out != "Deleted function smoke\n" {
		t.Errorf("function delete printed %q", out)
	}
	s.wantFail(1, "slipway: ResourceNotFoundException: ", "function", "delete", "smoke")
	s.wantFail(2, `slipway: unknown command "bogus" for "slipway function"`, "function", "bogus")

	// A server that is not there gets one line that says so.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	s.wantFail(1, "slipway: cannot reach the server at "+closed+" ", "function", "list", "--endpoint", "http://"+closed)
	s.wantFail(1, "slipway: cannot reach the server at "+closed+" ", "pipeline", "list", "--endpoint", "http://"+closed)
}

func TestBuildProjectCommands(t *testing.T) {
	s := startServer(t)
	spec := writeTemp(t, "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n")
	if out := s.ok("build-project", "create", "app", "--buildspec-file", spec, "--env", "GOFLAGS=-mod=mod", "--secret-env", "TOKEN=deploy-token",
		"--timeout", "30", "--description", "builds the app"); out != "Created build project app\n" {
		t.Errorf("build-project create printed %q", out)
	}
	var created slipwayapi.CreateBuildProjectOutput
	s.jsonOut(&created, "build-project", "create", "-f", writeTemp(t, `{"name": "docs", "buildspecPath": "docs/buildspec.yml"}`))
	if created.Project == nil || created.Project.Name != "docs" || created.Project.TimeoutInMinutes != 60 {
		t.Errorf("build-project create -f -o json = %+v", created.Project)
	}
	list := s.ok("build-project", "list")
	if !regexp.MustCompile(`(?m)^NAME +BUILDSPEC +TIMEOUT +VARIABLES +DESCRIPTION\napp +\(inline\) +30m +GOFLAGS,TOKEN +builds the app\ndocs +docs/buildspec\.yml +60m$`).MatchString(list) {
		t.Errorf("build-project list:\n%s", list)
	}
	var projects slipwayapi.ListBuildProjectsOutput
	s.jsonOut(&projects, "build-project", "list")
	if len(projects.Projects) != 2 || !strings.Contains(projects.Projects[0].Buildspec, "make") ||
		projects.Projects[0].EnvironmentVariables[1] != (slipwayapi.BuildEnvironmentVariable{Name: "TOKEN", Value: "deploy-token", Type: "SECRET"}) {
		t.Errorf("build-project list -o json = %+v", projects)
	}
	s.wantFail(1, "slipway: ResourceAlreadyExistsException: ", "build-project", "create", "docs")
	s.wantFail(1, `slipway: `, "build-project", "create", "-f", writeTemp(t, `{"name": "x", "unknown": 1}`))
	s.wantFail(2, "slipway: -f FILE takes the whole project: no --timeout with it", "build-project", "create", "-f", spec, "--timeout", "9")
	if out := s.ok("build-project", "delete", "docs"); out != "Deleted build project docs\n" {
		t.Errorf("build-project delete printed %q", out)
	}
	if out := s.ok("build-project", "list"); strings.Contains(out, "docs") {
		t.Errorf("build-project list after delete:\n%s", out)
	}
}

func TestNotificationTargetCommands(t *testing.T) {
	s := startServer(t)
	if out := s.ok("notification-target", "create", "chat", "--url", "https://chat.example.com/hook", "--secret", "s3cret"); out != "Created notification target chat (https://chat.example.com/hook)\n" {
		t.Errorf("notification-target create printed %q", out)
	}
	s.ok("notification-target", "create", "-f", writeTemp(t, `{"name": "pager", "url": "http://pager.example.com/"}`))
	list := s.ok("notification-target", "list")
	if !regexp.MustCompile(`(?m)^NAME +URL +SIGNED +UPDATED\nchat +https://chat\.example\.com/hook +yes +\S+.*\npager +http://pager\.example\.com/ +no +`).MatchString(list) {
		t.Errorf("notification-target list:\n%s", list)
	}
	if strings.Contains(list, "s3cret") {
		t.Errorf("notification-target list shows the secret:\n%s", list)
	}
	var targets slipwayapi.ListNotificationTargetsOutput
	s.jsonOut(&targets, "notification-target", "list")
	if len(targets.Targets) != 2 || targets.Targets[0].Secret != slipwayapi.SecretMask || targets.Targets[1].Secret != "" {
		t.Errorf("notification-target list -o json = %+v", targets)
	}
	s.wantFail(1, "slipway: ValidationException: ", "notification-target", "create", "bad", "--url", "ftp://example.com")
	s.wantFail(2, "slipway: --url is required", "notification-target", "create", "bad")
	if out := s.ok("notification-target", "delete", "chat"); out != "Deleted notification target chat\n" {
		t.Errorf("notification-target delete printed %q", out)
	}
	s.wantFail(1, "slipway: ResourceNotFoundException: ", "notification-target", "delete", "chat")
}
