"""A throwaway Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and KWOK, each the real program.

Everything listens on loopback ports picked free at start, keeps its data in one scratch
folder and is stopped, with the folder removed, when the `with` block ends: normally, on an
exception, on Ctrl-C or on SIGTERM. Each child also gets PR_SET_PDEATHSIG, so that even a
killed `aiops simulate` leaves no process behind.

What is not the real thing, and why:
- no kubelet: KWOK plays every node's kubelet, reporting nodes Ready and pods Running (no
  container ever starts);
- the horizontal-pod-autoscaler controller is off: nothing serves the metrics it reads, and
  the simulation sets each workload's replicas itself (its minimum, then its maximum);
- no cloud controller and no cluster-autoscaler: the simulation registers the nodes a pool has
  at its desired and at its maximum size.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiops.simulate.api import Api, ApiError
from aiops.simulate.binaries import MissingBinary, control_plane_dir, tool

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.1/16"  # KWOK hands out pod IPs from here; nothing ever connects to them
START_TIMEOUT = 60.0
# The API server spends a third of its CPU time collecting garbage while it takes the charts'
# CRDs (megabytes each, decoded, converted and copied several times per write). Go's collector
# runs a quarter as often (GOGC=400) until the heap reaches what it reaches with the default
# anyway on aws-primary (1.2 GiB peak), and as usual past that (GOMEMLIMIT): measured there,
# 29 CPU-seconds instead of 34 at the same peak. It changes how much CPU it needs, not what it does.
API_SERVER_GO_ENV = {"GOGC": "400", "GOMEMLIMIT": "1200MiB"}


class ControlPlaneError(Exception):
    """A component did not start (exit status 2); the message ends with its log's last lines."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG = 1: the child gets SIGKILL when the process that started it dies.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


@dataclass
class Component:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text[-lines:])


