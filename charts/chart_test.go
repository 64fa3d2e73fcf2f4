package charts_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/opsagent/opsagent/charts"
)

// Resource names for release "todo-chatbot", whose name contains the chart's.
const (
	release     = "todo-chatbot"
	frontend    = "todo-chatbot-frontend"
	backend     = "todo-chatbot-backend"
	database    = "todo-chatbot-postgresql"
	chartSecret = "todo-chatbot-secret"
)

// variant is one set of values the chart must lint and render cleanly with.
type variant struct {
	name string
	sets []string
	// check asserts what is specific to the variant.
	check func(t *testing.T, r *rendered)
}

var variants = []variant{
	{name: "defaults", check: checkDefaults},
	{
		name: "monitoring",
		sets: []string{"monitoring.serviceMonitor.enabled=true", "monitoring.prometheusRule.enabled=true", "monitoring.prometheusRule.backendMetrics=true"},
		check: func(t *testing.T, r *rendered) {
			for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
				if monitoringObject(t, r, kind) == nil {
					t.Errorf("no %s rendered", kind)
				}
			}
		},
	},
	{
		name: "external database by url",
		sets: []string{"postgresql.enabled=false", "externalDatabase.url=postgresql://todo:s3cret@db.example.com:5432/todo"},
		check: func(t *testing.T, r *rendered) {
			checkNoDatabase(t, r)
			sec := find[*corev1.Secret](r.objects, chartSecret)
			if sec == nil || string(sec.Data["DATABASE_URL"]) != "postgresql://todo:s3cret@db.example.com:5432/todo" {
				t.Errorf("chart Secret should hold the external DATABASE_URL, got %v", sec)
			}
			if _, ok := sec.Data["POSTGRES_PASSWORD"]; ok {
				t.Errorf("no POSTGRES_PASSWORD without the in-cluster database")
			}
			wantSecretEnv(t, backendContainer(t, r), "DATABASE_URL", chartSecret, "DATABASE_URL")
		},
	},
	{
		name: "external database from existing secret",
		sets: []string{"postgresql.enabled=false", "externalDatabase.existingSecret=todo-db", "externalDatabase.existingSecretKey=url"},
		check: func(t *testing.T, r *rendered) {
			checkNoDatabase(t, r)
			wantSecretEnv(t, backendContainer(t, r), "DATABASE_URL", "todo-db", "url")
			if sec := find[*corev1.Secret](r.objects, chartSecret); sec != nil {
				if _, ok := sec.Data["DATABASE_URL"]; ok {
					t.Errorf("DATABASE_URL must come from the existing Secret only")
				}
			}
		},
	},
	{
		name: "existing secrets",
		sets: []string{
			"backend.jwt.existingSecret=todo-jwt", "backend.jwt.existingSecretKey=jwt",
			"backend.openai.existingSecret=todo-openai",
			"postgresql.auth.existingSecret=todo-pg", "postgresql.auth.existingSecretPasswordKey=password",
		},
		check: func(t *testing.T, r *rendered) {
			if sec := find[*corev1.Secret](r.objects, chartSecret); sec != nil {
				t.Errorf("every credential comes from an existing Secret, yet the chart renders its own: %v", sec.Data)
			}
			c := backendContainer(t, r)
			wantSecretEnv(t, c, "JWT_SECRET", "todo-jwt", "jwt")
			wantSecretEnv(t, c, "OPENAI_API_KEY", "todo-openai", "OPENAI_API_KEY")
			wantSecretEnv(t, c, "POSTGRES_PASSWORD", "todo-pg", "password")
			pg := find[*appsv1.StatefulSet](r.objects, database)
			wantSecretEnv(t, pg.Spec.Template.Spec.Containers[0], "POSTGRES_PASSWORD", "todo-pg", "password")
		},
	},
	{
		name: "openai key in values",
		sets: []string{"backend.openai.apiKey=sk-test-123"},
		check: func(t *testing.T, r *rendered) {
			sec := find[*corev1.Secret](r.objects, chartSecret)
			if string(sec.Data["OPENAI_API_KEY"]) != "sk-test-123" {
				t.Errorf("OPENAI_API_KEY = %q, want the value's key", sec.Data["OPENAI_API_KEY"])
			}
			wantSecretEnv(t, backendContainer(t, r), "OPENAI_API_KEY", chartSecret, "OPENAI_API_KEY")
			if strings.Contains(r.notes, "no OpenAI API key") {
				t.Errorf("NOTES warn about a missing key that is set")
			}
		},
	},
	{
		name: "ingress off",
		sets: []string{"ingress.enabled=false"},
		check: func(t *testing.T, r *rendered) {
			if ings := all[*networkingv1.Ingress](r.objects); len(ings) != 0 {
				t.Errorf("ingress.enabled=false still renders %d Ingress", len(ings))
			}
			if !strings.Contains(r.notes, "port-forward svc/"+frontend) {
				t.Errorf("NOTES should explain the port-forward when the ingress is off:\n%s", r.notes)
			}
		},
	},
	{
		name: "autoscaling on",
		sets: []string{"backend.autoscaling.enabled=true", "backend.autoscaling.maxReplicas=5", "backend.autoscaling.targetMemoryUtilizationPercentage=75"},
		check: func(t *testing.T, r *rendered) {
			hpa := find[*autoscalingv2.HorizontalPodAutoscaler](r.objects, backend)
			if hpa == nil {
				t.Fatal("no HorizontalPodAutoscaler for the backend")
			}
			if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != backend {
				t.Errorf("HPA targets %+v", hpa.Spec.ScaleTargetRef)
			}
			if *hpa.Spec.MinReplicas != 1 || hpa.Spec.MaxReplicas != 5 {
				t.Errorf("HPA replicas %d..%d, want 1..5", *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
			}
			targets := map[corev1.ResourceName]int32{}
			for _, m := range hpa.Spec.Metrics {
				targets[m.Resource.Name] = *m.Resource.Target.AverageUtilization
			}
			if targets[corev1.ResourceCPU] != 80 || targets[corev1.ResourceMemory] != 75 {
				t.Errorf("HPA targets %v, want cpu 80 and memory 75", targets)
			}
			if d := find[*appsv1.Deployment](r.objects, backend); d.Spec.Replicas != nil {
				t.Errorf("backend Deployment sets replicas=%d under an HPA; upgrades would reset the HPA's count", *d.Spec.Replicas)
			}
		},
	},
	{
		name:  "network policies on",
		sets:  []string{"networkPolicy.enabled=true"},
		check: checkNetworkPolicies,
	},
	{
		name: "tls on",
		sets: []string{"ingress.tls.enabled=true", "ingress.tls.secretName=todo-tls"},
		check: func(t *testing.T, r *rendered) {
			ing := find[*networkingv1.Ingress](r.objects, release)
			if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "todo-tls" || !slices.Equal(ing.Spec.TLS[0].Hosts, []string{"todo.local"}) {
				t.Errorf("Ingress TLS = %+v, want todo.local with secret todo-tls", ing.Spec.TLS)
			}
			if got := configData(t, r)["CORS_ORIGINS"]; got != "https://todo.local" {
				t.Errorf("CORS_ORIGINS = %q, want https://todo.local", got)
			}
		},
	},
	{
		name: "no persistence",
		sets: []string{"postgresql.persistence.enabled=false"},
		check: func(t *testing.T, r *rendered) {
			if pvc := find[*corev1.PersistentVolumeClaim](r.objects, database); pvc != nil {
				t.Errorf("persistence disabled, yet a PVC is rendered")
			}
			vol := volume(find[*appsv1.StatefulSet](r.objects, database).Spec.Template.Spec, "data")
			if vol == nil || vol.EmptyDir == nil {
				t.Errorf("data volume = %+v, want an emptyDir", vol)
			}
		},
	},
	{
		name: "node port and pod labels",
		sets: []string{"frontend.service.type=NodePort", "frontend.service.nodePort=30080", "backend.podLabels.sim\\.opsagent\\.dev/state=ImagePullBackOff"},
		check: func(t *testing.T, r *rendered) {
			svc := find[*corev1.Service](r.objects, frontend)
			if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort != 30080 {
				t.Errorf("frontend Service %s port %+v, want NodePort 30080", svc.Spec.Type, svc.Spec.Ports[0])
			}
			d := find[*appsv1.Deployment](r.objects, backend)
			if got := d.Spec.Template.Labels["sim.opsagent.dev/state"]; got != "ImagePullBackOff" {
				t.Errorf("backend pod label sim.opsagent.dev/state = %q", got)
			}
			if _, ok := d.Spec.Selector.MatchLabels["sim.opsagent.dev/state"]; ok {
				t.Errorf("podLabels leaked into the immutable selector")
			}
			if !strings.Contains(r.notes, "minikube service") {
				t.Errorf("NOTES should offer `minikube service` for a NodePort frontend")
			}
		},
	},
}

