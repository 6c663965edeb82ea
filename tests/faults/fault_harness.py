"""The fault suite's world: a cluster (llmops-devcluster, or the real control plane of
scripts/real-cluster.sh), llmops-operator and llmops-router as processes, some of them
inside network namespaces so that their links can be cut and healed.

Network: a bridge in the host namespace carries 127.213.N.1/24 (N chosen per test run);
each namespace gets a veth on it with 127.213.N.k. A partition is an iptables DROP in the
namespace's OUTPUT and INPUT chains (packets vanish, as on a cut link: TCP retransmits
until it gives up), removed to heal. Loopback-range addresses only, as the clusters' pods
use: 127/8 is routed across the veth with route_localnet.

The kernel does not forward traffic from a namespace to the host's own loopback
addresses, where the pods listen, so a namespaced router reaches pods through a relay
(tcp_relay.py): inside the namespace it listens on each pod's IP and port, on the host
it connects to the pod; cutting the relay's hop for one pod is a partition between the
router and that pod only.

Backends (LLMOPS_TEST_BACKEND):
  devcluster (default)  a fresh llmops-devcluster per test, listening on the bridge
                        address, so namespaced processes reach it directly; writers are
                        told apart by source address in its access log.
  real                  the control plane already running in $REAL_CLUSTER_DIR (the ctest
                        fixture real_control_plane). Its apiserver listens on 127.0.0.1
                        only and its certificate names 127.0.0.1, so a namespaced process
                        reaches it through a relay pair (inside the namespace on
                        127.0.0.1:PORT, on the host on the bridge address) and keeps the
                        kubeconfig's server; each process gets a client certificate of its
                        own (CN = its name) from the cluster's CA, so the apiserver's
                        audit log (real-cluster.sh enables it) says who wrote what.
                        kill -9 hits the real kube-apiserver (etcd keeps the data);
                        expiring watches restart it without a watch cache and with a 2 s
                        etcd compaction interval, and restore its flags afterwards.
Standard library only (Debian's /usr/bin/python3)."""
import base64
import fcntl
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LLMOPS_BUILD", os.path.join(ROOT, "build"))
DEVCLUSTER = os.path.join(BUILD, "devcluster", "llmops-devcluster")
OPERATOR = os.path.join(BUILD, "operator", "llmops-operator")
ROUTER = os.path.join(BUILD, "router", "llmops-router")
RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_relay.py")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import Devcluster, Kubectl, free_port, real_cluster  # noqa: E402,F401
from harness import rollout  # noqa: E402
from harness import wait_for as wait  # noqa: E402
NAME = "storyteller"
SKIP = 77  # ctest SKIP_RETURN_CODE


def backend():
    return "real" if real_cluster.selected() else "devcluster"


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def run(*argv, check=True, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.stdout.strip()}")
    return result


# ---------------------------------------------------------------- network

