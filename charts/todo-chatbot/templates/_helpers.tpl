{{/*
Chart name, truncated to 63 characters (the DNS label limit for names).
*/}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name when it already contains the chart
name, else "<release>-<chart>" (the usual Helm convention). Truncated to 41
characters: the StatefulSet "<fullname>-postgresql" then stays within 52, the
longest name whose controller-revision-hash pod label ("<name>-<10-char hash>")
still fits the 63-character label limit.
*/}}
{{- define "todo-chatbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 41 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 41 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 41 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version for the helm.sh/chart label.
*/}}
{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels shared by every resource. Call with the root context.
*/}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" . }}
{{ include "todo-chatbot.selectorLabels" . }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "todo-chatbot.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels shared by every workload. They never change over the life of a
release because Deployment and StatefulSet selectors are immutable.
*/}}
{{- define "todo-chatbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component's resources.
Call with (dict "root" $ "component" "backend").
*/}}
{{- define "todo-chatbot.componentLabels" -}}
{{ include "todo-chatbot.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Selector labels of one component.
Call with (dict "root" $ "component" "backend").
*/}}
{{- define "todo-chatbot.componentSelectorLabels" -}}
{{ include "todo-chatbot.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Labels of one component's pod template: the component's labels plus the
user's podLabels. The chart's own labels win so that podLabels can never break
the workload's selector.
Call with (dict "root" $ "component" "backend" "podLabels" .Values.backend.podLabels).
*/}}
{{- define "todo-chatbot.podLabels" -}}
{{- $own := include "todo-chatbot.componentLabels" . | fromYaml }}
{{- toYaml (merge $own (.podLabels | default dict)) }}
{{- end }}

{{/*
Resource names of the components.
*/}}
{{- define "todo-chatbot.frontend.fullname" -}}
{{- printf "%s-frontend" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.backend.fullname" -}}
{{- printf "%s-backend" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{/*
Name of the chart-managed Secret.
*/}}
{{- define "todo-chatbot.secretName" -}}
{{- printf "%s-secret" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "todo-chatbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-chatbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference from an image block: repository@digest when a digest is set,
else repository:tag.
*/}}
{{- define "todo-chatbot.image" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository (toString .tag) }}
{{- end }}
{{- end }}

{{/*
A value for the chart Secret's data, already base64-encoded. Order of
precedence: the value given in values.yaml, then the value already stored in
the live Secret (so generated secrets survive upgrades), then a new random
string. lookup returns nothing under `helm template` and client-side dry runs,
so those render a fresh random value; real installs and upgrades, and our
server-side previews, see the live Secret.
Call with (dict "value" .Values.x "existing" $liveData "key" "JWT_SECRET" "length" 64).
*/}}
{{- define "todo-chatbot.secretValue" -}}
{{- if .value }}
{{- .value | toString | b64enc }}
{{- else if hasKey .existing .key }}
{{- index .existing .key }}
{{- else }}
{{- randAlphaNum (int .length) | b64enc }}
{{- end }}
{{- end }}

{{/*
Where the backend finds the JWT secret: (dict "name" <secret> "key" <key>).
*/}}
{{- define "todo-chatbot.jwtSecretRef" -}}
{{- if .Values.backend.jwt.existingSecret -}}
name: {{ .Values.backend.jwt.existingSecret | quote }}
key: {{ .Values.backend.jwt.existingSecretKey | quote }}
{{- else -}}
name: {{ include "todo-chatbot.secretName" . | quote }}
key: JWT_SECRET
{{- end }}
{{- end }}

{{/*
Where the backend finds the OpenAI key; empty when none is configured.
*/}}
{{- define "todo-chatbot.openaiSecretRef" -}}
{{- if .Values.backend.openai.existingSecret -}}
name: {{ .Values.backend.openai.existingSecret | quote }}
key: {{ .Values.backend.openai.existingSecretKey | quote }}
{{- else if .Values.backend.openai.apiKey -}}
name: {{ include "todo-chatbot.secretName" . | quote }}
key: OPENAI_API_KEY
{{- end }}
{{- end }}

{{/*
Where PostgreSQL and the backend find the database password.
*/}}
{{- define "todo-chatbot.postgresql.secretRef" -}}
{{- if .Values.postgresql.auth.existingSecret -}}
name: {{ .Values.postgresql.auth.existingSecret | quote }}
key: {{ .Values.postgresql.auth.existingSecretPasswordKey | quote }}
{{- else -}}
name: {{ include "todo-chatbot.secretName" . | quote }}
key: POSTGRES_PASSWORD
{{- end }}
{{- end }}

{{/*
Where the backend finds an external DATABASE_URL.
*/}}
{{- define "todo-chatbot.externalDatabase.secretRef" -}}
{{- if .Values.externalDatabase.existingSecret -}}
name: {{ .Values.externalDatabase.existingSecret | quote }}
key: {{ .Values.externalDatabase.existingSecretKey | quote }}
{{- else -}}
name: {{ include "todo-chatbot.secretName" . | quote }}
key: DATABASE_URL
{{- end }}
{{- end }}

{{/*
CORS origins: the configured list, or the ingress host over http(s).
*/}}
{{- define "todo-chatbot.corsOrigins" -}}
{{- if .Values.backend.corsOrigins }}
{{- join "," .Values.backend.corsOrigins }}
{{- else if .Values.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host }}
{{- end }}
{{- end }}

{{/*
Checks that the schema cannot express across keys, so a user who skips schema
validation still gets a clear message instead of a broken release.
*/}}
{{- define "todo-chatbot.validate" -}}
{{- if and (not .Values.postgresql.enabled) (not .Values.externalDatabase.url) (not .Values.externalDatabase.existingSecret) }}
{{- fail "postgresql.enabled=false needs an external database: set externalDatabase.url or externalDatabase.existingSecret" }}
{{- end }}
{{- if and .Values.backend.autoscaling.enabled (lt (int .Values.backend.autoscaling.maxReplicas) (int .Values.backend.autoscaling.minReplicas)) }}
{{- fail "backend.autoscaling.maxReplicas must be at least backend.autoscaling.minReplicas" }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) }}
{{- fail "ingress.tls.enabled=true needs ingress.tls.secretName" }}
{{- end }}
{{- end }}

{{/*
"true" when the chart renders its own Secret, i.e. some credential is neither
in an existing Secret nor absent. Mirrors the keys set in secret.yaml.
*/}}
{{- define "todo-chatbot.hasSecret" -}}
{{- $v := .Values }}
{{- if or (not $v.backend.jwt.existingSecret) (and $v.backend.openai.apiKey (not $v.backend.openai.existingSecret)) (and $v.postgresql.enabled (not $v.postgresql.auth.existingSecret)) (and (not $v.postgresql.enabled) $v.externalDatabase.url (not $v.externalDatabase.existingSecret)) }}true{{ end }}
{{- end }}
