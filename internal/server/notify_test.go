package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// delivery is one request a notification listener received.
type delivery struct {
	method, path string
	header       http.Header
	body         []byte
}

// notifyListener starts an HTTP listener that records every request.
func notifyListener(t *testing.T) (*httptest.Server, <-chan delivery) {
	t.Helper()
	got := make(chan delivery, 16)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(ts.Close)
	return ts, got
}

// extClient returns a Slipway extension API client signed with the
// server's admin key.
func extClient(t *testing.T, b *bundle) *slipwayapi.Client {
	t.Helper()
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(b.dir, "credentials"), "default")
	if err != nil {
		t.Fatalf("read credentials: %v", err)
	}
	return slipwayapi.New(b.url, "us-east-1", staticCreds(id, secret))
}

// wantExtError checks that err is the extension API's error code.
func wantExtError(t *testing.T, err error, code, contains string) {
	t.Helper()
	var e *slipwayapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if e.Code != code || e.StatusCode/100 != 4 || e.RequestID == "" {
		t.Fatalf("error = %s (HTTP %d, request id %q): %s; want %s, HTTP 4xx, a request id", e.Code, e.StatusCode, e.RequestID, e.Message, code)
	}
	if !strings.Contains(e.Message, contains) {
		t.Errorf("%s message %q does not contain %q", code, e.Message, contains)
	}
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("read key of %s: %v", raw, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("read value of %s: %v", raw, err)
		}
	}
	return keys
}

// driveSourceJob takes the job of a custom source action and succeeds it,
// as a job worker would.
func driveSourceJob(t *testing.T, c *codepipeline.Client, provider string) {
	t.Helper()
	ctx := context.Background()
	typ := &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")}
	var job types.Job
	eventually(t, "a "+provider+" job", func() (bool, string) {
		out, err := c.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(1)})
		if err != nil {
			t.Fatalf("PollForJobs: %v", err)
		}
		if len(out.Jobs) == 0 {
			return false, "no job"
		}
		job = out.Jobs[0]
		return true, ""
	})
	if _, err := c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: job.Id, Nonce: job.Nonce}); err != nil {
		t.Fatalf("AcknowledgeJob: %v", err)
	}
	if _, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: job.Id,
		CurrentRevision: &types.CurrentRevision{Revision: aws.String("rev-1"), ChangeIdentifier: aws.String("change-1")}}); err != nil {
		t.Fatalf("PutJobSuccessResult: %v", err)
	}
}

