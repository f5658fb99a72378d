"""A short numerical summary of a network: sizes, E/I counts, radii, density."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from jaxinit._src.effective import effective
from jaxinit._src.spectral import spectral_radius


@dataclasses.dataclass(frozen=True)
class Summary:
    """What :func:`summarize` reports about one network."""

    N_in: int
    N_rec: int
    N_out: int
    dale_ratio: float | None
    n_excitatory: int
    n_inhibitory: int
    rec_density: float
    autapses: int
    raw_spectral_radius: float
    effective_spectral_radius: float
    transfer_function: str
    dtype: str

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, in display order."""
        dale = "off" if self.dale_ratio is None else f"{self.dale_ratio:g}"
        return [
            ("sizes (N_in, N_rec, N_out)", f"{self.N_in}, {self.N_rec}, {self.N_out}"),
            ("dale_ratio", dale),
            ("excitatory / inhibitory units", f"{self.n_excitatory} / {self.n_inhibitory}"),
            ("recurrent density", f"{self.rec_density:.4f}"),
            ("self-connections (autapses)", str(self.autapses)),
            ("spectral radius, raw W_rec", f"{self.raw_spectral_radius:.6g}"),
            ("spectral radius, effective W_rec", f"{self.effective_spectral_radius:.6g}"),
            ("transfer function", self.transfer_function),
            ("dtype", self.dtype),
        ]

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def summarize(params) -> Summary:
    """Summarize one network (not an ensemble).

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=10, N_out=1, dale_ratio=0.8, alpha=1.0)
      >>> s = summarize(jaxinit.alpha_identity(jax.random.key(0), cfg))
      >>> s.n_excitatory, s.n_inhibitory
      (8, 2)
    """
    if params.batch_shape:
        raise ValueError(
            f"summarize takes one network, got an ensemble of shape {params.batch_shape}"
        )
    signs = np.asarray(params.dale_rec_diag)
    mask = np.asarray(params.rec_connectivity)
    radii = spectral_radius(jnp.stack([params.W_rec, effective(params).W_rec]))
    raw, eff = (float(r) for r in np.asarray(radii))
    n_exc = int((signs > 0).sum())
    return Summary(
        N_in=params.N_in,
        N_rec=params.N_rec,
        N_out=params.N_out,
        dale_ratio=params.dale_ratio,
        n_excitatory=n_exc,
        n_inhibitory=params.N_rec - n_exc,
        rec_density=float(mask.mean()),
        autapses=int(np.count_nonzero(np.diagonal(mask))),
        raw_spectral_radius=raw,
        effective_spectral_radius=eff,
        transfer_function=params.transfer_function,
        dtype=str(params.W_rec.dtype),
    )
