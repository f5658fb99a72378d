"""Looking inside a network file: what it holds and what is odd about it."""

from __future__ import annotations

import dataclasses
import os
import zipfile

import numpy as np

from jaxinit._src.effective import effective
from jaxinit._src.npz import PSYCHRNN_KEYS, read_file
from jaxinit._src.summary import Summary, summarize


@dataclasses.dataclass(frozen=True)
class Inspection:
    """What :func:`inspect_file` found.

    Attributes:
      path: the file.
      origin: ``"jaxinit"`` (written by :func:`~jaxinit.save_npz`) or
        ``"psychrnn"`` (any other file in PsychRNN's format).
      summary: the network's :class:`~jaxinit.Summary`.
      problems: things that are odd about the network (empty when none).
      notes: neutral facts worth knowing (extra entries, provenance, ...).
    """

    path: str
    origin: str
    summary: Summary
    problems: tuple[str, ...]
    notes: tuple[str, ...]


def _entry_names(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [n[: -len(".npy")] for n in archive.namelist() if n.endswith(".npy")]


def inspect_file(path) -> Inspection:
    """Load a jaxinit or PsychRNN ``.npz`` file and report what is odd.

    Files that cannot be loaded at all (corrupt, truncated, a missing or
    mis-shaped entry, non-finite values, masks that are not 0/1, an unsafe
    pickle) raise :class:`~jaxinit.NpzError` naming the file and the entry.
    A loadable file is then checked for what PsychRNN would accept but is
    likely a mistake: stored weights that are not the effective ones (their
    signs or zeros do not follow the masks and ``Dale_rec``), a ``Dale_out``
    with -1 entries (PsychRNN 1.0.0's default), a mask that cuts a unit off,
    and a recurrent spectral radius of 0.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> p = jaxinit.alpha_identity(
      ...     jax.random.key(0), jaxinit.Config(N_in=1, N_rec=4, N_out=1, alpha=1.0))
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     report = inspect_file(jaxinit.save_npz(os.path.join(tmp, "n.npz"), p))
      >>> report.origin, report.problems
      ('jaxinit', ())
    """
    path = os.fspath(path)
    contents = read_file(path)
    params = contents.params
    names = _entry_names(path)
    origin = "jaxinit" if contents.metadata is not None else "psychrnn"
    problems = []
    notes = []

    known = {*PSYCHRNN_KEYS, "dale_ratio", "transfer_function"}
    extra = sorted(n for n in names if n not in known and not n.startswith("jaxinit/"))
    if extra:
        shown = ", ".join(extra[:6]) + (", ..." if len(extra) > 6 else "")
        notes.append(f"{len(extra)} extra entries ignored (optimizer slots?): {shown}")
    if origin == "psychrnn":
        with np.load(path, allow_pickle=False) as data:
            stored = {n: data[n] for n in ("W_in", "W_rec", "W_out")}
        eff = effective(params)
        for name in ("W_in", "W_rec", "W_out"):
            changed = int(
                np.count_nonzero(~np.isclose(stored[name], np.asarray(getattr(eff, name))))
            )
            if changed:
                notes.append(
                    f"{name} in the file is raw, not effective: the model changes {changed} "
                    "entries when it applies masks, |.| and Dale signs"
                )
    dale_out = np.asarray(params.dale_out_diag)
    if (dale_out < 0).any():
        problems.append(
            f"Dale_out has {int((dale_out < 0).sum())} entries of -1 (PsychRNN 1.0.0's default): "
            "inhibitory units reach the outputs with negative weights"
        )
    mask = np.asarray(params.rec_connectivity)
    isolated = int(np.count_nonzero((mask.sum(axis=0) == 0) & (mask.sum(axis=1) == 0)))
    if isolated:
        problems.append(f"{isolated} recurrent units have no recurrent connections at all")
    summary = summarize(params)
    if summary.effective_spectral_radius == 0:
        problems.append("the effective W_rec has spectral radius 0 (no recurrent dynamics)")
    if contents.metadata is not None:
        recipe = (contents.metadata.get("provenance") or {}).get("initializer")
        versions = contents.metadata.get("versions") or {}
        made = f"made by {recipe}" if recipe else "no recipe recorded"
        notes.append(
            f"written by jaxinit {versions.get('jaxinit', '?')} with jax "
            f"{versions.get('jax', '?')}; {made}"
        )
    return Inspection(path, origin, summary, tuple(problems), tuple(notes))