func TestLint(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			linter := lint.AllWithKubeVersion(charts.TodoChatbotName, parseSet(t, v.sets...), "todo", testKubeVersion)
			for _, m := range linter.Messages {
				// Info messages are advice such as "icon is recommended".
				if m.Severity > support.InfoSev {
					t.Errorf("lint: %s", m)
				}
			}
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, release, parseSet(t, v.sets...))
			checkInvariants(t, r)
			v.check(t, r)
		})
	}
}

func TestResourceNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, release string
		sets          []string
		wantBackend   string
	}{
		{name: "release contains chart name", release: "todo-chatbot", wantBackend: "todo-chatbot-backend"},
		{name: "other release name", release: "demo", wantBackend: "demo-todo-chatbot-backend"},
		{name: "fullnameOverride", release: "demo", sets: []string{"fullnameOverride=todo"}, wantBackend: "todo-backend"},
		{name: "nameOverride", release: "demo", sets: []string{"nameOverride=chat"}, wantBackend: "demo-chat-backend"},
		{
			// The StatefulSet name must stay within 52 characters.
			name: "long release name", release: strings.Repeat("a", 53),
			wantBackend: strings.Repeat("a", 41) + "-backend",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, tt.release, parseSet(t, tt.sets...))
			if find[*appsv1.Deployment](r.objects, tt.wantBackend) == nil {
				var names []string
				for _, d := range all[*appsv1.Deployment](r.objects) {
					names = append(names, d.Name)
				}
				t.Fatalf("no Deployment %q; have %v", tt.wantBackend, names)
			}
			for _, s := range all[*appsv1.StatefulSet](r.objects) {
				if len(s.Name) > 52 {
					t.Errorf("StatefulSet name %q is %d characters; its pods' controller-revision-hash label would exceed 63", s.Name, len(s.Name))
				}
			}
		})
	}
}

