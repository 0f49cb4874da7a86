package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/server"
)

// consoleClient is a plain HTTP client of the console with a cookie jar,
// as a browser would hold the session.
type consoleClient struct {
	t    testing.TB
	url  string
	http *http.Client
	csrf string
}

func newConsoleClient(t testing.TB, url string) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleClient{t: t, url: url, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *consoleClient) do(method, path string, headers map[string]string, body string) (*http.Response, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return res, out
}

// api calls an operation through the console's data API.
func (c *consoleClient) api(target, body string, headers map[string]string) (*http.Response, map[string]any) {
	c.t.Helper()
	h := map[string]string{"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1", "X-Slipway-Csrf": c.csrf}
	for k, v := range headers {
		h[k] = v
	}
	return c.do(http.MethodPost, "/console/api", h, body)
}

func (c *consoleClient) signIn(id, secret string) *http.Response {
	c.t.Helper()
	res, out := c.do(http.MethodPost, "/console/login", map[string]string{"Content-Type": "application/json"},
		fmt.Sprintf(`{"accessKeyId":%q,"secretAccessKey":%q}`, id, secret))
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("sign in: %d %v", res.StatusCode, out)
	}
	c.csrf, _ = out["csrf"].(string)
	if c.csrf == "" {
		c.t.Fatalf("sign-in answer has no csrf: %v", out)
	}
	return res
}

