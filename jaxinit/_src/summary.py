"""A short numerical summary of a network or an ensemble.

:func:`summarize` gives a :class:`Summary` for one network (sizes, E/I
counts, recurrent density, raw and effective spectral radius) and an
:class:`EnsembleSummary` for an ensemble, where every quantity that can vary
from member to member is reported as a :class:`Spread` (minimum, median and
maximum over the members). Printing either gives an aligned table; that is
what ``jaxinit init`` and ``jaxinit inspect`` show.

A sparse network (:class:`~jaxinit.sparse.SparseParams`) is summarized
from its stored entries only, in O(nnz) memory: the same rows, plus the
stored entries, the in- and out-degrees, the statistics of the stored
weights and how the radii were computed (the Krylov method on the sparse
matrix, never a dense solve above :data:`SPARSE_FULL_SOLVE_MAX_N` units).
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
from jaxinit._src.krylov import KrylovResult, krylov_spectral_radius
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse
from jaxinit._src.sparse.stats import (
    DegreeStats,
    WeightStats,
    degrees,
    diagonal_counts,
    stored_counts,
    weight_stats,
)
from jaxinit._src.spectral import spectral_radius

#: What the E/I row says for a network without Dale's law.
NO_DALE = "no Dale's law"

#: The largest sparse network whose uncertified Krylov radius :func:`summarize`
#: recomputes with a full (dense) solve; a larger one reports it as not certified.
SPARSE_FULL_SOLVE_MAX_N = 4096

#: The relative residual :func:`summarize` asks of a sparse network's Krylov radii.
SPARSE_RADIUS_TOL = 1e-5

FloatArray = npt.NDArray[np.floating[Any]]


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _dale_text(dale_ratio: float | None) -> str:
    return f"none ({NO_DALE})" if dale_ratio is None else f"{dale_ratio:g}"


def _density_text(density: float) -> str:
    """A sparse network's density: four decimals, or four significant digits below 0.1."""
    return f"{density:.4f}" if density == 0 or density >= 0.1 else f"{density:.4g}"


def _sparse_rows(
    in_degree: DegreeStats | None,
    out_degree: DegreeStats | None,
    weights: WeightStats | None,
    pooled: str,
) -> list[tuple[str, str]]:
    rows = []
    if in_degree is not None:
        rows.append((f"in-degree (min / mean / max{pooled})", in_degree.format()))
    if out_degree is not None:
        rows.append((f"out-degree (min / mean / max{pooled})", out_degree.format()))
    if weights is not None:
        rows.append((f"raw W_rec, stored entries{pooled}", str(weights)))
    return rows


def _method_rows(method: str | None) -> list[tuple[str, str]]:
    return [] if method is None else [("spectral radius method", method)]


@dataclasses.dataclass(frozen=True)
class Summary:
    """What :func:`summarize` reports about one network.

    ``n_excitatory`` and ``n_inhibitory`` are None for a network without
    Dale's law (its units have no fixed sign). The last five fields are set
    for a sparse network only (None for a dense one): ``nnz``, the stored
    recurrent entries (``rec_density`` is ``nnz / N_rec**2``); the in- and
    out-degrees; the statistics of the raw ``W_rec``'s stored values; and
    ``radius_method``, how the radii were computed and whether they are
    certified.
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
    nnz: int | None = None
    in_degree: DegreeStats | None = None
    out_degree: DegreeStats | None = None
    weights: WeightStats | None = None
    radius_method: str | None = None

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
        if self.nnz is None:
            rows.append(("recurrent density", f"{self.rec_density:.4f}"))
        else:
            rows.append(("recurrent density", _density_text(self.rec_density)))
            rows.append(("stored recurrent entries (nnz)", str(self.nnz)))
        rows += _sparse_rows(self.in_degree, self.out_degree, self.weights, "")
        return [
            *rows,
            ("self-connections (autapses)", str(self.autapses)),
            ("spectral radius, raw W_rec", f"{self.raw_spectral_radius:.6g}"),
            ("spectral radius, effective W_rec", f"{self.effective_spectral_radius:.6g}"),
            *_method_rows(self.radius_method),
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
    ``n_excitatory`` is None without Dale's law. For a sparse ensemble
    ``nnz`` is a Spread too, and the degrees and weight statistics are
    pooled over all members (every unit, every stored entry); the last
    five fields are None for a dense ensemble.
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
    nnz: Spread | None = None
    in_degree: DegreeStats | None = None
    out_degree: DegreeStats | None = None
    weights: WeightStats | None = None
    radius_method: str | None = None

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, in display order."""
        rows = [
            ("members", f"{self.members} (batch shape {self.batch_shape})"),
            ("sizes (N_in, N_rec, N_out)", f"{self.N_in}, {self.N_rec}, {self.N_out}"),
            ("dale_ratio", _dale_text(self.dale_ratio)),
        ]
        if self.n_excitatory is not None:
            rows.append(("excitatory units", self.n_excitatory.format("g")))
        if self.nnz is None:
            rows.append(("recurrent density", self.rec_density.format(".4f")))
        else:
            rows.append(("recurrent density", self.rec_density.format(".4g")))
            rows.append(("stored recurrent entries (nnz)", self.nnz.format("g")))
        rows += _sparse_rows(self.in_degree, self.out_degree, self.weights, ", all members")
        return [
            *rows,
            ("self-connections (autapses)", self.autapses.format("g")),
            ("spectral radius, raw W_rec", str(self.raw_spectral_radius)),
            ("spectral radius, effective W_rec", str(self.effective_spectral_radius)),
            *_method_rows(self.radius_method),
            ("transfer function", self.transfer_function),
            ("dtype", self.dtype),
        ]

    def __str__(self) -> str:
        note = "(values that differ between members: min / median / max)"
        return f"{_table(self.rows())}\n{note}"


