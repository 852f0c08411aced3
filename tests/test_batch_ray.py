"""`vbr batch --ray` on a real local Ray cluster: two nodes, each with its own cache and temp dir.

One cluster serves every test here (it takes seconds to start): the module
fixture writes the project, starts tests/ray_cluster.py inside a private
network namespace (`unshare -n`, so Ray binds to 127.0.0.1 and nothing leaves
loopback), runs each command there and hands back what each printed and
exited with. Every vbr command runs in a private mount namespace that
bind-mounts the project onto its directory: the driver sees the files, the
cluster's nodes see an empty directory, as machines without a shared
filesystem would. Local `vbr batch -j 1` runs of the same rows are the
reference the Ray runs are compared with, byte for byte.

Needs Ray (`pip install 'vbr[ray]'`), root, `unshare` and `mount`: skipped
otherwise, unless VBR_REQUIRE_RAY=1 (CI), where a missing piece fails.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from conftest import _build_redness_model
from helpers import make_clip, make_image

HERE = Path(__file__).resolve().parent

TEMPLATE = """version: 1
vars:
  name: {type: string}
  clip: {type: path, default: media/a.mp4}
  backdrop: {type: path, default: media/sky.png}
source: "${clip}"
model: {path: models/redness.onnx, input_size: 64, activation: sigmoid}
background: {type: image, image: "${backdrop}"}
text: [{text: "${name}", font: fonts/blocks.ttf, size: 20}]
export: {path: "out/${name}.mp4"}
"""

# Two matte groups (clips a and b); the sea backdrop and the font travel like the sources.
ROWS = "name,clip,backdrop\nA,,\nB,,media/sea.png\nC,media/b.mp4,\nAB,,\nBA,media/b.mp4,media/sea.png\n"
BAD_ROWS = "name,clip\nA,\nB,media/missing.mp4\nC,media/b.mp4\n"  # line 3: no such source
LONG_ROWS = "name,clip\nA,media/long.mp4\nB,media/long.mp4\nC,media/long.mp4\n"  # one group, rows of ~3 s
DOOMED_ROW = "name,clip\nD,media/long.mp4\n"  # its worker is killed on every try
SEQUENCE_ROWS = "name\nA\nB\n"  # with SEQUENCE_TEMPLATE: two PNG sequences (folders)
SEQUENCE_TEMPLATE = TEMPLATE.replace('export: {path: "out/${name}.mp4"}', 'export: {path: "out/${name}", format: png}')


def _unavailable() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return "Ray is not installed (pip install 'vbr[ray]')"
    if sys.platform != "linux" or os.geteuid() != 0:
        return "the cluster runs in network and mount namespaces: needs Linux and root"
    for tool in ("unshare", "mount"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    probe = subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create namespaces here: {probe.stderr.strip()}"
    return None


def _require_cluster() -> None:
    reason = _unavailable()
    if reason:
        if os.environ.get("VBR_REQUIRE_RAY") == "1":
            pytest.fail(f"VBR_REQUIRE_RAY=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster_run() -> dict[str, Any]:
    _require_cluster()
    # Short paths: Ray puts sockets under its temp dir, and socket paths are short.
    work = Path(tempfile.mkdtemp(prefix="vbr-rt-", dir="/tmp"))
    try:
        yield _run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path) -> dict[str, Any]:
    stash, project, out = work / "stash", work / "project", work / "out"
    for folder in (stash / "media", stash / "models", stash / "fonts", project, out):
        folder.mkdir(parents=True)
    make_clip(stash / "media" / "a.mp4")
    make_clip(stash / "media" / "b.mp4", stripes=True, step=3)
    make_clip(stash / "media" / "long.mp4", size=(640, 360), seconds=4, step=6)
    make_image(stash / "media" / "sky.png", _flat((96, 160, 3), (40, 90, 200)))
    make_image(stash / "media" / "sea.png", _flat((96, 160, 3), (10, 60, 90)))
    _build_redness_model(stash / "models" / "redness.onnx")
    from helpers import make_font

    make_font(stash / "fonts" / "blocks.ttf", {"A": (100, 0, 900, 700), "B": (100, 0, 500, 700), "C": (100, 0, 900, 300)})
    (stash / "t.yaml").write_text(TEMPLATE, encoding="utf-8")
    (stash / "seq.yaml").write_text(SEQUENCE_TEMPLATE, encoding="utf-8")
    rows_files = (("rows.csv", ROWS), ("bad.csv", BAD_ROWS), ("long.csv", LONG_ROWS), ("doomed.csv", DOOMED_ROW), ("seq.csv", SEQUENCE_ROWS))
    for name, text in rows_files:
        (stash / name).write_text(text, encoding="utf-8")

    nodes = [work / "node1", work / "node2"]
    caches = {"node1": str(nodes[0] / "cache"), "node2": str(nodes[1] / "cache"), "shared": str(work / "shared")}

    def vbr(
        name: str, rows: str, *flags: str, cache: str = "driver", into: str | None = None, template: str = "t.yaml", **extra: Any
    ) -> dict[str, Any]:
        argv = [sys.executable, "-m", "renderer", "batch", str(project / template), str(project / rows), "--json",
                "--out-dir", str(out / (into or name)), *flags]
        env = {"VBR_CACHE_DIR": str(work / f"cache-{cache}")}
        manifest = str(out / (into or name) / "batch-manifest.json")
        return {"name": name, "argv": argv, "env": env, "bind": [str(stash), str(project)], "manifest": manifest, **extra}

    ray = ("--ray", "{address}")
    spec = {
        "temp_dir": str(work / "ray"),
        "nodes": [{"env": {"VBR_CACHE_DIR": str(n / "cache"), "TMPDIR": str(n / "tmp")}} for n in nodes],
        "caches": caches,
        "client_port": 10001,  # the namespace's own loopback: no other program can hold it
        "steps": [
            vbr("local", "rows.csv", "-j", "1", cache="local"),
            vbr("ray", "rows.csv", *ray),
            vbr("ray_again", "rows.csv", *ray, into="ray"),
            vbr("local_bad", "bad.csv", "-j", "1", cache="local"),
            vbr("ray_bad", "bad.csv", *ray),
            vbr("local_bad_ff", "bad.csv", "-j", "1", "--fail-fast", cache="local"),
            vbr("ray_bad_ff", "bad.csv", *ray, "--fail-fast"),
            vbr("local_long", "long.csv", "-j", "1", cache="local"),
            vbr("ray_long", "long.csv", *ray),
            vbr("ray_kill", "long.csv", *ray, kill=1),
            vbr("ray_doomed", "doomed.csv", *ray, kill=3),
            vbr("ray_interrupt", "long.csv", *ray, interrupt=True),
            vbr("ray_terminate", "long.csv", *ray, interrupt="SIGTERM"),
            vbr("ray_shared", "rows.csv", *ray, "--cache-dir", caches["shared"]),
            # No address: a Ray instance of its own, on this machine (its session files in the work dir).
            vbr("ray_local", "rows.csv", "--ray") | {"env": {"VBR_CACHE_DIR": str(work / "cache-driver"), "RAY_TMPDIR": str(work / "rt")}},
            vbr("ray_client", "rows.csv", "--ray", "ray://127.0.0.1:10001"),  # through Ray Client
            vbr("local_seq", "seq.csv", "-j", "1", cache="local", template="seq.yaml"),
            vbr("ray_seq", "seq.csv", *ray, template="seq.yaml"),
        ],
    }
    (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    result_file = work / "result.json"
    command = ["unshare", "-n", sys.executable, str(HERE / "ray_cluster.py"), str(work / "spec.json"), str(result_file)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    runner = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result_file.exists(), f"the cluster runner failed ({runner.returncode}):\n{runner.stderr[-4000:]}"
    results = json.loads(result_file.read_text())
    results["out"], results["nodes"], results["project"] = out, nodes, project
    results["files"] = {  # what each run wrote, read before the work directory goes
        name: {str(p.relative_to(out / name)): p.read_bytes() for p in sorted((out / name).rglob("*")) if p.is_file()}
        for name in results["steps"]
        if (out / name).is_dir()
    }
    results["scratch_left"] = [str(p) for n in nodes for p in (n / "tmp").glob("vbr-ray-*")]
    return results


def _flat(shape: tuple[int, int, int], colour: tuple[int, int, int]) -> Any:
    import numpy as np

    image = np.empty(shape, dtype=np.uint8)
    image[...] = colour
    return image


def step(results: dict[str, Any], name: str) -> dict[str, Any]:
    found = results["steps"][name]
    found["events"] = [json.loads(line) for line in found["stdout"].splitlines()]  # every stdout line is JSON
    return found


def by_kind(events: list[dict]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for event in events:
        kinds.setdefault(event["event"], []).append(event)
    return kinds


def outputs(results: dict[str, Any], name: str) -> dict[str, bytes]:
    """The run's videos and their manifests (not the batch manifest, which has timings)."""
    return {path: data for path, data in results["files"][name].items() if path != "batch-manifest.json"}


