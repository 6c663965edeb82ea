// Pins the Prometheus Operator module whose CRDs (example/prometheus-operator-crd/) the
// chart's monitors are checked against; go.sum holds its hash. Nothing is built from it.
module llmops.dev/tools/prometheus-operator

go 1.26

require github.com/prometheus-operator/prometheus-operator v0.89.0