// An approval with a NotificationArn is delivered to the notification
// target its ARN names, as the user guide's JSON, signed; ListEvents shows
// the run's events in order.
func TestApprovalNotification(t *testing.T) {
	t.Parallel()
	b := start(t, "", func(c *server.Config) { c.Engine = engine.Config{SweepInterval: 50 * time.Millisecond} })
	ctx := context.Background()
	c, ext := b.client, extClient(t, b)
	listener, deliveries := notifyListener(t)
	const secret = "hook-secret-0123"

	put, err := ext.PutNotificationTarget(ctx, &slipwayapi.PutNotificationTargetInput{
		Name: "Approvals", URL: listener.URL + "/hooks/approval", Secret: secret})
	if err != nil {
		t.Fatalf("PutNotificationTarget: %v", err)
	}
	if tg := put.Target; tg.Name != "Approvals" || tg.URL != listener.URL+"/hooks/approval" || tg.Secret != slipwayapi.SecretMask || tg.Created == nil {
		t.Errorf("PutNotificationTarget target = %+v", tg)
	}
	got, err := ext.GetNotificationTarget(ctx, &slipwayapi.GetNotificationTargetInput{Name: "Approvals"})
	if err != nil || got.Target.Secret != slipwayapi.SecretMask || got.Target.URL != listener.URL+"/hooks/approval" {
		t.Fatalf("GetNotificationTarget = %+v, %v; want the target with its secret masked", got, err)
	}

	if _, err := c.CreateCustomActionType(ctx, customType(types.ActionCategorySource, "NotifySource", 0, 1)); err != nil {
		t.Fatalf("CreateCustomActionType: %v", err)
	}
	const (
		pipelineName = "NotifyDemo"
		link         = "https://review.example.com/changes/42"
		custom       = "Review the latest changes and approve or reject within seven days."
	)
	decl := &types.PipelineDeclaration{
		Name:          aws.String(pipelineName),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{
				customAction("Fetch", types.ActionCategorySource, "NotifySource", nil, []string{"Code"}, map[string]string{"ProjectName": "web"})}},
			{Name: aws.String("Review"), Actions: []types.ActionDeclaration{approvalAction("Approve", map[string]string{
				"NotificationArn":    "arn:aws:sns:us-east-1:123456789012:Approvals",
				"ExternalEntityLink": link,
				"CustomData":         custom,
			})}},
		},
	}
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	execs, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipelineName)})
	if err != nil || len(execs.PipelineExecutionSummaries) != 1 {
		t.Fatalf("ListPipelineExecutions = %+v, %v; want one execution", execs, err)
	}
	execID := aws.ToString(execs.PipelineExecutionSummaries[0].PipelineExecutionId)

	driveSourceJob(t, c, "NotifySource")
	approve := waitAction(t, c, pipelineName, "Review", "Approve", types.ActionExecutionStatusInProgress)
	token := aws.ToString(approve.LatestExecution.Token)
	started := aws.ToTime(approve.LatestExecution.LastStatusChange)
	if token == "" || started.IsZero() {
		t.Fatalf("approval state has no token or start time: %+v", approve.LatestExecution)
	}

	var d delivery
	select {
	case d = <-deliveries:
	case <-time.After(10 * time.Second):
		t.Fatal("no approval notification was delivered within 10 s")
	}
	if d.method != http.MethodPost || d.path != "/hooks/approval" || d.header.Get("Content-Type") != "application/json" {
		t.Errorf("delivery is %s %s with Content-Type %q; want POST /hooks/approval, application/json", d.method, d.path, d.header.Get("Content-Type"))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(d.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); d.header.Get("X-Slipway-Signature") != want {
		t.Errorf("X-Slipway-Signature = %q, want %q", d.header.Get("X-Slipway-Signature"), want)
	}
	if d.header.Get("X-Slipway-Event-Id") == "" {
		t.Error("delivery has no X-Slipway-Event-Id")
	}

	// The user guide's JSON, every key in its order, nothing more.
	if keys := objectKeys(t, d.body); !slices.Equal(keys, []string{"region", "consoleLink", "approval"}) {
		t.Errorf("notification keys = %q, want region, consoleLink, approval", keys)
	}
	var msg struct {
		Region      string          `json:"region"`
		ConsoleLink string          `json:"consoleLink"`
		Approval    json.RawMessage `json:"approval"`
	}
	if err := json.Unmarshal(d.body, &msg); err != nil {
		t.Fatalf("notification is not JSON: %v\n%s", err, d.body)
	}
	if keys := objectKeys(t, msg.Approval); !slices.Equal(keys, []string{"pipelineName", "stageName", "actionName", "token", "expires", "externalEntityLink", "customData"}) {
		t.Errorf("approval keys = %q", keys)
	}
	var approval map[string]any
	if err := json.Unmarshal(msg.Approval, &approval); err != nil {
		t.Fatal(err)
	}
	wantApproval := map[string]any{
		"pipelineName": pipelineName, "stageName": "Review", "actionName": "Approve", "token": token,
		"expires":            started.UTC().Add(7 * 24 * time.Hour).Format("2006-01-02T15:04Z"),
		"externalEntityLink": link, "customData": custom,
	}
	if !reflect.DeepEqual(approval, wantApproval) {
		t.Errorf("approval =\n %v\nwant\n %v", approval, wantApproval)
	}
	if msg.Region != "us-east-1" || !strings.HasPrefix(msg.ConsoleLink, "http") || !strings.HasSuffix(msg.ConsoleLink, "/"+pipelineName) {
		t.Errorf("region %q, consoleLink %q; want us-east-1 and a link to the pipeline", msg.Region, msg.ConsoleLink)
	}
	if _, err := time.Parse("2006-01-02T15:04Z", approval["expires"].(string)); err != nil {
		t.Errorf("expires %q is not YYYY-MM-DDTHH:MMZ", approval["expires"])
	}

	// Approving finishes the run; the notification was sent once.
	if _, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String(pipelineName), StageName: aws.String("Review"), ActionName: aws.String("Approve"), Token: aws.String(token),
		Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("ok")},
	}); err != nil {
		t.Fatalf("PutApprovalResult: %v", err)
	}
	waitExecution(t, c, pipelineName, execID, types.PipelineExecutionStatusSucceeded)
	select {
	case again := <-deliveries:
		t.Errorf("a second notification was delivered: %s", again.body)
	case <-time.After(500 * time.Millisecond):
	}

	testListEvents(t, ext, pipelineName, execID, d)
}

