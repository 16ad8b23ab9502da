"""The widget notebooks in a real browser: JupyterLab driven by Playwright in headless Chromium.

Runs every notebook top to bottom, checks that no cell failed and leaves a full-page
screenshot of each in ``runs/browser/``; for the error-bias notebook moves the ambiguity
slider and checks that the figure below it changed; trains the comparison panel of the
training notebook to its end (both models' curves); and opens the error-bias notebook in
presentation mode (Voila, ``make present``), where no code shows and the slider still
redraws the figure. In Voila again, walks docs/teaching.md's run sheet step by step with the
widgets alone, checks each exercise's answer on the page and writes each step's wall time
to ``runs/browser/run_sheet_times.csv``. Select or skip with ``-m browser``.
Needs Debian's Chromium (``/usr/bin/chromium``, which ``make test`` installs when missing)
and Playwright (the dev extra). Without them the test is skipped, except under CI
(``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from run_sheet import rows, shows, unshown

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "runs" / "browser"
NOTEBOOKS = ("01_error_bias.ipynb", "02_inside_adnet.ipynb", "03_train_adl_aam.ipynb",
             "04_ced_and_paper_checks.ipynb")
TRAINING = "03_train_adl_aam.ipynb"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]


def _requirements() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


def _require_browser() -> None:
    """Skip (fail under CI) without Chromium or Playwright."""
    missing = _requirements()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {missing}")
        pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    work = tmp_path_factory.mktemp("lab")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (work / "notebooks").mkdir()
    for name in NOTEBOOKS:  # copies without outputs: every prompt must be filled by this run
        notebook = json.loads((ROOT / "notebooks" / name).read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        (work / "notebooks" / name).write_text(json.dumps(notebook))
    # the committed study the training notebook reads, at the same place relative to it
    for folder in ("ablation", "figures"):   # the committed study and the panel's run
        shutil.copytree(ROOT / "docs" / folder, work / "docs" / folder)
    port = _free_port()
    token = secrets.token_hex(16)
    # Render every cell (no windowing), so widgets below the fold exist in the page.
    # No news prompt; a private workspace store, so no earlier session's tabs are restored.
    settings = work / "settings" / "@jupyterlab"
    for extension, name, values in [("notebook-extension", "tracker", {"windowingMode": "none"}),
                                    ("apputils-extension", "notification", {"fetchNews": "false"})]:
        (settings / extension).mkdir(parents=True)
        (settings / extension / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    environment = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
                       JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={work}", "--allow-root", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    url = f"http://127.0.0.1:{port}"
    with _serve(command, work, environment, f"{url}/api/status?token={token}",
                work / "jupyter.log"):
        yield url, token, work


@contextlib.contextmanager
def _serve(command: list[str], cwd: Path, environment: dict | None, probe: str, log: Path):
    """Run a server until the block ends; wait until ``probe`` answers (90 s at most)."""
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=cwd,
                                   env=environment)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(probe, timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{command[2]} did not start:\n"
                                           + log.read_text()) from None
                    time.sleep(0.5)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the visible tab
PROMPTS = f"{PANEL} .jp-CodeCell .jp-InputArea-prompt"
IDLE = """() => [...document.querySelectorAll('span')]
                  .some(s => s.textContent.includes('Kernel status: Idle'))
               && !document.body.innerText.includes('No Kernel')"""


def _click_run_all(page) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _attempt in range(5):  # a click can land before the menu bar is ready
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        if dialog.count():      # asked while the session was still choosing its kernel
            dialog.locator("button", has_text="Select").first.click()
        try:
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=10_000)
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click(
                timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    page.screenshot(path=str(ARTIFACTS / "run_all_not_clicked.png"))
    raise AssertionError("the Run menu's Run All Cells could not be clicked")


def _run_all(page, url: str, token: str, name: str, timeout: float = 300) -> None:
    """Open ``name`` in JupyterLab, run all cells and wait until every one has finished.

    A Run All that lands while the kernel is still connecting can leave cells unqueued
    (prompt ``[ ]`` with nothing running); it is issued again then, at most three times.
    """
    # A workspace of its own per notebook: only this notebook's tab is open.
    page.goto(f"{url}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}&reset")
    page.wait_for_selector(f"{PANEL} .jp-Cell", state="attached", timeout=120_000)
    page.wait_for_function(IDLE, timeout=120_000)
    _click_run_all(page)
    deadline, runs, stalled = time.monotonic() + timeout, 1, 0
    while True:
        time.sleep(2)
        prompts = [text.strip() for text in page.locator(PROMPTS).all_text_contents()]
        idle = page.evaluate(IDLE)
        if idle and prompts and all(re.fullmatch(r"\[\d+\]:", text) for text in prompts):
            return
        stalled = stalled + 1 if idle and "[*]:" not in prompts else 0
        if stalled >= 5 and runs < 4:  # idle for 10 s with cells left unrun
            _click_run_all(page)
            runs, stalled = runs + 1, 0
        if time.monotonic() > deadline or (stalled >= 5 and runs >= 4):
            page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}_stuck.png"), full_page=True)
            raise AssertionError(f"{name}: cells did not all run after {runs} Run All; "
                                 f"prompts {prompts}")


def _saved_errors(page, work: Path, name: str) -> list[str]:
    """Save the notebook from the browser and list the error outputs in the saved file."""
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while True:  # the save has landed when every code cell in the file has its count
        cells = [cell for cell in json.loads((work / name).read_text())["cells"]
                 if cell["cell_type"] == "code"]
        if all(cell["execution_count"] for cell in cells):
            break
        assert time.monotonic() < deadline, f"{name}: the browser did not save the notebook"
        time.sleep(0.5)
    return [f"{output.get('ename')}: {output.get('evalue')}"
            for cell in cells for output in cell["outputs"] if output["output_type"] == "error"]


def _full_page(page, name: str) -> None:
    """A screenshot of the whole notebook (not only the window): the page is made as tall
    as the notebook's content first."""
    height = page.evaluate(f"""() => Math.max(...[...document.querySelectorAll(
        '{PANEL} .jp-WindowedPanel-outer, {PANEL} .jp-Notebook')].map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 200, 30_000)})
    page.evaluate(f"""() => document.querySelectorAll(
        '{PANEL} .jp-WindowedPanel-outer, {PANEL} .jp-Notebook').forEach(e => e.scrollTop = 0)""")
    time.sleep(1)
    page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}_full.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1100})


def _run_without_errors(browser, lab, name: str):
    """A new page with ``name`` run to the end in JupyterLab; fails if any cell errored.
    Leaves a full-page screenshot of the executed notebook in ``runs/browser/``."""
    url, token, work = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    _run_all(page, url, token, name)
    assert _saved_errors(page, work, name) == []
    _full_page(page, name)
    return page


def _slide_and_wait_for_a_new_figure(panel, figure) -> None:
    """Move the panel's first slider six steps left; fail unless ``figure`` changes."""
    figure.wait_for(timeout=120_000)
    before = figure.get_attribute("src")
    handle = panel.locator(".noUi-handle").first
    handle.focus()
    for _ in range(6):
        handle.press("ArrowLeft")
    deadline = time.monotonic() + 60
    while figure.get_attribute("src") == before:
        assert time.monotonic() < deadline, "the figure did not change after moving the slider"
        time.sleep(0.5)


def test_error_bias_notebook_slider_redraws_the_figure(lab, browser):
    started = time.monotonic()
    page = _run_without_errors(browser, lab, f"notebooks/{NOTEBOOKS[0]}")
    panel = page.locator(f"{PANEL} .widget-vbox", has_text="sigma tangent").first
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(ARTIFACTS / "ambiguity_before.png"))
    _slide_and_wait_for_a_new_figure(panel, panel.locator(".widget-output img").first)
    panel.screenshot(path=str(ARTIFACTS / "ambiguity_after.png"))
    assert (ARTIFACTS / "ambiguity_before.png").read_bytes() != \
        (ARTIFACTS / "ambiguity_after.png").read_bytes()
    print(f"error-bias notebook in the browser: {time.monotonic() - started:.0f} s")
    page.close()