def batch_manifest(results: dict[str, Any], name: str) -> dict[str, Any]:
    manifest = json.loads(results["steps"][name]["manifest"])
    for row in manifest["rows"]:
        row["seconds"] = None  # timings differ run to run
    return manifest


def comparable(events: list[dict], name: str) -> list[dict]:
    """Events without timings, output paths without the run's own directory, rows in line
    order (rows on different nodes finish in any order); the batch event stays last."""
    kept = []
    for event in events:
        # Timings differ, and so do cache hits: each node has its own cache, warm from earlier runs or not.
        event = {k: v for k, v in event.items() if k not in ("seconds", "providers", "inferred_frames", "cached_frames")}
        kept.append(json.loads(json.dumps(event).replace(f"/out/{name}/", "/out/RUN/")))
    return sorted(kept, key=lambda e: (e["event"] == "batch", e.get("row", 0), e["event"]))


def test_ray_outputs_are_byte_identical_to_a_local_batch(cluster_run):
    local, ray = step(cluster_run, "local"), step(cluster_run, "ray")
    assert local["rc"] == 0 and ray["rc"] == 0, ray["stderr"][-3000:] + ray["ray_logs"]
    assert sorted(outputs(cluster_run, "ray")) == sorted(outputs(cluster_run, "local"))
    assert len(outputs(cluster_run, "ray")) == 10  # five videos, five manifests
    for path, data in outputs(cluster_run, "local").items():
        assert outputs(cluster_run, "ray")[path] == data, path
    assert batch_manifest(cluster_run, "ray") == batch_manifest(cluster_run, "local")
    assert not [p for p in cluster_run["files"]["ray"] if "vbr-partial" in p]