func adminKey(t testing.TB, dir string) (id, secret string) {
	t.Helper()
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

// The console's HTTP surface: redirects, sign-in, cookie flags, CSRF and
// origin checks, the data API and the event stream.
func TestConsoleSession(t *testing.T) {
	t.Parallel()
	b := start(t, "", fastEngine)
	id, secret := adminKey(t, b.dir)
	c := newConsoleClient(t, b.url)

	if res, _ := c.do(http.MethodGet, "/", nil, ""); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/console/" {
		t.Errorf("GET / = %d Location %q, want 302 to /console/", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ := c.do(http.MethodGet, "/console/pipelines/Web?x=1", nil, "")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login?next=%2Fconsole%2Fpipelines%2FWeb%3Fx%3D1" {
		t.Errorf("page without a session = %d Location %q, want 303 to the sign-in with next", res.StatusCode, res.Header.Get("Location"))
	}
	if res, out := c.api("CodePipeline_20150709.ListPipelines", "{}", nil); res.StatusCode != http.StatusUnauthorized || out["__type"] != "MissingAuthenticationTokenException" {
		t.Errorf("API without a session = %d %v, want 401 MissingAuthenticationTokenException", res.StatusCode, out)
	}
	if res, out := c.do(http.MethodGet, "/console/events", nil, ""); res.StatusCode != http.StatusUnauthorized || out["__type"] != "MissingAuthenticationTokenException" {
		t.Errorf("events without a session = %d %v, want 401", res.StatusCode, out)
	}
	for _, tc := range []struct{ name, body, code string }{
		{"wrong secret", fmt.Sprintf(`{"accessKeyId":%q,"secretAccessKey":"wrong"}`, id), "UnrecognizedClientException"},
		{"unknown key", `{"accessKeyId":"AKIAAAAAAAAAAAAAAAAA","secretAccessKey":"x"}`, "UnrecognizedClientException"},
		{"empty", `{}`, "ValidationException"},
		{"not JSON", `accessKeyId=x`, "SerializationException"},
	} {
		res, out := c.do(http.MethodPost, "/console/login", nil, tc.body)
		if out["__type"] != tc.code || res.StatusCode >= 500 || out["message"] == "" {
			t.Errorf("sign-in with %s = %d %v, want %s with a message", tc.name, res.StatusCode, out, tc.code)
		}
	}
	if res, out := c.do(http.MethodPost, "/console/login", map[string]string{"Origin": "http://evil.example"},
		fmt.Sprintf(`{"accessKeyId":%q,"secretAccessKey":%q}`, id, secret)); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin sign-in = %d %v, want 403", res.StatusCode, out)
	}

	res = c.signIn(id, secret)
	var ck *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "slipway_session" {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/console, not Secure over http", ck)
	}
	if res, _ := c.do(http.MethodGet, "/console/pipelines/Web", nil, ""); res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("page with a session = %d CSP %q, want 200 with a CSP", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if res, out := c.api("CodePipeline_20150709.ListPipelines", "{}", map[string]string{"X-Slipway-Csrf": ""}); res.StatusCode != http.StatusForbidden || out["__type"] != "AccessDeniedException" {
		t.Errorf("API without the CSRF header = %d %v, want 403 AccessDeniedException", res.StatusCode, out)
	}
	if res, out := c.api("CodePipeline_20150709.ListPipelines", "{}", map[string]string{"Origin": "http://evil.example"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("API from another origin = %d %v, want 403", res.StatusCode, out)
	}
	if res, out := c.api("CodePipeline_20150709.ListPipelines", "{}", nil); res.StatusCode != http.StatusOK || out["__type"] != nil {
		t.Errorf("ListPipelines through the console = %d %v", res.StatusCode, out)
	}
	// The same validation as the SigV4 API: a client mistake is a 400.
	if res, out := c.api("CodePipeline_20150709.GetPipeline", `{"name":""}`, nil); res.StatusCode != http.StatusBadRequest || out["__type"] != "ValidationException" {
		t.Errorf("GetPipeline with an empty name = %d %v, want 400 ValidationException", res.StatusCode, out)
	}

	// Agents' last polls: none for an instance that never polled.
	if res, out := c.do(http.MethodGet, "/console/agents?instance=web-1", nil, ""); res.StatusCode != http.StatusOK || fmt.Sprint(out["lastSeen"]) != "map[web-1:<nil>]" {
		t.Errorf("agents = %d %v, want web-1 never seen", res.StatusCode, out)
	}
	if res, out := c.do(http.MethodGet, "/console/agents?instance=a:b", nil, ""); res.StatusCode != http.StatusBadRequest || out["__type"] != "ValidationException" {
		t.Errorf("agents with a bad name = %d %v, want 400 ValidationException", res.StatusCode, out)
	}

	// The event stream: an execution started after it opens is streamed.
	req, _ := http.NewRequest(http.MethodGet, b.url+"/console/events?pipeline=Streamed", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events Content-Type = %q", ct)
	}
	lines := bufio.NewScanner(stream.Body)
	if !lines.Scan() || lines.Text() != "retry: 1000" {
		t.Fatalf("first stream line = %q", lines.Text())
	}
	if _, err := b.client.CreateCustomActionType(context.Background(), customType(types.ActionCategorySource, "StreamSrc", 0, 1)); err != nil {
		t.Fatal(err)
	}
	p := buildPipeline("Streamed", "StreamSrc", approvalAction("Approve", nil))
	p.Stages[1].Actions[0].InputArtifacts = nil
	if _, err := b.client.CreatePipeline(context.Background(), &codepipeline.CreatePipelineInput{Pipeline: p}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok && strings.Contains(data, `"id"`) {
			_ = json.Unmarshal([]byte(data), &got)
			break
		}
	}
	if got["pipelineName"] != "Streamed" || got["detailType"] != "CodePipeline Pipeline Execution State Change" {
		t.Errorf("first streamed event = %v, want the execution start of Streamed", got)
	}
	cancel()
	if res, out := c.api("CodePipeline_20150709.ListPipelines", "{}", nil); res.StatusCode != http.StatusOK || !strings.Contains(fmt.Sprint(out["pipelines"]), "name:Streamed") {
		t.Errorf("ListPipelines through the console = %d %v, want Streamed", res.StatusCode, out)
	}

	if res, _ := c.do(http.MethodPost, "/console/logout", nil, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF header = %d, want 403", res.StatusCode)
	}
	if res, _ := c.do(http.MethodPost, "/console/logout", map[string]string{"X-Slipway-Csrf": c.csrf}, ""); res.StatusCode != http.StatusNoContent {
		t.Errorf("sign-out = %d, want 204", res.StatusCode)
	}
	if res, _ := c.api("CodePipeline_20150709.ListPipelines", "{}", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after sign-out = %d, want 401", res.StatusCode)
	}
}

// browser starts a headless Chromium for the test and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed and CI=true: the console's browser tests must run (.ci/run installs chromium)")
		}
		t.Skip("chromium is not installed")
	}
	// Chromium's helper processes may still write into the profile for a
	// moment after the browser is cancelled, so the directory is removed
	// with retries (registered first, this cleanup runs last).
	profile, err := os.MkdirTemp("", "slipway-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the Chromium profile %s", profile)
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Chromium newer than the protocol bindings reports events chromedp
	// does not know; those are noise, everything else is logged.
	logf := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "unhandled node event") {
			t.Log("chromedp: " + msg)
		}
	}
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithErrorf(logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	// Every uncaught exception and console.error of the page fails the
	// test.
	var mu sync.Mutex
	var pageErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.APITypeError {
				return
			}
			for _, a := range ev.Args {
				msg += " " + string(a.Value) + a.Description
			}
		default:
			return
		}
		mu.Lock()
		pageErrors = append(pageErrors, msg)
		mu.Unlock()
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("the page reported an error: %s", e)
		}
	})
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs browser actions, failing the test with the page's text when
// they do not complete within 30 s.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(c, actions...); err != nil {
		var text, url string
		_ = chromedp.Run(ctx, chromedp.Location(&url), chromedp.Evaluate(`document.body ? document.body.innerText : ""`, &text))
		t.Fatalf("%s: %v\nat %s, the page shows:\n%s", what, err, url, text)
	}
}

