"""Runs a built image from its own root filesystem, as its own non-root user.

  image_run_test.py NAME [IMAGES_DIR]     (IMAGES_DIR: build/images by default)

Unpacks IMAGES_DIR/NAME.oci.tar with umoci and checks the image: OCI labels (source,
revision, version), a numeric non-root user, the binary as the entrypoint, every shared
library the binary loads resolved inside the image (the image's own loader:
`chroot ROOT /lib64/ld-linux-x86-64.so.2 --list BIN`, not the host's ldd), and no
package beyond the base's but those libraries and what they depend on. Then it runs the
entrypoint: with runc when it can start containers here (read-only root, the image's
user, the host's network so the test can reach it), else by chroot into the unpacked
root with the image's user; it prints which. llmops-operator and llmops-router print
their version on --help and exit 0; llmops-runtime serves a greedy completion of the
shared test model (mounted at /models) that matches the reference output.
Needs root, umoci and (for the runc path) runc. Environment: LLMOPS_SHARED_DIR (the
shared folder with models/), LLMOPS_VERSION (the version the labels must carry),
LLMOPS_IMAGE_RUNNER=auto|runc|chroot (auto: runc when it works).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOADER = "/lib64/ld-linux-x86-64.so.2"
RUNTIME_USER = 65532
failures = []


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def run(argv, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def unpack(archive, work):
    layout = os.path.join(work, "layout")
    with tarfile.open(archive) as tar:
        tar.extractall(layout)
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    manifest_ref = index["manifests"][0]
    tag = manifest_ref.get("annotations", {}).get("org.opencontainers.image.ref.name")
    if not tag:
        raise Failure(f"{archive}: index.json names no reference")

    def blob(digest):
        algorithm, hexdigest = digest.split(":")
        with open(os.path.join(layout, "blobs", algorithm, hexdigest)) as f:
            return json.load(f)

    manifest = blob(manifest_ref["digest"])
    config = blob(manifest["config"]["digest"])
    # The first layer is the base image (debian:bookworm-slim): its dpkg status says which
    # packages the Containerfile added.
    algorithm, hexdigest = manifest["layers"][0]["digest"].split(":")
    with tarfile.open(os.path.join(layout, "blobs", algorithm, hexdigest), "r:*") as layer:
        member = next((m for m in layer.getmembers()
                       if m.name.lstrip("./") == "var/lib/dpkg/status"), None)
        if member is None:
            raise Failure("the image's first layer (its base) has no var/lib/dpkg/status")
        base_status = layer.extractfile(member).read().decode()
    bundle = os.path.join(work, "bundle")
    result = run(["umoci", "unpack", "--image", f"{layout}:{tag}", bundle], timeout=300)
    if result.returncode != 0:
        raise Failure(f"umoci unpack: {result.stderr.strip()}")
    return config, bundle, parse_dpkg_status(base_status)


def check_config(name, config):
    labels = config.get("config", {}).get("Labels") or {}
    version = os.environ.get("LLMOPS_VERSION")
    check(labels.get("org.opencontainers.image.title") == name, f"title label: {labels}")
    for key in ("source", "revision", "version"):
        value = labels.get(f"org.opencontainers.image.{key}", "")
        check(value and value != "unknown", f"label org.opencontainers.image.{key}: {value!r}")
    if version:
        check(labels.get("org.opencontainers.image.version") == version,
              f"version label {labels.get('org.opencontainers.image.version')} != {version}")
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    if head:  # built from this checkout: its commit (with -dirty for uncommitted changes)
        revision = labels.get("org.opencontainers.image.revision", "")
        check(revision in (head, head + "-dirty"), f"revision label {revision} != HEAD {head}")
    user = config.get("config", {}).get("User", "")
    check(re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", user) is not None,
          f"USER must be a numeric non-root id, got {user!r}")
    entrypoint = config.get("config", {}).get("Entrypoint")
    check(entrypoint == [f"/usr/local/bin/{name}"], f"entrypoint {entrypoint}")
    print(f"{name}: user {user}, entrypoint {entrypoint}, labels "
          + ", ".join(f"{k.rsplit('.', 1)[1]}={v}" for k, v in sorted(labels.items())
                      if k.startswith("org.opencontainers.image.")))


def libraries(root, binary):
    """{soname: path inside the image} from the image's own dynamic loader."""
    result = run(["chroot", root, LOADER, "--list", binary])
    if result.returncode != 0:
        raise Failure(f"{LOADER} --list {binary} in the image: {result.stdout}{result.stderr}")
    found = {}
    for line in result.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            failures.append(f"{binary}: library missing in the image: {line}")
        match = re.match(r"(\S+) => (\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def dpkg_status(root):
    with open(os.path.join(root, "var/lib/dpkg/status")) as f:
        return parse_dpkg_status(f.read())


def parse_dpkg_status(text):
    packages = {}
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields and "installed" in fields.get("Status", ""):
            packages[fields["Package"]] = fields
    return packages


def depends(fields):
    names = set()
    for field in ("Depends", "Pre-Depends"):
        for group in fields.get(field, "").split(","):
            for alternative in group.split("|"):
                name = alternative.strip().split(" ")[0].split(":")[0]
                if name:
                    names.add(name)
    return names


def check_packages(name, root, found, base_packages):
    """Every package the image adds to its base is a library the binary loads (or one such
    a package depends on): nothing else was installed."""
    packages = dpkg_status(root)
    owners = set()
    for path in found.values():
        real = os.path.realpath(os.path.join(root, path.lstrip("/")))
        inside = "/" + os.path.relpath(real, root)
        for candidate in {path, inside}:
            result = run(["chroot", root, "dpkg-query", "-S", candidate])
            if result.returncode == 0:
                owners.add(result.stdout.split(":")[0])
    def closure(start):
        seen, queue = set(), list(start)
        while queue:
            package = queue.pop()
            if package in seen or package not in packages:
                continue
            seen.add(package)
            queue.extend(depends(packages[package]))
        return seen

    base = set(base_packages)
    needed = closure(owners)
    extra = sorted(set(packages) - base - needed)
    check(not extra, f"{name}: packages that no loaded library needs: {extra}")
    added = sorted(needed - base)
    check(added, f"{name}: the image adds no package for its libraries")
    check(len(base) > 50, f"{name}: {len(base)} packages in the base layer: not the base")
    print(f"{name}: {len(found)} libraries resolved in the image; packages it adds to the "
          f"base for them: {', '.join(added)}")


def runc_works(bundle, work):
    """Whether runc starts a container here: the image's own loader prints its help."""
    if not shutil.which("runc"):
        return False, "runc is not installed"
    probe = os.path.join(work, "probe")
    os.makedirs(probe)
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    config["root"] = {"path": os.path.join(bundle, "rootfs"), "readonly": True}
    config["process"]["args"] = [LOADER, "--help"]
    config["process"]["terminal"] = False
    with open(os.path.join(probe, "config.json"), "w") as f:
        json.dump(config, f)
    result = run(["runc", "run", "--bundle", probe, f"llmops-probe-{os.getpid()}"])
    if result.returncode == 0:
        return True, "runc"
    return False, f"runc cannot start containers here ({(result.stderr or result.stdout).strip()[:200]})"


class Container:
    """The entrypoint with ARGS, run by runc (a bundle of its own) or by chroot."""

    def __init__(self, bundle, work, use_runc, args, mounts):
        self.bundle, self.use_runc, self.id = bundle, use_runc, f"llmops-test-{os.getpid()}"
        with open(os.path.join(bundle, "config.json")) as f:
            config = json.load(f)
        self.user = config["process"]["user"]
        self.argv = config["process"]["args"] + args
        self.env = config["process"]["env"]
        self.log_path = os.path.join(work, "container.log")
        self.mounted = []
        log = open(self.log_path, "wb")
        if use_runc:
            config["root"] = {"path": os.path.join(bundle, "rootfs"), "readonly": True}
            config["process"]["args"] = self.argv
            config["process"]["terminal"] = False
            # The host's network: the test connects over loopback.
            namespaces = config["linux"]["namespaces"]
            config["linux"]["namespaces"] = [n for n in namespaces if n["type"] != "network"]
            for source, target in mounts:
                config["mounts"].append({"destination": target, "type": "bind", "source": source,
                                         "options": ["rbind", "ro"]})
            run_dir = os.path.join(work, "runc-bundle")
            os.makedirs(run_dir)
            with open(os.path.join(run_dir, "config.json"), "w") as f:
                json.dump(config, f)
            argv = ["runc", "run", "--bundle", run_dir, self.id]
        else:
            root = os.path.join(bundle, "rootfs")
            for source, target in mounts:
                where = os.path.join(root, target.lstrip("/"))
                os.makedirs(where, exist_ok=True)
                subprocess.run(["mount", "--bind", "-o", "ro", source, where], check=True)
                self.mounted.append(where)
            userspec = f"{self.user['uid']}:{self.user['gid']}"
            argv = ["env", "-i", *self.env, "chroot", f"--userspec={userspec}", root, *self.argv]
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait(self, timeout=60):
        return self.process.wait(timeout=timeout)

    def stop(self):
        if self.process.poll() is None:
            if self.use_runc:
                run(["runc", "kill", self.id, "TERM"])
            else:
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                if self.use_runc:
                    run(["runc", "kill", self.id, "KILL"])
                self.process.kill()
                self.process.wait()
        if self.use_runc:
            run(["runc", "delete", "--force", self.id])
        for where in reversed(self.mounted):
            subprocess.run(["umount", where], check=False)


def check_help(name, bundle, work, use_runc):
    container = Container(bundle, work, use_runc, ["--help"], [])
    try:
        code = container.wait()
    finally:
        container.stop()
    output = container.log()
    check(code == 0, f"{name} --help exited {code}: {output[-400:]}")
    version = os.environ.get("LLMOPS_VERSION", "")
    check(re.search(rf"^{re.escape(name)} {re.escape(version)}", output, re.M) is not None,
          f"{name} --help does not print '{name} {version}': {output[:200]!r}")
    print(f"{name} --help: exit {code}, {output.splitlines()[0] if output else ''!r}")


def check_serve(bundle, work, use_runc):
    models = os.path.join(os.environ.get("LLMOPS_SHARED_DIR", os.path.join(REPO, "..", "shared")),
                          "models")
    reference_path = os.path.join(models, "reference", "greedy_The_robot.txt")
    if not check(os.path.exists(reference_path), f"no test model in {models}"):
        return
    with open(reference_path) as f:
        reference = f.read()
    args = ["serve", "--model", "file:///models/aidreams260K.bin", "--tokenizer",
            "/models/tok512.bin", "--model-name", "aidreams", "--host", "127.0.0.1",
            "--port", "0", "--threads", "1", "--numa", "none", "--lame-duck-seconds", "0"]
    container = Container(bundle, work, use_runc, args, [(models, "/models")])
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            match = re.search(r"address=127\.0\.0\.1:(\d+)", container.log())
            if match:
                port = int(match.group(1))
            elif container.process.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"llmops-runtime serve did not listen:\n{container.log()[-2000:]}")
            else:
                time.sleep(0.2)
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failure(f"llmops-runtime never got ready:\n{container.log()[-2000:]}")
            time.sleep(0.2)
        body = json.dumps({"model": "aidreams", "prompt": "The robot", "max_tokens": 40,
                           "temperature": 0}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        text = answer["choices"][0]["text"]
        check(len(text) >= 20, f"completion too short: {text!r}")
        check(reference.startswith("The robot" + text),
              f"completion {text!r} is not the reference greedy output {reference[:120]!r}")
        print(f"llmops-runtime serve: completion {text[:60]!r}... matches the reference; "
              f"usage {answer.get('usage')}")
    finally:
        container.stop()
    check("outcome=" in container.log(), "no request log line")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    name = sys.argv[1]
    images_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(REPO, "build", "images")
    archive = os.path.join(images_dir, f"{name}.oci.tar")
    work = tempfile.mkdtemp(prefix=f"image-run-{name}.")
    try:
        if not os.path.exists(archive):
            raise Failure(f"{archive} does not exist: scripts/build-images.sh builds it")
        config, bundle, base_packages = unpack(archive, work)
        check_config(name, config)
        root = os.path.join(bundle, "rootfs")
        binary = f"/usr/local/bin/{name}"
        found = libraries(root, binary)
        check_packages(name, root, found, base_packages)
        forced = os.environ.get("LLMOPS_IMAGE_RUNNER", "auto")  # auto | runc | chroot
        if forced == "chroot":
            use_runc, why = False, "LLMOPS_IMAGE_RUNNER=chroot"
        else:
            use_runc, why = runc_works(bundle, work)
            if forced == "runc" and not use_runc:
                raise Failure(f"LLMOPS_IMAGE_RUNNER=runc, but {why}")
        print(f"{name}: running the entrypoint with {'runc' if use_runc else 'chroot'}"
              + ("" if use_runc else f" ({why})"))
        if name == "llmops-runtime":
            check_serve(bundle, work, use_runc)
        else:
            check_help(name, bundle, work, use_runc)
    except (Failure, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as error:
        failures.append(f"{type(error).__name__}: {error}")
    finally:
        # Never delete through a mount left behind (the models are bind-mounted).
        mounted = [d for d, _, _ in os.walk(work) if os.path.ismount(d)]
        if mounted:
            failures.append(f"still mounted, {work} kept: {mounted}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