CLIP_OF = {2: "a", 3: "a", 4: "b", 5: "a", 6: "b"}  # ROWS: line -> source


def inferred_per_source(events: list[dict]) -> dict[str, list[int]]:
    inferred: dict[str, list[int]] = {"a": [], "b": []}
    for done in by_kind(events)["done"]:
        inferred[CLIP_OF[done["row"]]].append(done["inferred_frames"])
    return {clip: sorted(counts) for clip, counts in inferred.items()}


def test_each_source_is_inferred_once_across_the_cluster(cluster_run):
    local, ray = inferred_per_source(step(cluster_run, "local")["events"]), inferred_per_source(step(cluster_run, "ray")["events"])
    # Per source, the group's first row infers what it needs (with dedup, not every frame); the others nothing.
    assert local["a"][:2] == [0, 0] and local["b"][:1] == [0] and local["a"][2] > 0 and local["b"][1] > 0
    assert ray == local



def test_rows_on_another_node_get_the_first_rows_masks_shipped(cluster_run):
    """One group of three rows: the first row infers on one node, then the other two run side by
    side, one on each node. Both nodes end up with every mask of the clip; one inferred them."""
    long, before = step(cluster_run, "ray_long"), step(cluster_run, "local_long")
    assert long["rc"] == 0, long["stderr"][-3000:]
    done = sorted(by_kind(long["events"])["done"], key=lambda e: e["inferred_frames"])
    frames = done[-1]["inferred_frames"]
    assert [e["inferred_frames"] for e in done] == [0, 0, frames] and frames > 0
    grew = {node: long["masks"][node] - before["masks"][node] for node in ("node1", "node2")}
    assert grew == {"node1": frames, "node2": frames}
    assert outputs(cluster_run, "ray_long") == outputs(cluster_run, "local_long")


def test_the_nodes_never_saw_the_drivers_files(cluster_run):
    """The project directory is empty outside the driver's mount namespace: sources,
    backdrops, font and model all reached the nodes through the object store."""
    assert list(cluster_run["project"].iterdir()) == []
    assert step(cluster_run, "ray")["rc"] == 0


def test_json_stdout_stays_clean_of_ray_messages(cluster_run):
    for name in ("ray", "ray_kill", "ray_interrupt", "ray_terminate"):
        events = step(cluster_run, name)["events"]  # json.loads of every line: raises on anything else
        assert events, name


