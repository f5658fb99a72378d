"""A short numerical summary of a network or an ensemble.

:func:`summarize` gives a :class:`Summary` for one network (sizes, E/I
counts, recurrent density, raw and effective spectral radius) and an
:class:`EnsembleSummary` for an ensemble, where every quantity that can vary
from member to member is reported as a :class:`Spread` (minimum, median and
maximum over the members). Printing either gives an aligned table; that is
what ``jaxinit init`` and ``jaxinit inspect`` show.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.params import Params
from jaxinit._src.spectral import spectral_radius

#: What the E/I row says for a network without Dale's law.
NO_DALE = "no Dale's law"


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _dale_text(dale_ratio: float | None) -> str:
    return f"none ({NO_DALE})" if dale_ratio is None else f"{dale_ratio:g}"


@dataclasses.dataclass(frozen=True)
class Summary:
    """What :func:`summarize` reports about one network.

    ``n_excitatory`` and ``n_inhibitory`` are None for a network without
    Dale's law (its units have no fixed sign).
    """

    N_in: int
    N_rec: int
    N_out: int
    dale_ratio: float | None
    n_excitatory: int | None
    n_inhibitory: int | None
    rec_density: float
    autapses: int
    raw_spectral_radius: float
    effective_spectral_radius: float
    transfer_function: str
    dtype: str

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, in display order."""
        rows = [
            ("sizes (N_in, N_rec, N_out)", f"{self.N_in}, {self.N_rec}, {self.N_out}"),
            ("dale_ratio", _dale_text(self.dale_ratio)),
        ]
        if self.n_excitatory is not None:
            rows.append(
                ("excitatory / inhibitory units", f"{self.n_excitatory} / {self.n_inhibitory}")
            )
        return [
            *rows,
            ("recurrent density", f"{self.rec_density:.4f}"),
            ("self-connections (autapses)", str(self.autapses)),
            ("spectral radius, raw W_rec", f"{self.raw_spectral_radius:.6g}"),
            ("spectral radius, effective W_rec", f"{self.effective_spectral_radius:.6g}"),
            ("transfer function", self.transfer_function),
            ("dtype", self.dtype),
        ]

    def __str__(self) -> str:
        return _table(self.rows())


@dataclasses.dataclass(frozen=True)
class Spread:
    """Minimum, median and maximum of one quantity over the members of an ensemble.

    Printed as ``"min / median / max"``, or as the single value when every
    member has the same one.

    Example:
      >>> str(Spread.of([1.0, 3.0, 2.0])), str(Spread.of([4, 4]))
      ('1 / 2 / 3', '4')
    """

    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: npt.ArrayLike) -> Spread:
        """The spread of an array of per-member values (any shape)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        return cls(float(values.min()), float(np.median(values)), float(values.max()))

    def format(self, spec: str = ".6g") -> str:
        """The spread with each number formatted by ``spec``."""
        if self.min == self.max:
            return format(self.min, spec)
        return " / ".join(format(v, spec) for v in (self.min, self.median, self.max))

    def __str__(self) -> str:
        return self.format()


@dataclasses.dataclass(frozen=True)
class EnsembleSummary:
    """What :func:`summarize` reports about an ensemble (a Params with leading axes).

    Sizes, ``dale_ratio``, transfer function and dtype are shared by every
    member; the other quantities are :class:`Spread` s over the members.
    ``n_excitatory`` is None without Dale's law.
    """

    members: int
    batch_shape: tuple[int, ...]
    N_in: int
    N_rec: int
    N_out: int
    dale_ratio: float | None
    n_excitatory: Spread | None
    rec_density: Spread
    autapses: Spread
    raw_spectral_radius: Spread
    effective_spectral_radius: Spread
    transfer_function: str
    dtype: str

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, in display order."""
        rows = [
            ("members", f"{self.members} (batch shape {self.batch_shape})"),
            ("sizes (N_in, N_rec, N_out)", f"{self.N_in}, {self.N_rec}, {self.N_out}"),
            ("dale_ratio", _dale_text(self.dale_ratio)),
        ]
        if self.n_excitatory is not None:
            rows.append(("excitatory units", self.n_excitatory.format("g")))
        return [
            *rows,
            ("recurrent density", self.rec_density.format(".4f")),
            ("self-connections (autapses)", self.autapses.format("g")),
            ("spectral radius, raw W_rec", str(self.raw_spectral_radius)),
            ("spectral radius, effective W_rec", str(self.effective_spectral_radius)),
            ("transfer function", self.transfer_function),
            ("dtype", self.dtype),
        ]

    def __str__(self) -> str:
        note = "(values that differ between members: min / median / max)"
        return f"{_table(self.rows())}\n{note}"


