package release

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	helmrelease "helm.sh/helm/v3/pkg/release"
)

func install(t *testing.T, c *Client, set ...string) *DeployResult {
	t.Helper()
	res, err := c.Deploy(context.Background(), DeployOptions{Values: Values{Set: set}})
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	return res
}

func hasObject(objs []Object, kindName string) bool {
	return slices.ContainsFunc(objs, func(o Object) bool { return o.String() == kindName })
}

func TestDeployInstallsThenUpgrades(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	ctx := context.Background()

	first := install(t, c)
	if first.Action != ActionInstall || first.Release.Revision != 1 || first.Release.Status != "deployed" {
		t.Fatalf("first deploy = %s revision %d %s, want install revision 1 deployed", first.Action, first.Release.Revision, first.Release.Status)
	}
	if first.Release.Name != DefaultReleaseName || first.Release.Namespace != testNamespace || first.Release.Chart != "todo-chatbot-0.1.0" {
		t.Errorf("release = %+v", first.Release)
	}
	for _, want := range []string{"Deployment/todo-chatbot-backend", "Deployment/todo-chatbot-frontend", "StatefulSet/todo-chatbot-postgresql", "PersistentVolumeClaim/todo-chatbot-postgresql"} {
		if !hasObject(first.Objects, want) {
			t.Errorf("objects lack %s: %v", want, first.Objects)
		}
	}
	if !strings.Contains(first.Notes, "minikube ip") {
		t.Errorf("notes = %q", first.Notes)
	}

	second, err := c.Deploy(ctx, DeployOptions{Values: Values{Set: []string{"backend.replicaCount=2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if second.Action != ActionUpgrade || second.Release.Revision != 2 {
		t.Errorf("second deploy = %s revision %d, want upgrade revision 2", second.Action, second.Release.Revision)
	}
	hist, err := c.History(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(hist); !slices.Equal(got, []string{"1:superseded", "2:deployed"}) {
		t.Errorf("history = %v", got)
	}
}

func TestDeployDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	res, err := c.Deploy(context.Background(), DeployOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Action != ActionInstall || len(res.Objects) == 0 {
		t.Errorf("dry run = %+v", res)
	}
	if _, err := c.Status(context.Background(), ""); !errors.Is(err, ErrReleaseNotFound) {
		t.Errorf("a dry run stored a release: Status err = %v", err)
	}
}

func TestDeployValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		upgrade     DeployOptions
		wantKept    bool // the install's apiKey survives the upgrade
		wantReplica any
	}{
		{name: "no values reuses the last ones", upgrade: DeployOptions{}, wantKept: true, wantReplica: nil},
		{name: "new values replace the last ones", upgrade: DeployOptions{Values: Values{Set: []string{"backend.replicaCount=2"}}},
			wantKept: false, wantReplica: int64(2)},
		{name: "reuse merges the last ones under the new", upgrade: DeployOptions{ReuseValues: true, Values: Values{Set: []string{"backend.replicaCount=2"}}},
			wantKept: true, wantReplica: int64(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t)
			install(t, c, "backend.openai.apiKey=sk-install")
			if _, err := c.Deploy(context.Background(), tt.upgrade); err != nil {
				t.Fatal(err)
			}
			rel, err := c.cfg.Releases.Last(DefaultReleaseName)
			if err != nil {
				t.Fatal(err)
			}
			backend, _ := rel.Config["backend"].(map[string]any)
			openai, _ := backend["openai"].(map[string]any)
			if kept := openai["apiKey"] == "sk-install"; kept != tt.wantKept {
				t.Errorf("apiKey kept = %v, want %v (config %v)", kept, tt.wantKept, rel.Config)
			}
			if backend["replicaCount"] != tt.wantReplica {
				t.Errorf("replicaCount = %v (%T), want %v", backend["replicaCount"], backend["replicaCount"], tt.wantReplica)
			}
		})
	}
}

func TestPreviewInstall(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	p, err := c.Preview(context.Background(), PreviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Action != ActionInstall || p.CurrentRevision != 0 || p.NextRevision != 1 || p.Unchanged != 0 {
		t.Errorf("preview = %s %d→%d unchanged %d", p.Action, p.CurrentRevision, p.NextRevision, p.Unchanged)
	}
	var names []string
	for _, ch := range p.Changes {
		if ch.Op != OpCreate || ch.Diff != "" {
			t.Errorf("install change %s: op %s diff %q, want a bare create", ch.Object, ch.Op, ch.Diff)
		}
		names = append(names, ch.String())
	}
	for _, want := range []string{"Secret/todo-chatbot-secret", "ConfigMap/todo-chatbot-backend", "Ingress/todo-chatbot", "StatefulSet/todo-chatbot-postgresql"} {
		if !slices.Contains(names, want) {
			t.Errorf("preview lacks %s: %v", want, names)
		}
	}
	if !strings.Contains(p.String(), "Install release \"todo-chatbot\" in namespace \"todo\" (revision 1): 12 objects to create.") {
		t.Errorf("String() =\n%s", p)
	}
	if _, err := c.History(context.Background(), ""); !errors.Is(err, ErrReleaseNotFound) {
		t.Errorf("preview stored a release: %v", err)
	}
	// The test hook is listed, and counted among the resources.
	wantHook := "Pod/todo-chatbot-test: test; delete policy before-hook-creation, hook-succeeded"
	if len(p.Hooks) != 1 || p.Hooks[0].String() != wantHook || !strings.Contains(p.String(), "\n  "+wantHook+"\n") {
		t.Errorf("hooks = %v, want %q", p.Hooks, wantHook)
	}
	if len(p.Resources) != 13 {
		t.Errorf("%d resources, want the 12 objects and the hook", len(p.Resources))
	}
	for _, r := range p.Resources {
		if r.Namespace != testNamespace || r.Deleted || r.Content["kind"] != r.Kind {
			t.Errorf("resource %s in %q (deleted %v): want it in %s with its content", r.Object, r.Namespace, r.Deleted, testNamespace)
		}
	}
	if len(p.DestructiveReasons()) != 0 {
		t.Errorf("an install destroys nothing: %q", p.DestructiveReasons())
	}
}

func TestPreviewUpgradeRiskFacts(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	install(t, c, "backend.replicaCount=3", "ingress.enabled=true")
	ctx := context.Background()
	tests := []struct {
		name  string
		opts  PreviewOptions
		reset []string
	}{
		{"values given again", PreviewOptions{Values: Values{Set: []string{"backend.replicaCount=2", "ingress.enabled=true"}}}, nil},
		{"no values reuses the last", PreviewOptions{}, nil},
		{"reuse values", PreviewOptions{Values: Values{Set: []string{"frontend.replicaCount=2"}}, ReuseValues: true}, nil},
		{"values dropped", PreviewOptions{Values: Values{Set: []string{"frontend.replicaCount=2"}}}, []string{"backend.replicaCount", "ingress.enabled"}},
	}
	for _, tt := range tests {
		p, err := c.Preview(ctx, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.ResetValues, tt.reset) || p.ChartReplaced {
			t.Errorf("%s: reset %q, chart replaced %v; want %q, false", tt.name, p.ResetValues, p.ChartReplaced, tt.reset)
		}
	}
}

func TestPreviewUpgrade(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	install(t, c)
	ctx := context.Background()

	p, err := c.Preview(ctx, PreviewOptions{Values: Values{Set: []string{
		"backend.replicaCount=3", "backend.openai.apiKey=sk-preview-secret", "networkPolicy.enabled=true", "ingress.enabled=false",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Action != ActionUpgrade || p.CurrentRevision != 1 || p.NextRevision != 2 {
		t.Errorf("preview = %s %d→%d", p.Action, p.CurrentRevision, p.NextRevision)
	}
	ops := map[string]ChangeOp{}
	diffs := map[string]string{}
	for _, ch := range p.Changes {
		ops[ch.String()] = ch.Op
		diffs[ch.String()] = ch.Diff
	}
	for obj, want := range map[string]ChangeOp{
		"Deployment/todo-chatbot-backend":       OpUpdate,
		"Secret/todo-chatbot-secret":            OpUpdate,
		"NetworkPolicy/todo-chatbot-backend":    OpCreate,
		"NetworkPolicy/todo-chatbot-postgresql": OpCreate,
		"Ingress/todo-chatbot":                  OpDelete,
	} {
		if ops[obj] != want {
			t.Errorf("%s: op %q, want %q", obj, ops[obj], want)
		}
	}
	for _, same := range []string{"Service/todo-chatbot-frontend", "PersistentVolumeClaim/todo-chatbot-postgresql", "StatefulSet/todo-chatbot-postgresql"} {
		if _, changed := ops[same]; changed {
			t.Errorf("%s did not change but is listed:\n%s", same, diffs[same])
		}
	}
	if p.Unchanged == 0 {
		t.Errorf("unchanged = 0")
	}
	d := diffs["Deployment/todo-chatbot-backend"]
	for _, want := range []string{
		"--- Deployment/todo-chatbot-backend (revision 1)\n+++ Deployment/todo-chatbot-backend (revision 2, proposed)\n",
		"\n-  replicas: 1\n+  replicas: 3\n",
		"\n+            - name: OPENAI_API_KEY\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("backend diff lacks %q:\n%s", want, d)
		}
	}
	if !strings.HasPrefix(diffs["Ingress/todo-chatbot"], "--- Ingress/todo-chatbot (revision 1)\n+++ /dev/null\n") {
		t.Errorf("ingress deletion diff:\n%s", diffs["Ingress/todo-chatbot"])
	}
	if !strings.Contains(diffs["Secret/todo-chatbot-secret"], "+  OPENAI_API_KEY: (redacted, changed)") {
		t.Errorf("secret diff should mark the new key as changed:\n%s", diffs["Secret/todo-chatbot-secret"])
	}
	// No credential may leak, in plain text or base64.
	out := p.String()
	for _, secret := range []string{"sk-preview-secret", base64.StdEncoding.EncodeToString([]byte("sk-preview-secret"))} {
		if strings.Contains(out, secret) {
			t.Errorf("preview leaks %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "from revision 1 to 2: 3 to create, 3 to update, 1 to delete, 8 unchanged") {
		t.Errorf("summary:\n%s", out)
	}
	if hist, _ := c.History(ctx, ""); len(hist) != 1 {
		t.Errorf("preview created a revision: %v", statuses(hist))
	}
	if got := p.DestructiveReasons(); len(got) != 1 || got[0] != "deletes 1 object(s): Ingress/todo-chatbot" {
		t.Errorf("destructive reasons = %q, want the Ingress deletion", got)
	}
	if !slices.ContainsFunc(p.Resources, func(r Resource) bool {
		return r.Deleted && r.Kind == "Ingress" && r.Namespace == testNamespace
	}) {
		t.Errorf("resources lack the deleted Ingress: %v", p.Resources)
	}
}

func TestPreviewUnchanged(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	// A fixed JWT secret and password: without a cluster, lookup cannot
	// read back generated ones and every render would differ.
	set := []string{"backend.jwt.secret=fixed-jwt", "postgresql.auth.password=fixed-pw"}
	install(t, c, set...)
	p, err := c.Preview(context.Background(), PreviewOptions{Values: Values{Set: set}})
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		t.Errorf("same values, yet changes:\n%s", p)
	}
}

func TestStatusAndList(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	install(t, c)
	ctx := context.Background()
	st, err := c.Status(ctx, DefaultReleaseName)
	if err != nil {
		t.Fatal(err)
	}
	if st.Revision != 1 || st.Status != "deployed" || st.FirstDeployed.IsZero() || !hasObject(st.Objects, "Service/todo-chatbot-backend") || st.Notes == "" {
		t.Errorf("status = %+v", st)
	}
	for _, opts := range []ListOptions{{}, {AllNamespaces: true}, {Filter: "^todo"}} {
		rels, err := c.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rels) != 1 || rels[0].Name != DefaultReleaseName || rels[0].AppVersion != "1.0.0" {
			t.Errorf("List(%+v) = %+v", opts, rels)
		}
	}
	if rels, err := c.List(ctx, ListOptions{Filter: "^other"}); err != nil || len(rels) != 0 {
		t.Errorf("filtered list = %v, %v", rels, err)
	}
}

func TestRollback(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t)
	ctx := context.Background()
	install(t, c)
	if _, err := c.Deploy(ctx, DeployOptions{Values: Values{Set: []string{"backend.replicaCount=2"}}}); err != nil {
		t.Fatal(err)
	}

	res, err := c.Rollback(ctx, "", RollbackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FromRevision != 2 || res.ToRevision != 1 || res.Release.Revision != 3 || res.Release.Status != "deployed" {
		t.Errorf("rollback = %+v", res)
	}
	rel, _ := c.cfg.Releases.Last(DefaultReleaseName)
	if _, set := rel.Config["backend"]; set {
		t.Errorf("revision 3 should carry revision 1's values, has %v", rel.Config)
	}

	_, err = c.Rollback(ctx, "", RollbackOptions{Revision: 9})
	if !errors.Is(err, ErrRevisionNotFound) || !strings.Contains(err.Error(), "the release has revisions 1, 2, 3") {
		t.Errorf("rollback to 9: %v", err)
	}
	_, err = c.Rollback(ctx, "missing", RollbackOptions{})
	if !errors.Is(err, ErrReleaseNotFound) {
		t.Errorf("rollback of a missing release: %v", err)
	}
}

func TestRollbackTarget(t *testing.T) {
	t.Parallel()
	rel := func(v int, s helmrelease.Status) Release { return Release{Revision: v, Status: s.String()} }
	tests := []struct {
		name    string
		hist    []Release
		want    int
		wanted  int
		wantErr string
	}{
		{
			name: "previous",
			hist: []Release{rel(1, helmrelease.StatusSuperseded), rel(2, helmrelease.StatusDeployed)},
			want: 1,
		},
		{
			// After an atomic upgrade's rollback: 3 failed, 4 restored 2.
			name: "skips failed revisions",
			hist: []Release{rel(1, helmrelease.StatusSuperseded), rel(2, helmrelease.StatusSuperseded),
				rel(3, helmrelease.StatusFailed), rel(4, helmrelease.StatusDeployed)},
			want: 2,
		},
		{
			name: "stuck pending upgrade",
			hist: []Release{rel(1, helmrelease.StatusDeployed), rel(2, helmrelease.StatusPendingUpgrade)},
			want: 1,
		},
		{
			name:   "explicit revision",
			hist:   []Release{rel(1, helmrelease.StatusSuperseded), rel(2, helmrelease.StatusFailed), rel(3, helmrelease.StatusDeployed)},
			wanted: 2, want: 2,
		},
		{
			name:    "nothing earlier",
			hist:    []Release{rel(1, helmrelease.StatusDeployed)},
			wantErr: "no revision before 1 was deployed successfully; the release has revisions 1",
		},
		{
			name:    "unknown revision",
			hist:    []Release{rel(1, helmrelease.StatusSuperseded), rel(2, helmrelease.StatusDeployed)},
			wanted:  5,
			wantErr: "revision 5 does not exist; the release has revisions 1, 2",
		},
		{
			name:    "current revision",
			hist:    []Release{rel(1, helmrelease.StatusSuperseded), rel(2, helmrelease.StatusDeployed)},
			wanted:  2,
			wantErr: "revision 2 is the current one; name an earlier revision (1, 2)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			current := tt.hist[len(tt.hist)-1].Revision
			got, err := RollbackTarget(tt.hist, current, tt.wanted)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Revision != tt.want {
				t.Errorf("RollbackTarget = %d, %v; want %d", got.Revision, err, tt.want)
			}
		})
	}
}

func TestUninstall(t *testing.T) {
	t.Parallel()
	for _, dryRun := range []bool{true, false} {
		name := map[bool]string{true: "dry run", false: "for real"}[dryRun]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t)
			install(t, c)
			ctx := context.Background()
			res, err := c.Uninstall(ctx, "", UninstallOptions{DryRun: dryRun})
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, k := range res.Kept {
				kept = append(kept, k.String())
				if !strings.Contains(k.Reason, "helm.sh/resource-policy: keep") {
					t.Errorf("kept %s for reason %q", k.Object, k.Reason)
				}
			}
			if !slices.Equal(kept, []string{"Secret/todo-chatbot-secret", "PersistentVolumeClaim/todo-chatbot-postgresql"}) {
				t.Errorf("kept = %v", kept)
			}
			if !hasObject(res.Removed, "StatefulSet/todo-chatbot-postgresql") || hasObject(res.Removed, "PersistentVolumeClaim/todo-chatbot-postgresql") {
				t.Errorf("removed = %v", res.Removed)
			}
			_, err = c.Status(ctx, "")
			if dryRun && err != nil {
				t.Errorf("a dry run removed the release: %v", err)
			}
			if !dryRun && !errors.Is(err, ErrReleaseNotFound) {
				t.Errorf("release still there after uninstall: %v", err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		setup    func(t *testing.T, c *Client, kc *fakeKube)
		run      func(c *Client) error
		wantKind error
		wantMsg  []string
	}{
		{
			name:     "status of a missing release",
			run:      func(c *Client) error { _, err := c.Status(ctx, "ghost"); return err },
			wantKind: ErrReleaseNotFound,
			wantMsg:  []string{`get status of release "ghost" in namespace "todo": release not found`, "opsagent install"},
		},
		{
			name:     "history of a missing release",
			run:      func(c *Client) error { _, err := c.History(ctx, "ghost"); return err },
			wantKind: ErrReleaseNotFound,
		},
		{
			name:     "uninstall of a missing release",
			run:      func(c *Client) error { _, err := c.Uninstall(ctx, "ghost", UninstallOptions{}); return err },
			wantKind: ErrReleaseNotFound,
		},
		{
			name: "values the schema rejects",
			run: func(c *Client) error {
				_, err := c.Deploy(ctx, DeployOptions{Values: Values{Set: []string{"frontend.replicaCount=-1"}}})
				return err
			},
			wantKind: ErrInvalidValues,
			wantMsg:  []string{"at '/frontend/replicaCount': minimum: got -1, want 0", "README.md"},
		},
		{
			name: "values the template rejects",
			run: func(c *Client) error {
				_, err := c.Preview(ctx, PreviewOptions{Values: Values{Set: []string{"backend.autoscaling.enabled=true", "backend.autoscaling.maxReplicas=1", "backend.autoscaling.minReplicas=2"}}})
				return err
			},
			wantKind: ErrInvalidValues,
			wantMsg:  []string{"maxReplicas must be at least"},
		},
		{
			name: "unparsable --set",
			run: func(c *Client) error {
				_, err := c.Deploy(ctx, DeployOptions{Values: Values{Set: []string{"a[=1"}}})
				return err
			},
			wantKind: ErrInvalidValues,
			wantMsg:  []string{`parse --set "a[=1"`},
		},
		{
			name: "missing values file",
			run: func(c *Client) error {
				_, err := c.Deploy(ctx, DeployOptions{Values: Values{Files: []string{"/nonexistent/values.yaml"}}})
				return err
			},
			wantKind: ErrInvalidValues,
			wantMsg:  []string{"/nonexistent/values.yaml"},
		},
		{
			name: "cluster unreachable",
			setup: func(t *testing.T, c *Client, kc *fakeKube) {
				kc.unreachable = errors.New("Kubernetes cluster unreachable: connection refused")
			},
			run:      func(c *Client) error { _, err := c.Deploy(ctx, DeployOptions{}); return err },
			wantKind: ErrClusterUnreachable,
			wantMsg:  []string{"kubectl cluster-info"},
		},
		{
			name: "release stuck in pending-upgrade",
			setup: func(t *testing.T, c *Client, kc *fakeKube) {
				install(t, c)
				rel, _ := c.cfg.Releases.Last(DefaultReleaseName)
				rel.Info.Status = helmrelease.StatusPendingUpgrade
				if err := c.cfg.Releases.Update(rel); err != nil {
					t.Fatal(err)
				}
			},
			run:      func(c *Client) error { _, err := c.Deploy(ctx, DeployOptions{}); return err },
			wantKind: ErrOperationInProgress,
			wantMsg:  []string{"opsagent rollback"},
		},
		{
			name: "atomic upgrade that fails and rolls back",
			setup: func(t *testing.T, c *Client, kc *fakeKube) {
				install(t, c)
				kc.waitFailures = 1
			},
			run: func(c *Client) error {
				_, err := c.Deploy(ctx, DeployOptions{Atomic: true, Values: Values{Set: []string{"backend.replicaCount=2"}}})
				return err
			},
			wantKind: ErrRolledBack,
			wantMsg:  []string{`upgrade release "todo-chatbot"`, "not ready", "previous revision is live again"},
		},
		{
			name: "atomic install that fails and is removed",
			setup: func(t *testing.T, c *Client, kc *fakeKube) {
				kc.waitFailures = 1
			},
			run: func(c *Client) error {
				_, err := c.Deploy(ctx, DeployOptions{Atomic: true})
				return err
			},
			wantKind: ErrRolledBack,
			wantMsg:  []string{`install release "todo-chatbot"`, "nothing is left running"},
		},
		{
			name: "upgrade that times out",
			setup: func(t *testing.T, c *Client, kc *fakeKube) {
				install(t, c)
				kc.waitFailures = 1
			},
			run: func(c *Client) error {
				_, err := c.Deploy(ctx, DeployOptions{Wait: true})
				return err
			},
			wantKind: ErrTimeout,
			wantMsg:  []string{"raise --timeout"},
		},
		{
			name: "cancelled context",
			run: func(c *Client) error {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := c.Deploy(cctx, DeployOptions{})
				return err
			},
			wantKind: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, kc := newTestClient(t)
			if tt.setup != nil {
				tt.setup(t, c, kc)
			}
			err := tt.run(c)
			if err == nil {
				t.Fatal("no error")
			}
			var relErr *Error
			if !errors.As(err, &relErr) {
				t.Errorf("error %T is not a *release.Error", err)
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("error is not %v: %v", tt.wantKind, err)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
		})
	}
}

func TestAtomicUpgradeLeavesRollbackInHistory(t *testing.T) {
	t.Parallel()
	c, kc := newTestClient(t)
	install(t, c)
	kc.waitFailures = 1
	_, err := c.Deploy(context.Background(), DeployOptions{Atomic: true, Values: Values{Set: []string{"backend.replicaCount=2"}}})
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v", err)
	}
	hist, err := c.History(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(hist); !slices.Equal(got, []string{"1:superseded", "2:failed", "3:deployed"}) {
		t.Errorf("history = %v", got)
	}
	// "Previous" after that is revision 1, not the failed 2.
	res, err := c.Rollback(context.Background(), "", RollbackOptions{})
	if err != nil || res.ToRevision != 1 {
		t.Errorf("rollback = %+v, %v; want to revision 1", res, err)
	}
}

func statuses(hist []Release) []string {
	var out []string
	for _, r := range hist {
		out = append(out, strconv.Itoa(r.Revision)+":"+r.Status)
	}
	return out
}
