"""Sparse patterns of independent entries: jaxinit.sparse.bernoulli, blocks and ei."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import jaxinit
from jaxinit._src.sparse import patterns, probability
from jaxinit.sparse import bernoulli, blocks, ei
from tests.test_sparse import largest_array


def check_layout(P, n, autapses):
    """Rows sorted and distinct, padding (index n, value 0) last, ones on the entries."""
    index, values = np.asarray(P.index), np.asarray(P.values)
    stored = index < n
    assert P.shape == (n, n) and index.dtype == np.int32
    assert ((index >= 0) & (index <= n)).all()
    # once a slot is padding, the rest of the row is
    assert (stored[:, :-1] >= stored[:, 1:]).all()
    steps = np.diff(index, axis=1)
    assert ((steps > 0) | ~stored[:, 1:]).all()
    np.testing.assert_array_equal(values, stored.astype(values.dtype))
    if not autapses:
        assert not (index == np.arange(n)[:, None]).any()
    return stored


@pytest.mark.parametrize("autapses", [True, False])
def test_bernoulli_layout_density_and_slots(autapses):
    n, p = 3000, 0.02
    P = bernoulli(jax.random.key(3), (n, n), p, autapses=autapses)
    stored = check_layout(P, n, autapses)
    counts = stored.sum(axis=1)
    assert P.slots == counts.max()  # the default: the fullest row
    candidates = n if autapses else n - 1
    # total count ~ Binomial(n * candidates, p): within 5 standard deviations
    total, mean = counts.sum(), n * candidates * p
    assert abs(total - mean) < 5 * math.sqrt(mean * (1 - p))


def test_row_counts_are_binomial():
    """Chi-square of 20 000 row counts against Binomial(c, p) (bins with expectation >= 5)."""
    n, p = 20_000, 0.001
    counts = np.asarray(
        probability._counts(jax.random.key(5), jnp.full((1, 1), p), (n,), False)
    )[:, 0]
    pmf = scipy.stats.binom(n - 1, p).pmf(np.arange(counts.max() + 1))
    expected = pmf * n
    keep = expected >= 5
    obs = np.bincount(counts, minlength=pmf.size)
    o = np.append(obs[keep], obs[~keep].sum())
    e = np.append(expected[keep], n - expected[keep].sum())
    assert scipy.stats.chisquare(o, e).pvalue > 1e-6


@pytest.mark.parametrize(
    ("size", "need", "width", "skip"),
    [(9, 2, 2, -1), (9, 2, 2, 4), (6, 3, 4, -1), (6, 3, 4, 0), (7, 2, 16, 6)],
    ids=["draws", "draws-skip", "permutation", "permutation-skip", "wide"],
)
def test_subsets_given_their_count_are_uniform(size, need, width, skip):
    """Every need-subset of the candidates (all but `skip`) equally likely (chi-square,
    alpha 1e-6), in both regimes of the row draw."""
    keys = jax.random.split(jax.random.key(13), 3000)

    def one(key):
        return probability._subset(key, jnp.int32(need), width, size, jnp.int32(skip))

    rows = np.asarray(jax.vmap(one)(keys))
    assert (rows[:, need:] == size).all()
    chosen = rows[:, :need]
    assert ((chosen >= 0) & (chosen < size) & (chosen != skip)).all()
    assert (np.diff(chosen, axis=1) > 0).all()
    codes = (chosen * (size ** np.arange(need))).sum(axis=1)
    _, counts = np.unique(codes, return_counts=True)
    candidates = size - (skip >= 0)
    assert counts.size == math.comb(candidates, need)
    assert scipy.stats.chisquare(counts).pvalue > 1e-6


def test_entries_are_independent_with_probability_p():
    """600 draws of a 5 x 5 pattern without autapses: each of the 20 entries is present
    with probability p, and two entries of a row together with p^2 (5 sigma)."""
    p, draws = 0.3, 600
    masks = np.stack([
        np.asarray(bernoulli(jax.random.key(s), (5, 5), p, autapses=False, slots=4).todense())
        for s in range(draws)
    ])
    assert (masks.diagonal(axis1=1, axis2=2) == 0).all()
    off = ~np.eye(5, dtype=bool)
    freq = masks.mean(axis=0)[off]
    sd = math.sqrt(p * (1 - p) / draws)
    assert np.abs(freq - p).max() < 5 * sd
    both = (masks[:, 0, 1] * masks[:, 0, 2]).mean()
    assert abs(both - p * p) < 5 * math.sqrt(p * p * (1 - p * p) / draws)


def test_blocks_densities_and_empty_and_full_blocks():
    sizes = (1500, 500, 1000)
    p = np.array([[0.01, 0.0, 0.03], [1.0, 0.02, 0.0], [0.005, 0.05, 0.0]])
    P = blocks(jax.random.key(2), sizes, p, autapses=False)
    n = sum(sizes)
    check_layout(P, n, autapses=False)
    dense = np.asarray(P.todense())
    edges = np.cumsum((0, *sizes))
    for a in range(3):
        for b in range(3):
            block = dense[edges[a]:edges[a + 1], edges[b]:edges[b + 1]]
            cands = block.size - (sizes[a] if a == b else 0)
            mean = p[a, b] * cands
            if p[a, b] in (0.0, 1.0):
                assert block.sum() == mean, (a, b)
            else:
                assert abs(block.sum() - mean) < 5 * math.sqrt(mean * (1 - p[a, b])), (a, b)


def test_ei_uses_the_configs_excitatory_units():
    N, ratio = 1000, 0.75
    P = ei(jax.random.key(4), N, ratio, p_EE=0.0, p_EI=1.0, p_IE=0.0, p_II=0.0)
    n_e = jaxinit.n_excitatory(N, ratio)
    dense = np.asarray(P.todense())
    assert dense[:n_e, n_e:].all() and dense.sum() == n_e * (N - n_e)
    assert P.slots == N - n_e


def test_same_key_same_pattern_and_slots_pad():
    key = jax.random.key(9)
    a = bernoulli(key, (500, 500), 0.05)
    b = bernoulli(key, (500, 500), 0.05, slots=a.slots + 7)
    np.testing.assert_array_equal(a.index, b.index[:, : a.slots])
    assert (np.asarray(b.index)[:, a.slots:] == 500).all()
    assert not np.array_equal(a.index, bernoulli(jax.random.key(10), (500, 500), 0.05).index)


def test_zero_and_one_probabilities():
    empty = bernoulli(jax.random.key(0), (50, 50), 0.0)
    assert empty.slots == 0 and empty.index.shape == (50, 0)
    full = bernoulli(jax.random.key(0), (50, 50), 1.0, autapses=False)
    np.testing.assert_array_equal(np.asarray(full.todense()), 1 - np.eye(50))


def test_a_pattern_makes_a_network_scaled_to_its_radius():
    """Padding rows of different lengths: the radius of the effective W_rec is spec_rad."""
    n = 2000
    P = ei(jax.random.key(1), n, 0.8, p_EE=0.02, p_EI=0.05, p_IE=0.03, p_II=0.05,
           autapses=False)
    cfg = jaxinit.Config(N_in=1, N_rec=n, N_out=1, dale_ratio=0.8, spec_rad=1.3,
                         spectral_radius_of="effective", spectral_method="krylov")
    net = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P)
    eff = np.asarray(jaxinit.effective(net).W_rec.todense(), np.float64)
    rho = np.abs(np.linalg.eigvals(eff)).max()
    assert abs(rho - 1.3) < 1e-4 * 1.3
    np.testing.assert_array_equal(np.asarray(net.W_rec.index), np.asarray(P.index))


def test_no_n_by_n_array_when_drawing_10k_units():
    n, width = 10_000, 160
    counts = jnp.full((n, 1), 100, jnp.int32)
    jaxpr = jax.make_jaxpr(
        lambda key: probability._columns(key, counts, (n,), (width,), width, False)
    )(jax.random.key(0))
    # the output or one chunk of draws, far below the 10^8 entries of an n x n mask
    bound = max(n * width, patterns.CHUNK_ROWS * patterns.draws_per_row(width, n))
    assert largest_array(jaxpr) <= bound < n * n // 30


def test_errors():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match=r"shape must be square \(a recurrent pattern\)"):
        bernoulli(key, (10, 20), 0.1)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        bernoulli(key, (10, 10), 1.5)
    with pytest.raises(ValueError, match="p must be a scalar"):
        bernoulli(key, (10, 10), [0.1, 0.2])
    with pytest.raises(ValueError, match=r"slots must be at least \d+, the largest row count"):
        bernoulli(key, (100, 100), 0.5, slots=3)
    with pytest.raises(TypeError, match="needs a concrete key"):
        jax.jit(lambda k: bernoulli(k, (10, 10), 0.1).index)(key)
    with pytest.raises(TypeError, match="p must be concrete"):
        jax.jit(lambda q: bernoulli(key, (10, 10), q).index)(0.1)
    with pytest.raises(ValueError, match=r"p must have shape \(2, 2\)"):
        blocks(key, (5, 5), [0.1, 0.2])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be non-negative, got -5"):
        blocks(key, (5, -5), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"p_EI must be in \[0, 1\], got -0.1"):
        ei(key, 10, 0.8, p_EE=0.1, p_EI=-0.1, p_IE=0.1, p_II=0.1)
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        bernoulli(0, (10, 10), 0.1)