def _radii(params: Params) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.floating[Any]]]:
    """Raw and effective recurrent spectral radii, each of shape ``batch_shape``."""
    radii = np.asarray(spectral_radius(jnp.stack([params.W_rec, effective(params).W_rec])))
    return radii[0], radii[1]


def _counts(
    params: Params,
) -> tuple[
    npt.NDArray[np.integer[Any]] | None, npt.NDArray[np.floating[Any]], npt.NDArray[np.integer[Any]]
]:
    """Per member: excitatory units (None without Dale), density, autapses."""
    mask = np.asarray(params.rec_connectivity)
    n_exc = (np.asarray(params.dale_rec_diag) > 0).sum(axis=-1) if params.dale else None
    density = mask.mean(axis=(-2, -1))
    autapses = np.count_nonzero(np.diagonal(mask, axis1=-2, axis2=-1), axis=-1)
    return n_exc, density, autapses


def network_summary(params: Params) -> Summary:
    """The :class:`Summary` of one network; an ensemble raises ``ValueError``."""
    checks.single_network(params)
    n_exc, density, autapses = _counts(params)
    raw, eff = _radii(params)
    return Summary(
        N_in=params.N_in,
        N_rec=params.N_rec,
        N_out=params.N_out,
        dale_ratio=params.dale_ratio,
        n_excitatory=None if n_exc is None else int(n_exc),
        n_inhibitory=None if n_exc is None else params.N_rec - int(n_exc),
        rec_density=float(density),
        autapses=int(autapses),
        raw_spectral_radius=float(raw),
        effective_spectral_radius=float(eff),
        transfer_function=params.transfer_function,
        dtype=str(params.W_rec.dtype),
    )


def ensemble_summary(params: Params) -> EnsembleSummary:
    """The :class:`EnsembleSummary` of an ensemble (a Params with leading axes)."""
    shape = tuple(params.batch_shape)
    if not shape:
        raise ValueError(
            "params must be an ensemble (a Params with leading member axes), got a single "
            "network; use jaxinit.summarize for one network"
        )
    n_exc, density, autapses = _counts(params)
    raw, eff = _radii(params)
    return EnsembleSummary(
        members=math.prod(shape),
        batch_shape=shape,
        N_in=params.N_in,
        N_rec=params.N_rec,
        N_out=params.N_out,
        dale_ratio=params.dale_ratio,
        n_excitatory=None if n_exc is None else Spread.of(n_exc),
        rec_density=Spread.of(density),
        autapses=Spread.of(autapses),
        raw_spectral_radius=Spread.of(raw),
        effective_spectral_radius=Spread.of(eff),
        transfer_function=params.transfer_function,
        dtype=str(params.W_rec.dtype),
    )


def summarize(params: Params) -> Summary | EnsembleSummary:
    """Summarize a network, or every member of an ensemble.

    Args:
      params: a :class:`~jaxinit.Params`: one network, or an ensemble (leading
        member axes, as :func:`~jaxinit.ensemble` makes).

    Returns:
      A :class:`Summary` for one network, an :class:`EnsembleSummary` (with
      the minimum, median and maximum over the members) for an ensemble.
      Without Dale's law there are no E/I counts (they are None) and the
      table says "no Dale's law".

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=10, N_out=1, dale_ratio=0.8, alpha=1.0)
      >>> s = summarize(jaxinit.alpha_identity(jax.random.key(0), cfg))
      >>> s.n_excitatory, s.n_inhibitory
      (8, 2)
      >>> free = summarize(jaxinit.alpha_identity(jax.random.key(0), cfg.replace(dale_ratio=None)))
      >>> free.n_excitatory, [v for k, v in free.rows() if k == "dale_ratio"]
      (None, ["none (no Dale's law)"])

      An ensemble of 8 networks whose raw ``W_rec`` is scaled to 1.1:

      >>> ens = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, jax.random.key(1), 8,
      ...                        cfg.replace(spec_rad=1.1))
      >>> e = summarize(ens)
      >>> e.members, e.n_excitatory.format("g"), round(e.raw_spectral_radius.median, 4)
      (8, '8', 1.1)
      >>> e.effective_spectral_radius.min <= e.effective_spectral_radius.max
      True
    """
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    if params.batch_shape:
        return ensemble_summary(params)
    return network_summary(params)
