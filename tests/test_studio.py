"""`vbr studio` through its HTTP API, in-process (Starlette's TestClient), with real pixels.

The app is made exactly as `vbr studio` makes it; the tiny redness model keeps
inference instant. The browser end of it is tests/test_studio_browser.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient  # noqa: E402

from helpers import make_clip  # noqa: E402
from renderer import api  # noqa: E402
from renderer.media.image import read_image  # noqa: E402
from renderer.studio import images, security  # noqa: E402
from renderer.studio.app import create_app  # noqa: E402
from renderer.studio.settings import Settings  # noqa: E402

TOKEN = "test-token-0123456789"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"

BODY = """version: 1
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: color, color: "{color}"}}
export: {{path: out/o.webm}}
"""

TEMPLATE = """version: 1
vars:
  name:  {{type: string, default: ada}}
  color: {{type: color, default: "#0000ff"}}
  size:  {{type: number, default: 12}}
  style: {{type: enum, choices: [light, dark], default: dark}}
  show:  {{type: bool, default: false}}
source: media/clip.mp4
model: {{name: {model}, dedup_threshold: 0}}
background: {{type: color, color: "${{color}}"}}
text:
  - {{text: "${{name}} ${{style}} ${{show}}", size: "${{size}}"}}
export: {{path: "out/${{name}}.webm"}}
"""


@pytest.fixture
def studio(redness_model):
    """Start the studio app on a project file; yields a client that sends the token (as the page does)."""
    clients: list[TestClient] = []

    def start(file: Path, rows: Path | None = None, values: dict[str, str] | None = None, headers: dict | None = None) -> TestClient:
        settings = Settings(project=file, token=TOKEN, host="127.0.0.1", port=PORT, rows=rows, values=values or {})
        client = TestClient(create_app(settings), base_url=BASE, headers={"X-Vbr-Token": TOKEN} if headers is None else headers)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def state(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/state")
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(client: TestClient, check: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
    """Poll the state until `check` holds (the page does the same on each event)."""
    deadline = time.monotonic() + timeout
    while True:
        current = state(client)
        if check(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"state never matched: {current}")
        time.sleep(0.05)


def decode(png: bytes, tmp_path: Path, name: str = "frame.png") -> np.ndarray:
    path = tmp_path / name
    path.write_bytes(png)
    return read_image(path)


def app_of(client: TestClient) -> Any:
    return client.app.state.studio


# --- security --------------------------------------------------------------------------------------


def test_every_request_needs_the_token(studio, project, redness_model, clip):
    file = project(BODY.format(model=redness_model, color="#0000ff"))
    client = studio(file, headers={})
    for path in ("/", "/static/studio.js", "/api/state", "/api/frame?i=0", "/api/events", "/api/output"):
        assert client.get(path).status_code == 403, path
        assert client.get(path, headers={"X-Vbr-Token": "wrong"}).status_code == 403, path
        assert client.get(path + ("&" if "?" in path else "?") + "token=wrong").status_code == 403, path
    assert client.post("/api/render").status_code == 403
    assert client.post("/api/values", json={"values": {}}).status_code == 403
    assert not (file.parent / "out").exists()
    # The page gets it in its URL; it then rides in a cookie (for this port only), a header or the query.
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and "<title>vbr studio</title>" in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"vbr_studio_{PORT}={TOKEN}") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/state").status_code == 200  # by the cookie
    client.cookies.clear()
    assert client.get("/api/state").status_code == 403
    assert client.get("/api/state", headers={"X-Vbr-Token": TOKEN}).status_code == 200
    assert client.get(f"/api/state?token={TOKEN}").status_code == 200


def test_a_host_header_other_than_the_bound_address_is_refused(studio, project, redness_model):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}"):
        assert client.get("/api/state", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", f"evil.example:{PORT}", f"127.0.0.1:{PORT + 1}", "127.0.0.1", f"localhost.evil.example:{PORT}", ""):
        assert client.get("/api/state", headers={"Host": host}).status_code == 403, host


def test_host_rules():
    loop = security.allowed_hosts("127.0.0.1", 9000)
    assert loop == {"127.0.0.1:9000", "localhost:9000", "[::1]:9000"}
    assert security.host_allowed("LOCALHOST:9000", loop, 9000)
    assert not security.host_allowed("example.com:9000", loop, 9000)
    assert not security.host_allowed(None, loop, 9000)
    lan = security.allowed_hosts("192.168.1.5", 9000)
    assert lan == {"192.168.1.5:9000"}
    # A wildcard bind takes IP literals and localhost (a DNS-rebinding page sends a name).
    assert security.allowed_hosts("0.0.0.0", 9000) is None
    for host, ok in [("10.0.0.7:9000", True), ("[fe80::1]:9000", True), ("localhost:9000", True),
                     ("rebind.example:9000", False), ("10.0.0.7:9001", False), ("10.0.0.7", False)]:
        assert security.host_allowed(host, None, 9000) is ok, host


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/%2E%2E/%2E%2E/pyproject.toml",
        "/static/..%2fpyproject.toml",
        "/static/index.html/../../README.md",
        "/static/studio.js/..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/",
        "/static/index.html",  # served at / only: nothing under /static but the two assets
        "/api/output/../../pyproject.toml",
        "/pyproject.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_no_path_from_a_request_reaches_the_file_system(studio, project, redness_model, path):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "[project]" not in response.text and "root:" not in response.text


def test_the_assets_are_served(studio, project, redness_model):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    script = client.get("/static/studio.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/studio.css").headers["content-type"].startswith("text/css")


# --- frames ----------------------------------------------------------------------------------------


def test_a_frame_is_the_preview_pixel_for_pixel(studio, project, redness_model, tmp_path):
    file = project(BODY.format(model=redness_model, color="#0000ff"))
    client = studio(file)
    info = client.get("/api/frame-info?i=12").json()
    assert info["masks_to_infer"] > 0  # the page says "model running…" for this one
    response = client.get("/api/frame?i=12")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["x-vbr-inferred"] == str(info["masks_to_infer"])
    shown = decode(response.content, tmp_path)
    expected = api.preview(api.compile(file), frames=[12], layers=True).frames[0]
    assert np.array_equal(shown[..., :3], expected.image) and (shown[..., 3] == 255).all()
    assert client.get("/api/frame-info?i=12").json()["masks_to_infer"] == 0  # cached now: quick
    again = client.get("/api/frame?i=12")
    assert again.headers["x-vbr-inferred"] == "0" and again.content == response.content

    def view(mode: str) -> np.ndarray:
        reply = client.get(f"/api/frame?i=12&mode={mode}")
        assert reply.status_code == 200, reply.text
        return decode(reply.content, tmp_path, f"{mode}.png")

    assert np.array_equal(view("matte")[..., 0], expected.matte)
    assert np.array_equal(view("original")[..., :3], expected.source)
    split = view("split")
    assert split.shape == (96, 320, 4)
    assert np.array_equal(split[:, :160, :3], expected.source) and np.array_equal(split[:, 160:, :3], expected.image)
    cut = view("transparency")
    assert np.array_equal(cut[..., :3], expected.source) and np.array_equal(cut[..., 3], expected.matte)
    assert client.get("/api/frame?i=12&mode=nope").status_code == 400
    assert client.get("/api/frame?i=25").status_code == 404
    assert client.get("/api/frame?i=-1").status_code == 404
    assert client.get("/api/frame?i=x").status_code == 400


def test_views_and_png_are_exact():
    rng = np.random.default_rng(1)
    for shape in [(5, 7), (5, 7, 3), (5, 7, 4)]:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        data = images.png(image)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    matte = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    assert images.view("split", image, image, matte).shape == (6, 16, 4)
    assert np.array_equal(images.shrink(np.arange(16, dtype=np.uint8).reshape(4, 4), 2), [[3, 5], [11, 13]])
    assert images.thumbnail_indices(10, 25) == [1, 3, 6, 8, 11, 13, 16, 18, 21, 23]
    assert images.thumbnail_indices(10, 3) == [0, 1, 2]


def test_png_round_trips_through_ffmpeg(tmp_path):
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, (9, 13, 4), dtype=np.uint8)
    assert np.array_equal(decode(images.png(rgba), tmp_path), rgba)


def test_thumbnails_never_start_the_model(studio, project, redness_model, tmp_path):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    thumbs = state(client)["thumbnails"]
    assert [t["index"] for t in thumbs] == images.thumbnail_indices(10, 25)
    assert client.get("/api/thumb?k=0").status_code == 204  # masks not cached: a placeholder
    assert app_of(client).session.snapshot.plan["masks_cached"] == 0
    assert client.get("/api/frame?i=1").status_code == 200  # viewing frame 1 infers what it needs
    thumb = client.get("/api/thumb?k=0")
    assert thumb.status_code == 200
    assert decode(thumb.content, tmp_path).shape == (96, 160, 4)
    assert client.get("/api/thumb?k=9").status_code == 204
    assert client.get("/api/thumb?k=10").status_code == 404


# --- live reload and errors in place ---------------------------------------------------------------


def test_saving_the_project_reloads_it_and_errors_show_in_place(studio, project, redness_model, tmp_path):
    file = project(BODY.format(model=redness_model, color="#0000ff"))
    client = studio(file)
    first = state(client)
    blue = decode(client.get("/api/frame?i=3").content, tmp_path, "blue.png")
    assert blue[-4:, :, 2].mean() > 200  # the background, bottom rows

    file.write_text(BODY.format(model=redness_model, color="#ffff00"), encoding="utf-8")
    changed = wait_for(client, lambda s: s["version"] > first["version"] and s["project"]["graph_key"] != first["project"]["graph_key"])
    assert changed["errors"] == []
    yellow = decode(client.get("/api/frame?i=3").content, tmp_path, "yellow.png")
    assert yellow[-4:, :, 0].mean() > 200 and yellow[-4:, :, 2].mean() < 50

    file.write_text(BODY.format(model=redness_model, color="#ffff00").replace("dedup_threshold: 0}", "dedup_threshold: 0}\nexport_typo: 1"), encoding="utf-8")
    broken = wait_for(client, lambda s: bool(s["errors"]))
    assert broken["project"] is None
    assert broken["errors"] == [f"{file}:4:1: export_typo: unknown key; did you mean 'export'?"]
    refused = client.get("/api/frame?i=3")
    assert refused.status_code == 409 and refused.json()["errors"] == broken["errors"]

    file.write_text("version: 1\nsource: media/clip.mp4\nexport:\n  path: out.webm\n  fps: fast\n", encoding="utf-8")
    located = wait_for(client, lambda s: s["errors"] != broken["errors"])
    assert located["errors"] == [f"{file}:5:8: export.fps: 'fast' is not one of: original, 30, 24, 15"]

    file.write_text(BODY.format(model=redness_model, color="#0000ff"), encoding="utf-8")
    fixed = wait_for(client, lambda s: not s["errors"])
    assert fixed["project"]["graph_key"] == first["project"]["graph_key"]
    assert np.array_equal(decode(client.get("/api/frame?i=3").content, tmp_path, "again.png"), blue)


def test_a_referenced_file_changing_reloads_too(studio, project, redness_model, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    own = make_clip(media / "own.mp4")
    file = project(BODY.format(model=redness_model, color="#0000ff").replace("media/clip.mp4", "media/own.mp4"))
    client = studio(file)
    first = state(client)
    assert str(own.resolve()) in {str(p) for p in app_of(client).session.snapshot.watched}
    make_clip(media / "other.mp4", moving=False)
    os.replace(media / "other.mp4", own)  # as an editor or an encoder saves: a new file renamed into place
    changed = wait_for(client, lambda s: s["project"] and s["project"]["graph_key"] != first["project"]["graph_key"])
    assert changed["version"] > first["version"]


# --- templates and rows ----------------------------------------------------------------------------


def test_the_vars_form_round_trips(studio, project, redness_model, tmp_path):
    file = project(TEMPLATE.format(model=redness_model), name="t.yaml")
    client = studio(file)
    first = state(client)
    assert [(v["name"], v["type"], v["default"], v["choices"], v["value"]) for v in first["variables"]] == [
        ("name", "string", "ada", None, None),
        ("color", "color", "#0000ff", None, None),
        ("size", "number", "12", None, None),
        ("style", "enum", "dark", ["light", "dark"], None),
        ("show", "bool", "false", None, None),
    ]
    assert first["project"]["export"] == str((tmp_path / "out" / "ada.webm").resolve())
    reply = client.post("/api/values", json={"values": {"name": "bob", "color": "#ff0000", "size": "20", "style": "light", "show": True}})
    assert reply.status_code == 200 and reply.json()["errors"] == []
    now = state(client)
    assert now["values"] == {"name": "bob", "color": "#ff0000", "size": "20", "style": "light", "show": "true"}
    assert [v["value"] for v in now["variables"]] == ["bob", "#ff0000", "20", "light", "true"]
    assert now["project"]["export"] == str((tmp_path / "out" / "bob.webm").resolve())
    red = decode(client.get("/api/frame?i=3").content, tmp_path)
    assert red[-4:, :, 0].mean() > 200 and red[-4:, :, 2].mean() < 50
    # A value that does not fit its type: the located error, where the frame was.
    bad = client.post("/api/values", json={"values": {"color": "red"}}).json()
    assert bad["errors"] == [f"{file}:4:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red'"]
    assert client.get("/api/frame?i=3").status_code == 409
    # An emptied field means "not given": the default applies.
    assert client.post("/api/values", json={"values": {"color": "", "name": ""}}).json()["errors"] == []
    assert state(client)["project"]["export"] == str((tmp_path / "out" / "ada.webm").resolve())
    assert client.post("/api/values", json={"values": ["x"]}).status_code == 400
    assert client.post("/api/values", content=b"{not json").status_code == 400


def test_set_values_from_the_command_line_fill_the_form(studio, project, redness_model):
    file = project(TEMPLATE.format(model=redness_model), name="t.yaml")
    client = studio(file, values={"name": "cli"})
    assert state(client)["values"] == {"name": "cli"}
    assert state(client)["project"]["export"].endswith("cli.webm")


def test_the_row_picker_shows_the_template_as_a_row_renders_it(studio, project, redness_model, tmp_path):
    file = project(TEMPLATE.format(model=redness_model), name="t.yaml")
    rows = tmp_path / "rows.csv"
    rows.write_text("name,color\nred,#ff0000\nbad,red\ngreen,#00ff00\n", encoding="utf-8")
    client = studio(file, rows=rows)
    first = state(client)
    assert first["rows_file"] == str(rows)
    assert [(r["line"], r["label"]) for r in first["rows"]] == [(2, "name=red, color=#ff0000"), (3, "name=bad, color=red"), (4, "name=green, color=#00ff00")]
    assert first["row"] is None
    picked = client.post("/api/row", json={"line": 4}).json()
    assert picked["errors"] == []
    now = state(client)
    assert now["row"] == 4 and now["values"] == {"name": "green", "color": "#00ff00"}
    assert now["project"]["export"] == str((tmp_path / "out" / "green.webm").resolve())  # where vbr batch puts it
    green = decode(client.get("/api/frame?i=3").content, tmp_path)
    assert green[-4:, :, 1].mean() > 200 and green[-4:, :, 0].mean() < 50
    bad = client.post("/api/row", json={"line": 3}).json()
    assert bad["errors"] == [f"{rows}:3: variable 'color' is a colour \"#rrggbb\" or \"#rrggbbaa\", not 'red' [{file}:4:3]"]
    # Editing the rows file reloads the picked row.
    before = state(client)
    rows.write_text("name,color\nred,#ff0000\nbad,#ffffff\ngreen,#00ff00\n", encoding="utf-8")
    fixed = wait_for(client, lambda s: s["version"] > before["version"] and not s["errors"])
    assert fixed["row"] == 3 and fixed["values"]["color"] == "#ffffff"
    assert client.post("/api/row", json={"line": None}).json()["errors"] == []
    assert state(client)["row"] is None
    assert client.post("/api/row", json={"line": "3"}).status_code == 400


def test_a_broken_rows_file_is_reported(studio, project, redness_model, tmp_path):
    file = project(TEMPLATE.format(model=redness_model), name="t.yaml")
    rows = tmp_path / "rows.csv"
    rows.write_text("name,colour\nred,#ff0000\n", encoding="utf-8")
    client = studio(file, rows=rows)
    now = state(client)
    assert now["rows"] == [] and now["errors"] == []
    assert now["rows_errors"] == [f"{rows}:1:6: column 'colour' names no variable of the template (variables: color, name, show, size, style)"]


def test_without_rows_the_picker_is_refused(studio, project, redness_model):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    assert client.post("/api/row", json={"line": 2}).status_code == 409


# --- plan and render -------------------------------------------------------------------------------


def test_the_plan_shows_each_node_and_what_a_render_would_infer(studio, project, redness_model):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    plan = state(client)["plan"]
    stages = [node["stage"] for node in plan["nodes"]]
    assert stages[0] == "decode" and stages[-1] == "encode" and "matte" in stages
    matte = plan["nodes"][stages.index("matte")]
    assert matte["status"] == "stale" and plan["frames_to_infer"] == 25 and plan["frames"] == 25
    assert plan == api.plan(app_of(client).session.project()).to_json()


def test_a_render_runs_and_its_output_is_served_with_ranges(studio, project, redness_model, tmp_path):
    file = project(BODY.format(model=redness_model, color="#0000ff"))
    client = studio(file)
    seen: list[tuple[str, dict]] = []
    app_of(client).broker.listen(lambda kind, data: seen.append((kind, data)))
    assert client.get("/api/output").status_code == 404  # nothing rendered yet
    started = client.post("/api/render")
    assert started.status_code == 202 and started.json()["status"] == "running"
    done = wait_for(client, lambda s: s["render"]["status"] != "running")
    assert done["render"]["status"] == "done", done["render"]
    assert done["render"]["frames_done"] == 25 and done["render"]["inferred"] == 25
    progress = [data for kind, data in seen if kind == "render" and data["frames_done"]]
    assert [p["frames_done"] for p in progress][:3] == [1, 2, 3] and progress[0]["frames"] == 25
    assert all(p["fps"] >= 0 for p in progress)
    export = tmp_path / "out" / "o.webm"
    assert done["output"] == {"exists": True, "path": str(export.resolve()), "playable": True, "frames": 25}
    after = wait_for(client, lambda s: s["plan"]["frames_to_infer"] == 0)  # the masks are cached now
    assert after["plan"]["nodes"][-1]["status"] == "cached"

    whole = client.get("/api/output")
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/webm"
    assert whole.headers["accept-ranges"] == "bytes" and whole.content == export.read_bytes()
    part = client.get("/api/output", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == export.read_bytes()[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{export.stat().st_size}"
    tail = client.get("/api/output", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == export.read_bytes()[-10:]
    assert client.get("/api/output", headers={"Range": f"bytes={export.stat().st_size + 5}-"}).status_code == 416
    # All thumbnails exist now: their masks are cached.
    assert all(client.get(f"/api/thumb?k={k}").status_code == 200 for k in range(10))
    # A second render finds the export up to date.
    client.post("/api/render")
    again = wait_for(client, lambda s: s["render"]["status"] != "running")
    assert again["render"]["status"] == "done" and again["render"]["skipped"]
    assert client.post("/api/render/cancel").status_code == 409  # nothing to cancel


def test_cancelling_a_render_leaves_no_partial_file(studio, project, redness_model, tmp_path):
    longer = make_clip(tmp_path / "long.mp4", size=(320, 192), seconds=3.0)
    file = project(BODY.format(model=redness_model, color="#0000ff"), source=longer)
    client = studio(file)
    out = tmp_path / "out"
    cancel_sent = threading.Event()
    reached: list[int] = []

    def hold(kind: str, data: dict) -> None:
        # The render thread waits at its 5th frame until the page's cancel has gone out:
        # the cancel lands mid-render, however fast the machine.
        if kind == "render" and data["frames_done"] == 5 and not reached:
            reached.append(5)
            cancel_sent.wait(10)

    app_of(client).broker.listen(hold)
    assert client.post("/api/render").status_code == 202
    deadline = time.monotonic() + 30
    while not reached and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reached, "the render never reached frame 5"
    partial = [p.name for p in out.iterdir()] if out.exists() else []
    assert any(".vbr-partial" in name for name in partial), partial  # it was writing
    cancelled = client.post("/api/render/cancel")
    assert cancelled.status_code == 202, cancelled.text
    cancel_sent.set()
    finished = wait_for(client, lambda s: s["render"]["status"] != "running")
    assert finished["render"]["status"] == "cancelled", finished["render"]
    assert finished["render"]["frames_done"] < 75
    assert not (out / "o.webm").exists()
    assert not out.exists() or list(out.iterdir()) == []  # no temp files beside it either
    assert finished["output"]["exists"] is False
    assert client.get("/api/output").status_code == 404


def test_render_refused_while_the_project_is_broken(studio, project, redness_model):
    file = project("version: 1\nsource: media/clip.mp4\nexport: {path: out.webm, fps: fast}\n")
    client = studio(file)
    reply = client.post("/api/render")
    assert reply.status_code == 409 and reply.json()["errors"][0].startswith(f"{file}:3:")


def test_events_stream_says_hello(studio, project, redness_model):
    client = studio(project(BODY.format(model=redness_model, color="#0000ff")))
    studio_app = app_of(client)
    with client.stream("GET", "/api/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "event: hello"
        assert next(lines).startswith('data: {"version":')
        studio_app.broker.publish("state", {"version": 99})
        assert [next(lines) for _ in range(3)] == ["", "event: state", 'data: {"version":99}']
        studio_app.stopping.set()  # as on Ctrl-C: the stream ends


# --- the command -----------------------------------------------------------------------------------


def test_studio_without_the_extra_is_one_line_and_exit_2(vbr, project, redness_model, monkeypatch):
    file = project(BODY.format(model=redness_model, color="#0000ff"))
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now raises ImportError
    result = vbr("studio", "--no-browser", file)
    assert result.code == 2
    assert result.err.strip() == "vbr studio needs the studio extra: pip install 'vbr[studio]'"


def test_vbr_help_does_not_import_the_server():
    code = "import sys; from renderer.cli import build_parser; build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'watchfiles')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`vbr studio --no-browser --port 0 ...` in a subprocess; returns it and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "renderer", "studio", "--no-browser", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("vbr studio: http://"), (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, line.split(": ", 1)[1].strip()


def test_the_command_serves_prints_its_url_and_stops_on_ctrl_c(project, redness_model_file, tmp_path):
    """A subprocess, so the model is a file the project names (the registry fixture is in-process only)."""
    import httpx

    model = tmp_path / "m.onnx"
    model.write_bytes(redness_model_file.read_bytes())
    file = project(BODY.format(model="x", color="#0000ff").replace("name: x", "path: m.onnx, input_size: 64, activation: sigmoid"))
    proc, url = start_cli(str(file))
    try:
        assert url.startswith("http://127.0.0.1:") and "?token=" in url
        base, token = url.split("/?token=")
        assert httpx.get(f"{base}/api/state").status_code == 403
        reply = httpx.get(f"{base}/api/state", params={"token": token})
        assert reply.status_code == 200 and reply.json()["errors"] == [], reply.text
        assert httpx.get(f"{base}/api/frame", params={"token": token, "i": 0}).status_code == 200
        with httpx.stream("GET", f"{base}/api/events", params={"token": token}) as events:  # an open stream must not hold Ctrl-C up
            next(events.iter_lines())
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0
    err = proc.stderr.read()
    assert "vbr studio: stopped" in err and "Traceback" not in err


def test_listening_on_every_address_warns(project):
    file = project(BODY.format(model="u2netp", color="#0000ff"))
    proc, url = start_cli("--host", "0.0.0.0", str(file))
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert url.startswith("http://127.0.0.1:")
    assert "warning: listening on 0.0.0.0" in proc.stderr.read()


def test_command_usage_errors(vbr, tmp_path):
    assert vbr("studio", "--no-browser", tmp_path / "missing.yaml").code == 2
    result = vbr("studio", "--no-browser", "--port", "70000", tmp_path / "missing.yaml")
    assert result.code == 2
