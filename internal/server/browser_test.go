package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/testcluster"
)

// artifactDir keeps the browser test's screenshots after the test: under
// $OPSAGENT_TEST_ARTIFACTS when set (CI uploads it), else in
// testdata/artifacts, which git ignores.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OPSAGENT_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium finds Debian's chromium (hack/install-test-deps.sh installs it).
// Missing, the test fails under CI (a skip would hide that the page was
// never tested) and is skipped otherwise.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "the browser test needs chromium: run hack/install-test-deps.sh (apt-get install chromium)"
	testcluster.SkipOrFail(t, msg)
	return ""
}

// The page in a real headless browser: the token arrives in the URL
// fragment, a request is typed and submitted with the keyboard, the pending
// change shows its preview, Approve applies it, the result is shown and the
// replicas changed.
func TestServePageSubmitApproveInChromium(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	e := testcluster.New(t)
	s := newTestServer(t, e, nil)
	writer := e.CallerToken(t, "writer", writeRules...)
	e.Deployment(t, "web", 1)
	// A crash-looping pod (the sandbox simulates it) for the diagnose view.
	zero := int64(0)
	if _, err := e.Client.CoreV1().Pods(e.Namespace).Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Labels: map[string]string{"sim.opsagent.dev/state": "CrashLoopBackOff"}},
		Spec:       corev1.PodSpec{TerminationGracePeriodSeconds: &zero, Containers: []corev1.Container{{Name: "app", Image: "api:1"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in a container; the page is our own
		chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-gpu", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	dir := artifactDir(t)
	shot := func(name string) {
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			shot("page-failed.png")
			t.Fatalf("browser: %s: %v (screenshot in %s)", what, err, dir)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		must("read "+sel, err)
		return v
	}

	must("open the page with the token", chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/#token="+writer),
		chromedp.WaitVisible(chromedp.CSS("#app")),
	))
	who := text("#who")
	hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
	must("read the address", err)
	must("type and submit a request with the keyboard", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#namespace"), e.Namespace),
		chromedp.SendKeys(chromedp.CSS("#text"), "scale web to 2"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".approval .buttons button")),
	))
	approvalText := text(".approval")
	shot("page-approval.png")
	must("click Approve", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".approval .buttons button"))))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`["succeeded","failed","cancelled"].includes(document.getElementById("request-state").textContent)`, chromedp.WithPollingTimeout(time.Minute)))
	must("wait for the request to end", err)
	state, steps := text("#request-state"), text("#steps")
	shot("page-done.png")

	// Diagnose, grouped by owner with evidence and fix. The sandbox takes
	// a moment to crash the pod, so ask again until a finding shows.
	must("type the namespace to diagnose", chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#diag-ns"), e.Namespace)))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		if (document.querySelector("#diag .group")) return true;
		if (!document.querySelector("#diag .muted")) document.querySelector("#diag-form button").click();
		return false;
	})()`, chromedp.WithPollingInterval(time.Second), chromedp.WithPollingTimeout(time.Minute)))
	must("wait for a diagnose finding", err)
	diag := text("#diag")
	shot("page-diagnose.png")

	if !strings.Contains(who, "system:serviceaccount:"+e.Namespace+":writer") {
		t.Errorf("page shows %q, want the writer's user name", who)
	}
	if hash != "" {
		t.Errorf("the token stayed in the address bar: hash %q", hash)
	}
	if !strings.Contains(approvalText, "replicas 1 → 2") || !strings.Contains(approvalText, "scale_workload") {
		t.Errorf("approval card:\n%s\nwant the tool and the preview replicas 1 → 2", approvalText)
	}
	if state != "succeeded" || !strings.Contains(steps, "scale_workload done") {
		t.Errorf("after Approve: state %q, steps:\n%s", state, steps)
	}
	if n := e.Replicas(t, "web"); n != 2 {
		t.Errorf("replicas = %d after approving in the page, want 2", n)
	}
	for _, want := range []string{"critical", "Pod " + e.Namespace + "/api", "Cause:", "Fix"} {
		if !strings.Contains(diag, want) {
			t.Errorf("diagnose view lacks %q:\n%s", want, diag)
		}
	}
	t.Logf("screenshots in %s", dir)
}