class Fabric:
    """A bridge with 127.213.N.1/24 and namespaces attached to it. N is taken under a lock
    file, so that fault tests running side by side never share addresses or names."""

    def __init__(self):
        if os.geteuid() != 0:
            skip("network namespaces need root")
        if not shutil.which("ip") or not shutil.which("iptables"):
            skip("iproute2 and iptables are needed")
        self.lock = open("/tmp/llmops-faults.lock", "a+")
        self.index = None
        for n in range(10, 250):
            name = f"llf{n}br"
            if not os.path.exists(f"/sys/class/net/{name}"):
                fcntl.flock(self.lock, fcntl.LOCK_EX)
                try:
                    if os.path.exists(f"/sys/class/net/{name}"):
                        continue
                    run("ip", "link", "add", name, "type", "bridge")
                    self.index = n
                    break
                finally:
                    fcntl.flock(self.lock, fcntl.LOCK_UN)
        if self.index is None:
            raise RuntimeError("no free 127.213.N.0/24 for a fault fabric")
        self.bridge = f"llf{self.index}br"
        self.host_ip = f"127.213.{self.index}.1"
        run("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        run("sysctl", "-qw", f"net.ipv4.conf.{self.bridge}.route_localnet=1")
        self.namespaces = []

    def namespace(self, role):
        ns = Namespace(self, len(self.namespaces) + 2, role)
        self.namespaces.append(ns)
        return ns

    def close(self):
        for ns in self.namespaces:
            ns.close()
        run("ip", "link", "del", self.bridge, check=False)


class Namespace:
    def __init__(self, fabric, k, role):
        self.fabric = fabric
        self.name = f"llf{fabric.index}-{role}"
        self.ip = f"127.213.{fabric.index}.{k}"
        host_end, ns_end = f"llf{fabric.index}h{k}", f"llf{fabric.index}n{k}"
        run("ip", "netns", "add", self.name)
        run("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
        run("ip", "link", "set", host_end, "master", fabric.bridge)
        run("ip", "link", "set", host_end, "up")
        run("ip", "link", "set", ns_end, "netns", self.name)
        for command in (["ip", "link", "set", "lo", "up"],
                        ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"],
                        ["sysctl", "-qw", f"net.ipv4.conf.{ns_end}.route_localnet=1"],
                        ["ip", "addr", "add", f"{self.ip}/24", "dev", ns_end],
                        ["ip", "link", "set", ns_end, "up"]):
            run(*self.prefix(), *command)
        self.host_end = host_end
        self.cuts = []

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def cut(self, ip, port=None):
        """Drops every packet between this namespace and ip[:port], both ways."""
        out = ["OUTPUT", "-d", f"{ip}/32", "-p", "tcp"] + (["--dport", str(port)] if port else [])
        back = ["INPUT", "-s", f"{ip}/32", "-p", "tcp"] + (["--sport", str(port)] if port else [])
        for rule in (out, back):
            run(*self.prefix(), "iptables", "-A", *rule, "-j", "DROP")
            self.cuts.append(rule)

    def heal(self):
        for rule in self.cuts:
            run(*self.prefix(), "iptables", "-D", *rule, "-j", "DROP", check=False)
        self.cuts = []

    def close(self):
        run("ip", "netns", "del", self.name, check=False)
        run("ip", "link", "del", self.host_end, check=False)


# ---------------------------------------------------------------- processes

class Process:
    def __init__(self, name, argv, work, ns=None):
        self.name, self.argv, self.work, self.ns = name, argv, work, ns
        self.log_path = os.path.join(work, f"{name}.log")
        self.process = None
        self.start()

    def start(self):
        log = open(self.log_path, "ab")
        argv = (self.ns.prefix() if self.ns else []) + self.argv
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def stop(self):
        self.kill(signal.SIGTERM)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class _ClusterBase:
    """What the cases use of a cluster, whichever the backend."""

    kubectl_bin = "kubectl"

    def spawn(self, name, argv, ns=None):
        process = Process(name, argv, self.work, ns)
        self.processes.append(process)
        return process

    def kubectl(self, *args, check=True, stdin=None):
        """kubectl's output; None when it failed and check is False."""
        result = Kubectl(self.kubeconfig, self.kubectl_bin, home=self.work)(
            *args, check=check, input=stdin)
        return result.stdout if result.returncode == 0 else None

    def get(self, *args):
        out = self.kubectl("get", *args, "-o", "json", check=False)
        return json.loads(out) if out else None

    def deployment(self):
        return self.get("llmd", NAME) or {}

    def pods(self):
        items = (self.get("pods", "-l", "llmops.dev/deployment") or {}).get("items", [])
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def install_crd(self):
        self.kubectl("apply", "-f", os.path.join(ROOT, "crds", "llmdeployment.yaml"))
        self.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                     "crd/llmdeployments.llmops.dev")

    def break_connections_of(self, process):
        """Resets every connection of `process` to the API server (ss -K), as a broken link
        would: its watches resume from their last resourceVersion. Only its own, so that
        the cluster's components (a real scheduler backs off for long) are left alone."""
        for port in local_ports(process.process.pid, self.port):
            run("ss", "-K", "dst", self.host, "dport", "=", f":{self.port}",
                "sport", "=", f":{port}", check=False)

    def stop_processes(self):
        for process in reversed(self.processes):
            process.stop()
        self.processes = []


class Endpoint:
    """How one client process reaches the API server: its kubeconfig, the name it has in
    the cluster's write log (`who`; None when the log cannot tell it from others) and
    the (address, port) to cut to partition it off."""

    def __init__(self, kubeconfig, who, cut):
        self.kubeconfig, self.who, self.cut = kubeconfig, who, cut


class Cluster(_ClusterBase):
    """llmops-devcluster on the fabric's bridge address (or on 127.0.0.1 without one)."""

    def __init__(self, work, fabric=None, expiring_watches=False):
        self.work = work
        self.fabric = fabric
        self.data = os.path.join(work, "cluster")
        self.kubeconfig = os.path.join(self.data, "kubeconfig")
        self.host = fabric.host_ip if fabric else "127.0.0.1"
        # A watch history of 20 events, and no bookmarks: a watch's resourceVersion moves
        # only with its own resource's events, so after 20 other writes it is too old.
        self.flags = ["--watch-history", "20", "--bookmark-interval-ms", "600000"] \
            if expiring_watches else []
        self.port = 0
        self.server = None
        self.devcluster = Devcluster(self.data, ["--restart-backoff-seconds", "1", *self.flags],
                                     binary=DEVCLUSTER, log=os.path.join(work, "devcluster.log"),
                                     spawn=self._spawn_server, host=self.host, keep_port=True)
        self.processes = []
        try:
            self.start()
            self.install_crd()
            self.kubectl("create", "namespace", "llmops-system")
        except BaseException:
            self.close()
            raise

    def _spawn_server(self, argv):
        self.server = Process("devcluster", argv, self.work)
        return self.server.process

    def start(self):
        """Starts the devcluster (again: on the same port)."""
        self.port = self.devcluster.start(timeout=60).port
        wait("the devcluster to answer", lambda: self.kubectl("get", "--raw", "/readyz",
                                                              check=False) == "ok", 30)

    def kill9_and_restart(self):
        """kill -9 of the API server, which is also the node here: its pods end with it."""
        self.server.kill()
        self.start()

    def endpoint(self, name, ns=None):
        # The devcluster listens on the bridge: namespaced processes connect to it
        # directly, and its access log names them by their namespace's address.
        del name
        return Endpoint(self.kubeconfig, ns.ip if ns else None, (self.host, self.port))

    def writes(self):
        """Every write the API server received, in order: dicts with who (source address),
        verb, resource, namespace, code and at (the time received, RFC 3339, sortable)."""
        out = []
        with open(os.path.join(self.data, "access.log"), errors="replace") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("verb") in WRITE_VERBS:
                    out.append({"who": e.get("sourceIP"), "verb": e["verb"],
                                "resource": e.get("resource"), "namespace": e.get("namespace"),
                                "code": e.get("code"), "at": e.get("receivedAt", "")})
        return out

    def close(self):
        self.stop_processes()
        if self.server:
            self.server.stop()


WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


# Watches served by etcd itself (no watch cache), which keeps only the last 2-4 s of
# history: a watch resuming from an older resourceVersion gets 410 Expired.
EXPIRING_WATCHES = ["--watch-cache=false", "--etcd-compaction-interval=2s"]
EXPIRING_WATCHES_ARGV = b"".join(flag.encode() + b"\0" for flag in EXPIRING_WATCHES)


class RealControlPlane(_ClusterBase):
    """The real control plane in $REAL_CLUSTER_DIR, shared with the other realk8s tests:
    what a case creates is deleted when it ends, and an apiserver restarted with other
    flags gets its own back."""

    def __init__(self, work, fabric=None, expiring_watches=False):
        self.work = work
        self.fabric = fabric
        self.real = real_cluster.RealCluster(home=work)
        self.kubectl_bin = self.real.kubectl_bin
        self.kubeconfig = self.real.kubeconfig
        self.host = "127.0.0.1"
        self.port = self.real.port
        self.processes = []
        self.relays = {}  # namespace name -> the host relay's port to the apiserver
        self.saved_argv = None
        self.restarted = False
        self.argv_file = os.path.join(self.real.dir, "pids", "kube-apiserver.argv")
        try:
            if not self.audit_files():
                raise RuntimeError(f"no audit log in {self.real.dir}/logs: the control plane "
                                   "predates audit logging (scripts/real-cluster.sh down, up)")
            with open(self.argv_file, "rb") as f:
                argv = f.read()
            if argv.endswith(EXPIRING_WATCHES_ARGV):
                # An earlier case was killed before it restored the apiserver.
                self.saved_argv = argv[:-len(EXPIRING_WATCHES_ARGV)]
            self.restore_apiserver()
            self.real.wait_ready()
            if expiring_watches:
                self.restart_apiserver(EXPIRING_WATCHES)
            self.install_crd()
            self.kubectl("create", "namespace", "llmops-system", check=False)
            self.clean()  # what an earlier run that was killed may have left
        except BaseException:
            self.close()
            raise

    # -- the apiserver
    def apiserver_pid(self):
        """Its pid, or None when it is not running (no pid file)."""
        try:
            with open(os.path.join(self.real.dir, "pids", "kube-apiserver.pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def kill9_and_restart(self):
        """kill -9 of the real kube-apiserver and a start with the same command line; etcd,
        the controller-manager, the scheduler and the kubelet (with its pods) run on."""
        self.kill9_apiserver()
        self.start_apiserver()

    def kill9_apiserver(self):
        # Not `real-cluster.sh stop`: its SIGTERM waits for the apiserver's graceful
        # shutdown (15 s with watches open) before it kills it anyway.
        pid = self.apiserver_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            # Until every thread is gone (a zombie leader's other threads may still hold
            # the port) and the port refuses connections.
            wait("the apiserver to die", lambda: not threads_alive(pid), 30, interval=0.05)
            os.unlink(os.path.join(self.real.dir, "pids", "kube-apiserver.pid"))
        wait("the apiserver's port to be free", lambda: not accepts(self.host, self.port), 30,
             interval=0.05)

    def start_apiserver(self):
        """Starts it with the command line in pids/kube-apiserver.argv and waits for
        /readyz; fails at once, with its log, if it exits."""
        self.restarted = True
        log = os.path.join(self.real.dir, "logs", "kube-apiserver.log")
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        self.real.start_component("kube-apiserver")
        pid = self.apiserver_pid()

        def ready():
            if not threads_alive(pid):
                with open(log, errors="replace") as f:
                    f.seek(offset)
                    tail = f.read()[-3000:]
                raise RuntimeError(f"the restarted kube-apiserver exited:\n{tail}")
            return self.kubectl("get", "--raw", "/readyz", check=False) is not None
        wait("the apiserver's /readyz", ready, 120, interval=0.3)

    def restart_apiserver(self, extra_flags):
        """Restarts the apiserver with its command line plus extra_flags (later flags win);
        close() restores the original."""
        with open(self.argv_file, "rb") as f:
            argv = f.read()
        if self.saved_argv is None:
            self.saved_argv = argv
        self.kill9_apiserver()
        with open(self.argv_file, "wb") as f:
            f.write(self.saved_argv + b"".join(flag.encode() + b"\0" for flag in extra_flags))
        self.start_apiserver()

    def restore_apiserver(self):
        """The apiserver as the fixture started it, running (whatever a case left)."""
        if self.saved_argv is not None:
            self.kill9_apiserver()
            with open(self.argv_file, "wb") as f:
                f.write(self.saved_argv)
            self.saved_argv = None
        pid = self.apiserver_pid()
        if not pid or not threads_alive(pid):
            self.kill9_apiserver()
            self.start_apiserver()

    # -- clients
    def endpoint(self, name, ns=None):
        kubeconfig = self.identity(name)
        if ns is None:
            return Endpoint(kubeconfig, name, (self.host, self.port))
        if ns.name not in self.relays:
            hop = free_port(self.fabric.host_ip)
            host = self.spawn(f"api-relay-host-{ns.name}", [
                "/usr/bin/python3", RELAY, f"{self.fabric.host_ip}:{hop}=127.0.0.1:{self.port}"])
            inside = self.spawn(f"api-relay-{ns.name}", [
                "/usr/bin/python3", RELAY, f"127.0.0.1:{self.port}={self.fabric.host_ip}:{hop}"],
                ns=ns)
            for relay in (host, inside):
                wait(f"{relay.name} ready", lambda relay=relay: "ready" in relay.log(), 30)
            self.relays[ns.name] = hop
        return Endpoint(kubeconfig, name, (self.fabric.host_ip, self.relays[ns.name]))

    def identity(self, name):
        """A kubeconfig whose client certificate (CN=name, O=system:masters, signed by the
        cluster's CA) makes `name` the user in the audit log."""
        pki = os.path.join(self.real.dir, "pki")
        key, crt = (os.path.join(self.work, f"{name}.{ext}") for ext in ("key", "crt"))
        ext = os.path.join(self.work, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=clientAuth\n")
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", key)
        csr = run("openssl", "req", "-new", "-key", key, "-subj",
                  f"/O=system:masters/CN={name}").stdout
        run("openssl", "x509", "-req", "-CA", os.path.join(pki, "ca.crt"),
            "-CAkey", os.path.join(pki, "ca.key"),
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
            "-days", "1", "-sha256", "-extfile", ext, "-out", crt, input=csr)
        encoded = {}
        for field, path in (("client-certificate-data", crt), ("client-key-data", key)):
            with open(path, "rb") as f:
                encoded[field] = base64.b64encode(f.read()).decode()
        with open(self.kubeconfig) as f:
            lines = f.read().splitlines()
        for i, line in enumerate(lines):
            field = line.strip().split(":", 1)[0]
            if field in encoded:
                lines[i] = line[:line.index(field)] + f"{field}: {encoded[field]}"
        path = os.path.join(self.work, f"{name}.kubeconfig")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        return path

    # -- what happened
    def audit_files(self):
        logs = os.path.join(self.real.dir, "logs")
        if not os.path.isdir(logs):
            return []
        # The live log and its rotations (audit-<time>.log), oldest first.
        names = [n for n in os.listdir(logs) if n.startswith("audit") and n.endswith(".log")]
        return [os.path.join(logs, n) for n in sorted(names, key=lambda n: (n == "audit.log", n))]

    def writes(self):
        """Every write the apiserver's audit log holds, in the shape of Cluster.writes;
        who is the user (the client certificate's CN)."""
        out = []
        for path in self.audit_files():
            with open(path, errors="replace") as f:
                for line in f:
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    if e.get("stage") != "ResponseComplete" or e.get("verb") not in WRITE_VERBS:
                        continue
                    ref = e.get("objectRef", {})
                    out.append({"who": e.get("user", {}).get("username"), "verb": e["verb"],
                                "resource": ref.get("resource"), "namespace": ref.get("namespace"),
                                "code": e.get("responseStatus", {}).get("code"),
                                "at": e.get("requestReceivedTimestamp", "")})
        out.sort(key=lambda e: e["at"])
        return out

    def clean(self):
        """Deletes what the fault cases make (LLMDeployments and their pods through the
        garbage collector, the operator's Lease, the write load's ConfigMaps)."""
        self.kubectl("delete", "llmd", "--all", "-n", "default", "--wait=true", "--timeout=90s",
                     check=False)
        self.kubectl("delete", "lease", "--all", "-n", "llmops-system", check=False)
        self.kubectl("delete", "configmap", "-n", "default", "-l", "llmops.dev/fault-load",
                     "--wait=false", check=False)
        wait("the fault case's pods gone", lambda: not (self.get(
            "pods", "-n", "default", "-l", "llmops.dev/deployment") or {}).get("items"), 120, 1)

    def scheduler_settled(self):
        """After apiserver restarts the real kube-scheduler may still be backing off (it got
        "forbidden" while RBAC loaded): until a probe pod is scheduled again, so that the
        next test on the shared cluster does not pay for it."""
        probe = {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "faults-scheduler-probe", "namespace": "default"},
                 "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                          "containers": [{"name": "probe", "image": "llmops-runtime",
                                          "args": ["--version"]}]}}
        self.kubectl("delete", "pod", "-n", "default", "faults-scheduler-probe", "--grace-period=0",
                     "--force", "--ignore-not-found", check=False)
        self.kubectl("create", "-f", "-", stdin=json.dumps(probe))
        started = time.time()
        try:
            wait("the scheduler to schedule again", lambda: (self.get(
                "pod", "-n", "default", "faults-scheduler-probe") or {}).get(
                "spec", {}).get("nodeName"), 120, 0.5)
            print(f"the scheduler schedules again ({time.time() - started:.1f} s)", flush=True)
        finally:
            self.kubectl("delete", "pod", "-n", "default", "faults-scheduler-probe",
                         "--grace-period=0", "--force", "--wait=false", check=False)

    def close(self):
        self.stop_processes()
        try:
            self.clean()
        finally:
            self.restore_apiserver()
            if self.restarted:
                self.scheduler_settled()


