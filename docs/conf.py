"""Sphinx configuration of jaxinit's documentation site.

Build it (from the repository root) with::

    .venv/bin/sphinx-build -W --keep-going -n -b html docs docs/_build/html

Environment variables:

``JAXINIT_DOCS_EXECUTE=0``
    Execute nothing: the notebooks and the guide pages (MyST text notebooks)
    are rendered without their outputs. A quick build for iterating on the
    docs, and for the small builds of tests/test_docs_site.py. The published
    site is always built with execution (the default).
``JAX_PLATFORMS``
    Defaults to ``cpu`` here (set before JAX is imported, also for the
    kernels that execute the pages).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

# Set before JAX is imported here (autodoc) and inherited by the kernels that
# execute the notebooks and the guide pages: CPU only, quiet TensorFlow, and
# the test suite's strict broadcasting (tests/conftest.py).
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_NUMPY_RANK_PROMOTION", "raise")

#: False when JAXINIT_DOCS_EXECUTE=0: the pages are rendered without executing them.
EXECUTE = os.environ.get("JAXINIT_DOCS_EXECUTE", "1") != "0"

import jaxinit  # noqa: E402

project = "jaxinit"
author = "the jaxinit developers"
copyright = "the jaxinit developers"
release = jaxinit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "myst_nb",
    "jaxinit_docs_check",
]

# Pages that are notebooks, executed by myst-nb: the five notebooks, copied
# from notebooks/ into docs/notebooks/ (gitignored) at the start of each build,
# and the guide pages, written as MyST text notebooks (their front matter
# says so).
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

templates_path = ["_templates"]
root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- Cross-references ---------------------------------------------------------
# Nitpicky: every reference must resolve (a broken :func:`jaxinit.x` fails).
nitpicky = True
default_role = "py:obj"

# Third-party names in signatures and docstrings. No intersphinx (the build
# has no network), so these cannot resolve; each is listed, never jaxinit.*.
nitpick_ignore_regex = [
    (r"py:.*", r"(jax|jaxlib|jax\._src)(\..*)?"),
    (r"py:.*", r"(numpy|np)(\..*)?"),
    (r"py:.*", r"(matplotlib|mpl)(\..*)?"),
    (r"py:.*", r"(flax|nnx|optax)(\..*)?"),
    (r"py:.*", r"(haiku|hk)(\..*)?"),
    (r"py:.*", r"(equinox|eqx)(\..*)?"),
    (r"py:.*", r"(tensorflow|tf|keras)(\..*)?"),
    (r"py:.*", r"(typing|collections\.abc|collections|types|os|pathlib|numbers)\..*"),
    (r"py:.*", r"(Path|PathLike|ArrayLike|Array|DTypeLike|Figure|Axes|Mesh|NamedSharding)"),
    (r"py:.*", r"(Any|Callable|Iterable|Iterator|Mapping|Sequence|Literal|Self|Optional)"),
    (r"py:.*", r"(Union|NamedTuple|TypeAlias|ClassVar|Generator|Hashable)"),
    (r"py:class", r"(ndarray|PRNGKeyArray|Sharding|Device|Variable|Module)"),
    (r"py:.*", r"builtins\..*"),
]

# -- autodoc / autosummary / napoleon -----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
autodoc_default_options: dict[str, object] = {}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
autodoc_class_signature = "separated"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True
add_module_names = False
python_maximum_signature_line_length = 88

#: Modules whose public names (``__all__``) must each be documented with a
#: docstring (checked by docs/_ext/jaxinit_docs_check.py).
jaxinit_docs_public_modules = [
    "jaxinit",
    "jaxinit.connectivity",
    "jaxinit.sparse",
    "jaxinit.schemes",
    "jaxinit.initializers",
    "jaxinit.tf",
    "jaxinit.plot",
    "jaxinit.nnx",
    "jaxinit.linen",
    "jaxinit.haiku",
    "jaxinit.equinox",
]

# -- MyST and myst-nb -----------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "force" if EXECUTE else "off"
nb_execution_timeout = 300  # seconds per cell, as tests/test_notebooks.py
nb_execution_raise_on_error = True
nb_execution_allow_errors = False
nb_execution_show_tb = True
nb_execution_in_temp = True  # files the pages write go to a temporary folder
nb_merge_streams = True
nb_output_stderr = "show"  # warnings a cell prints are part of its output

# -- HTML ---------------------------------------------------------------------
html_theme = "furo"
html_title = f"jaxinit {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


def _copy_notebooks(app, config) -> None:
    """Copy notebooks/*.ipynb to docs/notebooks/ (gitignored) for this build.

    Only files that changed are copied, so an unchanged notebook does not make
    Sphinx read it again; a notebook removed from notebooks/ is removed here.
    """
    if Path(app.srcdir).resolve() != DOCS:
        return
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    sources = {path.name: path for path in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in sources:
            stale.unlink()
    for name, source in sources.items():
        copy = target / name
        if not copy.exists() or copy.read_bytes() != source.read_bytes():
            shutil.copy2(source, copy)


def _record_build(app, exception) -> None:
    """Write build-info.json next to the pages: how they were built.

    tests/test_docs_site.py reuses an existing site only when it was built
    with execution and without warnings.
    """
    if exception is not None or app.builder.format != "html":
        return
    info = {
        "executed": EXECUTE,
        "warnings": getattr(app, "_warncount", None),
        "jaxinit": release,
    }
    (Path(app.outdir) / "build-info.json").write_text(json.dumps(info) + "\n")


def _public_bases(app, name, obj, options, bases) -> None:
    """Show a private jaxinit base class (``jaxinit.linen._Basic``) as its own bases."""
    shown = []
    for base in bases:
        private = base.__name__.startswith("_") and base.__module__.startswith("jaxinit")
        shown.extend(base.__bases__ if private else [base])
    bases[:] = list(dict.fromkeys(shown))


def setup(app):
    app.connect("config-inited", _copy_notebooks, priority=100)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("build-finished", _record_build)
