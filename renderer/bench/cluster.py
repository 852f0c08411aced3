"""A Ray cluster of several nodes on this one machine: for the batch benchmark and the tests.

Each node has its own raylet and object store, and its own environment: a vbr
cache (VBR_CACHE_DIR) and temporary directory (TMPDIR) of its own, as separate
machines would have. Ray binds its services to the machine's IP address; run
the cluster inside a private network namespace (`unshare -n`, root) with its
loopback up, and Ray falls back to 127.0.0.1: nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence


def can_isolate() -> bool:
    """Whether this process can run a command in a network namespace of its own."""
    return sys.platform == "linux" and os.geteuid() == 0 and shutil.which("unshare") is not None


def isolated(argv: Sequence[str]) -> list[str]:
    """`argv` run in a new network namespace (call loopback_up() first thing in it)."""
    return ["unshare", "-n", *argv]


def loopback_up() -> None:
    """`ip link set lo up`, without needing iproute2: a new network namespace starts with it down."""
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))


def start_cluster(nodes: Sequence[Mapping[str, str]], temp_dir: Path, cpus: int = 1, client_port: int | None = None) -> Any:
    """A `ray.cluster_utils.Cluster`, one node per environment in `nodes` (each needs TMPDIR), `cpus` CPUs each.

    A node's raylet, and every worker it starts, inherits its environment. With
    `client_port`, the head also serves Ray Client (`ray://127.0.0.1:PORT`).
    """
    from ray.cluster_utils import Cluster

    saved = dict(os.environ)
    cluster = None
    try:
        for env in nodes:
            os.environ.update(env)
            Path(env["TMPDIR"], "ray").mkdir(parents=True, exist_ok=True)  # Ray notes the cluster's address there
            if cluster is None:
                head: dict[str, Any] = {"num_cpus": cpus, "temp_dir": str(temp_dir)}
                if client_port is not None:
                    head["ray_client_server_port"] = client_port
                cluster = Cluster(initialize_head=True, head_node_args=head)
            else:
                cluster.add_node(num_cpus=cpus)
        assert cluster is not None, "a cluster needs at least one node"
        cluster.wait_for_nodes()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return cluster