def test_up_to_date_rows_are_skipped_on_a_rerun(cluster_run):
    again = step(cluster_run, "ray_again")
    assert again["rc"] == 0, again["stderr"][-2000:]
    events = by_kind(again["events"])
    assert [e["skipped"] for e in events["done"]] == [True] * 5
    assert events["batch"][0] | {"seconds": 0, "manifest": ""} == {
        "event": "batch", "rendered": 0, "skipped": 5, "failed": 0, "cancelled": 0, "seconds": 0, "manifest": ""
    }


@pytest.mark.parametrize("name", ["bad", "bad_ff"])
def test_bad_rows_and_fail_fast_behave_as_in_a_local_batch(cluster_run, name):
    local, ray = step(cluster_run, f"local_{name}"), step(cluster_run, f"ray_{name}")
    assert local["rc"] == ray["rc"] == 2
    assert comparable(ray["events"], f"ray_{name}") == comparable(local["events"], f"local_{name}")
    assert batch_manifest(cluster_run, f"ray_{name}") == batch_manifest(cluster_run, f"local_{name}")
    assert outputs(cluster_run, f"ray_{name}") == outputs(cluster_run, f"local_{name}")
    statuses = [row["status"] for row in batch_manifest(cluster_run, f"ray_{name}")["rows"]]
    assert statuses == (["rendered", "failed", "rendered"] if name == "bad" else ["cancelled", "failed", "cancelled"])


def test_a_worker_killed_mid_row_is_retried_and_the_batch_completes(cluster_run):
    kill = step(cluster_run, "ray_kill")
    assert len(kill["killed"]) == 1, "no row was caught mid-render"
    assert kill["rc"] == 0, kill["stderr"][-3000:]
    assert outputs(cluster_run, "ray_kill") == outputs(cluster_run, "local_long")
    assert not [p for p in cluster_run["files"]["ray_kill"] if "vbr-partial" in p]
    assert batch_manifest(cluster_run, "ray_kill") == batch_manifest(cluster_run, "local_long")
    # The nodes' caches hold the clip's masks since ray_long: no try of any row inferred.
    assert [e["inferred_frames"] for e in by_kind(kill["events"])["done"]] == [0, 0, 0]


def test_a_row_whose_worker_dies_on_every_try_is_a_failed_row(cluster_run):
    doomed = step(cluster_run, "ray_doomed")
    assert len(doomed["killed"]) == 3, "the row was not caught mid-render on each try"
    assert doomed["rc"] == 1, doomed["stderr"][-3000:]
    rows = cluster_run["project"] / "doomed.csv"
    assert by_kind(doomed["events"])["error"] == [{
        "event": "error", "row": 2, "exit_code": 1, "output": str(cluster_run["out"] / "ray_doomed" / "out" / "D.mp4"),
        "message": f"{rows}:2: its Ray worker or node died on each of its 3 tries (WorkerCrashedError)",
    }]
    assert [(r["status"], r["error"]) for r in batch_manifest(cluster_run, "ray_doomed")["rows"]] == [
        ("failed", f"{rows}:2: its Ray worker or node died on each of its 3 tries (WorkerCrashedError)")
    ]
    assert outputs(cluster_run, "ray_doomed") == {}


def test_ctrl_c_cancels_the_rows_writes_the_manifest_and_exits_130(cluster_run):
    stopped = step(cluster_run, "ray_interrupt")
    assert stopped["interrupted"]
    assert stopped["rc"] == 130, stopped["stderr"][-3000:]
    assert stopped["events"][-1] == {"event": "error", "message": "interrupted", "exit_code": 130}
    manifest = batch_manifest(cluster_run, "ray_interrupt")
    assert manifest["cancelled"] >= 1 and manifest["cancelled"] + manifest["rendered"] + manifest["skipped"] == 3
    written = outputs(cluster_run, "ray_interrupt")
    assert not [p for p in written if "vbr-partial" in p]
    for row in manifest["rows"]:  # a cancelled row left nothing; a finished one is whole
        path = row["output"]
        if row["status"] == "cancelled":
            assert path not in written
        else:
            assert hashlib.sha256(written[path]).hexdigest() == row["sha256"]


def test_sigterm_stops_the_batch_as_sigterm(cluster_run):
    """Ray turns what a signal handler raises during its waits into KeyboardInterrupt: still 143, not 130."""
    stopped = step(cluster_run, "ray_terminate")
    assert stopped["interrupted"] and stopped["rc"] == 143, stopped["stderr"][-3000:]
    assert stopped["events"][-1] == {"event": "error", "message": "terminated", "exit_code": 143}
    manifest = batch_manifest(cluster_run, "ray_terminate")
    assert manifest["cancelled"] >= 1
    assert not [p for p in outputs(cluster_run, "ray_terminate") if "vbr-partial" in p]


