"""Runs commands against a local multi-node Ray cluster; test_batch_ray.py starts it in a network namespace.

    unshare -n python tests/ray_cluster.py SPEC.json RESULT.json

Inside a fresh network namespace only loopback exists (brought up here, as
`ip link set lo up` would), so Ray binds every service to 127.0.0.1 and nothing
leaves the machine. The cluster (renderer.bench.cluster) has one node per
entry of `nodes`, one CPU each, each with its own environment: its own vbr
cache (VBR_CACHE_DIR) and temporary directory (TMPDIR, where vbr keeps a
node's copies of a batch's inputs), as separate machines would have.

Each step runs a command (`{address}` in it becomes the cluster's address),
optionally in a private mount namespace where `bind` = [STASH, DIR] bind-mounts
STASH onto DIR: the command sees the project's files at DIR, the cluster's
nodes see an empty DIR. A step can kill workers rendering rows (`kill`: how
many; SIGKILL to the process named in a row's partial output on a node) or
interrupt the command (`interrupt`: SIGINT, or the signal it names, once a
row is mid-render).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PARTIAL = re.compile(r"\.(\d+)-[^.]*\.vbr-partial")  # .NAME.PID-XXXX.vbr-partial.EXT, written by the rendering process


def partials(spec: dict[str, Any]) -> list[Path]:
    """Partial outputs being written in the nodes' scratch directories right now."""
    found: list[Path] = []
    for node in spec["nodes"]:
        found.extend(Path(node["env"]["TMPDIR"]).glob("vbr-ray-*/out/*/.*vbr-partial*"))
    return found


def run_step(step: dict[str, Any], spec: dict[str, Any], address: str) -> dict[str, Any]:
    argv = [arg.replace("{address}", address) for arg in step["argv"]]
    if step.get("bind"):
        stash, target = step["bind"]
        argv = ["unshare", "-m", "sh", "-c", 'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", stash, target, *argv]
    env = {**os.environ, **step.get("env", {})}
    began = time.monotonic()
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=step.get("cwd"),
        # Ctrl-C as a terminal delivers it, even where this runs as a shell's background job (SIGINT ignored, inherited).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    killed: list[int] = []
    interrupted = False
    kills = int(step.get("kill", 0))  # how many workers to kill, each mid-row
    deadline = began + step.get("timeout", 120)
    while (len(killed) < kills or (step.get("interrupt") and not interrupted)) and child.poll() is None and time.monotonic() < deadline:
        for partial in partials(spec):
            pid = int(PARTIAL.search(partial.name).group(1))
            if pid in killed:
                continue  # what a killed try left behind
            time.sleep(0.3)  # into the row's frames, not just its first
            if not partial.exists():
                continue  # the row finished meanwhile: wait for another
            if len(killed) < kills:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            else:
                child.send_signal(getattr(signal, step["interrupt"]) if isinstance(step["interrupt"], str) else signal.SIGINT)
                interrupted = True
            break
        time.sleep(0.05)
    try:
        out, err = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
    return {
        "rc": child.returncode,
        "stdout": out,
        "stderr": err,
        "seconds": round(time.monotonic() - began, 3),
        "killed": killed,
        "interrupted": interrupted,
        "partials_left": [str(p) for p in partials(spec)],
        "masks": {label: count_masks(Path(root)) for label, root in spec.get("caches", {}).items()},
        "manifest": _read(step.get("manifest")),
        "ray_logs": "" if child.returncode == 0 else _ray_logs(Path(spec["temp_dir"])),
    }


def _ray_logs(temp_dir: Path) -> str:
    """The ends of Ray's own logs (client server, raylets): why a step failed, when vbr could not say."""
    found = sorted((temp_dir / "session_latest" / "logs").glob("*.err")) + sorted(
        (temp_dir / "session_latest" / "logs").glob("ray_client_server*.out")
    )
    return "\n".join(f"== {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in found if log.stat().st_size)


def _read(path: str | None) -> str | None:
    """A file the step wrote (its batch manifest), read before a later step replaces it."""
    try:
        return None if path is None else Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def count_masks(root: Path) -> int:
    """Mask entries in a cache directory (what a node has inferred or been given)."""
    return sum(1 for path in root.glob("masks-v*/*/*") if not path.name.startswith("."))


def main(spec_file: str, result_file: str) -> int:
    from renderer.bench.cluster import loopback_up, start_cluster

    spec = json.loads(Path(spec_file).read_text())
    loopback_up()
    began = time.monotonic()
    cluster = start_cluster([node["env"] for node in spec["nodes"]], Path(spec["temp_dir"]), client_port=spec.get("client_port"))
    results: dict[str, Any] = {"startup_seconds": round(time.monotonic() - began, 3), "address": cluster.address, "steps": {}}
    try:
        for step in spec["steps"]:
            results["steps"][step["name"]] = run_step(step, spec, cluster.address)
    finally:
        cluster.shutdown()
        Path(result_file).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