@dataclass
class ControlPlane:
    minor: str
    folder: Path
    server: str
    kubeconfig: Path
    ca_file: Path
    api: Api
    components: list[Component] = field(default_factory=list)

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, pipes: bool = False) -> Component:
        """Start a program beside the control plane (a host-run operator), stopped with it.
        `pipes`: its standard input and output are pipes to talk to it (its log is then what
        it writes on standard error)."""
        log = self.folder / f"{name}.log"
        handle = log.open("wb")
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE if pipes else handle, stderr=handle if pipes else subprocess.STDOUT,
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL, cwd=self.folder,
            env={**os.environ, **(env or {})}, preexec_fn=_die_with_parent, text=pipes, bufsize=1 if pipes else -1,
        )
        handle.close()
        component = Component(name, process, log)
        self.components.append(component)
        return component

    def check_alive(self) -> None:
        for component in self.components:
            if component.process.poll() is not None:
                raise ControlPlaneError(f"{component.name} exited with status {component.process.returncode}; its log ends:\n{component.tail()}")

    def cpu_seconds(self) -> dict[str, float]:
        """The CPU time (user and system) each running component has used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for component in self.components:
            try:
                fields = Path(f"/proc/{component.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[component.name] = round((int(fields[11]) + int(fields[12])) / ticks, 1)  # utime, stime
        return used

    def stop(self) -> None:
        """Kill every component. Nothing here is worth a graceful shutdown (the data is thrown
        away, the logs are written as they go), and a graceful kube-apiserver waits for its
        watches and for an etcd that is stopping too, for seconds."""
        for component in reversed(self.components):
            if component.process.poll() is None:
                component.process.kill()
        for component in self.components:
            component.process.wait()
            if component.process.stdin is not None:
                try:
                    component.process.stdin.close()
                except OSError:
                    pass


def _wait_for(what: str, component: Component, ready, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if component.process.poll() is not None:
            raise ControlPlaneError(f"{what} exited with status {component.process.returncode} while starting; its log ends:\n{component.tail()}")
        try:
            if ready():
                return
        except (OSError, ApiError):
            pass
        time.sleep(0.2)
    raise ControlPlaneError(f"{what} did not become ready within {timeout:.0f} s; its log ends:\n{component.tail()}")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _kubeconfig(path: Path, server: str, ca_file: Path, token: str) -> None:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: simulate\n  cluster:\n    server: {server}\n    certificate-authority: {ca_file}\n"
        f"users:\n- name: admin\n  user:\n    token: {token}\n"
        "contexts:\n- name: simulate\n  context: {cluster: simulate, user: admin}\n"
        "current-context: simulate\n"
    )


@contextmanager
def control_plane(minor: str, *, keep: Path | None = None) -> Iterator[ControlPlane]:
    """Start the control plane of Kubernetes `minor`; everything is stopped and removed on exit.

    `keep`: a folder to use instead of a temporary one, left in place afterwards (its logs).
    Raises MissingBinary when a program is not built and ControlPlaneError when one fails.
    """
    binaries = control_plane_dir(minor)
    etcd, kwok, flux_apply = tool("etcd"), tool("kwok"), tool("flux-apply")
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)  # every control plane starts empty
        keep.mkdir(parents=True)
    folder = keep or Path(tempfile.mkdtemp(prefix="aiops-simulate-", dir=_scratch_root()))
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    plane: ControlPlane | None = None
    try:
        certs = folder / "pki"
        subprocess.run([str(flux_apply), "certs", str(certs)], check=True, capture_output=True)
        token = os.urandom(16).hex()
        (certs / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
        etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
        server = f"https://127.0.0.1:{api_port}"
        kubeconfig = folder / "kubeconfig"
        _kubeconfig(kubeconfig, server, certs / "ca.crt", token)
        plane = ControlPlane(minor, folder, server, kubeconfig, certs / "ca.crt", Api(server, token, certs / "ca.crt"))

        store = plane.start("etcd", [
            str(etcd), "--name=simulate", f"--data-dir={folder / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{etcd_port}", f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}", f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
            f"--initial-cluster=simulate=http://127.0.0.1:{etcd_peer}", "--unsafe-no-fsync", "--log-level=warn",
        ])
        _wait_for("etcd", store, lambda: _port_open(etcd_port))

        apiserver = plane.start("kube-apiserver", [
            str(binaries / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
            f"--tls-cert-file={certs / 'tls.crt'}", f"--tls-private-key-file={certs / 'tls.key'}",
            f"--token-auth-file={certs / 'tokens.csv'}", "--authorization-mode=Node,RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={certs / 'sa.pub'}", f"--service-account-signing-key-file={certs / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--endpoint-reconciler-type=none",
            "--allow-privileged=true", "--profiling=false", "--enable-priority-and-fairness=false",
        ], env=API_SERVER_GO_ENV)
        _wait_for("kube-apiserver", apiserver, lambda: plane.api.get("/readyz") == "ok")

        # The controllers' and the scheduler's client rate limits (20 and 50 requests a second
        # by default, meant to shield a shared API server) are lifted as KWOK's own kwokctl
        # lifts them (its DisableQPSLimits: 5000/s, burst 10000): at 20/s the pods of the max
        # pass and their events queue for seconds. They change how fast, not what is decided.
        common = [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
                  "--leader-elect=false", "--bind-address=127.0.0.1", "--kube-api-qps=5000", "--kube-api-burst=10000"]
        plane.start("kube-controller-manager", [
            str(binaries / "kube-controller-manager"), *common, f"--secure-port={free_port()}",
            # The HPA controller would fight the replicas the simulation sets (no metrics here);
            # node IPAM and the cloud node controllers need a cloud.
            "--controllers=*,-horizontalpodautoscaling,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
            f"--service-account-private-key-file={certs / 'sa.key'}", f"--root-ca-file={certs / 'ca.crt'}",
            "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
        ])
        plane.start("kube-scheduler", [str(binaries / "kube-scheduler"), *common, f"--secure-port={free_port()}"])
        plane.start("kwok", [
            str(kwok), f"--kubeconfig={kubeconfig}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", f"--cidr={POD_CIDR}",
            "--node-ip=10.244.255.254", f"--server-address=127.0.0.1:{free_port()}", f"--config={kwok_stages()}",
            "--node-lease-duration-seconds=40",
        ])
        _wait_for("the default service account", apiserver, lambda: bool(plane.api.get("/api/v1/namespaces/default/serviceaccounts/default")))
        plane.check_alive()
        yield plane
    finally:
        if plane is not None:
            plane.stop()
        signal.signal(signal.SIGTERM, previous)
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def kwok_stages():
    path = Path(sys.executable).parent.parent / "share" / "aiops" / "kwok-stages.yaml"
    if not path.exists():
        raise MissingBinary(f"KWOK's stages are not installed ({path}): run `make setup`")
    return path


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _scratch_root() -> str | None:
    """/dev/shm when there is room: etcd and the API server write a lot, and memory is faster."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 << 30:
            return str(shm)
    except OSError:
        pass
    return None