func TestEmbeddedChartMatchesFolder(t *testing.T) {
	t.Parallel()
	embedded, err := charts.TodoChatbot()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := loader.LoadDir(charts.TodoChatbotName)
	if err != nil {
		t.Fatal(err)
	}
	templateNames := func(ch *chart.Chart) []string {
		var names []string
		for _, f := range ch.Templates {
			names = append(names, f.Name)
		}
		slices.Sort(names)
		return names
	}
	embNames, diskNames := templateNames(embedded), templateNames(onDisk)
	if !slices.Equal(embNames, diskNames) {
		t.Errorf("embedded templates %v, folder has %v", embNames, diskNames)
	}
	if !slices.Contains(embNames, "templates/_helpers.tpl") {
		t.Errorf("embedded chart lacks templates/_helpers.tpl (go:embed needs the all: prefix)")
	}
	if string(embedded.Schema) != string(onDisk.Schema) || embedded.Metadata.Version != onDisk.Metadata.Version {
		t.Errorf("embedded schema or metadata differ from the folder's")
	}
}

// checkInvariants asserts what must hold for every set of values.
func checkInvariants(t *testing.T, r *rendered) {
	t.Helper()
	for _, o := range append(slices.Clone(r.objects), r.hooks...) {
		labels := objectMeta(o).GetLabels()
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
			"app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"} {
			if labels[k] == "" {
				t.Errorf("%s lacks label %s", kindName(o), k)
			}
		}
	}
	for _, o := range r.objects {
		var component string
		var selector map[string]string
		var pod corev1.PodTemplateSpec
		switch w := o.(type) {
		case *appsv1.Deployment:
			component, selector, pod = w.Labels["app.kubernetes.io/component"], w.Spec.Selector.MatchLabels, w.Spec.Template
		case *appsv1.StatefulSet:
			component, selector, pod = w.Labels["app.kubernetes.io/component"], w.Spec.Selector.MatchLabels, w.Spec.Template
		default:
			continue
		}
		if !slices.Contains([]string{"frontend", "backend", "database"}, component) {
			t.Errorf("%s: component label %q", kindName(o), component)
		}
		if selector["app.kubernetes.io/component"] != component || pod.Labels["app.kubernetes.io/component"] != component {
			t.Errorf("%s: selector and pod template must carry component=%s", kindName(o), component)
		}
		for k, v := range selector {
			if pod.Labels[k] != v {
				t.Errorf("%s: pod template does not match its selector on %s", kindName(o), k)
			}
		}
		for _, c := range pod.Spec.Containers {
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s container %s: readiness and liveness probes are required", kindName(o), c.Name)
			}
		}
	}
	for name, pod := range r.podSpecs() {
		checkPodHardening(t, name, pod.Spec)
	}
	for _, s := range all[*corev1.Service](r.objects) {
		if s.Name != frontend && s.Spec.Type != corev1.ServiceTypeClusterIP {
			t.Errorf("Service %s is %s, want ClusterIP", s.Name, s.Spec.Type)
		}
	}
	checkNoSecretsInConfig(t, r)
}