@pytest.mark.parametrize("name", [name for name in NOTEBOOKS[1:] if name != TRAINING])
def test_other_notebooks_run_and_show_widgets(lab, browser, name):
    page = _run_without_errors(browser, lab, f"notebooks/{name}")
    assert page.locator(f"{PANEL} .jupyter-widgets").count() > 0
    page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}.png"))
    page.close()


def _set_slider(panel, description: str, value: int) -> None:
    """Type ``value`` into the readout of the slider labelled ``description``."""
    slider = panel.locator(".widget-slider", has_text=description).first
    readout = slider.locator(".widget-readout").first
    readout.click()
    readout.press("Control+a")
    readout.type(str(value))
    readout.press("Enter")


def _train_a_tiny_pair(panel, timeout: float = 300) -> str:
    """Set the training panel to 32 faces and 2 epochs, press its real **Train both** and wait
    for the end; fails unless the status says both runs ended and the figure changed.
    Returns the status line."""
    panel.scroll_into_view_if_needed()
    _set_slider(panel, "training faces", 32)
    _set_slider(panel, "epochs", 2)
    figure = panel.locator("img").last
    before = figure.get_attribute("src")
    panel.locator("button", has_text="Train both").first.click()
    status = panel.locator(".widget-html", has_text="done in").first
    status.wait_for(timeout=timeout * 1000)
    text = status.text_content().strip()
    assert re.fullmatch(r"done in \d+:\d\d \(baseline 2/2, adnet-mw0\.1-fixed4 2/2 epochs\); "
                        r"test faces against the truth, adnet-mw0\.1-fixed4 vs baseline: "
                        r"normal .*", text), text
    assert figure.get_attribute("src") != before
    return text