def local_ports(pid, remote_port):
    """The local ports of pid's TCP connections to remote_port (from /proc)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        return []
    ports = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                ports.append(int(local.rsplit(":", 1)[1], 16))
    return ports


def threads_alive(pid):
    """False once every thread of pid has exited (a zombie no one reaped has none)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    return True
        except OSError:
            pass
    return False


def accepts(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def make_cluster(work, fabric=None, expiring_watches=False):
    """The cluster of a case on the selected backend."""
    kind = RealControlPlane if backend() == "real" else Cluster
    return kind(work, fabric, expiring_watches)


def make_models(work):
    models = os.path.join(work, "models")
    os.makedirs(models, exist_ok=True)
    for version, seed in (("v1", 1), ("v2", 2), ("v3", 3)):
        rollout.make_model(os.path.join(models, f"{version}.gguf"), seed)
    return models


def llmd(models, steps, replicas=2, deadline=120):
    return {"apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {"replicas": replicas,
                     "model": {"name": NAME, "uri": f"file://{models}/v1.gguf"},
                     "runtime": {"image": "llmops-runtime", "threads": 1, "numa": "none",
                                 "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
                     "rollout": {"steps": steps, "progressDeadlineSeconds": deadline}}}


def current(d):
    return d.get("status", {}).get("observedGeneration") == d.get("metadata", {}).get("generation")


def healthy_on(revision, replicas=2):
    def check(d):
        s = d.get("status", {})
        return (current(d) and s.get("phase") == "Healthy" and s.get("stableRevision") == revision
                and not s.get("canaryRevision") and s.get("readyReplicas", 0) >= replicas)
    return check


def operator_argv(kubeconfig, *flags):
    return [OPERATOR, "--kubeconfig", kubeconfig,
            "--metrics-addr", "0", "--health-addr", "0",
            "--scale-down-delay-seconds", "3", *flags]


def no_duplicate_pods(cluster, revision, replicas):
    """Exactly `replicas` live pods of `revision` once settled, each name once, and no
    pod of another revision left."""
    pods = cluster.pods()
    names = [p["metadata"]["name"] for p in pods]
    assert len(names) == len(set(names)), names
    revisions = [p["metadata"]["labels"].get("llmops.dev/revision") for p in pods]
    return revisions.count(str(revision)) == replicas and len(revisions) == replicas


class Clients(rollout.Clients):
    """Clients sending completions through a router, counting outcomes by revision."""

    def __init__(self, host, port, clients=2):
        super().__init__(port, NAME, clients, host, max_tokens=8, pause=0.05)

    def stop(self):
        """(requests served, [(time, error) of each failure])."""
        super().stop()
        with self.lock:
            return sum(self.ok.values()), list(zip(self.failed_at, self.failures))


def metrics_text(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/metrics")
    return conn.getresponse().read().decode()


def metric_sum(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main(cases):
    """usage: faults_test.py CASE; runs it in a fresh work directory, cleans up."""
    case = sys.argv[1]
    work = tempfile.mkdtemp(prefix=f"faults-{case}.")
    ok = False
    try:
        cases[case](work)
        ok = True
    finally:
        if not ok:
            for name in sorted(os.listdir(work)):
                if name.endswith(".log"):
                    text = open(os.path.join(work, name), errors="replace").read()
                    print(f"--- {name} (tail)\n{text[-4000:]}", file=sys.stderr)
        if ok or not os.environ.get("LLMOPS_KEEP_WORK"):
            subprocess.run(["rm", "-rf", work])
        else:
            print(f"kept {work} (LLMOPS_KEEP_WORK)", file=sys.stderr)
    print("PASS")