// checkPodHardening: non-root, seccomp, no privilege escalation, no
// capabilities, read-only root, bounded resources, no API token.
func checkPodHardening(t *testing.T, name string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod must set runAsNonRoot", name)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod must use the RuntimeDefault seccomp profile", name)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: the pod needs no API token; automountServiceAccountToken must be false", name)
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("%s: enableServiceLinks must be false", name)
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: allowPrivilegeEscalation must be false", name, c.Name)
		}
		if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s/%s: capabilities must drop ALL and add none", name, c.Name)
		}
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s/%s: root filesystem must be read-only", name, c.Name)
		}
		for _, res := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			if res.Cpu().IsZero() || res.Memory().IsZero() {
				t.Errorf("%s/%s: needs cpu and memory requests and limits, has %+v", name, c.Name, c.Resources)
				break
			}
		}
		if c.Resources.Requests.Cpu().Cmp(*c.Resources.Limits.Cpu()) > 0 || c.Resources.Requests.Memory().Cmp(*c.Resources.Limits.Memory()) > 0 {
			t.Errorf("%s/%s: requests exceed limits", name, c.Name)
		}
	}
}

// checkNoSecretsInConfig: no ConfigMap holds a credential, by key name or by
// value.
func checkNoSecretsInConfig(t *testing.T, r *rendered) {
	t.Helper()
	var secretValues []string
	for _, s := range all[*corev1.Secret](r.objects) {
		for _, v := range s.Data {
			secretValues = append(secretValues, string(v))
		}
	}
	for _, cm := range all[*corev1.ConfigMap](r.objects) {
		for k, v := range cm.Data {
			upper := strings.ToUpper(k)
			for _, word := range []string{"PASSWORD", "SECRET", "API_KEY", "TOKEN", "DATABASE_URL"} {
				if strings.Contains(upper, word) {
					t.Errorf("ConfigMap %s has sensitive-looking key %s", cm.Name, k)
				}
			}
			for _, sv := range secretValues {
				if sv != "" && strings.Contains(v, sv) {
					t.Errorf("ConfigMap %s key %s contains a Secret value", cm.Name, k)
				}
			}
		}
	}
}

