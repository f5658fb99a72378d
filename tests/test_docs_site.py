"""The documentation site in docs/: strict builds, and the pages a browser shows.

Two small Sphinx projects use docs/conf.py's settings (no notebooks, nothing
executed) to show that the strict build fails where it must: on a broken
cross-reference, and, through docs/_ext/jaxinit_docs_check.py, on a public
function or method without a docstring. The slow test opens the full site
(built with its notebooks executed) in headless Chromium and checks what it
renders: a real screenshot, the site's navigation and an API page.

Under CI (``CI`` set, as .ci/run does) a missing Sphinx or Chromium fails these
tests; elsewhere they are skipped, saying why.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import require_module

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SITE = DOCS / "_build" / "html"
#: The one documented build command (docs/README.md), as arguments.
BUILD = ["-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html"]
#: Sources of the site: an existing build older than any of them is rebuilt.
SOURCES = [DOCS, ROOT / "jaxinit", ROOT / "notebooks", ROOT / "ARCHITECTURE.md",
           ROOT / "CHANGELOG.md"]
#: Generous limit for a loaded machine; the full build takes a few minutes.
FULL_BUILD_TIMEOUT_S = 1200


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return env


def _sphinx_build(source: Path, out: Path, *, execute: bool, timeout: float):
    return subprocess.run(
        [sys.executable, *BUILD, str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(JAXINIT_DOCS_EXECUTE="1" if execute else "0"),
        cwd=ROOT,
    )


def _sphinx_warnings(stderr: str) -> list[str]:
    """Sphinx's warnings in a build's stderr (not the log lines TensorFlow's import prints)."""
    return [line for line in stderr.splitlines()
            if "WARNING:" in line and "absl::InitializeLog" not in line]


def _tiny_project(folder: Path, page: str, *, public_modules: list[str] | None = None) -> Path:
    """A Sphinx project in ``folder`` with docs/conf.py's settings and one page."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = f"""\
        import runpy
        import sys

        sys.path.insert(0, {str(folder)!r})
        _real = runpy.run_path({str(DOCS / "conf.py")!r})
        globals().update({{k: v for k, v in _real.items() if not k.startswith("__")}})
        templates_path = []
        jaxinit_docs_public_modules = {public_modules or []!r}
        """
    (folder / "conf.py").write_text(textwrap.dedent(conf))
    (folder / "index.md").write_text(textwrap.dedent(page))
    return folder


#: What the build needs besides jaxinit: (module, the extra that installs it).
BUILD_MODULES = [("sphinx", "docs"), ("myst_nb", "docs"), ("furo", "docs")]


def _require_build_tools():
    for module, extra in BUILD_MODULES:
        require_module(module, extra)


@pytest.fixture
def sphinx():
    _require_build_tools()


#: A module for the small builds: documented, with third-party types in its signature.
CLEAN_MODULE = '''\
    """A module for the small builds."""

    import jax
    import numpy as np


    def scaled(W: jax.Array, factor: float = 2.0) -> np.ndarray:
        """``W`` times ``factor``, as a NumPy array.

        Args:
          W: a matrix.
          factor: the factor.
        """
        return np.asarray(W) * factor
    '''


def test_a_broken_reference_fails_the_build(sphinx, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "clean_example.py").write_text(textwrap.dedent(CLEAN_MODULE))
    page = """\
        # Tiny

        A good reference: {func}`clean_example.scaled`.
        A broken one: {func}`jaxinit.no_such_function`.

        ```{eval-rst}
        .. autofunction:: clean_example.scaled
        ```
        """
    project = _tiny_project(tmp_path / "src", page)
    done = _sphinx_build(project, tmp_path / "out", execute=False, timeout=300)
    assert done.returncode != 0, done.stdout + done.stderr
    broken = [line for line in done.stderr.splitlines() if "no_such_function" in line]
    assert broken, done.stderr
    assert "reference target not found" in broken[0]
    # the good reference and the third-party types resolved: this is the only warning
    warnings = _sphinx_warnings(done.stderr)
    assert warnings == broken, done.stderr


def test_the_tiny_project_builds_cleanly_without_the_broken_reference(sphinx, tmp_path):
    # the control of the test above: the same settings and page, every reference good
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "clean_example.py").write_text(textwrap.dedent(CLEAN_MODULE))
    page = """\
        # Tiny

        A good reference: {func}`clean_example.scaled`.

        ```{eval-rst}
        .. autofunction:: clean_example.scaled
        ```
        """
    project = _tiny_project(tmp_path / "src", page, public_modules=["clean_example"])
    done = _sphinx_build(project, tmp_path / "out", execute=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _sphinx_warnings(done.stderr) == [], done.stderr
    assert 'id="clean_example.scaled"' in (tmp_path / "out" / "index.html").read_text()


def test_a_public_name_without_a_docstring_fails_the_build(sphinx, tmp_path):
    module = '''\
        """A module for the docstring check."""

        __all__ = ["documented", "undocumented", "Thing", "forgotten", "CHOICES", "SIZES"]

        #: The allowed words.
        CHOICES = ("a", "b")

        SIZES = (1, 2, 3)


        def documented():
            """Has a docstring."""


        def undocumented():
            return 1


        def forgotten():
            """Public, documented in code, but on no page."""


        class Thing:
            """A class with one method that has no docstring."""

            def run(self):
                return 2

            def _private(self):
                return 3
        '''
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "nodoc_example.py").write_text(textwrap.dedent(module))
    page = """\
        # Tiny

        ```{eval-rst}
        .. autofunction:: nodoc_example.documented
        .. autofunction:: nodoc_example.undocumented
        .. autodata:: nodoc_example.CHOICES
        .. autodata:: nodoc_example.SIZES
        .. autoclass:: nodoc_example.Thing
           :members:
           :undoc-members:
           :private-members:
        ```
        """
    project = _tiny_project(tmp_path / "src", page, public_modules=["nodoc_example"])
    done = _sphinx_build(project, tmp_path / "out", execute=False, timeout=300)
    assert done.returncode != 0, done.stdout + done.stderr
    warnings = _sphinx_warnings(done.stderr)
    assert any("public function nodoc_example.undocumented has no docstring" in w
               for w in warnings), done.stderr
    assert any("public method nodoc_example.Thing.run has no docstring" in w
               for w in warnings), done.stderr
    assert any("public name nodoc_example.forgotten is not documented" in w
               for w in warnings), done.stderr
    assert any("public data nodoc_example.SIZES has no documentation comment" in w
               for w in warnings), done.stderr
    # documented names and private ones are not reported
    assert not any(".documented " in w or "_private" in w or "CHOICES" in w
                   for w in warnings), done.stderr
    assert len(warnings) == 4, done.stderr
    # the data keeps its own comment, not the docstring of its type (tuple)
    page = (tmp_path / "out" / "index.html").read_text()
    assert "The allowed words." in page and "Built-in immutable sequence" not in page


# -- the full site in a browser ----------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the browser test", pytrace=False)
    pytest.skip(message)


def _newest_source_mtime() -> float:
    newest = 0.0
    for source in SOURCES:
        paths = [source] if source.is_file() else source.rglob("*")
        for path in paths:
            if "_build" in path.parts or "generated" in path.parts or "__pycache__" in path.parts:
                continue
            if path.parent == DOCS / "notebooks":  # copies of notebooks/, made by the build
                continue
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def _usable_site(site: Path) -> bool:
    """Whether ``site`` is a complete, executed, warning-free build newer than the sources."""
    info = site / "build-info.json"
    if not info.is_file() or not (site / "index.html").is_file():
        return False
    recorded = json.loads(info.read_text())
    if not recorded.get("executed") or recorded.get("warnings") != 0:
        return False
    return info.stat().st_mtime > _newest_source_mtime()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The full site: docs/_build/html if it is up to date, else a fresh build."""
    _require_build_tools()
    if _usable_site(SITE):
        return SITE
    out = tmp_path_factory.mktemp("site")
    done = _sphinx_build(DOCS, out, execute=True, timeout=FULL_BUILD_TIMEOUT_S)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return out


def _browser(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1280,900", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def _assert_real_screenshot(path: Path) -> None:
    """``path`` is a 1280x900 PNG with a rendered page on it, not a blank or flat image."""
    import numpy as np

    image = require_module("matplotlib.image", "plot")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert (width, height) == (1280, 900)
    pixels = np.asarray(image.imread(path))[..., :3]  # floats in [0, 1]
    assert pixels.shape == (900, 1280, 3)
    assert pixels.std() > 0.05, f"the screenshot is (nearly) blank: sd {pixels.std():.3f}"
    colours = np.unique((pixels[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 20, f"only {len(colours)} colours: not a rendered page"
    # text on the page: many rows hold both light and dark pixels
    grey = pixels.mean(axis=-1)
    rows_with_text = ((grey < 0.4).any(axis=1) & (grey > 0.8).any(axis=1)).sum()
    assert rows_with_text > 100, f"only {rows_with_text} rows hold dark and light pixels"


def _text(dom: str) -> str:
    """The visible text of a DOM dump: tags dropped, entities decoded, quotes made plain."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text)


def _assert_not_an_error_page(dom: str) -> None:
    for sign in ("ERR_FILE_NOT_FOUND", "ERR_ACCESS_DENIED", "This site can't be reached",
                 "Your file couldn't be accessed", "404 Not Found"):
        assert sign not in _text(dom), sign


@pytest.mark.slow
def test_the_site_renders_in_a_browser(site, tmp_path):
    chromium = _chromium()
    pages = {
        "front": site / "index.html",
        "api": site / "api" / "generated" / "jaxinit.gaussian_spectral_radius.html",
    }
    doms = {}
    for name, page in pages.items():
        assert page.is_file(), page
        shot = tmp_path / f"{name}.png"
        done = _browser(chromium, tmp_path, f"--screenshot={shot}", page.as_uri())
        assert shot.is_file(), done.stderr[-3000:]
        _assert_real_screenshot(shot)
        done = _browser(chromium, tmp_path, "--dump-dom", page.as_uri())
        assert done.returncode == 0, done.stderr[-3000:]
        doms[name] = done.stdout
        _assert_not_an_error_page(done.stdout)

    front, api = doms["front"], doms["api"]
    import jaxinit

    # the site title and the navigation
    title = f"jaxinit {jaxinit.__version__}"
    assert re.search(rf"<title>[^<]*{re.escape(title)}[^<]*</title>", front), front[:2000]
    assert title in _text(front)
    assert 'href="api/index.html"' in front
    assert 'href="guide/psychrnn.html"' in front
    assert "API reference" in _text(front) and "Coming from PsychRNN" in _text(front)
    # the front page's tour cell was executed: its output is on the page
    assert "cell_output" in front
    assert "E/I" in _text(front) or "excitatory" in _text(front)
    assert "Traceback" not in _text(front)

    # the API page: its signature and a sentence of its docstring
    assert 'id="jaxinit.gaussian_spectral_radius"' in api
    text = _text(api)
    assert "gaussian_spectral_radius(key, config, **given)" in text.replace("\u00b6", "")
    doc = jaxinit.gaussian_spectral_radius.__doc__
    first = doc.strip().splitlines()[0].replace("``", "")  # the summary line, as rendered
    assert first in text, first
    assert 'href="../index.html"' in api or 'href="../../index.html"' in api