def _radii(params: Params) -> tuple[FloatArray, FloatArray]:
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


def sparse_krylov_radius(W: RowSparse) -> KrylovResult:
    """The Krylov radius of a sparse matrix (or stack) as :func:`summarize` computes it.

    Certified to :data:`SPARSE_RADIUS_TOL`; an uncertified member gets the
    full solve only up to :data:`SPARSE_FULL_SOLVE_MAX_N` units, and is
    reported by ``converged`` above that.
    """
    fallback = W.n_cols <= SPARSE_FULL_SOLVE_MAX_N
    return krylov_spectral_radius(W, tol=SPARSE_RADIUS_TOL, fallback=fallback)


def _method_text(results: list[KrylovResult]) -> str:
    """How the sparse radii were computed, and whether every one is certified."""
    tol = f"{SPARSE_RADIUS_TOL:g}"
    solved = sum(int(np.asarray(r.fell_back).sum()) for r in results)
    open_ = [
        np.asarray(r.residual)[~np.asarray(r.converged) & ~np.asarray(r.fell_back)]
        for r in results
    ]
    worst = np.concatenate([x.reshape(-1) for x in open_])
    text = f"Krylov on the sparse matrix, certified to a relative residual of {tol}"
    if solved:
        text += f" ({solved} radii by the full solve)"
    if worst.size:
        text = (
            f"Krylov on the sparse matrix, NOT certified for {worst.size} radii (relative "
            f"residual up to {float(worst.max()):.3g} > {tol})"
        )
    return text


def _sparse_radii(params: SparseParams) -> tuple[FloatArray, FloatArray, str]:
    """Raw and effective radii of a sparse network (shape ``batch_shape``), and the method."""
    raw = sparse_krylov_radius(params.W_rec)
    if params.dale:
        eff = sparse_krylov_radius(effective(params).W_rec)
        results = [raw, eff]
    else:  # the effective W_rec is the raw one, padding zeroed: the same radius
        eff, results = raw, [raw]
    method = _method_text(results)
    return np.asarray(raw.radius), np.asarray(eff.radius), method


@dataclasses.dataclass(frozen=True)
class _Measured:
    """Everything :func:`summarize` measures, each per member (shape ``batch_shape``),
    except the pooled sparse statistics."""

    n_exc: npt.NDArray[np.integer[Any]] | None
    density: FloatArray
    autapses: npt.NDArray[np.integer[Any]]
    raw: FloatArray
    eff: FloatArray
    nnz: npt.NDArray[np.integer[Any]] | None = None
    in_degree: DegreeStats | None = None
    out_degree: DegreeStats | None = None
    weights: WeightStats | None = None
    radius_method: str | None = None


