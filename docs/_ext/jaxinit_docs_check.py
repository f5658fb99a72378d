"""A local Sphinx extension: every public name of jaxinit has a docstring.

Two checks, each a Sphinx warning (so ``sphinx-build -W`` makes it an error):

* Each object autodoc documents that is a function, class, exception, method
  or property whose own name is public (no leading underscore) must have a
  docstring of its own (for classes: not only one inherited from a base
  class; for methods and properties: their own or one inherited from a
  jaxinit base class).
* Each public name of the modules in the config value
  ``jaxinit_docs_public_modules`` (their ``__all__``) must be documented
  somewhere in the site (the API reference), so a new public name cannot be
  left out of it.

Data (constants and type aliases) often cannot carry a docstring; their
documentation comes from the ``#:`` comment where they are defined, which
this extension finds when autodoc documents them under another module (a
name that ``jaxinit`` re-exports from ``jaxinit._src``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import typing
from typing import Any

from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docstrings import prepare_docstring

logger = logging.getLogger(__name__)

CHECKED = {"function", "class", "exception", "method", "property", "decorator", "classmethod",
           "staticmethod"}


def _own_doc(what: str, obj: Any) -> str | None:
    """The docstring ``obj`` carries itself (see the module docstring)."""
    if what in ("class", "exception"):
        doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else None
        # dataclasses invent a docstring from the signature: not a docstring.
        if doc and doc.startswith(f"{obj.__name__}(") and hasattr(obj, "__dataclass_fields__"):
            return None
        return doc
    if what == "property":
        fget = getattr(obj, "fget", None)
        return getattr(obj, "__doc__", None) or getattr(fget, "__doc__", None)
    func = getattr(obj, "__func__", obj)
    return inspect.getdoc(func)


def _check_docstring(app: Sphinx, what: str, name: str, obj: Any, options, lines) -> None:
    if what not in CHECKED or name.rpartition(".")[2].startswith("_"):
        return
    doc = _own_doc(what, obj)
    if not doc or not doc.strip():
        _warn_once(f"public {what} {name} has no docstring", "docstring")


_COMMENTS: dict[str, dict[str, str]] = {}


def _module_comments(modname: str) -> dict[str, str]:
    """The ``#:`` comments of the module-level names of ``modname``."""
    if modname not in _COMMENTS:
        try:
            analyzer = ModuleAnalyzer.for_module(modname)
            analyzer.analyze()
            _COMMENTS[modname] = {
                attr: "\n".join(doc)
                for (scope, attr), doc in analyzer.attr_docs.items()
                if scope == ""
            }
        except Exception:  # a module whose extra is missing, or no source
            _COMMENTS[modname] = {}
    return _COMMENTS[modname]


def _definition_comment(obj: Any, name: str) -> str | None:
    """The ``#:`` comment of the same name, in the jaxinit module whose value is ``obj``.

    Only the same name counts: matching values alone would pick the comment of
    another name that happens to hold an equal tuple (``WEIGHTS`` and the plot
    module's ``WHICH`` are one object), which would describe the wrong thing.
    """
    documented_in, _, short = name.rpartition(".")
    for modname in dict.fromkeys([documented_in, *_jaxinit_modules()]):
        comment = _module_comments(modname).get(short)
        if comment is not None and getattr(sys.modules.get(modname), short, None) is obj:
            return comment
    return None


def _data_docstring(app: Sphinx, what: str, name: str, obj: Any, options, lines) -> None:
    """Give re-exported data the ``#:`` comment of its definition, never a type's docstring."""
    public = app.config.jaxinit_docs_public_modules
    if what != "data" or not (name.startswith("jaxinit") or name.rpartition(".")[0] in public):
        return
    type_doc = getattr(type(obj), "__doc__", None)
    type_lines = prepare_docstring(type_doc) if isinstance(type_doc, str) else []
    inherited = bool(type_lines) and lines[: len(type_lines)] == type_lines
    if lines and not inherited:
        return
    comment = _definition_comment(obj, name)
    lines[:] = prepare_docstring(comment) if comment else []
    if not comment:
        _warn_once(f"public data {name} has no documentation comment (#:)", "docstring")


_PROSE: dict[str, list[str]] = {}


def _keep_prose(app: Sphinx, what: str, name: str, obj: Any, options, lines) -> None:
    """Remember the docstring of data and properties before napoleon sees it."""
    if what in ("data", "property"):
        _PROSE[name] = list(lines)


