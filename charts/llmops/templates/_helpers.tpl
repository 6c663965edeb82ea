{{/*
Names. With the release name "llmops" (or any name containing "llmops") the objects are
named exactly as in manifests/base: llmops-operator, llmops-router, ...
*/}}
{{- define "llmops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "llmops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "llmops.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmops.operatorName" -}}{{ include "llmops.fullname" . }}-operator{{- end -}}
{{- define "llmops.routerName" -}}{{ include "llmops.fullname" . }}-router{{- end -}}

{{/* Labels every object carries. */}}
{{- define "llmops.commonLabels" -}}
app.kubernetes.io/part-of: llmops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of a component: (dict "root" $ "component" "operator"). */}}
{{- define "llmops.selectorLabels" -}}
app.kubernetes.io/name: llmops-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "llmops.componentLabels" -}}
app.kubernetes.io/name: llmops-{{ .component }}
app.kubernetes.io/component: {{ .component }}
{{ include "llmops.commonLabels" .root }}
{{- end -}}

{{/* An image reference: (dict "root" $ "component" "operator"). */}}
{{- define "llmops.image" -}}
{{- $image := .root.Values.image -}}
{{- $name := printf "llmops-%s" .component -}}
{{- if $image.registry -}}
{{- $name = printf "%s/%s" (trimSuffix "/" $image.registry) $name -}}
{{- end -}}
{{- $ref := printf "%s:%s" $name (default .root.Chart.AppVersion $image.tag) -}}
{{- $digest := index $image.digest .component -}}
{{- if $digest -}}
{{- $ref = printf "%s@%s" $ref $digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* Where the programs listen: all addresses, or the pod IP (bindPodIP). */}}
{{- define "llmops.bindAddress" -}}
{{- if .Values.bindPodIP -}}$(POD_IP){{- else -}}0.0.0.0{{- end -}}
{{- end -}}

{{- define "llmops.podIPEnv" -}}
{{- if .Values.bindPodIP -}}
- name: POD_IP
  valueFrom:
    fieldRef: {fieldPath: status.podIP}
{{- end -}}
{{- end -}}

{{/* The container securityContext of the restricted Pod Security Standard. */}}
{{- define "llmops.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{/* Scheduling: (dict "root" $ "component" "operator" "values" .Values.operator). An empty
affinity means: spread the replicas over nodes when possible. */}}
{{- define "llmops.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
{{- if .values.affinity }}
  {{- toYaml .values.affinity | nindent 2 }}
{{- else }}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "llmops.selectorLabels" . | nindent 14 }}
{{- end }}
{{- end -}}
