{{/* Names, labels and images shared by the templates. */}}

{{- define "crime-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name when it already contains the chart name. */}}
{{- define "crime-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Cluster-scoped objects carry the namespace too: two releases of the same name must not share them. */}}
{{- define "crime-operator.clusterName" -}}
{{- printf "%s-%s" (include "crime-operator.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "crime-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crime-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "crime-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "crime-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: crime
{{- end }}

{{- define "crime-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "crime-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator's own image. */}}
{{- define "crime-operator.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "crime-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "crime-operator.tag" .) }}
{{- end }}

{{/* The image of CPU devices' pods (crime operator --image). */}}
{{- define "crime-operator.deviceTag" -}}
{{- .Values.deviceImages.default.tag | default (include "crime-operator.tag" .) }}
{{- end }}

{{- define "crime-operator.deviceImage" -}}
{{- printf "%s:%s" (.Values.deviceImages.default.repository | default .Values.image.repository) (include "crime-operator.deviceTag" .) }}
{{- end }}

{{/* The image of GPU devices' pods (crime operator --gpu-image). */}}
{{- define "crime-operator.gpuImage" -}}
{{- $gpu := .Values.deviceImages.gpu }}
{{- $repository := $gpu.repository | default .Values.deviceImages.default.repository | default .Values.image.repository }}
{{- $tag := $gpu.tag | default (printf "%s%s" (include "crime-operator.deviceTag" .) $gpu.tagSuffix) }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{/* The operator's RBAC rules, the single source: files/rbac-rules.yaml (its tests run with the same file). */}}
{{- define "crime-operator.rules" -}}
{{- $rules := .Files.Get "files/rbac-rules.yaml" | fromYaml }}
{{- if $rules.Error }}
{{- fail (printf "files/rbac-rules.yaml: %s" $rules.Error) }}
{{- end }}
{{- if or (not $rules.reconcile) (not $rules.leaderElection) }}
{{- fail "files/rbac-rules.yaml must hold the lists reconcile and leaderElection" }}
{{- end }}
{{- toYaml $rules }}
{{- end }}