def test_comparison_panel_trains_both_models_in_the_browser(lab, browser):
    """Notebook 02's panel trains the baseline and the variant in the background and ends
    with both models' curves overlaid."""
    page = _run_without_errors(browser, lab, f"notebooks/{TRAINING}")
    panel = page.locator(f"{PANEL} .widget-vbox", has_text="map weight").first
    _train_a_tiny_pair(panel)
    panel.screenshot(path=str(ARTIFACTS / "training_panel.png"))
    page.close()


@pytest.fixture(scope="module")
def presented(tmp_path_factory):
    """``make present``'s server (Voila on ``notebooks/``, 127.0.0.1) on a copy of the
    notebooks beside what they read (the committed study, the panel's recorded run, the
    shipped examples), so that the training panel's runs land in the copy."""
    _require_browser()
    work = tmp_path_factory.mktemp("present")
    shutil.copytree(ROOT / "notebooks", work / "notebooks",
                    ignore=shutil.ignore_patterns("runs", ".ipynb_checkpoints"))
    for folder in ("docs/ablation", "docs/figures", "data/examples"):
        shutil.copytree(ROOT / folder, work / folder)
    port = _free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1", "notebooks"]
    url = f"http://127.0.0.1:{port}"
    with _serve(command, work, None, url, work / "voila.log"):
        yield url


