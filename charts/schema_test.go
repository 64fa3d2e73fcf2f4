package charts_test

import (
	"strings"
	"testing"
)

// TestSchemaRejectsBadValues feeds bad values through Helm's own validation
// (as `helm install` does) and checks that the message names the value and
// the rule it breaks.
func TestSchemaRejectsBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sets    []string
		wantErr []string
	}{
		{
			name:    "negative replicas",
			sets:    []string{"frontend.replicaCount=-1"},
			wantErr: []string{"at '/frontend/replicaCount': minimum: got -1, want 0"},
		},
		{
			name:    "empty image repository",
			sets:    []string{"backend.image.repository="},
			wantErr: []string{"at '/backend/image/repository': minLength: got 0, want 1"},
		},
		{
			name:    "unknown service type",
			sets:    []string{"frontend.service.type=Ingress"},
			wantErr: []string{"at '/frontend/service/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'"},
		},
		{
			name:    "bad pull policy",
			sets:    []string{"postgresql.image.pullPolicy=Sometimes"},
			wantErr: []string{"at '/postgresql/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'"},
		},
		{
			name:    "port given as a name",
			sets:    []string{"backend.containerPort=http"},
			wantErr: []string{"at '/backend/containerPort': got string, want integer"},
		},
		{
			name:    "fractional port",
			sets:    []string{"backend.service.port=80.5"},
			wantErr: []string{"at '/backend/service/port'", "want integer"},
		},
		{
			name:    "port out of range",
			sets:    []string{"frontend.containerPort=70000"},
			wantErr: []string{"at '/frontend/containerPort': maximum: got 70,000, want 65,535"},
		},
		{
			name:    "node port out of range",
			sets:    []string{"frontend.service.type=NodePort", "frontend.service.nodePort=8080"},
			wantErr: []string{"at '/frontend/service/nodePort': minimum: got 8,080, want 30,000"},
		},
		{
			name:    "missing limits",
			sets:    []string{"backend.resources.limits=null"},
			wantErr: []string{"at '/backend/resources': missing property 'limits'"},
		},
		{
			name:    "bad cpu quantity",
			sets:    []string{"postgresql.resources.requests.cpu=lots"},
			wantErr: []string{"at '/postgresql/resources/requests/cpu': 'lots' does not match pattern"},
		},
		{
			name:    "bad volume size",
			sets:    []string{"postgresql.persistence.size=1GB"},
			wantErr: []string{"at '/postgresql/persistence/size': '1GB' does not match pattern"},
		},
		{
			name:    "misspelt key",
			sets:    []string{"backend.replicas=3"},
			wantErr: []string{"at '/backend': additional properties 'replicas' not allowed"},
		},
		{
			name:    "password unsafe in a URL",
			sets:    []string{"postgresql.auth.password=p@ss/word"},
			wantErr: []string{"at '/postgresql/auth/password': 'p@ss/word' does not match pattern"},
		},
		{
			name:    "bad host",
			sets:    []string{"ingress.host=Todo Local"},
			wantErr: []string{"at '/ingress/host'"},
		},
		{
			name:    "unknown log level",
			sets:    []string{"backend.logLevel=verbose"},
			wantErr: []string{"at '/backend/logLevel': value must be one of 'debug', 'info', 'warning', 'error', 'critical'"},
		},
		{
			name:    "non-string pod label",
			sets:    []string{"backend.podLabels.canary=true"},
			wantErr: []string{"at '/backend/podLabels/canary': got boolean, want string"},
		},
		{
			name:    "zero autoscaling minimum",
			sets:    []string{"backend.autoscaling.enabled=true", "backend.autoscaling.minReplicas=0"},
			wantErr: []string{"at '/backend/autoscaling/minReplicas': minimum: got 0, want 1"},
		},
		{
			name:    "no database at all",
			sets:    []string{"postgresql.enabled=false"},
			wantErr: []string{"at '/externalDatabase': 'anyOf' failed", "'/externalDatabase/url'", "'/externalDatabase/existingSecret'"},
		},
		{
			name:    "external url that is not postgres",
			sets:    []string{"postgresql.enabled=false", "externalDatabase.url=mysql://db/todo"},
			wantErr: []string{"at '/externalDatabase/url'"},
		},
		{
			// The schema cannot compare two values; the template says it.
			name:    "autoscaling max below min",
			sets:    []string{"backend.autoscaling.enabled=true", "backend.autoscaling.minReplicas=3", "backend.autoscaling.maxReplicas=2"},
			wantErr: []string{"backend.autoscaling.maxReplicas must be at least backend.autoscaling.minReplicas"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := renderChart(release, parseSet(t, tt.sets...))
			if err == nil {
				t.Fatalf("values %v were accepted", tt.sets)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestSchemaAcceptsGoodValues guards against a schema so strict that it
// rejects sensible settings.
func TestSchemaAcceptsGoodValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sets []string
	}{
		{name: "numeric image tag", sets: []string{"postgresql.image.tag=16"}},
		{name: "digest", sets: []string{"backend.image.digest=sha256:" + strings.Repeat("a", 64)}},
		{name: "registry with port", sets: []string{"frontend.image.repository=localhost:5000/todo/frontend"}},
		{name: "numeric quantities", sets: []string{"backend.resources.limits.cpu=1", "backend.resources.requests.cpu=0.5"}},
		{name: "load balancer", sets: []string{"frontend.service.type=LoadBalancer"}},
		{name: "async driver", sets: []string{"backend.databaseUrlScheme=postgresql+asyncpg"}},
		{name: "cors list", sets: []string{"backend.corsOrigins={http://localhost:5173,https://todo.example.com}"}},
		{name: "extra config", sets: []string{"backend.config.FEATURE_X=true", "backend.config.MAX_TOKENS=512"}},
		{name: "default storage class", sets: []string{"postgresql.persistence.storageClass="}},
		{name: "delete the volume with the release", sets: []string{"postgresql.persistence.resourcePolicy="}},
		{name: "global values", sets: []string{"global.imageRegistry=example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := renderChart(release, parseSet(t, tt.sets...)); err != nil {
				t.Errorf("values %v rejected: %v", tt.sets, err)
			}
		})
	}
}
