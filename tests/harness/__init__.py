"""The one Python harness of the tests, the demo and the benchmarks: a devcluster on a
free port with its kubeconfig (cluster), one kubectl wrapper (kubectl), one polling
wait_for (wait) and free ports (ports); imported on their own: the rollout stack of the
demo and the e2e tests (rollout), the case runner (cases) and llmops-runtime serve for
the benchmarks (runtime). Standard library only, for Debian's /usr/bin/python3 and any
other Python 3.

A user puts the folder tests/ on sys.path and imports the package:

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from harness import Devcluster, Kubectl, wait_for  # noqa: E402
"""
from .wait import Failure, wait_for, waiter
from .ports import free_port
from .kubectl import Kubectl
from .cluster import BUILD, ROOT, Devcluster, real_cluster, tail

__all__ = ["BUILD", "ROOT", "Devcluster", "Failure", "Kubectl", "free_port", "real_cluster",
           "tail", "wait_for", "waiter"]