def test_a_cache_dir_the_nodes_share_is_used_by_them(cluster_run):
    shared, before = step(cluster_run, "ray_shared"), step(cluster_run, "ray_terminate")
    assert shared["rc"] == 0, shared["stderr"][-3000:]
    inferred = sum(e["inferred_frames"] for e in by_kind(shared["events"])["done"])
    assert inferred > 0 and shared["masks"]["shared"] == inferred  # the first rows' masks, in the shared cache
    assert shared["masks"]["node1"] == before["masks"]["node1"] and shared["masks"]["node2"] == before["masks"]["node2"]
    assert inferred_per_source(shared["events"]) == inferred_per_source(step(cluster_run, "local")["events"])
    assert outputs(cluster_run, "ray_shared") == outputs(cluster_run, "local")


def test_png_sequences_come_back_whole_and_byte_identical_to_a_local_batch(cluster_run):
    """A row's output folder travels as its files and is published whole on the driver."""
    local, ray = step(cluster_run, "local_seq"), step(cluster_run, "ray_seq")
    assert local["rc"] == 0 and ray["rc"] == 0, ray["stderr"][-3000:] + ray["ray_logs"]
    written = outputs(cluster_run, "ray_seq")
    assert written == outputs(cluster_run, "local_seq")
    for name in ("A", "B"):
        frames = [f"out/{name}/frame_{i:05d}.png" for i in range(25)]
        assert sorted(p for p in written if p.startswith(f"out/{name}/")) == [f"out/{name}/audio.wav", *frames]
        assert json.loads(written[f"out/{name}.manifest.json"])["pattern"] == "frame_%05d.png"
    assert batch_manifest(cluster_run, "ray_seq") == batch_manifest(cluster_run, "local_seq")
    assert not [p for p in written if "vbr-partial" in p]


def test_nodes_delete_their_copies_when_the_batch_ends(cluster_run):
    assert cluster_run["scratch_left"] == []
    assert all(not step(cluster_run, name)["partials_left"] for name in cluster_run["steps"])


@pytest.mark.parametrize("name", ["ray_local", "ray_client"])
def test_ray_without_an_address_or_through_ray_client(cluster_run, name):
    """No address starts a Ray instance of the batch's own; ray://HOST:PORT goes through Ray Client."""
    run = step(cluster_run, name)
    assert run["rc"] == 0, run["stderr"][-3000:] + run["ray_logs"]
    assert outputs(cluster_run, name) == outputs(cluster_run, "local")
    assert by_kind(run["events"])["batch"][0]["rendered"] == 5


def test_the_batch_benchmark_runs_both_ways_in_quick_mode(tmp_path):
    _require_cluster()
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "renderer.bench", "batch", "--quick", "--json", str(out)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["rows"] == 8 and results["outputs_identical"] is True
    assert results["ray_startup_seconds"] > 0 and results["local_rows_per_minute"] > 0 and results["ray_rows_per_minute"] > 0
    assert results["ray_overhead"] == pytest.approx(results["ray_seconds"] / results["local_seconds"], rel=0.02)


# Without a cluster: the flags, the missing extra, and the parts a Ray task is made of.

SMALL = """version: 1
vars:
  name: {{type: string}}
source: media/clip.mp4
model: {{path: {model}, input_size: 64, activation: sigmoid}}
background: {{type: image, image: {image}}}
text: [{{text: "${{name}}", font: {font}}}]
export: {{path: "out/${{name}}.mp4"}}
"""


@pytest.fixture
def small(project, tmp_path, redness_model_file):
    from helpers import make_font

    image = make_image(tmp_path / "sky.png", _flat((96, 160, 3), (40, 90, 200)))
    font = make_font(tmp_path / "blocks.ttf", {"A": (100, 0, 900, 700)})
    template = project(SMALL.format(model=redness_model_file, image=image, font=font), name="t.yaml")
    (tmp_path / "rows.csv").write_text("name\nA\n", encoding="utf-8")
    return template, tmp_path / "rows.csv"


