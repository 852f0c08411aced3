"""`vbr studio` end to end in a real headless Chromium, driven by Selenium.

The real command runs in a subprocess; the page must show a frame, follow a
save of the project file, show a broken file's located errors in place of the
frame and recover from them, play the export it renders, and redraw when a
value is typed into the vars form. Screenshots of each step land in the
test's tmp dir (and in $VBR_ARTIFACTS when set).

Needs Debian's `chromium` and `chromium-driver`; without them the test skips,
unless VBR_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

CHROMIUM = os.environ.get("VBR_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("VBR_CHROMEDRIVER", "/usr/bin/chromedriver")

BODY = """version: 1
vars:
  color: {{type: color, default: "{color}"}}
source: media/clip.mp4
model: {{path: m.onnx, input_size: 64, activation: sigmoid, dedup_threshold: 0}}
background: {{type: color, color: "${{color}}"}}
export: {{path: out/o.webm}}
"""
BROKEN = """version: 1
source: media/clip.mp4
model: {path: m.onnx, input_size: 64, activation: sigmoid, dedup_threshold: 0}
export:
  fps: fast
  path: out/o.webm
"""


def browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} not found: apt-get install {package}"
    return None


@pytest.fixture
def browser(tmp_path: Path):
    missing = browser_missing()
    if missing:
        if os.environ.get("VBR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"VBR_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # given, so Selenium Manager never looks for (or downloads) one
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


class Shots:
    """Numbered screenshots under the test's tmp dir, copied to $VBR_ARTIFACTS when it is set."""

    def __init__(self, driver: Any, folder: Path):
        self.driver, self.folder, self.count = driver, folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        target = os.environ.get("VBR_ARTIFACTS")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / f"studio-{path.name}")
        return path


def until(check: Callable[[], Any], what: str, shots: Shots, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # the page may be mid-update: an element replaced, say
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            shots(f"timeout-{what.replace(' ', '-')}")
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


PIXEL = """
const img = document.getElementById('frame');
if (img.hidden || !img.complete || img.naturalWidth === 0) return null;
const c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
const g = c.getContext('2d');
g.drawImage(img, 0, 0);
return [img.naturalWidth, img.naturalHeight, img.dataset.key, ...g.getImageData(4, img.naturalHeight - 3, 1, 1).data];
"""


def test_the_page_previews_reloads_shows_errors_and_plays_the_render(browser, project, redness_model_file, tmp_path):
    from selenium.webdriver.common.by import By

    shots = Shots(browser, tmp_path / "screenshots")
    (tmp_path / "m.onnx").write_bytes(redness_model_file.read_bytes())
    file = project(BODY.format(color="#0000ff"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "renderer", "studio", "--no-browser", "--port", "0", str(file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("vbr studio: http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() is not None else "")
        url = line.split(": ", 1)[1].strip()
        browser.get(url)

        # A frame shows: the blue background in its bottom-left corner.
        first = until(lambda: browser.execute_script(PIXEL), "the first frame", shots)
        assert first[:2] == [160, 96]
        assert first[5] > 200 and first[3] < 60, first
        until(lambda: "live" in browser.find_element(By.ID, "connection").text, "the event stream", shots)
        shots("first-frame")

        # Step a frame with the arrow key: the timecode follows.
        browser.find_element(By.TAG_NAME, "body").send_keys("\ue014")  # ArrowRight
        until(lambda: browser.find_element(By.ID, "frame-number").text.startswith("frame 1 "), "frame 1", shots)
        assert browser.find_element(By.ID, "timecode").text == "00:00:00.040"
        until(lambda: (browser.execute_script(PIXEL) or [0, 0, ""])[2].endswith(":1:composite"), "frame 1 shown", shots)

        # Saving the file with another background updates the frame, no click needed.
        file.write_text(BODY.format(color="#ffff00"), encoding="utf-8")
        yellow = until(lambda: (p := browser.execute_script(PIXEL)) and p[3] > 200 and p[5] < 60 and p, "the yellow frame", shots)
        assert yellow[4] > 200
        shots("reloaded")

        # A broken file: its located errors where the frame was.
        file.write_text(BROKEN, encoding="utf-8")
        errors = browser.find_element(By.ID, "errors")
        until(lambda: errors.is_displayed() and f"{file}:5:8: export.fps:" in errors.text, "the located error", shots)
        assert not browser.find_element(By.ID, "frame").is_displayed()
        shots("error-in-place")

        # Fixed: the frame is back.
        file.write_text(BODY.format(color="#ffff00"), encoding="utf-8")
        until(lambda: not errors.is_displayed() and browser.execute_script(PIXEL), "the frame back", shots)

        # Render: progress, then the export plays in the page.
        browser.find_element(By.ID, "render").click()
        until(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-render") == "done", "the render", shots, 40)
        assert browser.find_element(By.ID, "progress-text").text.startswith("done: 25 frames")
        video = browser.find_element(By.ID, "output")
        until(lambda: browser.execute_script("return arguments[0].readyState", video) >= 2, "the video to load", shots)
        browser.execute_script("arguments[0].play()", video)
        start = browser.execute_script("return arguments[0].currentTime", video)
        until(lambda: browser.execute_script("return arguments[0].currentTime", video) > start + 0.1, "the video to play", shots)
        assert browser.execute_script("return arguments[0].videoWidth", video) == 160
        assert (tmp_path / "out" / "o.webm").is_file()
        shots("playing")

        # The template's variable is a form field: typing a colour there changes the frame.
        field = browser.find_element(By.CSS_SELECTOR, '#vars input[name="color"]')
        assert field.get_attribute("value") == "#ffff00"  # the default, as the file now says
        assert browser.find_element(By.CSS_SELECTOR, '#vars input[type="color"]').get_attribute("value") == "#ffff00"
        field.clear()
        field.send_keys("#00ff00")
        until(lambda: (p := browser.execute_script(PIXEL)) and p[4] > 200 and p[3] < 60 and p[5] < 60, "the green frame", shots)
        shots("form-value")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
