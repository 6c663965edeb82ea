// `llmops-devcluster kubelet --kubeconfig K --node-name N ...`: the process kubelet alone,
// as the node agent of any Kubernetes API server. It registers Node N (this machine's
// capacity, Ready, a Lease in kube-node-lease renewed every 10 s), runs the Pods bound to
// N as processes exactly as the devcluster does, writes pods/status, gives pods their
// service-account token, and serves /containerLogs over HTTPS (mutual TLS) so that
// `kubectl logs` works through the API server.
#pragma once

namespace llmops::devcluster {

// argv[0] is "kubelet". Returns the exit status.
int runKubeletCommand(int argc, char** argv);

}  // namespace llmops::devcluster