def test_without_ray_installed_batch_ray_is_a_one_line_usage_error(small, vbr, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what find_spec reports for a module that is not installed
    result = vbr("batch", *small, "--ray")
    assert result.code == 2
    assert result.err == "vbr batch --ray needs the ray extra: pip install 'vbr[ray]'\n"
    assert not (small[0].parent / "out").exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--ray-cpus-per-row", "2"], "vbr batch: --ray-cpus-per-row needs --ray"),
        (["--ray", "--ray-cpus-per-row", "0"], "vbr batch: --ray-cpus-per-row must be at least 1"),
        (["--ray", "-j", "2"], "vbr batch: -j and --ray do not mix: Ray runs as many rows at once as the cluster has CPUs for"),
    ],
)
def test_ray_flags_are_checked_before_anything_runs(small, vbr, flags, message):
    result = vbr("batch", *small, *flags)
    assert (result.code, result.err) == (2, message + "\n")


def test_a_cluster_nobody_answers_at_is_a_prompt_error_and_the_rows_are_cancelled(small, vbr):
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed")
    result = vbr("batch", *small, "--ray", "127.0.0.1:1")  # port 1: nothing listens there
    assert result.code == 1
    assert result.err == "vbr batch --ray: cannot reach the Ray cluster at 127.0.0.1:1 (Connection refused)\n"
    manifest = json.loads((small[0].parent / "batch-manifest.json").read_text())
    assert [row["status"] for row in manifest["rows"]] == ["cancelled"]


def _graph(template: Path):
    import renderer.api as api

    return api.compile(template, values={"name": "A"}).graph


def test_a_relocated_graph_keeps_its_key_and_reads_only_the_copies(small, tmp_path):
    from renderer.batch.shipping import graph_inputs, relocate
    from renderer.digest import file_sha256

    graph = _graph(small[0])
    inputs = graph_inputs(graph)
    assert sorted(i.path.name for i in inputs) == ["blocks.ttf", "clip.mp4", "redness.onnx", "sky.png"]
    assert all(file_sha256(i.path) == i.sha256 for i in inputs)
    node = tmp_path / "node"
    node.mkdir()
    copies = {i.sha256: shutil.copy(i.path, node / i.name) for i in inputs}
    moved = relocate(graph, {sha: Path(path) for sha, path in copies.items()}, node / "out" / "A.mp4")
    assert moved.key() == graph.key()
    assert sorted(i.path for i in graph_inputs(moved)) == sorted(Path(p) for p in copies.values())
    assert moved.path == str(node / "out" / "A.mp4")
    with pytest.raises(ValueError, match="keeps its name"):
        relocate(graph, {sha: Path(path) for sha, path in copies.items()}, node / "other.mp4")


def test_masks_a_first_row_used_let_another_cache_render_without_inferring(small, tmp_path):
    from renderer.batch.shared_masks import RecordingMaskCache, seed
    from renderer.graph.execute import open_cache, render

    graph = _graph(small[0])
    first = RecordingMaskCache(open_cache(tmp_path / "node1", lambda event: None))
    done = render(graph, cache=first, force=True)
    assert done.inferred_frames > 0 and len(first.used) == done.inferred_frames
    other = open_cache(tmp_path / "node2", lambda event: None)
    assert seed(other, first.used) == done.inferred_frames
    again = render(graph, cache_root=tmp_path / "node2", force=True)
    assert (again.inferred_frames, again.cached_frames) == (0, done.inferred_frames + done.cached_frames)
    assert seed(other, first.used) == 0  # nothing twice


def test_a_ray_plan_takes_an_explicit_device_as_given(small, monkeypatch):
    """The nodes have the GPU, not necessarily the driver: --device cuda is checked there."""
    import renderer.api as api
    from renderer.graph.nodes import Matte

    monkeypatch.setattr("renderer.matting.device.available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(api.UsageError, match="no CUDAExecutionProvider"):
        api.plan_batch(*small, options=api.Options(device="cuda"))
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed")
    plan = api.plan_batch(*small, options=api.Options(device="cuda"), executor="ray")
    assert [job.graph.find(Matte).device for job in plan.jobs] == ["cuda"]


def test_a_node_with_other_versions_refuses_the_row(small):
    """Its output would differ from the driver's: the row fails, naming what differs."""
    from dataclasses import replace

    from renderer.batch.plan import Job
    from renderer.batch.ray_task import version_mismatch

    graph = _graph(small[0])
    assert version_mismatch(Job(2, graph, "g")) is None
    older = tuple((name, "0.0.1" if name == "vbr" else version) for name, version in graph.tools)
    mine = dict(graph.tools)["vbr"]
    assert version_mismatch(Job(2, replace(graph, tools=older), "g")) == f"vbr {mine} (the driver: 0.0.1)"
