"""jaxinit.connectivity: every promise of every generator, with real values.

Statistical checks run at fixed keys and reject only at a very small
significance level (ALPHA), so they do not flake, yet fail for a wrong
probability, profile or rewiring rule.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit import connectivity as conn
from jaxinit._src.connectivity import selection

ALPHA = 1e-6
Z_LIMIT = float(scipy.stats.norm.isf(ALPHA / 2))  # two-sided, about 4.9
KEY = jax.random.key(0)

# Few distinct static arguments (each compiles a program): the statistical
# tests share one rectangular and one square shape.
RECT = (400, 300)
SQUARE = (400, 400)


# ---------------------------------------------------------------------------
# Statistical helpers.


def assert_binomial(successes, trials, p):
    """``successes`` out of ``trials`` is consistent with probability ``p``."""
    successes, trials = int(successes), int(trials)
    if p in (0.0, 1.0):
        assert successes == p * trials
        return
    pvalue = scipy.stats.binomtest(successes, trials, p).pvalue
    assert pvalue > ALPHA, f"{successes}/{trials} = {successes / trials:.4f} vs p = {p}"


def assert_expected_count(observed, probabilities):
    """A sum of independent Bernoulli(p_i) draws matches the p_i (normal z-score)."""
    probabilities = np.asarray(probabilities, np.float64)
    mean = probabilities.sum()
    sd = math.sqrt((probabilities * (1 - probabilities)).sum())
    if sd == 0:
        assert observed == mean
        return
    z = (float(observed) - mean) / sd
    assert abs(z) < Z_LIMIT, f"observed {observed}, expected {mean:.1f} +- {sd:.1f} (z={z:.2f})"


def assert_uniform_subsets(masks, n_candidates, n_chosen):
    """Every draw (rows of ``masks``, flattened 0/1 over the candidates) picks
    ``n_chosen`` entries, and every such subset is equally likely (chi-square)."""
    masks = np.asarray(masks).reshape(len(masks), -1).astype(np.int64)
    assert masks.shape[1] == n_candidates
    assert (masks.sum(axis=1) == n_chosen).all()
    codes = masks @ (2 ** np.arange(n_candidates))
    n_subsets = math.comb(n_candidates, n_chosen)
    observed = np.bincount(np.unique(codes, return_inverse=True)[1])
    assert len(observed) <= n_subsets
    expected = len(masks) / n_subsets
    observed = np.concatenate([observed, np.zeros(n_subsets - len(observed))])
    stat = ((observed - expected) ** 2 / expected).sum()
    assert scipy.stats.chi2.sf(stat, n_subsets - 1) > ALPHA, stat


def ring_distance(n, circumference=1.0):
    x = np.arange(n) * (circumference / n)
    d = np.abs(x[:, None] - x[None, :]) % circumference
    return np.minimum(d, circumference - d)


def ring_lattice(n, k):
    a = np.zeros((n, n))
    for i in range(n):
        for j in range(1, k // 2 + 1):
            a[i, (i + j) % n] = a[(i + j) % n, i] = 1
    return a


# ---------------------------------------------------------------------------
# Properties shared by every generator: determinism, keys, vmap, jit, dtype.

N = 12

GENERATORS = {
    "bernoulli": lambda key, **kw: conn.bernoulli(key, (N, N), 0.4, **kw),
    "fixed_total": lambda key, **kw: conn.fixed_total(key, (N, N), 50, **kw),
    "fixed_in_degree": lambda key, **kw: conn.fixed_in_degree(key, (N, N), 4, **kw),
    "fixed_out_degree": lambda key, **kw: conn.fixed_out_degree(key, (N, N), 4, **kw),
    "blocks": lambda key, **kw: conn.blocks(key, (4, 8), [[0.5, 0.2], [0.3, 0.6]], **kw),
    "blocks_exact": lambda key, **kw: conn.blocks(
        key, (4, 8), [[0.5, 0.2], [0.3, 0.6]], exact=True, **kw
    ),
    "ei": lambda key, **kw: conn.ei(key, N, 0.75, p_EE=0.3, p_EI=0.6, p_IE=0.5, p_II=0.4, **kw),
    "ei_exact": lambda key, **kw: conn.ei(
        key, N, 0.75, p_EE=0.3, p_EI=0.6, p_IE=0.5, p_II=0.4, exact=True, **kw
    ),
    "distance": lambda key, **kw: conn.distance(
        key, conn.ring_positions(N), "gaussian", scale=0.2, period=1.0, **kw
    ),
    "small_world": lambda key, **kw: conn.small_world(key, N, 4, 0.5, **kw),
}
SQUARE_WITH_AUTAPSES = [name for name in GENERATORS if name != "small_world"]


@pytest.mark.parametrize("name", GENERATORS)
def test_same_key_same_mask_other_key_other_mask(name):
    make = GENERATORS[name]
    first = make(KEY)
    assert np.array_equal(first, make(jax.random.key(0)))
    others = [make(jax.random.key(seed)) for seed in (1, 2, 3)]
    assert any(not np.array_equal(first, other) for other in others)


@pytest.mark.parametrize("name", GENERATORS)
def test_jit_of_vmap_over_keys_gives_each_eager_mask(name):
    # One program for both transforms (each compiles): member i of the jitted,
    # vmapped call equals the eager single call with key i.
    make = GENERATORS[name]
    keys = jax.random.split(jax.random.key(7), 4)
    batch = np.asarray(jax.jit(jax.vmap(make))(keys))
    assert batch.shape == (4, N, N)
    for i in range(4):
        assert np.array_equal(batch[i], make(keys[i]))


@pytest.mark.parametrize("name", ["bernoulli", "fixed_total", "ei_exact", "small_world"])
def test_jit_equals_eager(name):
    make = GENERATORS[name]
    key = jax.random.key(3)
    assert np.array_equal(jax.jit(make)(key), make(key))


@pytest.mark.parametrize("name", ["bernoulli", "fixed_in_degree", "blocks_exact", "small_world"])
def test_raw_uint32_keys_work(name):
    make = GENERATORS[name]
    raw = jax.random.PRNGKey(5)
    mask = make(raw)
    assert np.array_equal(mask, make(jax.random.PRNGKey(5)))
    assert set(np.unique(np.asarray(mask))) <= {0.0, 1.0}


@pytest.mark.parametrize("name", GENERATORS)
def test_dtype_changes_only_the_dtype(name, dtype):
    make = GENERATORS[name]
    mask = make(KEY, dtype=dtype)
    assert mask.dtype == np.dtype(dtype)
    with jax.enable_x64(False):
        reference = make(KEY)
    assert reference.dtype == np.float32
    assert np.array_equal(np.asarray(mask, np.float32), reference)
    assert set(np.unique(np.asarray(mask))) <= {0.0, 1.0}


@pytest.mark.parametrize("name", SQUARE_WITH_AUTAPSES)
def test_autapses_false_clears_the_diagonal(name):
    make = GENERATORS[name]
    for seed in range(3):
        mask = make(jax.random.key(seed), autapses=False)
        assert not np.asarray(mask).diagonal().any()


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("bad", [0, 3.5, "key", np.zeros(3, np.float32)])
def test_bad_key(name, bad):
    with pytest.raises(TypeError, match="key must be"):
        GENERATORS[name](bad)


def test_batch_of_keys_is_refused():
    with pytest.raises(ValueError, match="key must be a single key"):
        conn.bernoulli(jax.random.split(KEY, 2), (3, 3), 0.5)


@pytest.mark.parametrize("name", GENERATORS)
def test_bad_dtype(name):
    make = GENERATORS[name]
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        make(KEY, dtype=jnp.int32)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        make(KEY, dtype="no such dtype")
    with jax.enable_x64(False), pytest.raises(ValueError, match="dtype float64 needs 64-bit"):
        make(KEY, dtype=jnp.float64)


@pytest.mark.parametrize("name", SQUARE_WITH_AUTAPSES)
def test_autapses_must_be_a_bool(name):
    with pytest.raises(TypeError, match="autapses must be True or False"):
        GENERATORS[name](KEY, autapses="no")


# ---------------------------------------------------------------------------
# bernoulli


@pytest.mark.parametrize("p", [0.05, 0.3, 0.8])
def test_bernoulli_probability(p):
    mask = np.asarray(conn.bernoulli(jax.random.key(11), RECT, p))
    assert_binomial(mask.sum(), mask.size, p)
    # No part of the matrix is favoured: the first rows, the last columns.
    assert_binomial(mask[:40].sum(), mask[:40].size, p)
    assert_binomial(mask[:, -30:].sum(), mask[:, -30:].size, p)
    square = np.asarray(conn.bernoulli(jax.random.key(11), SQUARE, p, autapses=False))
    assert not square.diagonal().any()
    off = square[~np.eye(400, dtype=bool)]
    assert_binomial(off.sum(), off.size, p)


def test_bernoulli_entries_are_independent():
    # Pairs of entries (i, j), (i, j + 1) are both connected with probability p**2.
    mask = np.asarray(conn.bernoulli(jax.random.key(4), RECT, 0.5))
    both = (mask[:, :-1] * mask[:, 1:])[:, ::2]
    assert_binomial(both.sum(), both.size, 0.25)


def test_bernoulli_zero_and_one():
    assert not np.asarray(conn.bernoulli(KEY, RECT, 0.0)).any()
    assert np.asarray(conn.bernoulli(KEY, RECT, 1.0)).all()
    assert np.array_equal(conn.bernoulli(KEY, SQUARE, 1.0, autapses=False), 1 - np.eye(400))


def test_bernoulli_per_entry_probabilities():
    levels = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    p = np.repeat(levels, RECT[0] // len(levels))[:, None]  # one probability per row
    mask = np.asarray(conn.bernoulli(jax.random.key(2), RECT, p))
    per_level = mask.reshape(len(levels), -1)
    for level, entries in zip(levels, per_level, strict=True):
        assert_binomial(entries.sum(), entries.size, float(level))


def test_bernoulli_traced_probability():
    fn = jax.jit(lambda key, p: conn.bernoulli(key, RECT, p))
    for p in (0.0, 0.25, 1.0):
        assert np.array_equal(fn(KEY, p), conn.bernoulli(KEY, RECT, p))
    batch = jax.vmap(lambda p: conn.bernoulli(KEY, RECT, p))(jnp.array([0.1, 0.9]))
    assert np.array_equal(np.asarray(batch)[1], conn.bernoulli(KEY, RECT, 0.9))


@pytest.mark.parametrize(
    ("p", "error", "match"),
    [
        (1.5, ValueError, r"p must be in \[0, 1\], got 1.5"),
        (-0.1, ValueError, r"p must be in \[0, 1\], got -0.1"),
        (float("nan"), ValueError, "p must be finite, got nan"),
        (np.inf, ValueError, "p must be finite, got inf"),
        (np.array([[0.5, 2.0, 0, 0, 0]]), ValueError, r"p must be in \[0, 1\], got 2.0"),
        (np.ones(3), ValueError, r"p must be broadcastable to shape \(4, 5\), got shape \(3,\)"),
        ("0.5", TypeError, "p must be real numbers"),
        (None, TypeError, "p must be real numbers"),
        (True, TypeError, "p must be real numbers"),
        (1j, TypeError, "p must be real numbers"),
    ],
)
def test_bernoulli_bad_probability(p, error, match):
    with pytest.raises(error, match=match):
        conn.bernoulli(KEY, (4, 5), p)


@pytest.mark.parametrize(
    ("shape", "error", "match"),
    [
        ((0, 3), ValueError, r"shape\[0\] must be a positive integer, got 0"),
        ((3, -1), ValueError, r"shape\[1\] must be a positive integer, got -1"),
        ((3, 2.0), TypeError, r"shape\[1\] must be a positive integer"),
        ((3,), TypeError, r"shape must be a pair \(N_post, N_pre\)"),
        ((3, 3, 3), TypeError, r"shape must be a pair"),
        (5, TypeError, r"shape must be a pair"),
        ("ab", TypeError, r"shape must be a pair"),
    ],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda shape: conn.bernoulli(KEY, shape, 0.5),
        lambda shape: conn.fixed_total(KEY, shape, 1),
        lambda shape: conn.fixed_in_degree(KEY, shape, 1),
        lambda shape: conn.fixed_out_degree(KEY, shape, 1),
    ],
)
def test_bad_shape(make, shape, error, match):
    with pytest.raises(error, match=match):
        make(shape)


@pytest.mark.parametrize("fn", [conn.bernoulli, conn.fixed_total, conn.fixed_in_degree])
def test_autapses_false_needs_a_square_shape(fn):
    with pytest.raises(ValueError, match=r"autapses=False needs a square shape.*\(3, 4\)"):
        fn(KEY, (3, 4), 1, autapses=False)
    with pytest.raises(ValueError, match="autapses=False needs a square shape"):
        conn.fixed_out_degree(KEY, (4, 3), 1, autapses=False)


# ---------------------------------------------------------------------------
# fixed_total, fixed_in_degree, fixed_out_degree


# Shapes (static, so each compiles a program) for the property tests: the
# counts and keys vary freely, the shapes come from this list.
SMALL_SHAPES = [
    ((1, 1), True),
    ((1, 1), False),
    ((1, 6), True),
    ((6, 1), True),
    ((5, 7), True),
    ((7, 5), True),
    ((6, 6), True),
    ((6, 6), False),
]


def shapes_and_autapses():
    return st.sampled_from(SMALL_SHAPES)


@settings(max_examples=15)
@given(shapes_and_autapses(), st.data(), st.integers(0, 2**16))
def test_fixed_total_count(shape_autapses, data, seed):
    shape, autapses = shape_autapses
    candidates = shape[0] * shape[1] - (0 if autapses else shape[0])
    n = data.draw(st.integers(0, candidates))
    mask = np.asarray(conn.fixed_total(jax.random.key(seed), shape, n, autapses=autapses))
    assert mask.shape == shape
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert mask.sum() == n
    if not autapses:
        assert not mask.diagonal().any()


@settings(max_examples=15)
@given(shapes_and_autapses(), st.data(), st.integers(0, 2**16))
def test_fixed_in_and_out_degree_counts(shape_autapses, data, seed):
    shape, autapses = shape_autapses
    key = jax.random.key(seed)
    k_in = data.draw(st.integers(0, shape[1] - (0 if autapses else 1)))
    mask = np.asarray(conn.fixed_in_degree(key, shape, k_in, autapses=autapses))
    assert mask.shape == shape
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert (mask.sum(axis=1) == k_in).all()
    k_out = data.draw(st.integers(0, shape[0] - (0 if autapses else 1)))
    mask = np.asarray(conn.fixed_out_degree(key, shape, k_out, autapses=autapses))
    assert mask.shape == shape
    assert (mask.sum(axis=0) == k_out).all()
    assert set(np.unique(mask)) <= {0.0, 1.0}
    if not autapses:
        assert not mask.diagonal().any()


def test_full_counts():
    assert np.asarray(conn.fixed_total(KEY, (5, 7), 35)).all()
    assert np.array_equal(conn.fixed_total(KEY, (6, 6), 30, autapses=False), 1 - np.eye(6))
    assert np.array_equal(conn.fixed_in_degree(KEY, (6, 6), 5, autapses=False), 1 - np.eye(6))
    assert np.asarray(conn.fixed_out_degree(KEY, (5, 7), 5)).all()
    assert not np.asarray(conn.fixed_total(KEY, (5, 7), 0)).any()
    assert not np.asarray(conn.fixed_in_degree(KEY, (5, 7), 0)).any()


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_total_is_uniform_over_subsets(autapses):
    keys = jax.random.split(jax.random.key(21), 3000)
    n = 4 if autapses else 3
    masks = np.asarray(jax.vmap(lambda k: conn.fixed_total(k, (3, 3), n, autapses=autapses))(keys))
    flat = masks.reshape(len(keys), 9)
    if not autapses:
        assert not flat[:, ::4].any()
        flat = flat[:, ~np.eye(3, dtype=bool).ravel()]
    assert_uniform_subsets(flat, flat.shape[1], n)


@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_in_degree_rows_are_uniform_and_independent(autapses):
    keys = jax.random.split(jax.random.key(22), 3000)
    shape = (4, 4)
    masks = np.asarray(
        jax.vmap(lambda k: conn.fixed_in_degree(k, shape, 2, autapses=autapses))(keys)
    )
    width = 4 if autapses else 3
    rows = []
    for i in range(shape[0]):
        row = masks[:, i, :]
        if not autapses:
            assert not row[:, i].any()
            row = np.delete(row, i, axis=1)
        assert_uniform_subsets(row, width, 2)
        rows.append(row)
    # Rows 0 and 1 jointly: all pairs of subsets equally likely (independence).
    assert_uniform_subsets_pairs(rows[0], rows[1], math.comb(width, 2), math.comb(width, 2))


def assert_uniform_subsets_pairs(first, second, n_first, n_second):
    """Draws of two subsets (rows of ``first`` and ``second``) are independent:
    all ``n_first * n_second`` pairs of subsets equally likely (chi-square)."""
    code = lambda rows: rows.astype(np.int64) @ (2 ** np.arange(rows.shape[1]))  # noqa: E731
    joint = code(first) * 2 ** second.shape[1] + code(second)
    observed = np.bincount(np.unique(joint, return_inverse=True)[1])
    cells = n_first * n_second
    assert len(observed) <= cells
    expected = len(first) / cells
    observed = np.concatenate([observed, np.zeros(cells - len(observed))])
    stat = ((observed - expected) ** 2 / expected).sum()
    assert scipy.stats.chi2.sf(stat, cells - 1) > ALPHA, stat


def test_fixed_out_degree_is_the_transposed_in_degree():
    key = jax.random.key(9)
    out = conn.fixed_out_degree(key, (5, 7), 3)
    assert np.array_equal(out, conn.fixed_in_degree(key, (7, 5), 3).T)
    out = conn.fixed_out_degree(key, (6, 6), 2, autapses=False)
    assert np.array_equal(out, conn.fixed_in_degree(key, (6, 6), 2, autapses=False).T)


def test_senders_and_receivers_are_uniform():
    rows, cols = RECT
    mask = np.asarray(conn.fixed_in_degree(jax.random.key(8), RECT, 30))
    per_column = mask.sum(axis=0)  # each column chosen with probability 30 / 300 per row
    for column in (0, 1, cols // 2, cols - 1):
        assert_binomial(per_column[column], rows, 0.1)
    assert_binomial(mask[:, : cols // 2].sum(), rows * 30, 0.5)
    mask = np.asarray(conn.fixed_out_degree(jax.random.key(8), RECT, 40))
    per_row = mask.sum(axis=1)  # each row chosen with probability 40 / 400 per column
    for row in (0, 1, rows // 2, rows - 1):
        assert_binomial(per_row[row], cols, 0.1)


@pytest.fixture
def coarse_bits(monkeypatch):
    """Random keys with only 4 distinct values (the top 2 bits): many ties."""
    real_bits = jax.random.bits
    calls = []

    def bits(key, shape=(), dtype=None):
        calls.append(shape)
        return real_bits(key, shape, dtype) & np.uint32(0xC0000000)

    monkeypatch.setattr(jax.random, "bits", bits)
    return calls


def test_ties_in_the_keys_keep_rows_exact_and_uniform(coarse_bits):
    candidate = jnp.asarray(~np.eye(5, dtype=bool))[:4]  # rows of 5, one excluded each
    keys = jax.random.split(jax.random.key(31), 3000)
    chosen = np.asarray(jax.vmap(lambda k: selection.per_row(k, candidate, 2))(keys))
    assert coarse_bits
    assert (chosen.sum(axis=2) == 2).all()
    assert not chosen[:, np.arange(4), np.arange(4)].any()
    for i in range(4):
        assert_uniform_subsets(np.delete(chosen[:, i, :], i, axis=1), 4, 2)


def test_ties_in_the_keys_keep_groups_exact_and_uniform(coarse_bits):
    # Two interleaved groups of 5 and 4 entries and three excluded entries (id 2).
    group = jnp.asarray(np.array([[0, 1, 0, 2], [1, 0, 1, 0], [2, 0, 1, 2]], np.int32))
    keys = jax.random.split(jax.random.key(32), 3000)
    chosen = np.asarray(jax.vmap(lambda k: selection.per_group(k, group, (2, 3)))(keys))
    assert coarse_bits
    flat = chosen.reshape(len(keys), -1)
    ids = np.asarray(group).ravel()
    assert not flat[:, ids == 2].any()
    assert_uniform_subsets(flat[:, ids == 0], 5, 2)
    assert_uniform_subsets(flat[:, ids == 1], 4, 3)
    assert_uniform_subsets_pairs(flat[:, ids == 0], flat[:, ids == 1], 10, 4)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: conn.fixed_total(KEY, (3, 4), 13), ValueError, "n must be at most 12.*got 13"),
        (
            lambda: conn.fixed_total(KEY, (3, 3), 7, autapses=False),
            ValueError,
            "n must be at most 6",
        ),
        (lambda: conn.fixed_total(KEY, (3, 4), -1), ValueError, "n must be non-negative, got -1"),
        (lambda: conn.fixed_total(KEY, (3, 4), 2.0), TypeError, "n must be an integer, got 2.0"),
        (lambda: conn.fixed_total(KEY, (3, 4), True), TypeError, "n must be an integer"),
        (lambda: conn.fixed_in_degree(KEY, (3, 4), 5), ValueError, "k must be at most 4.*got 5"),
        (
            lambda: conn.fixed_in_degree(KEY, (4, 4), 4, autapses=False),
            ValueError,
            "k must be at most 3",
        ),
        (lambda: conn.fixed_in_degree(KEY, (3, 4), -2), ValueError, "k must be non-negative"),
        (lambda: conn.fixed_in_degree(KEY, (3, 4), 1.5), TypeError, "k must be an integer"),
        (lambda: conn.fixed_out_degree(KEY, (3, 4), 4), ValueError, "k must be at most 3.*got 4"),
        (
            lambda: conn.fixed_out_degree(KEY, (4, 4), 4, autapses=False),
            ValueError,
            "k must be at most 3",
        ),
        (lambda: conn.fixed_out_degree(KEY, (3, 4), "2"), TypeError, "k must be an integer"),
    ],
)
def test_bad_counts(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_integer_counts_are_accepted():
    mask = np.asarray(conn.fixed_total(KEY, (np.int64(5), 7), np.int32(7)))
    assert mask.sum() == 7
    mask = np.asarray(conn.fixed_in_degree(KEY, (6, 6), np.int64(2)))
    assert (mask.sum(axis=1) == 2).all()


# ---------------------------------------------------------------------------
# blocks and ei


def block_candidates(sizes, a, b, autapses):
    return sizes[a] * (sizes[b] - (0 if autapses or a != b else 1))


def block_views(mask, sizes):
    edges = np.concatenate([[0], np.cumsum(sizes)])
    return {
        (a, b): mask[edges[a] : edges[a + 1], edges[b] : edges[b + 1]]
        for a in range(len(sizes))
        for b in range(len(sizes))
    }


# Group sizes (static) for the property test; probabilities and keys vary freely.
BLOCK_SIZES = [(1,), (4,), (2, 3), (2, 0, 3), (3, 1, 2)]


@settings(max_examples=15)
@given(st.sampled_from(BLOCK_SIZES), st.data(), st.booleans(), st.integers(0, 2**16))
def test_blocks_exact_counts(sizes, data, autapses, seed):
    groups = len(sizes)
    probability = st.floats(0, 1, allow_nan=False)
    p = np.array(data.draw(st.lists(probability, min_size=groups**2, max_size=groups**2)))
    p = p.reshape(groups, groups)
    mask = np.asarray(conn.blocks(jax.random.key(seed), sizes, p, exact=True, autapses=autapses))
    assert mask.shape == (sum(sizes), sum(sizes))
    assert set(np.unique(mask)) <= {0.0, 1.0}
    for (a, b), block in block_views(mask, sizes).items():
        candidates = block_candidates(sizes, a, b, autapses)
        assert block.sum() == math.floor(p[a, b] * candidates + 0.5)
    if not autapses:
        assert not mask.diagonal().any()


def test_blocks_exact_rounding_rule():
    # Block (0, 1) has 2 * 3 = 6 candidates: 0.25 * 6 = 1.5 rounds up to 2,
    # 0.2 * 6 = 1.2 down to 1; block (1, 1) without autapses has 3 * 2 = 6.
    p = [[0.0, 0.25], [0.2, 0.5]]
    mask = np.asarray(conn.blocks(KEY, (2, 3), p, exact=True, autapses=False))
    views = block_views(mask, (2, 3))
    assert views[0, 0].sum() == 0
    assert views[0, 1].sum() == 2
    assert views[1, 0].sum() == 1
    assert views[1, 1].sum() == 3
    # 1/12 of 6 candidates is 0.5: rounds up to 1.
    mask = np.asarray(conn.blocks(KEY, (2, 3), [[0, 1 / 12], [0, 0]], exact=True))
    assert block_views(mask, (2, 3))[0, 1].sum() == 1


def test_blocks_probability_per_block():
    sizes = (150, 250)  # SQUARE
    p = np.array([[0.1, 0.6], [0.3, 0.9]])
    mask = np.asarray(conn.blocks(jax.random.key(12), sizes, p, autapses=False))
    assert not mask.diagonal().any()
    for (a, b), block in block_views(mask, sizes).items():
        trials = block_candidates(sizes, a, b, autapses=False)
        assert_binomial(block.sum(), trials, p[a, b])


def test_blocks_direction_rows_receive():
    # Only group 1 -> group 0 connections (columns of group 1, rows of group 0).
    mask = np.asarray(conn.blocks(KEY, (4, 8), [[0.0, 1.0], [0.0, 0.0]]))
    expected = np.zeros((12, 12))
    expected[:4, 4:] = 1
    assert np.array_equal(mask, expected)


def test_blocks_with_one_probability_is_bernoulli():
    key = jax.random.key(13)
    mask = conn.blocks(key, (150, 250), np.full((2, 2), 0.35), autapses=False)
    assert np.array_equal(mask, conn.bernoulli(key, SQUARE, 0.35, autapses=False))


def test_blocks_traced_probabilities():
    p = jnp.array([[0.2, 0.7], [0.5, 0.1]])
    fn = jax.jit(lambda key, p: conn.blocks(key, (4, 8), p))
    assert np.array_equal(fn(KEY, p), conn.blocks(KEY, (4, 8), p))
    with pytest.raises(TypeError, match=r"p must be concrete .* with exact=True"):
        jax.jit(lambda key, p: conn.blocks(key, (4, 8), p, exact=True))(KEY, p)


def test_blocks_empty_groups():
    mask = np.asarray(conn.blocks(KEY, (2, 0, 3), np.ones((3, 3)), exact=True))
    assert np.array_equal(mask, np.ones((5, 5)))
    mask = np.asarray(conn.blocks(KEY, (2, 0, 3), np.ones((3, 3)), exact=True, autapses=False))
    assert np.array_equal(mask, 1 - np.eye(5))
    mask = np.asarray(conn.blocks(KEY, (3, 1, 2), np.ones((3, 3)), exact=True, autapses=False))
    assert np.array_equal(mask, 1 - np.eye(6))


@pytest.mark.parametrize(
    ("sizes", "p", "error", "match"),
    [
        ((), [], TypeError, "sizes must be a non-empty sequence"),
        (3, [[0.5]], TypeError, "sizes must be a non-empty sequence"),
        ((3, -1), np.ones((2, 2)), ValueError, r"sizes\[1\] must be non-negative, got -1"),
        ((3, 2.5), np.ones((2, 2)), TypeError, r"sizes\[1\] must be an integer, got 2.5"),
        ((0, 0), np.ones((2, 2)), ValueError, "sizes must add up to a positive number"),
        ((3, 4), [0.5, 0.5], ValueError, r"p must have shape \(2, 2\).*got shape \(2,\)"),
        ((3, 4), np.ones((3, 3)), ValueError, r"p must have shape \(2, 2\)"),
        ((3, 4), 0.5, ValueError, r"p must have shape \(2, 2\).*got shape \(\)"),
        ((3, 4), [[0.5, 1.2], [0, 0]], ValueError, r"p must be in \[0, 1\], got 1.2"),
        ((3, 4), [[0.5, np.nan], [0, 0]], ValueError, "p must be finite, got nan"),
        ((3, 4), [["a", "b"], [0, 0]], TypeError, "p must be real numbers"),
    ],
)
@pytest.mark.parametrize("exact", [False, True])
def test_blocks_bad_arguments(sizes, p, error, match, exact):
    with pytest.raises(error, match=match):
        conn.blocks(KEY, sizes, p, exact=exact)


def test_blocks_exact_must_be_a_bool():
    with pytest.raises(TypeError, match="exact must be True or False"):
        conn.blocks(KEY, (2, 2), np.ones((2, 2)), exact="yes")
    with pytest.raises(TypeError, match="exact must be True or False"):
        conn.ei(KEY, 10, 0.8, p_EE=0.1, p_EI=0.1, p_IE=0.1, p_II=0.1, exact=1)


P_EI = {"p_EE": 0.2, "p_EI": 0.5, "p_IE": 0.4, "p_II": 0.7}


@pytest.mark.parametrize(("N_rec", "dale_ratio"), [(12, 0.75), (400, 0.29)])
@pytest.mark.parametrize("exact", [False, True])
def test_ei_is_blocks_with_the_excitatory_units_first(N_rec, dale_ratio, exact):
    key = jax.random.key(14)
    n_exc = jaxinit.n_excitatory(N_rec, dale_ratio)
    p = [[P_EI["p_EE"], P_EI["p_EI"]], [P_EI["p_IE"], P_EI["p_II"]]]
    mask = conn.ei(key, N_rec, dale_ratio, exact=exact, autapses=False, **P_EI)
    expected = conn.blocks(key, (n_exc, N_rec - n_exc), p, exact=exact, autapses=False)
    assert np.array_equal(mask, expected)
    # The E units are the ones with Dale sign +1 (see also the network test below).
    signs = np.asarray(jaxinit.dale_vectors(N_rec, dale_ratio)[0])
    assert np.array_equal(np.flatnonzero(signs > 0), np.arange(n_exc))


@pytest.mark.parametrize(
    ("name", "rows", "cols"),
    [("p_EE", "E", "E"), ("p_EI", "E", "I"), ("p_IE", "I", "E"), ("p_II", "I", "I")],
)
def test_ei_naming_is_post_then_pre(name, rows, cols):
    N_rec, n_exc = 12, 9
    probabilities = {"p_EE": 0.0, "p_EI": 0.0, "p_IE": 0.0, "p_II": 0.0, name: 1.0}
    mask = np.asarray(conn.ei(KEY, N_rec, 0.75, **probabilities))
    units = {"E": slice(0, n_exc), "I": slice(n_exc, N_rec)}
    expected = np.zeros((N_rec, N_rec))
    expected[units[rows], units[cols]] = 1
    assert np.array_equal(mask, expected)


def test_ei_probabilities_and_exact_counts():
    N_rec, n_exc = 400, 115  # 0.29 * 400 is just below 116
    sizes = (n_exc, N_rec - n_exc)
    names = {(0, 0): "p_EE", (0, 1): "p_EI", (1, 0): "p_IE", (1, 1): "p_II"}
    for exact in (False, True):
        mask = np.asarray(
            conn.ei(jax.random.key(15), N_rec, 0.29, exact=exact, autapses=False, **P_EI)
        )
        assert not mask.diagonal().any()
        for (a, b), block in block_views(mask, sizes).items():
            p, candidates = P_EI[names[a, b]], block_candidates(sizes, a, b, autapses=False)
            if exact:
                assert block.sum() == math.floor(p * candidates + 0.5)
            else:
                assert_binomial(block.sum(), candidates, p)


@pytest.mark.parametrize(("dale_ratio", "n_exc"), [(1.0, 6), (0.0, 0), (0.1, 0)])
def test_ei_with_one_population(dale_ratio, n_exc):
    mask = np.asarray(
        conn.ei(KEY, 6, dale_ratio, p_EE=1.0, p_EI=0.0, p_IE=0.0, p_II=0.0, exact=True)
    )
    expected = np.zeros((6, 6))
    expected[:n_exc, :n_exc] = 1
    assert np.array_equal(mask, expected)


def test_ei_traced_probability():
    fn = jax.jit(lambda key, p: conn.ei(key, 12, 0.75, p_EE=p, p_EI=0.5, p_IE=0.5, p_II=0.5))
    eager = conn.ei(KEY, 12, 0.75, p_EE=0.3, p_EI=0.5, p_IE=0.5, p_II=0.5)
    assert np.array_equal(fn(KEY, 0.3), eager)
    with pytest.raises(TypeError, match="p_EE must be concrete"):
        jax.jit(
            lambda key, p: conn.ei(key, 12, 0.75, p_EE=p, p_EI=0.5, p_IE=0.5, p_II=0.5, exact=True)
        )(KEY, 0.3)


@pytest.mark.parametrize("name", ["p_EE", "p_EI", "p_IE", "p_II"])
@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (1.5, ValueError, r"must be in \[0, 1\], got 1.5"),
        (-0.5, ValueError, r"must be in \[0, 1\], got -0.5"),
        (np.nan, ValueError, "must be finite"),
        ([0.1, 0.2], ValueError, "must be a scalar"),
        ("high", TypeError, "must be real numbers"),
    ],
)
def test_ei_bad_probability(name, value, error, match):
    probabilities = {**P_EI, name: value}
    with pytest.raises(error, match=f"{name} {match}"):
        conn.ei(KEY, 10, 0.8, **probabilities)


@pytest.mark.parametrize(
    ("N_rec", "dale_ratio", "error", "match"),
    [
        (0, 0.8, ValueError, "N_rec must be a positive integer, got 0"),
        (10.0, 0.8, TypeError, "N_rec must be a positive integer"),
        (10, 1.5, ValueError, r"dale_ratio must be in \[0, 1\]"),
        (10, None, TypeError, "dale_ratio must be a number"),
        (10, "0.8", TypeError, "dale_ratio must be a real number"),
    ],
)
def test_ei_bad_sizes(N_rec, dale_ratio, error, match):
    with pytest.raises(error, match=match):
        conn.ei(KEY, N_rec, dale_ratio, **P_EI)


def test_ei_mask_as_rec_connectivity_of_a_network():
    key = jax.random.key(16)
    mask = conn.ei(key, 200, 0.8, p_EE=0.2, p_EI=0.5, p_IE=0.5, p_II=0.5, autapses=False)
    config = jaxinit.Config(N_in=3, N_rec=200, N_out=2, dale_ratio=0.8, autapses=False)
    params = jaxinit.gaussian_spectral_radius(key, config, rec_connectivity=mask)
    assert np.array_equal(params.rec_connectivity, mask)
    assert not np.asarray(params.rec_connectivity).diagonal().any()
    # The E block of the mask is exactly the units the config makes excitatory.
    n_exc = jaxinit.n_excitatory(200, 0.8)
    assert np.array_equal(np.flatnonzero(np.asarray(params.dale_rec_diag) > 0), np.arange(n_exc))
    effective = jaxinit.effective(params).W_rec
    assert not np.asarray(effective)[np.asarray(mask) == 0].any()
    assert np.all(np.asarray(effective)[:, :160] >= 0) and np.all(
        np.asarray(effective)[:, 160:] <= 0
    )


# ---------------------------------------------------------------------------
# distance, ring_positions, grid_positions


def assert_profile_per_bin(mask, d, probability, n_bins=12):
    """Fraction connected per distance bin vs the profile, with binomial errors."""
    off = ~np.eye(len(d), dtype=bool)
    d, connected, probability = d[off], np.asarray(mask)[off], probability[off]
    edges = np.quantile(d, np.linspace(0, 1, n_bins + 1))
    which = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, n_bins - 1)
    checked = 0
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            assert_expected_count(connected[inside].sum(), probability[inside])
            checked += 1
    assert checked >= n_bins // 2


@pytest.mark.parametrize(
    ("profile", "scale", "p_max"), [("gaussian", 0.08, 0.9), ("exponential", 0.05, 0.6)]
)
def test_distance_profile_on_a_ring(profile, scale, p_max):
    n = 400
    mask = conn.distance(
        jax.random.key(17),
        conn.ring_positions(n),
        profile,
        scale=scale,
        p_max=p_max,
        period=1.0,
    )
    d = ring_distance(n)
    f = np.exp(-(d**2) / (2 * scale**2)) if profile == "gaussian" else np.exp(-d / scale)
    assert_profile_per_bin(mask, d, p_max * f)


@pytest.mark.parametrize(("profile", "periodic"), [("gaussian", True), ("exponential", False)])
def test_distance_profile_on_a_torus_and_a_sheet(profile, periodic):
    rows, cols, spacing, scale = 20, 20, 0.5, 1.5
    positions = conn.grid_positions(rows, cols, spacing)
    xy = np.asarray(positions, np.float64)
    diff = np.abs(xy[:, None, :] - xy[None, :, :])
    period = (rows * spacing, cols * spacing) if periodic else None
    mask = conn.distance(
        jax.random.key(18), positions, profile, scale=scale, p_max=0.8, period=period
    )
    wrapped = np.minimum(diff, np.array(period) - diff) if periodic else diff
    d = np.sqrt((wrapped**2).sum(axis=-1))
    f = np.exp(-(d**2) / (2 * scale**2)) if profile == "gaussian" else np.exp(-d / scale)
    assert_profile_per_bin(mask, d, 0.8 * f)


def test_distance_on_a_line_is_not_periodic():
    n = 400
    positions = np.linspace(0.0, 1.0, n)
    mask = np.asarray(conn.distance(jax.random.key(19), positions, "exponential", scale=0.2))
    d = np.abs(positions[:, None] - positions[None, :])
    assert_profile_per_bin(mask, d, np.exp(-d / 0.2))
    # The two ends are far apart without a period, close with one.
    ends = mask[:20, -20:].mean()
    periodic = np.asarray(
        conn.distance(jax.random.key(19), positions, "exponential", scale=0.2, period=1.0)
    )
    assert ends < 0.05 < periodic[:20, -20:].mean()


def test_distance_diagonal_and_autapses():
    positions = conn.ring_positions(400)
    mask = conn.distance(KEY, positions, "gaussian", scale=0.001, period=1.0)
    assert np.asarray(mask).diagonal().all()  # p_max = 1 at distance 0
    mask = conn.distance(KEY, positions, "gaussian", scale=0.001, period=1.0, autapses=False)
    assert not np.asarray(mask).diagonal().any()


def test_distance_one_dimension_either_shape():
    x = np.random.default_rng(0).uniform(size=400)
    first = conn.distance(KEY, x, "gaussian", scale=0.2, period=1.0)
    assert np.array_equal(first, conn.distance(KEY, x[:, None], "gaussian", scale=0.2, period=1.0))
    assert np.array_equal(
        first, conn.distance(KEY, x[:, None], "gaussian", scale=0.2, period=[1.0])
    )


def test_distance_traced_scale_and_p_max():
    positions = conn.ring_positions(400)

    def make(key, scale, p_max):
        return conn.distance(key, positions, "exponential", scale=scale, p_max=p_max, period=1.0)

    eager = make(KEY, 0.1, 0.7)
    assert np.array_equal(jax.jit(make)(KEY, 0.1, 0.7), eager)
    batch = jax.vmap(make, in_axes=(None, 0, None))(KEY, jnp.array([0.3, 0.1]), 0.7)
    assert np.array_equal(np.asarray(batch)[1], eager)


def test_ring_and_grid_positions():
    assert np.allclose(conn.ring_positions(5, circumference=10.0), [0, 2, 4, 6, 8])
    ring = conn.ring_positions(7)
    assert ring.shape == (7,) and ring.dtype == np.float32
    grid = np.asarray(conn.grid_positions(3, 4, spacing=2.0))
    assert grid.shape == (12, 2)
    for i, (r, c) in enumerate(itertools.product(range(3), range(4))):  # row-major
        assert np.array_equal(grid[i], [2.0 * r, 2.0 * c])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"profile": "linear"}, ValueError, r"profile must be one of \['exponential', 'gauss"),
        ({"profile": None}, ValueError, "profile must be one of"),
        ({"scale": 0.0}, ValueError, "scale must be positive, got 0.0"),
        ({"scale": -1}, ValueError, "scale must be positive"),
        ({"scale": np.nan}, ValueError, "scale must be finite"),
        ({"scale": [1.0, 2.0]}, ValueError, "scale must be a scalar"),
        ({"scale": "1"}, TypeError, "scale must be real numbers"),
        ({"p_max": 1.5}, ValueError, r"p_max must be in \[0, 1\], got 1.5"),
        ({"p_max": np.inf}, ValueError, "p_max must be finite"),
        ({"period": 0.0}, ValueError, "period must be positive, got 0.0"),
        ({"period": (1.0, 1.0)}, ValueError, "period must be a float or a sequence of 1 floats"),
        ({"period": "1"}, TypeError, "period must be a real number"),
        ({"positions": np.zeros((3, 2, 1))}, ValueError, r"positions must have shape \(N,\)"),
        ({"positions": np.zeros((0,))}, ValueError, "positions must have shape"),
        ({"positions": np.array([0.0, np.nan])}, ValueError, "positions must be finite, got nan"),
        ({"positions": ["a", "b"]}, TypeError, "positions must be real numbers"),
    ],
)
def test_distance_bad_arguments(kwargs, error, match):
    arguments = {"positions": conn.ring_positions(10), "profile": "gaussian", "scale": 0.1}
    arguments.update(kwargs)
    positions, profile = arguments.pop("positions"), arguments.pop("profile")
    with pytest.raises(error, match=match):
        conn.distance(KEY, positions, profile, **arguments)


def test_distance_period_per_dimension_count():
    with pytest.raises(ValueError, match="sequence of 2 floats"):
        conn.distance(KEY, conn.grid_positions(3, 3), "gaussian", scale=1.0, period=(3.0,))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: conn.ring_positions(0), ValueError, "n must be a positive integer"),
        (lambda: conn.ring_positions(3, 0.0), ValueError, "circumference must be positive"),
        (lambda: conn.grid_positions(2, 0), ValueError, "cols must be a positive integer"),
        (lambda: conn.grid_positions(2.0, 2), TypeError, "rows must be a positive integer"),
        (lambda: conn.grid_positions(2, 2, -1.0), ValueError, "spacing must be positive"),
    ],
)
def test_positions_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------
# small_world


@pytest.mark.parametrize(("n", "k"), [(3, 2), (10, 4), (9, 8), (30, 4)])
def test_small_world_without_rewiring_is_the_ring_lattice(n, k):
    mask = np.asarray(conn.small_world(jax.random.key(20), n, k, 0.0))
    assert np.array_equal(mask, ring_lattice(n, k))
    assert (mask.sum(axis=0) == k).all() and (mask.sum(axis=1) == k).all()


# (n, k) pairs (static) for the property test; beta and keys vary freely.
SMALL_WORLDS = [(3, 2), (10, 4), (9, 8), (12, 4), (30, 4)]


@settings(max_examples=15)
@given(st.sampled_from(SMALL_WORLDS), st.floats(0, 1), st.integers(0, 2**16))
def test_small_world_invariants(n_k, beta, seed):
    n, k = n_k
    mask = np.asarray(conn.small_world(jax.random.key(seed), n, k, beta))
    assert mask.shape == (n, n)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert np.array_equal(mask, mask.T)  # undirected
    assert not mask.diagonal().any()  # no self-loops
    assert mask.sum() == n * k  # n k / 2 edges, each counted both ways


@pytest.mark.parametrize("beta", [0.05, 0.3, 0.7])
def test_small_world_fraction_rewired(beta):
    n, k = 400, 6
    mask = np.asarray(conn.small_world(jax.random.key(23), n, k, beta))
    lattice = ring_lattice(n, k)
    edges = n * k // 2
    missing = int((lattice * (1 - mask)).sum()) // 2  # lattice edges gone
    # A rewired edge lands on a lattice slot left empty by another rewiring
    # with probability below k / n, so `missing` is Binomial(edges, beta) minus
    # a few: both within the tolerance.
    assert_binomial(missing, edges, beta)
    assert mask.sum() == 2 * edges


def test_small_world_full_rewiring():
    n, k = 400, 6
    mask = np.asarray(conn.small_world(jax.random.key(24), n, k, 1.0))
    kept = (ring_lattice(n, k) * mask).sum() / (n * k)
    assert kept < 0.05


def test_small_world_new_targets_are_uniform():
    n, k = 400, 6
    keys = jax.random.split(jax.random.key(25), 4)
    masks = np.asarray(jax.vmap(lambda key: conn.small_world(key, n, k, 0.5))(keys))
    around = ring_distance(n, n).astype(int)
    new = masks * (1 - ring_lattice(n, k))[None]
    lengths = np.broadcast_to(around, masks.shape)[new > 0]
    # New edges join units at ring distance k/2 + 1 .. n/2, about uniformly
    # (2 units at each distance below n/2, 1 at n/2).
    possible = np.arange(k // 2 + 1, n // 2 + 1)
    weight = np.where(possible == n // 2, 1.0, 2.0)
    per_distance = np.array([(lengths == d).sum() for d in possible])
    assert per_distance.sum() == len(lengths)  # no new edge within the lattice range
    bins = np.array_split(np.arange(len(possible)), 20)
    observed = np.array([per_distance[b].sum() for b in bins])
    weight = np.array([weight[b].sum() for b in bins])
    expected = weight / weight.sum() * len(lengths)
    stat = ((observed - expected) ** 2 / expected).sum()
    assert len(lengths) > 1000
    assert scipy.stats.chi2.sf(stat, len(observed) - 1) > ALPHA, stat


def test_small_world_traced_beta():
    fn = jax.jit(lambda key, beta: conn.small_world(key, 30, 4, beta))
    assert np.array_equal(fn(KEY, 0.4), conn.small_world(KEY, 30, 4, 0.4))
    assert np.array_equal(fn(KEY, 0.0), ring_lattice(30, 4))


@pytest.mark.parametrize(
    ("n", "k", "beta", "error", "match"),
    [
        (10, 3, 0.1, ValueError, r"k must be even .*got 3"),
        (10, 10, 0.1, ValueError, "k must be smaller than n=10, got 10"),
        (10, 12, 0.1, ValueError, "k must be smaller than n=10"),
        (10, 0, 0.1, ValueError, "k must be a positive integer, got 0"),
        (10, 2.0, 0.1, TypeError, "k must be a positive integer"),
        (0, 2, 0.1, ValueError, "n must be a positive integer"),
        (10.5, 2, 0.1, TypeError, "n must be a positive integer"),
        (10, 2, 1.5, ValueError, r"beta must be in \[0, 1\], got 1.5"),
        (10, 2, -0.1, ValueError, r"beta must be in \[0, 1\]"),
        (10, 2, np.nan, ValueError, "beta must be finite"),
        (10, 2, [0.1, 0.2], ValueError, "beta must be a scalar"),
    ],
)
def test_small_world_bad_arguments(n, k, beta, error, match):
    with pytest.raises(error, match=match):
        conn.small_world(KEY, n, k, beta)


# ---------------------------------------------------------------------------
# The public module.


def test_public_names():
    assert sorted(conn.__all__) == sorted(
        [
            "PROFILES",
            "Profile",
            "bernoulli",
            "blocks",
            "distance",
            "ei",
            "fixed_in_degree",
            "fixed_out_degree",
            "fixed_total",
            "grid_positions",
            "ring_positions",
            "small_world",
        ]
    )
    assert conn.PROFILES == ("gaussian", "exponential")
    for name in conn.__all__:
        obj = getattr(conn, name)
        if callable(obj) and name not in ("Profile",):
            assert obj.__doc__ and "Example:" in obj.__doc__, name