func visible(sel string) chromedp.Action { return chromedp.WaitVisible(sel, chromedp.ByQuery) }

// click waits for an element and clicks it with a DOM click: live views
// redraw while a test runs, and a pointer click aimed at coordinates
// could land on what moved there.
func click(sel string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).click(); true`, sel), nil),
	}
}

// waitJS waits until the JavaScript expression is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	run(t, ctx, what, chromedp.Poll(expr, nil, chromedp.WithPollingInterval(50*time.Millisecond)))
}

// screenshot saves the viewport as docs/images/<name> when
// SLIPWAY_WRITE_SCREENSHOTS=1, else in the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	// Let animations settle and notifications go, for a picture that
	// reads well.
	run(t, ctx, "screenshot "+name, chromedp.Sleep(400*time.Millisecond),
		chromedp.Evaluate(`document.querySelectorAll(".toast").forEach((e) => e.remove()); true`, nil),
		chromedp.CaptureScreenshot(&png))
	dir := t.TempDir()
	if os.Getenv("SLIPWAY_WRITE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "images")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", filepath.Join(dir, name), len(png))
}

// signInBrowser signs in through the sign-in page, starting from path.
func signInBrowser(t *testing.T, ctx context.Context, base, path, id, secret string) {
	t.Helper()
	var errText string
	run(t, ctx, "the sign-in page",
		chromedp.Navigate(base+path),
		visible("#login-form"),
		chromedp.SendKeys("#access-key-id", id, chromedp.ByQuery),
		chromedp.SendKeys("#secret-access-key", "not-the-secret", chromedp.ByQuery),
		click("#sign-in"),
		visible("#login-error"),
		chromedp.Text("#login-error", &errText, chromedp.ByQuery))
	if !strings.Contains(errText, "secret access key is wrong") {
		t.Errorf("wrong secret shows %q", errText)
	}
	run(t, ctx, "sign in",
		chromedp.Evaluate(`document.querySelector("#secret-access-key").value = ""; true`, nil),
		chromedp.SendKeys("#secret-access-key", secret, chromedp.ByQuery),
		click("#sign-in"),
		visible("#who"))
	var loc string
	run(t, ctx, "location", chromedp.Location(&loc))
	if loc != base+path {
		t.Errorf("after sign-in the browser is at %s, want %s", loc, base+path)
	}
}

// A pipeline in the browser: it runs live without reloads, an approval is
// approved, a failed action's log is read, the stage is retried and
// succeeds, and the layout holds on a narrow screen.
func TestConsolePipelineBrowser(t *testing.T) {
	t.Parallel()
	b := start(t, "", buildEngine)
	ctx := browser(t)
	id, secret := adminKey(t, b.dir)
	sourceType(t, b, "WebSrc")
	flag := filepath.Join(t.TempDir(), "release-ok")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	build := types.ActionDeclaration{
		Name:           aws.String("Compile"),
		ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryCompute, Owner: types.ActionOwnerAws, Provider: aws.String("Commands"), Version: aws.String("1")},
		InputArtifacts: []types.InputArtifact{{Name: aws.String("Code")}},
		Commands: []string{
			`echo "compiling version $(cat version.txt)"`,
			"sleep 2",
			`test -f ` + flag + ` || { echo "release flag missing: create it and retry"; exit 1; }`,
			`echo "build done"`,
		},
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String("App"), Files: []string{"version.txt"}}},
		RunOrder:        aws.Int32(1),
	}
	lint := types.ActionDeclaration{
		Name:           aws.String("Lint"),
		ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryCompute, Owner: types.ActionOwnerAws, Provider: aws.String("Commands"), Version: aws.String("1")},
		InputArtifacts: []types.InputArtifact{{Name: aws.String("Code")}},
		Commands:       []string{`echo "lint ok"`},
		RunOrder:       aws.Int32(1),
	}
	p := buildPipeline("Web", "WebSrc", build)
	p.Stages[1].Actions = append(p.Stages[1].Actions, lint)
	p.Stages = append(p.Stages, types.StageDeclaration{Name: aws.String("Release"), Actions: []types.ActionDeclaration{
		approvalAction("Approve", map[string]string{"CustomData": "Check the staging site, then approve."})}})
	startPipeline(t, b, p)

	signInBrowser(t, ctx, b.url, "/console/pipelines/Web", id, secret)
	run(t, ctx, "the pipeline view",
		visible(`section[data-stage="Source"][data-status="InProgress"]`),
		visible(`section[data-stage="Build"] .group article[data-action="Compile"]`),
		visible(`section[data-stage="Build"] .group article[data-action="Lint"]`),
		chromedp.Evaluate(`window.__marker = "kept"; true`, nil))

	// Live: the source completes, the build runs and succeeds, the
	// approval waits, all without a navigation.
	completeSource(t, b, "WebSrc", map[string]string{"version.txt": "1.0.0\n"}, "rev-1")
	run(t, ctx, "the build running, then succeeded",
		visible(`article[data-action="Compile"][data-status="InProgress"]`),
		visible(`article[data-action="Compile"][data-status="Succeeded"]`),
		visible(`section[data-stage="Build"][data-status="Succeeded"]`),
		visible(`article[data-action="Approve"][data-status="InProgress"] .btn-review`))
	var marker string
	run(t, ctx, "marker", chromedp.Evaluate(`window.__marker || ""`, &marker))
	if marker != "kept" {
		t.Fatal("the page was reloaded: the window marker is gone")
	}

	// Approve with a summary.
	run(t, ctx, "approve",
		click(`article[data-action="Approve"] .btn-review`),
		visible("#approval-summary"),
		chromedp.SendKeys("#approval-summary", "Staging looks good", chromedp.ByQuery),
		click("#approve"),
		visible(`section[data-stage="Release"][data-status="Succeeded"]`),
		visible(`.exec-summary[data-status="Succeeded"]`))
	if a := actionState(pipelineState(t, b.client, "Web"), "Release", "Approve"); a == nil || aws.ToString(a.LatestExecution.Summary) != "Staging looks good" {
		t.Errorf("approval = %+v, want approved with the summary typed in the console", a)
	}

	// A failing build: release a change from the console.
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "release change",
		click("#release-change"),
		visible(`section[data-stage="Source"][data-status="InProgress"]`))
	completeSource(t, b, "WebSrc", map[string]string{"version.txt": "1.1.0\n"}, "rev-2")
	run(t, ctx, "the build failed",
		visible(`section[data-stage="Build"][data-status="Failed"]`),
		visible(`article[data-action="Compile"][data-status="Failed"] .action-summary.err`),
		visible(`[data-retry="Build"]`))

	// Its log, in the details drawer.
	run(t, ctx, "open the failed action", click(`article[data-action="Compile"]`), visible("#action-log"))
	waitJS(t, ctx, "the failed action's log", `document.querySelector("#action-log").textContent.includes("release flag missing: create it and retry") && document.querySelector("#action-log").dataset.complete === "true"`)
	var log string
	run(t, ctx, "log text", chromedp.Text("#action-log", &log, chromedp.ByQuery))
	if !strings.Contains(log, "compiling version 1.1.0") {
		t.Errorf("action log = %q, want the build's output", log)
	}
	// Scrolled to the failure, as a reader would.
	run(t, ctx, "scroll the log", chromedp.Evaluate(`[...document.querySelectorAll("#action-log span")].find((s) => s.textContent.startsWith("release flag missing")).scrollIntoView({block: "center"}); true`, nil))
	screenshot(t, ctx, "console-action-log.png")

	// Retry: the stage runs again and succeeds.
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "retry the stage",
		click(".drawer-head button"),
		chromedp.WaitNotPresent(".drawer", chromedp.ByQuery),
		click(`[data-retry="Build"]`),
		visible(`article[data-action="Compile"][data-status="InProgress"]`),
		visible(`section[data-stage="Build"][data-status="Succeeded"]`),
		visible(`article[data-action="Approve"][data-status="InProgress"]`))
	run(t, ctx, "marker", chromedp.Evaluate(`window.__marker || ""`, &marker))
	if marker != "kept" {
		t.Fatal("the page was reloaded during the run")
	}
	screenshot(t, ctx, "console-pipeline.png")

	// Transitions: disabled with a reason, then enabled again.
	run(t, ctx, "disable the transition into Release",
		click(`[data-transition="Release"] button`),
		visible("#transition-reason"),
		chromedp.SendKeys("#transition-reason", "Release freeze", chromedp.ByQuery),
		click("#disable-transition"),
		visible(`[data-transition="Release"][data-enabled="false"] .transition-reason`))
	var reason string
	run(t, ctx, "reason", chromedp.Text(`[data-transition="Release"] .transition-reason`, &reason, chromedp.ByQuery))
	if !strings.Contains(reason, "Release freeze") {
		t.Errorf("disabled transition shows %q, want its reason", reason)
	}
	for _, s := range pipelineState(t, b.client, "Web").StageStates {
		if aws.ToString(s.StageName) == "Release" && (s.InboundTransitionState == nil || s.InboundTransitionState.Enabled || aws.ToString(s.InboundTransitionState.DisabledReason) != "Release freeze") {
			t.Errorf("Release inbound transition = %+v, want disabled with the reason", s.InboundTransitionState)
		}
	}
	run(t, ctx, "enable it again",
		click(`[data-transition="Release"] button`),
		visible(`[data-transition="Release"][data-enabled="true"]`))

	// The event log shows the pipeline's events.
	run(t, ctx, "events",
		click(`a[data-nav="eventlog"]`),
		visible(`tr[data-event] a[href="/console/pipelines/Web"]`))
	run(t, ctx, "back", chromedp.NavigateBack(), visible(`section[data-stage="Build"]`))

	// History lists both executions.
	run(t, ctx, "history",
		click(`a.tab[href$="/history"]`),
		visible(`tr[data-execution]`))
	var rows int
	run(t, ctx, "count rows", chromedp.Evaluate(`document.querySelectorAll("tr[data-execution]").length`, &rows))
	if rows != 2 {
		t.Errorf("history shows %d executions, want 2", rows)
	}
	run(t, ctx, "an execution's actions",
		click(`tr[data-execution]`),
		visible(`.drawer tr[data-action-run="Build/Compile"]`),
		visible(`.drawer tr[data-action-run="Release/Approve"]`),
		click(".drawer-head button"))

	// The list shows each stage's latest status; it fits a narrow screen.
	run(t, ctx, "the list on a narrow screen",
		chromedp.EmulateViewport(400, 800),
		click(`a[data-nav="pipelines"]`),
		visible(`a.pipeline-row[data-pipeline="Web"] .stage-chip[data-stage="Build"][data-status="Succeeded"]`),
		visible(`a.pipeline-row[data-pipeline="Web"] .stage-chip[data-stage="Release"][data-status="InProgress"]`))
	var overflow bool
	run(t, ctx, "overflow", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
	if overflow {
		t.Error("the pipeline list overflows a 400 px screen horizontally")
	}
	run(t, ctx, "the pipeline view on a narrow screen",
		click(`a.pipeline-row[data-pipeline="Web"]`),
		visible(`section[data-stage="Build"]`),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
	if overflow {
		t.Error("the pipeline view overflows a 400 px screen horizontally")
	}
	screenshot(t, ctx, "console-narrow.png")
	run(t, ctx, "marker", chromedp.Evaluate(`window.__marker || ""`, &marker))
	if marker != "kept" {
		t.Error("navigating inside the console reloaded the page")
	}
}

// A deployment to real agents in the browser: the per-instance lifecycle
// grid, an event's diagnostics and its full hook log.
func TestConsoleDeploymentBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server, three agents and a browser")
	}
	t.Parallel()
	ctx := browser(t)
	f := newAgentFleet(t)
	id, secret := adminKey(t, f.srv.dir)
	hook := hookScript + `echo "$LIFECYCLE_EVENT ran on $(basename "$SLIPWAY_INSTALL_ROOT")"` + "\n" + strictValidate
	v1 := f.push(writeTree(t, appFiles("v1", map[string]string{"scripts/hook.sh": hook})), "shop-bundles/console-v1.zip")
	ok := f.deploy(v1, nil)
	if d := f.wait(ok); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("deployment %s: %s\n%s", ok, d.Status, f.describe(ok))
	}
	signInBrowser(t, ctx, f.url, "/console/deployments/"+ok, id, secret)
	for _, a := range f.agents {
		run(t, ctx, "the grid row of "+a.name,
			visible(fmt.Sprintf(`tr[data-instance=%q][data-status="Succeeded"] td.cell[data-event="ApplicationStart"][data-status="Succeeded"]`, a.name)))
	}
	run(t, ctx, "an event's log",
		click(`tr[data-instance="node-a"] td.cell[data-event="AfterInstall"]`),
		visible("#lifecycle-log"))
	waitJS(t, ctx, "the AfterInstall log", `document.querySelector("#lifecycle-log").textContent.includes("AfterInstall ran on") && document.querySelector("#lifecycle-log").dataset.complete === "true"`)
	run(t, ctx, "close", click(".drawer-head button"), chromedp.WaitNotPresent(".drawer", chromedp.ByQuery))

	// A deployment that fails ValidateService on node-b.
	if err := os.WriteFile(filepath.Join(f.agents[1].install, "fail-validate"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := f.push(writeTree(t, appFiles("v2", map[string]string{"scripts/hook.sh": hook})), "shop-bundles/console-v2.zip")
	failed := f.deploy(v2, nil)
	run(t, ctx, "the deployments list",
		click(`a[data-nav="deployments"]`),
		visible(fmt.Sprintf(`tr[data-deployment=%q]`, failed)),
		click(fmt.Sprintf(`tr[data-deployment=%q] a`, failed)),
		visible(`tr[data-instance="node-b"] td.cell[data-event="ValidateService"][data-status="Failed"]`),
		visible(`.exec-summary[data-status="Failed"]`))
	screenshot(t, ctx, "console-deployment.png")
	run(t, ctx, "the failed event",
		click(`tr[data-instance="node-b"] td.cell[data-event="ValidateService"]`),
		visible("#lifecycle-log"), visible(".log-tail"))
	waitJS(t, ctx, "the failed event's log", `document.querySelector("#lifecycle-log").textContent.includes("validation failed on purpose")`)
	screenshot(t, ctx, "console-hook-log.png")

	run(t, ctx, "instances",
		click(".drawer-head button"),
		click(`a[data-nav="instances"]`),
		visible(`tr[data-instance="node-c"] .tag`))
	var tags string
	run(t, ctx, "tags", chromedp.Text(`tr[data-instance="node-c"]`, &tags, chromedp.ByQuery))
	if !strings.Contains(tags, "node") || !strings.Contains(tags, "fleet") {
		t.Errorf("instance row = %q, want its tags", tags)
	}
	var seen string
	run(t, ctx, "last seen", chromedp.Text(`tr[data-instance="node-c"] .last-seen`, &seen, chromedp.ByQuery))
	if !strings.HasSuffix(seen, "ago") && seen != "just now" {
		t.Errorf("node-c last seen = %q, want when its agent last polled", seen)
	}
}

// BenchmarkConsolePipelineList measures what the console's pipeline list
// costs with 1,000 pipelines: one page is ListPipelines (50 names) and the
// GetPipelineState of each, six at a time as the page sends them, through
// the console's data API with a session. It reports the bytes of a page's
// API answers and of the page's assets; ns/op is the server time of a page.
func BenchmarkConsolePipelineList(b *testing.B) {
	const pipelines, pageSize = 1000, 50
	dir := b.TempDir()
	cfg := server.Config{DataDir: dir, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler), Workers: -1}
	cfg.Limits.Pipelines = 2 * pipelines
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	stop := srv.StartBackground()
	b.Cleanup(func() { ts.Close(); stop(); srv.Close() })
	id, secret := adminKey(b, dir)
	cpc := newClient(ts.URL, id, secret)
	ctx := context.Background()
	for _, ct := range []*codepipeline.CreateCustomActionTypeInput{
		customType(types.ActionCategorySource, "ExampleSource", 0, 1), customType(types.ActionCategoryBuild, "ExampleBuild", 1, 1)} {
		if _, err := cpc.CreateCustomActionType(ctx, ct); err != nil {
			b.Fatal(err)
		}
	}
	created := time.Now()
	for i := range pipelines {
		if _, err := cpc.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: workerPipeline(fmt.Sprintf("service-%04d", i))}); err != nil {
			b.Fatalf("CreatePipeline %d: %v", i, err)
		}
	}
	b.Logf("created %d pipelines in %s", pipelines, time.Since(created).Round(time.Millisecond))

	c := newConsoleClient(b, ts.URL)
	c.signIn(id, secret)
	var assets int
	for _, p := range []string{"/console/pipelines", "/console/static/app.js", "/console/static/api.js", "/console/static/ui.js",
		"/console/static/pipelines.js", "/console/static/deployments.js", "/console/static/activity.js", "/console/static/app.css", "/console/static/favicon.svg"} {
		res, err := c.http.Get(ts.URL + p)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s = %d", p, res.StatusCode)
		}
		assets += int(n)
	}

	call := func(target, body string) []byte {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/console/api", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("X-Slipway-Csrf", c.csrf)
		res, err := c.http.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %s", target, res.StatusCode, data)
		}
		return data
	}
	var pageBytes int64
	var token string
	b.ResetTimer()
	for b.Loop() {
		body := fmt.Sprintf(`{"maxResults":%d}`, pageSize)
		if token != "" {
			body = fmt.Sprintf(`{"maxResults":%d,"nextToken":%q}`, pageSize, token)
		}
		list := call("CodePipeline_20150709.ListPipelines", body)
		var out struct {
			Pipelines []struct{ Name string }
			NextToken string
		}
		if err := json.Unmarshal(list, &out); err != nil || len(out.Pipelines) != pageSize {
			b.Fatalf("ListPipelines page: %v, %d pipelines", err, len(out.Pipelines))
		}
		token = out.NextToken // walk the pages, as a user paging through would
		n := int64(len(list))
		names := make(chan string)
		sizes := make(chan int64)
		for range 6 {
			go func() {
				var sum int64
				for name := range names {
					sum += int64(len(call("CodePipeline_20150709.GetPipelineState", fmt.Sprintf(`{"name":%q}`, name))))
				}
				sizes <- sum
			}()
		}
		for _, p := range out.Pipelines {
			names <- p.Name
		}
		close(names)
		for range 6 {
			n += <-sizes
		}
		pageBytes = n
	}
	b.ReportMetric(float64(pageBytes), "api-bytes/page")
	b.ReportMetric(float64(assets), "asset-bytes")
}