func checkDefaults(t *testing.T, r *rendered) {
	t.Helper()
	var kinds []string
	for _, o := range r.objects {
		kinds = append(kinds, kindName(o))
	}
	want := []string{
		"*v1.ServiceAccount/" + release, "*v1.Secret/" + chartSecret, "*v1.ConfigMap/" + backend,
		"*v1.PersistentVolumeClaim/" + database,
		"*v1.Service/" + backend, "*v1.Service/" + frontend, "*v1.Service/" + database, "*v1.Service/" + database + "-hl",
		"*v1.Deployment/" + backend, "*v1.Deployment/" + frontend, "*v1.StatefulSet/" + database,
		"*v1.Ingress/" + release,
	}
	slices.Sort(kinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("objects:\n got %v\nwant %v", kinds, want)
	}
	if hooks := r.podSpecs(); len(r.hooks) != 1 || hooks["Pod/todo-chatbot-test"].Spec.Containers == nil {
		t.Errorf("want one `helm test` pod, got %d hooks", len(r.hooks))
	}

	for _, name := range []string{frontend, backend} {
		if d := find[*appsv1.Deployment](r.objects, name); *d.Spec.Replicas != 1 {
			t.Errorf("%s replicas = %d, want 1", name, *d.Spec.Replicas)
		}
	}

	// Images: the user's own builds, used from the node's cache.
	images := map[string]string{}
	for name, pod := range r.podSpecs() {
		for _, c := range pod.Spec.Containers {
			images[name] = c.Image + " " + string(c.ImagePullPolicy)
		}
	}
	wantImages := map[string]string{
		"Deployment/" + frontend:  "todo-chatbot-frontend:latest IfNotPresent",
		"Deployment/" + backend:   "todo-chatbot-backend:latest IfNotPresent",
		"StatefulSet/" + database: "postgres:16-alpine IfNotPresent",
		"Pod/todo-chatbot-test":   "busybox:1.36 IfNotPresent",
	}
	if !maps.Equal(images, wantImages) {
		t.Errorf("images = %v, want %v", images, wantImages)
	}

	// Probes: HTTP for the web tiers, pg_isready for the database.
	fe := find[*appsv1.Deployment](r.objects, frontend).Spec.Template.Spec.Containers[0]
	if fe.ReadinessProbe.HTTPGet == nil || fe.ReadinessProbe.HTTPGet.Path != "/" || fe.Ports[0].ContainerPort != 8080 {
		t.Errorf("frontend: readiness %+v on port %d", fe.ReadinessProbe.ProbeHandler, fe.Ports[0].ContainerPort)
	}
	be := backendContainer(t, r)
	for _, p := range []*corev1.Probe{be.StartupProbe, be.ReadinessProbe, be.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" || p.HTTPGet.Port.StrVal != "http" {
			t.Errorf("backend probe %+v, want GET /health on port http", p)
		}
	}
	if be.Ports[0].ContainerPort != 8000 {
		t.Errorf("backend port %d, want 8000", be.Ports[0].ContainerPort)
	}
	sts := find[*appsv1.StatefulSet](r.objects, database)
	pg := sts.Spec.Template.Spec.Containers[0]
	for _, p := range []*corev1.Probe{pg.StartupProbe, pg.ReadinessProbe, pg.LivenessProbe} {
		if p == nil || p.Exec == nil || !strings.Contains(strings.Join(p.Exec.Command, " "), "pg_isready") {
			t.Errorf("postgresql probe %+v, want pg_isready", p)
		}
	}
	if psc := sts.Spec.Template.Spec.SecurityContext; *psc.RunAsUser != 999 || *psc.RunAsGroup != 999 || *psc.FSGroup != 999 {
		t.Errorf("postgresql runs as %d:%d fsGroup %d, want 999", *psc.RunAsUser, *psc.RunAsGroup, *psc.FSGroup)
	}
	if *sts.Spec.Replicas != 1 || sts.Spec.ServiceName != database+"-hl" {
		t.Errorf("StatefulSet replicas %d serviceName %s", *sts.Spec.Replicas, sts.Spec.ServiceName)
	}

	// Storage: a claim on StorageClass standard that outlives the release.
	pvc := find[*corev1.PersistentVolumeClaim](r.objects, database)
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "standard" {
		t.Errorf("PVC storageClassName = %v, want standard", pvc.Spec.StorageClassName)
	}
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("PVC size %s, want 1Gi", got.String())
	}
	if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("PVC must be annotated helm.sh/resource-policy: keep so `helm uninstall` keeps the data")
	}
	if vol := volume(sts.Spec.Template.Spec, "data"); vol == nil || vol.PersistentVolumeClaim == nil || vol.PersistentVolumeClaim.ClaimName != database {
		t.Errorf("postgresql data volume = %+v, want PVC %s", vol, database)
	}
	if env := envVar(pg, "PGDATA"); env == nil || env.Value != "/var/lib/postgresql/data/pgdata" {
		t.Errorf("PGDATA = %+v, want a subdirectory of the mount", env)
	}

	// Secrets: generated JWT secret and database password, kept on uninstall.
	sec := find[*corev1.Secret](r.objects, chartSecret)
	if len(sec.Data["JWT_SECRET"]) != 64 || len(sec.Data["POSTGRES_PASSWORD"]) != 32 {
		t.Errorf("generated JWT_SECRET has %d and POSTGRES_PASSWORD %d characters, want 64 and 32",
			len(sec.Data["JWT_SECRET"]), len(sec.Data["POSTGRES_PASSWORD"]))
	}
	if _, ok := sec.Data["OPENAI_API_KEY"]; ok {
		t.Errorf("no OpenAI key was given, yet the Secret has one")
	}
	if sec.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("chart Secret must be kept with the data it unlocks")
	}
	wantSecretEnv(t, be, "JWT_SECRET", chartSecret, "JWT_SECRET")
	wantSecretEnv(t, be, "POSTGRES_PASSWORD", chartSecret, "POSTGRES_PASSWORD")
	wantSecretEnv(t, pg, "POSTGRES_PASSWORD", chartSecret, "POSTGRES_PASSWORD")
	if envVar(be, "OPENAI_API_KEY") != nil {
		t.Errorf("OPENAI_API_KEY env set without a key")
	}
	// DATABASE_URL is expanded by the kubelet from variables defined before it.
	url := envVar(be, "DATABASE_URL")
	if url == nil || url.Value != "postgresql://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@$(POSTGRES_HOST):$(POSTGRES_PORT)/$(POSTGRES_DB)" {
		t.Errorf("DATABASE_URL = %+v", url)
	}
	if slices.IndexFunc(be.Env, func(e corev1.EnvVar) bool { return e.Name == "POSTGRES_PASSWORD" }) >
		slices.IndexFunc(be.Env, func(e corev1.EnvVar) bool { return e.Name == "DATABASE_URL" }) {
		t.Errorf("POSTGRES_PASSWORD must come before DATABASE_URL for $(VAR) expansion")
	}
	cfg := configData(t, r)
	for k, want := range map[string]string{"POSTGRES_HOST": database, "POSTGRES_PORT": "5432", "POSTGRES_DB": "todo", "POSTGRES_USER": "todo",
		"CORS_ORIGINS": "http://todo.local", "LOG_LEVEL": "info", "WEB_CONCURRENCY": "2"} {
		if cfg[k] != want {
			t.Errorf("ConfigMap %s = %q, want %q", k, cfg[k], want)
		}
	}
	if be.EnvFrom[0].ConfigMapRef == nil || be.EnvFrom[0].ConfigMapRef.Name != backend {
		t.Errorf("backend must load ConfigMap %s", backend)
	}
	bePod := find[*appsv1.Deployment](r.objects, backend).Spec.Template
	if len(bePod.Spec.InitContainers) != 1 || bePod.Spec.InitContainers[0].Name != "wait-for-postgresql" {
		t.Errorf("backend should wait for PostgreSQL in an init container")
	}
	if bePod.Annotations["checksum/config"] == "" || bePod.Annotations["checksum/secret"] == "" {
		t.Errorf("backend pods need checksum annotations to roll on config changes")
	}

	// Network: / to the frontend and /api to the backend on todo.local.
	ing := find[*networkingv1.Ingress](r.objects, release)
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
		t.Errorf("ingressClassName = %v, want nginx", ing.Spec.IngressClassName)
	}
	rule := ing.Spec.Rules[0]
	routes := map[string]string{}
	for _, p := range rule.HTTP.Paths {
		routes[p.Path] = p.Backend.Service.Name + ":" + p.Backend.Service.Port.Name
	}
	if rule.Host != "todo.local" || !maps.Equal(routes, map[string]string{"/": frontend + ":http", "/api": backend + ":http"}) {
		t.Errorf("ingress %s routes %v", rule.Host, routes)
	}
	if len(ing.Spec.TLS) != 0 {
		t.Errorf("TLS is off by default")
	}
	for _, name := range []string{frontend, backend, database} {
		svc := find[*corev1.Service](r.objects, name)
		if svc.Spec.Type != corev1.ServiceTypeClusterIP {
			t.Errorf("Service %s is %s", name, svc.Spec.Type)
		}
	}
	if n := len(all[*networkingv1.NetworkPolicy](r.objects)) + len(all[*autoscalingv2.HorizontalPodAutoscaler](r.objects)); n != 0 {
		t.Errorf("NetworkPolicies and the HPA are off by default")
	}

	checkBudget(t, r)
	for _, want := range []string{"minikube ip", "todo.local", "/etc/hosts", "port-forward", "helm test", "delete pvc " + database} {
		if !strings.Contains(r.notes, want) {
			t.Errorf("NOTES lack %q:\n%s", want, r.notes)
		}
	}
}