// testListEvents reads the run's events through the client, two at a time.
func testListEvents(t *testing.T, ext *slipwayapi.Client, pipelineName, execID string, d delivery) {
	ctx := context.Background()
	var events []slipwayapi.Event
	var after int64
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("ListEvents does not end")
		}
		out, err := ext.ListEvents(ctx, &slipwayapi.ListEventsInput{PipelineName: pipelineName, AfterID: after, MaxResults: 2})
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if len(out.Events) > 2 {
			t.Fatalf("ListEvents returned %d events, want at most maxResults 2", len(out.Events))
		}
		if len(out.Events) > 0 && out.NextAfterID != out.Events[len(out.Events)-1].ID {
			t.Errorf("nextAfterId = %d, want the last event's ID %d", out.NextAfterID, out.Events[len(out.Events)-1].ID)
		}
		if len(out.Events) == 0 && out.NextAfterID != after {
			t.Errorf("nextAfterId of an empty page = %d, want afterId %d", out.NextAfterID, after)
		}
		events = append(events, out.Events...)
		if len(out.Events) < 2 {
			break
		}
		after = out.NextAfterID
	}

	// Each event: its envelope, in ID order, of this run.
	var seen []string
	for i, e := range events {
		if i > 0 && e.ID <= events[i-1].ID {
			t.Errorf("event %d has ID %d after %d", i, e.ID, events[i-1].ID)
		}
		var env struct {
			DetailType string         `json:"detail-type"`
			Source     string         `json:"source"`
			Region     string         `json:"region"`
			Resources  []string       `json:"resources"`
			Detail     map[string]any `json:"detail"`
		}
		if err := json.Unmarshal(e.Detail, &env); err != nil {
			t.Fatalf("event %d detail is not an envelope: %v\n%s", e.ID, err, e.Detail)
		}
		if e.PipelineName != pipelineName || e.PipelineExecutionID != execID || env.DetailType != e.DetailType ||
			env.Source != "aws.codepipeline" || env.Region != "us-east-1" || e.Time == nil || e.Time.IsZero() {
			t.Errorf("event %d = %+v, envelope %+v", e.ID, e, env)
		}
		switch e.DetailType {
		case engine.EventPipeline:
			seen = append(seen, "pipeline "+env.Detail["state"].(string))
		case engine.EventStage:
			seen = append(seen, "stage "+env.Detail["stage"].(string)+" "+env.Detail["state"].(string))
		case engine.EventAction:
			seen = append(seen, "action "+env.Detail["action"].(string)+" "+env.Detail["state"].(string))
		case engine.EventApproval:
			seen = append(seen, "approval notification")
			if id := d.header.Get("X-Slipway-Event-Id"); id != jsonNumber(e.ID) {
				t.Errorf("delivery X-Slipway-Event-Id = %s, want the approval event's ID %d", id, e.ID)
			}
			msg, _ := json.Marshal(env.Detail["message"])
			if !jsonEqual(t, msg, d.body) {
				t.Errorf("delivered %s, want the event's message %s", d.body, msg)
			}
		default:
			seen = append(seen, e.DetailType)
		}
	}
	want := []string{
		"pipeline STARTED",
		"stage Source STARTED", "action Fetch STARTED", "action Fetch SUCCEEDED", "stage Source SUCCEEDED",
		"stage Review STARTED", "action Approve STARTED", "approval notification", "action Approve SUCCEEDED", "stage Review SUCCEEDED",
		"pipeline SUCCEEDED",
	}
	// In this order; the engine may add events in between.
	rest := seen
	for _, w := range want {
		i := slices.Index(rest, w)
		if i < 0 {
			t.Fatalf("events of the run are\n %q\nwant %q in this order (missing or out of order: %q)", seen, want, w)
		}
		rest = rest[i+1:]
	}

	// Caught up: an empty page that keeps the cursor.
	last := events[len(events)-1].ID
	out, err := ext.ListEvents(ctx, &slipwayapi.ListEventsInput{AfterID: last})
	if err != nil || len(out.Events) != 0 || out.NextAfterID != last {
		t.Errorf("ListEvents after the last event = %+v, %v; want no events, nextAfterId %d", out, err, last)
	}
	all, err := ext.ListEvents(ctx, &slipwayapi.ListEventsInput{})
	if err != nil || len(all.Events) != len(events) {
		t.Errorf("ListEvents of every pipeline has %d events (%v), want the run's %d", len(all.Events), err, len(events))
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// The extension API's notification-target operations and its errors.
func TestNotificationTargetsAPI(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	ext := extClient(t, b)

	list, err := ext.ListNotificationTargets(ctx, nil)
	if err != nil || list.Targets == nil || len(list.Targets) != 0 {
		t.Fatalf("ListNotificationTargets on a new server = %+v, %v; want an empty list", list, err)
	}
	for _, in := range []*slipwayapi.PutNotificationTargetInput{
		{Name: "team-b", URL: "https://hooks.example.com/b", Secret: "s"},
		{Name: "Team_A", URL: "http://127.0.0.1:9999/a"},
	} {
		if _, err := ext.PutNotificationTarget(ctx, in); err != nil {
			t.Fatalf("PutNotificationTarget %s: %v", in.Name, err)
		}
	}
	list, err = ext.ListNotificationTargets(ctx, &slipwayapi.ListNotificationTargetsInput{})
	if err != nil || len(list.Targets) != 2 || list.Targets[0].Name != "Team_A" || list.Targets[1].Name != "team-b" ||
		list.Targets[0].Secret != "" || list.Targets[1].Secret != slipwayapi.SecretMask {
		t.Fatalf("ListNotificationTargets = %+v, %v; want Team_A (no secret), team-b (****)", list, err)
	}

	// Replacing without a secret removes it; the creation time stays.
	before := list.Targets[1]
	time.Sleep(5 * time.Millisecond)
	put, err := ext.PutNotificationTarget(ctx, &slipwayapi.PutNotificationTargetInput{Name: "team-b", URL: "https://hooks.example.com/b2"})
	if err != nil {
		t.Fatal(err)
	}
	if tg := put.Target; tg.URL != "https://hooks.example.com/b2" || tg.Secret != "" || !tg.Created.Equal(before.Created.Time) || !tg.Updated.After(before.Updated.Time) {
		t.Errorf("replaced target = %+v (was %+v)", tg, before)
	}

	// Errors.
	_, err = ext.GetNotificationTarget(ctx, &slipwayapi.GetNotificationTargetInput{Name: "Nope"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, `"Nope"`)
	if _, err := ext.DeleteNotificationTarget(ctx, &slipwayapi.DeleteNotificationTargetInput{Name: "Team_A"}); err != nil {
		t.Fatalf("DeleteNotificationTarget: %v", err)
	}
	_, err = ext.DeleteNotificationTarget(ctx, &slipwayapi.DeleteNotificationTargetInput{Name: "Team_A"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, `"Team_A"`)
	_, err = ext.GetNotificationTarget(ctx, &slipwayapi.GetNotificationTargetInput{Name: "Team_A"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "does not exist")

	for _, tc := range []struct {
		in       slipwayapi.PutNotificationTargetInput
		contains string
	}{
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "ftp://files.example.com/x"}, "at 'url' failed to satisfy constraint: Member must be an absolute http:// or https:// URL"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "hooks.example.com/x"}, "at 'url'"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "http://"}, "with a host"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "http://bad url/"}, "at 'url'"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "https://user:pw@hooks.example.com/"}, "user information"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "https://user:pw@bad host/"}, "invalid character"},
		{slipwayapi.PutNotificationTargetInput{Name: "x"}, "Value null at 'url'"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "https://h.example.com/" + strings.Repeat("a", 2048)}, "length less than or equal to 2048"},
		{slipwayapi.PutNotificationTargetInput{URL: "https://h.example.com/"}, "Value null at 'name'"},
		{slipwayapi.PutNotificationTargetInput{Name: "bad name", URL: "https://h.example.com/"}, "[A-Za-z0-9_-]{1,256}"},
		{slipwayapi.PutNotificationTargetInput{Name: strings.Repeat("n", 257), URL: "https://h.example.com/"}, "at 'name'"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "https://h.example.com/", Secret: "****"}, "mask"},
		{slipwayapi.PutNotificationTargetInput{Name: "x", URL: "https://h.example.com/", Secret: strings.Repeat("s", 1025)}, "1024"},
	} {
		_, err := ext.PutNotificationTarget(ctx, &tc.in)
		wantExtError(t, err, slipwayapi.ValidationException, tc.contains)
		if err != nil && (strings.Contains(err.Error(), strings.Repeat("s", 60)) || strings.Contains(err.Error(), ":pw@")) {
			t.Errorf("a validation message repeats a secret or password: %v", err)
		}
	}
	_, err = ext.GetNotificationTarget(ctx, &slipwayapi.GetNotificationTargetInput{Name: "a:b"})
	wantExtError(t, err, slipwayapi.ValidationException, "at 'name'")
	_, err = ext.ListEvents(ctx, &slipwayapi.ListEventsInput{MaxResults: 1001})
	wantExtError(t, err, slipwayapi.ValidationException, "at 'maxResults'")
	_, err = ext.ListEvents(ctx, &slipwayapi.ListEventsInput{AfterID: -1})
	wantExtError(t, err, slipwayapi.ValidationException, "at 'afterId'")
	_, err = ext.ListEvents(ctx, &slipwayapi.ListEventsInput{PipelineName: "no spaces"})
	wantExtError(t, err, slipwayapi.ValidationException, "at 'pipelineName'")
	err = ext.Call(ctx, "ListEvents", map[string]any{"afterId": "seven"}, nil)
	wantExtError(t, err, "SerializationException", "afterId")
	err = ext.Call(ctx, "Nope", nil, nil)
	wantExtError(t, err, "UnknownOperationException", "Nope")

	// Authentication: the same keys and errors as CodePipeline.
	unsigned := slipwayapi.New(b.url, "us-east-1", nil)
	_, err = unsigned.ListNotificationTargets(ctx, nil)
	wantExtError(t, err, "MissingAuthenticationTokenException", "Authentication Token")
	id, _, _, err := auth.ReadCredentialsFile(filepath.Join(b.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	_, err = slipwayapi.New(b.url, "us-east-1", staticCreds(id, "wrong-secret")).ListEvents(ctx, &slipwayapi.ListEventsInput{})
	wantExtError(t, err, "InvalidSignatureException", "signature")
	_, err = slipwayapi.New(b.url, "us-east-1", staticCreds("AKIAIOSFODNN7EXAMPLE", "x")).ListEvents(ctx, &slipwayapi.ListEventsInput{})
	wantExtError(t, err, "UnrecognizedClientException", "security token")

	// A request signed for CodePipeline is refused by this service.
	_, secret, _, _ := auth.ReadCredentialsFile(filepath.Join(b.dir, "credentials"), "default")
	body := []byte(`{}`)
	req, _ := http.NewRequest(http.MethodPost, b.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", slipwayapi.TargetPrefix+".ListNotificationTargets")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req,
		hex.EncodeToString(sum[:]), "codepipeline", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" ||
		!strings.Contains(string(respBody), "'slipway'") {
		t.Errorf("request signed for codepipeline: HTTP %d %s %s; want 400 InvalidSignatureException naming 'slipway'",
			resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), respBody)
	}
}