def test_presentation_mode_hides_the_code_and_the_slider_redraws(presented, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{presented}/voila/render/{NOTEBOOKS[0]}", timeout=300_000)
    panel = page.locator(".widget-vbox", has_text="sigma tangent").first
    panel.wait_for(timeout=300_000)
    assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
    _slide_and_wait_for_a_new_figure(panel, panel.locator("img").first)
    page.screenshot(path=str(ARTIFACTS / "voila_01.png"), full_page=True)
    page.close()


# ------------------------------------------------------------ the run sheet, walked in Voila

#: The walk's wall time per step of the run sheet and notebook, to time the class with.
TIMES = ARTIFACTS / "run_sheet_times.csv"
#: Voila has run every cell and shows the page.
SHOWN = """() => !document.getElementById('loading')
               && document.getElementById('rendered_cells')?.style.display === ''"""


def _until(condition, failure: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.25)


class _Walk:
    """The run sheet done in Voila, as a teacher does it: each notebook's page is opened once
    and kept in its own tab for the class, so a step on a notebook already open goes on
    where the last one left it (the preparation before the class uses a page of its own,
    closed before the class starts). Each step does with the widgets what the sheet says and
    keeps the text the page showed on the way (where the exercises' answers are looked for);
    each step's wall time, from its start (with the opening of its page, if it opens one) to
    its end, is appended to :data:`TIMES`."""

    def __init__(self, browser, url: str) -> None:
        self.browser, self.url = browser, url
        self.seen: list[str] = []
        self.tabs: dict[str, object] = {}   # notebook -> its open page, during the class
        self.trained = ""              # the training panel's status after the first training
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        TIMES.write_text("step,notebook,seconds\n")

    def look(self, locator) -> str:
        """What ``locator`` shows now (kept)."""
        text = locator.inner_text()
        self.seen.append(text)
        return text

    def move(self, panel, action, what: str, readout=None) -> None:
        """Do ``action`` on ``panel``; fails unless its figure (and ``readout``) changed."""
        figure = panel.locator("img").first
        figure.wait_for(timeout=120_000)
        before = figure.get_attribute("src"), readout.inner_text() if readout else ""
        action()
        _until(lambda: figure.get_attribute("src") != before[0],
               f"{what}: the figure did not change")
        if readout is not None:
            _until(lambda: readout.inner_text() != before[1], f"{what}: the numbers did not "
                                                                "change")
            self.look(readout)

    def _open(self, notebook: str):
        """``notebook``'s page in a new tab, run by Voila to its end without an error and
        with no code shown."""
        page = self.browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{self.url}/voila/render/{notebook}", timeout=600_000)
        page.wait_for_function(SHOWN, timeout=600_000)
        text = page.locator("body").inner_text()
        for failure in ("There was an error when executing cell", "Cell execution timed out"):
            assert failure not in text, failure
        assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
        return page

    @contextlib.contextmanager
    def step(self, step: str, notebook: str, own_page: bool = False):
        """``notebook``'s page for ``step``: its tab, opened if it is not yet (or a page of
        its own, closed at the step's end, with ``own_page``)."""
        started, page = time.monotonic(), None
        try:
            page = self._open(notebook) if own_page else self.tabs.get(notebook)
            if page is None:
                page = self.tabs[notebook] = self._open(notebook)
            self.look(page.locator("body"))
            yield page
        except Exception as error:
            if page is not None:
                name = "run_sheet_" + re.sub(r"\W+", "_", step)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            raise AssertionError(f"run sheet, {step} in {notebook}: {error}") from error
        finally:
            if own_page and page is not None:
                page.close()
        with TIMES.open("a") as times:
            times.write(f"{step},{notebook},{time.monotonic() - started:.0f}\n")

    def close(self) -> None:
        """Close the class's tabs."""
        for page in self.tabs.values():
            page.close()
        self.tabs.clear()


def _train_before_the_class(walk: _Walk, page) -> None:
    walk.trained = _train_a_tiny_pair(page.locator(".widget-vbox", has_text="map weight").first,
                                      timeout=600)


def _pick_the_jaw_then_an_eye(walk: _Walk, page) -> None:
    panel = page.locator(".widget-vbox", has_text="scheme").first
    curve = panel.locator(".widget-dropdown", has_text="curve").locator("select")
    landmark = panel.locator(".widget-dropdown", has_text="landmark").locator("select")
    curve.select_option("jaw")
    _until(lambda: "32" in landmark.inner_text(), "the jaw's landmarks are not offered")
    walk.move(panel, lambda: curve.select_option("left_eye"), "picking an eye")
    assert "60" in landmark.inner_text()


def _move_the_sigmas(walk: _Walk, page) -> None:
    panel = page.locator(".widget-vbox", has_text="sigma tangent").first
    readout = panel.locator(".widget-html", has_text="measured tangent / normal").first
    walk.look(readout)
    for description in ("sigma tangent", "sigma normal"):     # both to 2%: exercise 1
        walk.move(panel, lambda d=description: _set_slider(panel, d, 2), f"moving {description}",
                  readout)


def _change_face_and_landmark(walk: _Walk, page) -> None:
    panel = page.locator(".widget-vbox", has_text="the error against the truth").first
    readout = panel.locator(".widget-html", has_text="the error against the truth").first
    walk.move(panel, lambda: _set_slider(panel, "face", 5), "changing the face", readout)
    walk.move(panel, lambda: _set_slider(panel, "landmark", 60), "changing the landmark",
              readout)
    table = walk.look(page.locator("body"))
    assert "against the labels" in table and "against the truth" in table


def _read_the_cause_study(walk: _Walk, page) -> None:
    text = walk.look(page.locator("body"))
    assert "What causes the lean" in text and "the baseline's lean on the jaw" in text
    for kind in ("anisotropic", "equal", "noise-free"):
        assert f"{kind}: the baseline's lean on the jaw" in text, kind


def _show_the_formula_and_move_lambda(walk: _Walk, page) -> None:
    formula = page.locator("mjx-container, .MathJax, .MathJax_Display")
    _until(lambda: formula.count() > 0, "the formula is not typeset", timeout=60)  # MathJax is late
    panel = page.locator(".widget-vbox", has_text="times the same error along it").first
    readout = panel.locator(".widget-html", has_text="times the same error along it").first
    for value in (1, 4, 9):                                   # lambda 4 and 9: exercise 3
        walk.move(panel, lambda v=value: _set_slider(panel, "lambda", v),
                  f"moving lambda to {value}", readout)
        assert f"lambda {value}:" in readout.inner_text()


def _pick_a_jaw_landmark_then_an_eye_corner(walk: _Walk, page) -> None:
    panel = page.locator(".widget-vbox", has_text="landmark").filter(
        has=page.locator(".widget-slider", has_text="face")).first
    for landmark in (4, 60):
        walk.move(panel, lambda v=landmark: _set_slider(panel, "landmark", v),
                  f"picking landmark {landmark}")
    text = walk.look(page.locator("body"))
    for comparison in ("ADNet's fused map against its own heatmap",
                       "AAM alone against the baseline"):
        assert f"{comparison}: narrower across the curve" in text, comparison


def _read_the_study(walk: _Walk, page) -> None:
    text = walk.look(page.locator("body"))
    for heading in ("The committed study", "Twice the training", "Why the release's recipe "
                                                                  "fails here"):
        assert heading in text, heading


def _train_both_in_class(walk: _Walk, page) -> None:
    """The pair trained before the class comes back at once, with the same numbers."""
    started = time.monotonic()
    status = _train_a_tiny_pair(page.locator(".widget-vbox", has_text="map weight").first)
    assert status.split("; ", 1)[1] == walk.trained.split("; ", 1)[1], (status, walk.trained)
    assert time.monotonic() - started < 60, "the cached pair did not come back at once"


def _end_on_the_ced_and_the_paper(walk: _Walk, page) -> None:
    from adnet_lab import reported

    ced = page.locator(".widget-vbox").filter(has=page.locator(".widget-select")).first
    ced.locator("img").first.wait_for(timeout=120_000)
    assert shows(f"{reported('ADNet', 'WFLW', 'test'):.2f}", walk.look(page.locator("body")))


#: Each step of the run sheet (the table's rows, by their time, and the preparation before
#: the class), as done in Voila: its notebooks, and what is done on each.
WALK = {
    "before the class": [(TRAINING, _train_before_the_class)],
    "0-5 min": [(NOTEBOOKS[0], _pick_the_jaw_then_an_eye)],
    "5-12": [(NOTEBOOKS[0], _move_the_sigmas)],
    "12-17": [(NOTEBOOKS[0], _change_face_and_landmark)],
    "17-22": [(NOTEBOOKS[0], _read_the_cause_study)],
    "22-27": [(TRAINING, _show_the_formula_and_move_lambda)],
    "27-33": [(NOTEBOOKS[1], _pick_a_jaw_landmark_then_an_eye_corner)],
    "33-40": [(TRAINING, _read_the_study)],
    "40-45": [(TRAINING, _train_both_in_class), (NOTEBOOKS[3], _end_on_the_ced_and_the_paper)],
}


def test_the_run_sheet_in_presentation_mode(presented, browser):
    """docs/teaching.md's run sheet, step by step, in ``make present``'s Voila, each
    notebook kept open in its tab through the class: every step is done with the widgets
    alone (a slider moved, a curve picked, the real Train both pressed; the training panel
    on a tiny budget) and shows its effect (a redrawn figure, new numbers), and each
    exercise's answer is on the step's page. Writes each step's wall time to
    runs/browser/run_sheet_times.csv."""
    sheet = rows()
    assert [row["time"] for row in sheet] == list(WALK)[1:], "the run sheet's steps changed"
    walk = _Walk(browser, presented)
    try:
        for step, row in [("before the class", {"where": "notebook 3", "exercises": []}),
                          *((row["time"], row) for row in sheet)]:
            walk.seen = []
            for notebook, do in WALK[step]:
                assert f"notebook {int(notebook[:2])}" in row["where"], (step, notebook)
                with walk.step(step, notebook, own_page=step == "before the class") as page:
                    do(walk, page)
            for number in row["exercises"]:
                missing = unshown(number, "\n".join(walk.seen))
                assert not missing, f"{step}: exercise {number}'s answer shows no {missing}"
    finally:
        walk.close()