def _measure(params: Params | SparseParams) -> _Measured:
    if isinstance(params, Params):
        n_exc, density, autapses = _counts(params)
        raw, eff = _radii(params)
        return _Measured(n_exc, density, autapses, raw, eff)
    W = params.W_rec
    n_exc = (np.asarray(params.dale_rec_diag) > 0).sum(axis=-1) if params.dale else None
    nnz = stored_counts(W)
    ins, outs = degrees(W)
    raw, eff, method = _sparse_radii(params)
    return _Measured(
        n_exc=n_exc,
        density=nnz / float(params.N_rec) ** 2,
        autapses=diagonal_counts(W),
        raw=raw,
        eff=eff,
        nnz=nnz,
        in_degree=DegreeStats.of(ins),
        out_degree=DegreeStats.of(outs),
        weights=weight_stats(W),
        radius_method=method,
    )


def _dtype(params: Params | SparseParams) -> str:
    W = params.W_rec
    return str(W.values.dtype if isinstance(W, RowSparse) else W.dtype)


def network_summary(params: Params | SparseParams) -> Summary:
    """The :class:`Summary` of one network; an ensemble raises ``ValueError``."""
    checks.single_network(params)
    got = _measure(params)
    n_exc = got.n_exc
    return Summary(
        N_in=params.N_in,
        N_rec=params.N_rec,
        N_out=params.N_out,
        dale_ratio=params.dale_ratio,
        n_excitatory=None if n_exc is None else int(n_exc),
        n_inhibitory=None if n_exc is None else params.N_rec - int(n_exc),
        rec_density=float(got.density),
        autapses=int(got.autapses),
        raw_spectral_radius=float(got.raw),
        effective_spectral_radius=float(got.eff),
        transfer_function=params.transfer_function,
        dtype=_dtype(params),
        nnz=None if got.nnz is None else int(got.nnz),
        in_degree=got.in_degree,
        out_degree=got.out_degree,
        weights=got.weights,
        radius_method=got.radius_method,
    )


def ensemble_summary(params: Params | SparseParams) -> EnsembleSummary:
    """The :class:`EnsembleSummary` of an ensemble (a Params or SparseParams with
    leading axes)."""
    shape = tuple(params.batch_shape)
    if not shape:
        raise ValueError(
            "params must be an ensemble (a Params with leading member axes), got a single "
            "network; use jaxinit.summarize for one network"
        )
    got = _measure(params)
    return EnsembleSummary(
        members=math.prod(shape),
        batch_shape=shape,
        N_in=params.N_in,
        N_rec=params.N_rec,
        N_out=params.N_out,
        dale_ratio=params.dale_ratio,
        n_excitatory=None if got.n_exc is None else Spread.of(got.n_exc),
        rec_density=Spread.of(got.density),
        autapses=Spread.of(got.autapses),
        raw_spectral_radius=Spread.of(got.raw),
        effective_spectral_radius=Spread.of(got.eff),
        transfer_function=params.transfer_function,
        dtype=_dtype(params),
        nnz=None if got.nnz is None else Spread.of(got.nnz),
        in_degree=got.in_degree,
        out_degree=got.out_degree,
        weights=got.weights,
        radius_method=got.radius_method,
    )


def summarize(params: Params | SparseParams) -> Summary | EnsembleSummary:
    """Summarize a network, or every member of an ensemble.

    Args:
      params: a :class:`~jaxinit.Params` or a
        :class:`~jaxinit.sparse.SparseParams`: one network, or an ensemble
        (leading member axes, as :func:`~jaxinit.ensemble` makes).

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

      A sparse network is read from its stored entries only (O(nnz) memory):
      its radii are Krylov radii of the sparse matrices (certified to a
      relative residual of 1e-5, the full solve only for an uncertified one
      of at most 4096 units), and the summary adds the stored entries, the
      degrees and the statistics of the stored weights:

      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(2), (2000, 2000), 50)
      >>> sparse_cfg = cfg.replace(N_rec=2000, spectral_radius_of="effective",
      ...                          spectral_method="krylov", spec_rad=1.1)
      >>> sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), sparse_cfg, P)
      >>> s = summarize(sp)
      >>> s.nnz, s.rec_density, s.in_degree.format(), round(s.effective_spectral_radius, 4)
      (100000, 0.025, '50', 1.1)
      >>> print(s.radius_method)
      Krylov on the sparse matrix, certified to a relative residual of 1e-05
    """
    if not isinstance(params, (Params, SparseParams)):
        raise TypeError(
            "params must be a jaxinit.Params or a jaxinit.sparse.SparseParams, got "
            f"{type(params).__name__}"
        )
    if params.batch_shape:
        return ensemble_summary(params)
    return network_summary(params)