// checkBudget: the workloads fit a 2-CPU / 4 GiB minikube with room to spare
// for the system pods (which request about 0.75 CPU and 0.3 GiB there).
func checkBudget(t *testing.T, r *rendered) {
	t.Helper()
	var reqCPU, reqMem, limCPU, limMem resource.Quantity
	for name, pod := range r.podSpecs() {
		if strings.HasPrefix(name, "Pod/") {
			continue // the test pod runs on demand only
		}
		for _, c := range pod.Spec.Containers {
			reqCPU.Add(*c.Resources.Requests.Cpu())
			reqMem.Add(*c.Resources.Requests.Memory())
			limCPU.Add(*c.Resources.Limits.Cpu())
			limMem.Add(*c.Resources.Limits.Memory())
		}
	}
	for _, b := range []struct {
		what      string
		got, most resource.Quantity
	}{
		{"CPU requests", reqCPU, resource.MustParse("500m")},
		{"memory requests", reqMem, resource.MustParse("1Gi")},
		{"CPU limits", limCPU, resource.MustParse("1500m")},
		{"memory limits", limMem, resource.MustParse("2Gi")},
	} {
		if b.got.Cmp(b.most) > 0 {
			t.Errorf("%s add up to %s, more than %s", b.what, b.got.String(), b.most.String())
		}
	}
}

