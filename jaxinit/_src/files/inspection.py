"""``inspect_file``: look inside a network file and say what is odd about it."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from jaxinit._src.effective import effective
from jaxinit._src.files.archive import as_path, open_archive
from jaxinit._src.files.errors import DaleRatioWarning, EditedFileWarning, LegacyFileWarning
from jaxinit._src.files.loading import FileContents, read_file
from jaxinit._src.names import PSYCHRNN_NAMES, WEIGHT_NAMES, FileLayout
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.stats import degrees
from jaxinit._src.summary import Summary, network_summary

#: The warnings loading can give; inspect_file reports them as problems instead.
_FILE_WARNINGS = (EditedFileWarning, LegacyFileWarning, DaleRatioWarning)


@dataclasses.dataclass(frozen=True)
class Inspection:
    """What :func:`inspect_file` found.

    Attributes:
      path: the file.
      origin: ``"jaxinit"`` (written by :func:`~jaxinit.save_npz`) or
        ``"psychrnn"`` (any other file in PsychRNN's format).
      summary: the network's :class:`~jaxinit.Summary`.
      problems: things that are odd about the file or the network (empty when none).
      notes: neutral facts worth knowing (extra entries, provenance, ...).
      layout: ``"dense"`` (PsychRNN's format) or ``"row_sparse"`` (a file
        written from a :class:`~jaxinit.sparse.SparseParams`).
      slots: ``K``, the slots per row of a row-sparse ``W_rec`` (padding
        included); None for a dense file.
    """

    path: str
    origin: Literal["jaxinit", "psychrnn"]
    summary: Summary
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    layout: FileLayout = "dense"
    slots: int | None = None


def inspect_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Inspection:
    """Load a jaxinit or PsychRNN ``.npz`` file and report what is odd.

    Files that cannot be loaded at all (corrupt, truncated, a missing or
    mis-shaped entry, non-finite values, masks that are not 0/1, an unsafe
    pickle) raise :class:`~jaxinit.NpzError` naming the file and the entry.
    A loadable file is then checked for what PsychRNN would accept but is
    likely a mistake: a jaxinit file edited after saving, a ``dale_ratio``
    PsychRNN and jaxinit read differently, stored weights that are not the
    effective ones, a ``Dale_out`` with -1 entries (PsychRNN 1.0.0's
    default), a mask that cuts a unit off, and a recurrent spectral radius of
    0. The warnings :func:`~jaxinit.load_npz` would give are reported as
    problems instead. ``max_bytes`` bounds what is read, as for
    :func:`~jaxinit.load_npz` (None: 2 GiB).

    A row-sparse file (saved from a :class:`~jaxinit.sparse.SparseParams`)
    is inspected without an ``N_rec x N_rec`` array: ``layout`` is
    ``"row_sparse"``, ``slots`` is ``K``, a note gives the sizes and dtypes
    of ``W_rec``'s entries, and the summary is the sparse network's
    (stored entries, degrees, Krylov radii and whether they are certified).

    Example:
      >>> import os, tempfile, jax, numpy as np, jaxinit
      >>> p = jaxinit.alpha_identity(
      ...     jax.random.key(0), jaxinit.Config(N_in=1, N_rec=4, N_out=1, alpha=1.0))
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     mine = inspect_file(jaxinit.save_npz(os.path.join(tmp, "n.npz"), p))
      ...     with np.load(os.path.join(tmp, "n.npz"), allow_pickle=True) as f:
      ...         plain = {k: f[k] for k in f.files if not k.startswith("jaxinit/")}
      ...     np.savez(os.path.join(tmp, "psychrnn.npz"), **plain)
      ...     theirs = inspect_file(os.path.join(tmp, "psychrnn.npz"))
      >>> mine.origin, mine.problems, theirs.origin, theirs.problems
      ('jaxinit', (), 'psychrnn', ())
      >>> theirs.summary.N_rec
      4
    """
    path = as_path("path", path)
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        for category in _FILE_WARNINGS:
            warnings.simplefilter("always", category)
        contents = read_file(path, max_bytes=max_bytes)
    for warning in caught:
        if issubclass(warning.category, _FILE_WARNINGS):
            problems.append(str(warning.message))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    with open_archive(path, max_bytes) as reader:
        names = list(reader.keys)
        ratio_entry = reader.value("dale_ratio") if "dale_ratio" in reader.keys else None
    origin: Literal["jaxinit", "psychrnn"] = (
        "jaxinit" if contents.metadata is not None else "psychrnn"
    )
    notes = _entry_notes(names)
    if origin == "psychrnn":
        notes += _raw_weight_notes(contents)
        if contents.params.dale_ratio == 0.0 and ratio_entry == 0:
            problems.append(
                "dale_ratio is 0.0: jaxinit reads it as every unit inhibitory, but PsychRNN "
                "1.0.0 (which tests 'if dale_ratio:') runs the file without Dale's law"
            )
    problems += _network_problems(contents.params)
    params = contents.params
    summary = network_summary(params)  # a file holds one network
    layout: FileLayout = "dense"
    slots: int | None = None
    if isinstance(params, SparseParams):
        notes.append(_sparse_note(params))
        layout, slots = "row_sparse", params.W_rec.slots
    if summary.effective_spectral_radius == 0:
        problems.append("the effective W_rec has spectral radius 0 (no recurrent dynamics)")
    if contents.metadata is not None:
        notes.append(_written_by(contents.metadata))
    return Inspection(path, origin, summary, tuple(problems), tuple(notes), layout, slots)


def _entry_notes(names: Iterable[str]) -> list[str]:
    known = {*PSYCHRNN_NAMES, "dale_ratio", "transfer_function"}
    extra = sorted(n for n in names if n not in known and not n.startswith("jaxinit/"))
    if not extra:
        return []
    shown = ", ".join(extra[:6]) + (", ..." if len(extra) > 6 else "")
    return [f"{len(extra)} extra entries ignored (optimizer slots?): {shown}"]


def _raw_weight_notes(contents: FileContents) -> list[str]:
    """A PsychRNN file's matrices are loaded as raw; say where they are not effective."""
    params = contents.params
    if not isinstance(params, Params):  # pragma: no cover - PsychRNN files are dense
        return []
    eff = effective(params)
    notes: list[str] = []
    for name in WEIGHT_NAMES:
        stored = np.asarray(getattr(params, name))
        changed = int(np.count_nonzero(~np.isclose(stored, np.asarray(getattr(eff, name)))))
        if changed:
            notes.append(
                f"{name} in the file is raw, not effective: the model changes {changed} "
                "entries when it applies masks, |.| and Dale signs"
            )
    return notes


def _network_problems(params: Params | SparseParams) -> list[str]:
    problems: list[str] = []
    dale_out = np.asarray(params.dale_out_diag)
    if (dale_out < 0).any():
        problems.append(
            f"Dale_out has {int((dale_out < 0).sum())} entries of -1 (PsychRNN 1.0.0's default): "
            "inhibitory units reach the outputs with negative weights"
        )
    fan_in, fan_out = _degrees(params)
    isolated = int(np.count_nonzero((fan_out == 0) & (fan_in == 0)))
    if isolated:
        problems.append(f"{isolated} recurrent units have no recurrent connections at all")
    return problems


def _degrees(
    params: Params | SparseParams,
) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.integer[Any]]]:
    """Recurrent connections into and out of each unit (O(N K) for a sparse network)."""
    if isinstance(params, SparseParams):
        return degrees(params.W_rec)
    mask = np.asarray(params.rec_connectivity) != 0
    return mask.sum(axis=1), mask.sum(axis=0)


def _sparse_note(params: SparseParams) -> str:
    W = params.W_rec
    connections = int(np.count_nonzero(np.asarray(W.stored)))
    return (
        f"row-sparse file: W_rec is {params.N_rec} rows of K={W.slots} slots (values "
        f"{W.values.dtype}, column indices {W.index.dtype}), {connections} connections "
        f"({connections / params.N_rec:.4g} per unit on average); no N_rec x N_rec array"
    )


def _written_by(metadata: Mapping[str, Any]) -> str:
    recipe = (metadata.get("provenance") or {}).get("initializer")
    versions = metadata.get("versions") or {}
    made = f"made by {recipe}" if recipe else "no recipe recorded"
    return (
        f"written by jaxinit {versions.get('jaxinit', '?')} with jax "
        f"{versions.get('jax', '?')}; {made}"
    )