def _restore_prose(app: Sphinx, what: str, name: str, obj: Any, options, lines) -> None:
    """Undo napoleon's reading of "Words: more words" as "type: description".

    napoleon takes the first line of a data or property docstring that holds a
    colon as a Google-style inline type; jaxinit writes prose there, never
    types (its annotations give those), so the text is kept as written.
    """
    if what in ("data", "property") and name in _PROSE:
        lines[:] = _PROSE.pop(name)


_WARNED: set[str] = set()


def _warn_once(message: str, subtype: str) -> None:
    # autosummary's tables and the stub pages both process each docstring.
    if message not in _WARNED:
        _WARNED.add(message)
        logger.warning(message, type="jaxinit", subtype=subtype)


def _jaxinit_modules() -> list[str]:
    package = importlib.import_module("jaxinit")
    return ["jaxinit"] + [
        m.name
        for m in pkgutil.walk_packages(package.__path__, "jaxinit.")
        if not m.name.endswith("__main__")  # importing it runs the command line
    ]


def _is_type_variable(target: str, context: str | None) -> bool:
    """Whether ``target`` names a ``TypeVar``/``ParamSpec`` of a jaxinit module."""
    modname, _, short = target.rpartition(".")
    if not short.startswith("_"):
        return False
    if modname:
        if not modname.startswith("jaxinit"):
            return False
        places = [modname]
    else:  # a bare name from an annotation: look where jaxinit defines it
        places = [context or "jaxinit", *_jaxinit_modules()]
    for place in places:
        module = sys.modules.get(place)
        if module is None:
            continue
        if isinstance(getattr(module, short, None), (typing.TypeVar, typing.ParamSpec)):
            return True
    return False


def _public_alias(app: Sphinx, env, node, contnode):
    """Resolve ``jaxinit._src.mod.Name`` (from annotations) to the public name.

    Type annotations name a class where it is defined, in ``jaxinit._src``;
    the reference documents it under its public name (``jaxinit.Params``).
    The reference is resolved only to a documented public object that *is*
    the same object; anything else stays a broken reference.
    """
    target = node.get("reftarget", "").lstrip("~")
    if node.get("refdomain") != "py":
        return None
    if _is_type_variable(target, node.get("py:module")):
        # A type variable of a generic signature has no page: show its name.
        return contnode
    if not target.startswith("jaxinit._src."):
        return None
    modname, _, short = target.rpartition(".")
    try:
        obj = getattr(importlib.import_module(modname), short)
    except (ImportError, AttributeError):
        return None
    domain = env.get_domain("py")
    for public in app.config.jaxinit_docs_public_modules:
        full = f"{public}.{short}"
        if full not in domain.objects:
            continue
        try:
            if getattr(importlib.import_module(public), short) is not obj:
                continue
        except (ImportError, AttributeError):
            continue
        node["reftarget"] = full
        return domain.resolve_xref(
            env, node.get("refdoc"), app.builder, node.get("reftype"), full, node, contnode
        )
    return None


def _check_coverage(app: Sphinx, env) -> None:
    documented = set(env.get_domain("py").objects)
    for modname in app.config.jaxinit_docs_public_modules:
        module = importlib.import_module(modname)
        for public in getattr(module, "__all__", []):
            if public.startswith("_"):
                continue
            target = getattr(module, public)
            full = f"{modname}.{public}"
            if inspect.ismodule(target):
                full = target.__name__
            if full not in documented:
                _warn_once(f"public name {full} is not documented in the API reference",
                           "coverage")


def _skip_namedtuple_fields(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options):
    """Leave out NamedTuple fields whose only text is Python's "Alias for field number N"."""
    doc = getattr(obj, "__doc__", None)
    if what == "class" and isinstance(doc, str) and doc.startswith("Alias for field number"):
        return True
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("jaxinit_docs_public_modules", [], "env", types=frozenset({list}))
    # before napoleon (priority 500) rewrites the lines
    app.connect("autodoc-process-docstring", _data_docstring, priority=400)
    app.connect("autodoc-process-docstring", _check_docstring, priority=400)
    app.connect("autodoc-process-docstring", _keep_prose, priority=450)
    app.connect("autodoc-process-docstring", _restore_prose, priority=550)
    app.connect("missing-reference", _public_alias)
    app.connect("autodoc-skip-member", _skip_namedtuple_fields)
    app.connect("env-check-consistency", _check_coverage)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