func checkNoDatabase(t *testing.T, r *rendered) {
	t.Helper()
	if len(all[*appsv1.StatefulSet](r.objects)) != 0 || find[*corev1.PersistentVolumeClaim](r.objects, database) != nil ||
		find[*corev1.Service](r.objects, database) != nil {
		t.Errorf("postgresql.enabled=false still renders the database")
	}
	be := find[*appsv1.Deployment](r.objects, backend).Spec.Template.Spec
	if len(be.InitContainers) != 0 {
		t.Errorf("no in-cluster database to wait for, yet init containers %v", be.InitContainers)
	}
	if _, ok := configData(t, r)["POSTGRES_HOST"]; ok {
		t.Errorf("POSTGRES_HOST set without the in-cluster database")
	}
}

func checkNetworkPolicies(t *testing.T, r *rendered) {
	t.Helper()
	pols := map[string]*networkingv1.NetworkPolicy{}
	for _, p := range all[*networkingv1.NetworkPolicy](r.objects) {
		pols[p.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"]] = p
	}
	if len(pols) != 3 {
		t.Fatalf("want policies for frontend, backend and database, got %v", slices.Collect(maps.Keys(pols)))
	}
	peers := func(p *networkingv1.NetworkPolicy) []string {
		var out []string
		for _, rule := range p.Spec.Ingress {
			for _, from := range rule.From {
				switch {
				case from.NamespaceSelector != nil:
					out = append(out, "ns:"+from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]+"/"+from.PodSelector.MatchLabels["app.kubernetes.io/name"])
				case from.PodSelector != nil:
					out = append(out, from.PodSelector.MatchLabels["app.kubernetes.io/component"])
				}
			}
		}
		slices.Sort(out)
		return out
	}
	if got := peers(pols["database"]); !slices.Equal(got, []string{"backend"}) {
		t.Errorf("database admits %v, want only the backend", got)
	}
	if got := pols["database"].Spec.Ingress[0].Ports[0].Port.StrVal; got != "postgresql" {
		t.Errorf("database policy port %q", got)
	}
	if got := peers(pols["backend"]); !slices.Equal(got, []string{"frontend", "ns:ingress-nginx/ingress-nginx", "test"}) {
		t.Errorf("backend admits %v, want frontend, the ingress controller and the test pod", got)
	}
	// The peers must select this release's pods only.
	for _, p := range all[*networkingv1.NetworkPolicy](r.objects) {
		if p.Spec.PodSelector.MatchLabels["app.kubernetes.io/instance"] != release {
			t.Errorf("policy %s selects pods of other releases", p.Name)
		}
		if !slices.Equal(p.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
			t.Errorf("policy %s types %v, want Ingress only", p.Name, p.Spec.PolicyTypes)
		}
	}
}

func backendContainer(t *testing.T, r *rendered) corev1.Container {
	t.Helper()
	d := find[*appsv1.Deployment](r.objects, backend)
	if d == nil {
		t.Fatalf("no Deployment %s", backend)
	}
	return d.Spec.Template.Spec.Containers[0]
}

func configData(t *testing.T, r *rendered) map[string]string {
	t.Helper()
	cm := find[*corev1.ConfigMap](r.objects, backend)
	if cm == nil {
		t.Fatalf("no ConfigMap %s", backend)
	}
	return cm.Data
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func wantSecretEnv(t *testing.T, c corev1.Container, name, secret, key string) {
	t.Helper()
	e := envVar(c, name)
	if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Errorf("container %s: %s must come from Secret %s key %s, got %+v", c.Name, name, secret, key, e)
		return
	}
	if ref := e.ValueFrom.SecretKeyRef; ref.Name != secret || ref.Key != key {
		t.Errorf("container %s: %s from Secret %s key %s, want %s key %s", c.Name, name, ref.Name, ref.Key, secret, key)
	}
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

// Guard against the decoder returning untyped objects for a kind the scheme
// lacks, which would make the typed checks above pass vacuously.
func TestRenderDecodesTypedObjects(t *testing.T) {
	t.Parallel()
	r := mustRender(t, release, parseSet(t, "networkPolicy.enabled=true", "backend.autoscaling.enabled=true"))
	for _, o := range r.objects {
		if _, ok := o.(*runtime.Unknown); ok {
			t.Errorf("object decoded as runtime.Unknown: %v", o)
		}
	}
	if len(r.objects) < 12 {
		t.Errorf("only %d objects rendered", len(r.objects))
	}
}
