"""Row-sparse ``.npz`` files: save_npz/load_npz/inspect_file on SparseParams, crafted files."""

import json
import os
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit._src import cli
from jaxinit._src.cli.codes import ExitCode
from jaxinit._src.files import archive, layout
from jaxinit.sparse import RowSparse, SparseParams

N, K = 200, 10
VALUES, INDEX, META = layout.VALUES_KEY, layout.INDEX_KEY, layout.METADATA_KEY
DENSE = ("W_in", "W_out", "b_rec", "b_out", "init_state", "input_connectivity",
         "output_connectivity", "dale_rec_diag", "dale_out_diag")


@pytest.fixture(scope="module")
def net():
    """The network of the brief: N=200, in-degree 10, Dale 0.8, Krylov radius."""
    cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8, spectral_method="krylov")
    pattern = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (N, N), K)
    return jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, pattern)


@pytest.fixture(scope="module")
def saved(net, tmp_path_factory):
    return jaxinit.save_npz(tmp_path_factory.mktemp("sparse") / "net", net)


def entries(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def crafted(tmp_path, saved, **changes):
    """The saved file with some entries replaced (None: removed), written by numpy."""
    e = entries(saved)
    for key, value in changes.items():
        key = {"values": VALUES, "index": INDEX, "meta": META}.get(key, layout.SPARSE_PREFIX + key)
        if value is None:
            del e[key]
        else:
            e[key] = value
    path = tmp_path / "crafted.npz"
    np.savez(path, **e)
    return path


def with_meta(saved, **fields):
    meta = json.loads(str(entries(saved)[META]))
    for name, value in fields.items():
        if name in ("N_rec", "dale_ratio"):
            meta["params"][name] = value
        else:
            meta[name] = value
    return np.asarray(json.dumps(meta))


def assert_same(a, b):
    """Bit for bit: every array, the pattern, dale_ratio, transfer_function."""
    assert isinstance(a, SparseParams) and isinstance(b, SparseParams)
    assert a.dale_ratio == b.dale_ratio and a.transfer_function == b.transfer_function
    assert a.W_rec.n_cols == b.W_rec.n_cols
    for x, y in [(a.W_rec.values, b.W_rec.values), (a.W_rec.index, b.W_rec.index)] + [
        (getattr(a, n), getattr(b, n)) for n in DENSE
    ]:
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


def small_net(n, k, dale_ratio, dtype="float32", seed=0):
    cfg = jaxinit.Config(N_in=3, N_rec=n, N_out=2, dale_ratio=dale_ratio, dtype=dtype)
    pattern = jaxinit.sparse.fixed_in_degree(jax.random.key(seed + 1), (n, n), k, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jaxinit.UnregulatedSpectrumWarning)
        return jaxinit.sparse.weight_initializer(jax.random.key(seed), cfg, pattern)


# ---------------------------------------------------------------------------
# Round trips and the layout
# ---------------------------------------------------------------------------


def test_round_trip_of_the_example_network(net, saved):
    loaded = jaxinit.load_npz(saved)
    assert_same(loaded, net)
    assert loaded.W_rec.values.shape == (N, K) and loaded.W_rec.index.dtype == jnp.int32


@pytest.mark.parametrize(
    ("n", "k", "dale_ratio"), [(30, 3, None), (17, 1, 0.8), (24, 24, 0.5), (9, 0, None)]
)
def test_round_trips(tmp_path, dtype, n, k, dale_ratio):
    sp = small_net(n, k, dale_ratio, dtype)
    path = jaxinit.save_npz(tmp_path / "n.npz", sp)
    loaded = jaxinit.load_npz(path)
    assert_same(loaded, sp)
    assert np.asarray(loaded.W_in).dtype == np.dtype(dtype)
    assert loaded.W_rec.slots == k and loaded.N_rec == n and loaded.N_in == 3


def test_the_file_layout(net, saved):
    e = entries(saved)
    names = {VALUES, INDEX, META, *(layout.SPARSE_PREFIX + n for n in DENSE)}
    assert set(e) == names  # no PsychRNN entry, no raw/ or given/ entry
    assert e[VALUES].shape == (N, K) and e[VALUES].dtype == np.float32
    assert e[INDEX].shape == (N, K) and e[INDEX].dtype == np.int32
    assert e[layout.SPARSE_PREFIX + "dale_rec_diag"].shape == (N,)
    assert e[layout.SPARSE_PREFIX + "init_state"].shape == (N,)
    meta = json.loads(str(e[META]))
    assert meta["format"] == "jaxinit.npz" and meta["format_version"] == 3
    assert meta["layout"] == "row_sparse" and meta["provenance"] is None
    assert "entries" not in meta
    assert meta["params"] == {"dtype": "float32", "dale_ratio": 0.8, "transfer_function": "relu",
                              "N_in": 2, "N_rec": N, "N_out": 1}
    assert {"jaxinit", "jax", "jaxlib", "numpy"} <= set(meta["versions"])


def test_no_entry_is_n_by_n(saved):
    shapes = [array.shape for array in entries(saved).values()]
    assert all(shape.count(N) <= 1 for shape in shapes)
    assert max(int(np.prod(shape)) for shape in shapes) == N * K


def test_the_loaded_network_computes_the_same(net, saved):
    loaded = jaxinit.load_npz(saved)
    mine, theirs = jaxinit.effective(loaded), jaxinit.effective(net)
    np.testing.assert_array_equal(mine.W_in, theirs.W_in)
    np.testing.assert_array_equal(mine.W_out, theirs.W_out)
    np.testing.assert_array_equal(mine.W_rec.values, theirs.W_rec.values)
    np.testing.assert_array_equal(mine.W_rec.index, theirs.W_rec.index)
    for which in (lambda p: p.W_rec, lambda p: jaxinit.effective(p).W_rec):
        a = float(jaxinit.spectral_radius(which(loaded), method="krylov"))
        b = float(jaxinit.spectral_radius(which(net), method="krylov"))
        assert a == b
    assert float(jaxinit.spectral_radius(loaded.W_rec, method="krylov")) == pytest.approx(1.1)


def test_load_options(tmp_path, saved):
    tanh = jaxinit.load_npz(saved, transfer_function="tanh")
    assert tanh.transfer_function == "tanh"
    with jax.enable_x64(True):
        wide = jaxinit.load_npz(saved, dtype="float64")
        assert wide.W_rec.values.dtype == jnp.float64
        np.testing.assert_array_equal(wide.W_rec.values, entries(saved)[VALUES].astype(np.float64))
    with pytest.raises(jaxinit.NpzError, match=r"64-bit JAX"):
        jaxinit.load_npz(saved, dtype="float64")


def test_float64_values_that_overflow_float32(tmp_path):
    with jax.enable_x64(True):
        sp = small_net(12, 2, None, "float64")
        values = np.asarray(sp.W_rec.values).copy()
        values[3, 1] = 1e300
        big = SparseParams(**{**vars(sp), "W_rec": sp.W_rec.with_values(jnp.asarray(values))})
        path = jaxinit.save_npz(tmp_path / "big", big)
        assert float(jaxinit.load_npz(path).W_rec.values[3, 1]) == 1e300
        with pytest.raises(jaxinit.NpzError, match=r"1e\+300, which is not finite as float32") as e:
            jaxinit.load_npz(path, dtype="float32")
    assert e.value.key == VALUES


def test_max_bytes(tmp_path, net, saved):
    size = N * K * 8  # values and index
    with pytest.raises(jaxinit.NpzError, match=r"pass a larger max_bytes") as err:
        jaxinit.load_npz(saved, max_bytes=size // 2)
    assert err.value.key in (VALUES, INDEX)
    with pytest.raises(jaxinit.NpzError, match=r"not saved"):
        jaxinit.save_npz(tmp_path / "small", net, max_bytes=size // 2)
    assert not os.listdir(tmp_path)
    assert isinstance(jaxinit.load_npz(saved, max_bytes=size + 20_000), SparseParams)


# ---------------------------------------------------------------------------
# Saving: canonical rows, refusals, atomic writes
# ---------------------------------------------------------------------------


def messy_net(n=6):
    """A SparseParams of numpy arrays: unsorted rows, padding slots in the middle (some
    holding a value) and more slots (8) than columns (6)."""
    values = np.arange(1.0, 1.0 + n * 8, dtype=np.float32).reshape(n, 8)
    index = np.tile(np.array([n, 3, 1, n, 0, 5, n, n], np.int32), (n, 1))
    index[1] = [5, n, 0, n, 1, 2, 3, 4]  # every column once
    base = small_net(n, 2, None)
    fields = {name: np.asarray(getattr(base, name)) for name in DENSE}
    return SparseParams(W_rec=RowSparse(values, index, n), **fields, transfer_function="tanh")


def test_rows_are_saved_canonical(tmp_path):
    sp = messy_net()
    before = (sp.W_rec.values.copy(), sp.W_rec.index.copy())
    path = jaxinit.save_npz(tmp_path / "m", sp)
    np.testing.assert_array_equal(sp.W_rec.values, before[0])  # nothing mutated
    np.testing.assert_array_equal(sp.W_rec.index, before[1])
    e = entries(path)
    assert e[INDEX].shape == (6, 6)  # the slots past N were padding: dropped
    assert e[INDEX][0].tolist() == [0, 1, 3, 5, 6, 6]
    assert e[VALUES][0].tolist() == [5.0, 3.0, 2.0, 6.0, 0.0, 0.0]  # padding slots hold 0
    assert e[INDEX][1].tolist() == [0, 1, 2, 3, 4, 5]
    assert e[VALUES][1].tolist() == [11.0, 13.0, 14.0, 15.0, 16.0, 9.0]
    loaded = jaxinit.load_npz(path)
    assert loaded.transfer_function == "tanh"
    np.testing.assert_array_equal(loaded.W_rec.todense(), sp.W_rec.todense())
    np.testing.assert_array_equal(
        jaxinit.effective(loaded).W_rec.todense(), jaxinit.effective(sp).W_rec.todense()
    )
    again = jaxinit.save_npz(tmp_path / "again", loaded)  # canonical: saved bit for bit
    assert_same(jaxinit.load_npz(again), loaded)


def test_a_column_twice_in_a_row_is_refused(tmp_path, net):
    index = np.asarray(net.W_rec.index).copy()
    index[4, 3] = index[4, 7]
    twice = SparseParams(**{**vars(net), "W_rec": RowSparse(net.W_rec.values, index, N)})
    column = index[4, 7]
    with pytest.raises(ValueError, match=rf"params\.W_rec holds column {column} twice in row 4"):
        jaxinit.save_npz(tmp_path / "t", twice)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda v, i: (v, i.at[2, 0].set(-3)), ValueError, r"params.W_rec.index must lie in"),
        (lambda v, i: (v.at[2, 0].set(jnp.nan), i), ValueError,
         r"params.W_rec.values must be finite, got nan"),
        (lambda v, i: (v, i.astype(jnp.uint32)), TypeError, r"params.W_rec.index must be int32"),
        (lambda v, i: (v.astype(jnp.bfloat16), i), TypeError,
         r"params.W_rec must be float32 or float64, got dtype bfloat16"),
    ],
)
def test_bad_rows_are_refused_when_saving(tmp_path, net, change, error, match):
    values, index = change(net.W_rec.values, net.W_rec.index)
    bad = SparseParams(**{**vars(net), "W_rec": RowSparse(values, index, N)})
    with pytest.raises(error, match=match):
        jaxinit.save_npz(tmp_path / "bad", bad)


def test_bad_dense_arrays_are_refused_when_saving(tmp_path, net):
    with pytest.raises(ValueError, match=r"params.W_in must have shape \(200, 2\)"):
        jaxinit.save_npz(tmp_path / "w", SparseParams(**{**vars(net), "W_in": net.W_in[:-1]}))
    mask = net.output_connectivity.at[0, 5].set(2.0)
    with pytest.raises(ValueError, match=r"params.output_connectivity must hold only \[0, 1\]"):
        jaxinit.save_npz(tmp_path / "m", SparseParams(**{**vars(net), "output_connectivity": mask}))
    with pytest.raises(jaxinit.NpzError, match=r"dale_ratio 0.5 means 100 of 200"):
        jaxinit.save_npz(tmp_path / "d", SparseParams(**{**vars(net), "dale_ratio": 0.5}))
    assert not os.listdir(tmp_path)


def test_a_stack_of_networks_is_refused(tmp_path, net):
    stack = jax.tree.map(lambda x: jnp.stack([x, x]), net)
    assert stack.batch_shape == (2,)
    with pytest.raises(ValueError, match=r"a stack of sparse networks of shape \(2,\)"):
        jaxinit.save_npz(tmp_path / "s", stack)


def test_recipe_keywords_are_refused(tmp_path, net):
    cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8)
    with pytest.raises(TypeError, match=r"sparse_params\) records no recipe.*key=, config="):
        jaxinit.save_npz(tmp_path / "r", net, initializer="gaussian_spectral_radius",
                         key=jax.random.key(0), config=cfg)
    with pytest.raises(TypeError, match=r"\(or a jaxinit\.sparse\.SparseParams\), got RowSparse"):
        jaxinit.save_npz(tmp_path / "r", net.W_rec)


def test_save_replaces_a_file_atomically(tmp_path, net):
    path = tmp_path / "net.npz"
    jaxinit.save_npz(path, small_net(8, 2, None))
    assert jaxinit.save_npz(path, net) == path
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary file left
    assert_same(jaxinit.load_npz(path), net)


def test_a_failed_write_keeps_the_old_file(tmp_path, net, monkeypatch):
    path = tmp_path / "net.npz"
    old = small_net(8, 2, None)
    jaxinit.save_npz(path, old)

    def fail(file, entries):
        file.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive, "write_entries", fail)
    with pytest.raises(OSError, match=r"No space left on device"):
        jaxinit.save_npz(path, net)
    assert os.listdir(tmp_path) == ["net.npz"]
    assert_same(jaxinit.load_npz(path), old)


def test_special_files_are_refused(tmp_path, net):
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    with pytest.raises(jaxinit.NpzError, match=r"is a FIFO \(named pipe\), not a regular file"):
        jaxinit.load_npz(fifo)
    with pytest.raises(FileExistsError, match=r"is a FIFO"):
        jaxinit.save_npz(fifo, net)


# ---------------------------------------------------------------------------
# Crafted files: every defect is an NpzError naming the entry and the value
# ---------------------------------------------------------------------------


def _index(saved, row, slot, value):
    index = entries(saved)[INDEX].copy()
    index[row, slot] = value
    return index


def _swap(saved, row):
    index = entries(saved)[INDEX].copy()
    index[row, [0, 1]] = index[row, [1, 0]]
    return index


def _values(saved, row, slot, value):
    values = entries(saved)[VALUES].copy()
    values[row, slot] = value
    return values


def _cut(name, axis):
    def change(saved):
        array = entries(saved)[layout.SPARSE_PREFIX + name]
        return {name: np.delete(array, 0, axis=axis)}
    return change


CRAFTED = {
    "index int64": (
        lambda s: {"index": entries(s)[INDEX].astype(np.int64)},
        INDEX, r"must hold int32 column indices, got dtype int64",
    ),
    "index uint32": (
        lambda s: {"index": entries(s)[INDEX].astype(np.uint32)},
        INDEX, r"must hold int32 column indices, got dtype uint32",
    ),
    "index not a matrix": (
        lambda s: {"index": entries(s)[INDEX].ravel()},
        INDEX, r"must be a matrix of shape \(N_rec, K\), got shape \(2000,\)",
    ),
    "negative index": (
        lambda s: {"index": _index(s, 3, 2, -7)},
        INDEX, r"holds a negative index -7 \(row 3, slot 2\)",
    ),
    "index beyond N": (
        lambda s: {"index": _index(s, 0, 9, N + 5)},
        INDEX, r"holds index 205 \(row 0, slot 9\), beyond N_rec=200",
    ),
    "index twice in a row": (
        lambda s: {"index": _index(s, 5, 1, entries(s)[INDEX][5, 0])},
        INDEX, r"row 5 holds column \d+ twice \(slots 0 and 1\)",
    ),
    "unsorted row": (
        lambda s: {"index": _swap(s, 7)},
        INDEX, r"row 7 is not sorted: column \d+ in slot 0 comes before column \d+ in slot 1",
    ),
    "padding first": (
        lambda s: {"index": _index(s, 2, 0, N), "values": _values(s, 2, 0, 0.0)},
        INDEX, r"row 2 holds column \d+ in slot 1 after a padding slot \(index 200\) in slot 0",
    ),
    "value in a padding slot": (
        lambda s: {"index": _index(s, 4, K - 1, N), "values": _values(s, 4, K - 1, 0.25)},
        VALUES, r"holds 0.25 in a padding slot \(row 4, slot 9, index 200\)",
    ),
    "values and index shapes differ": (
        lambda s: {"values": entries(s)[VALUES][:, :-1]},
        VALUES, r"has shape \(200, 9\) but 'jaxinit/sparse/W_rec_index' has shape \(200, 10\)",
    ),
    "nan value": (
        lambda s: {"values": _values(s, 1, 3, np.nan)},
        VALUES, r"must be finite, got nan \(row 1, slot 3\)",
    ),
    "infinite value": (
        lambda s: {"values": _values(s, 8, 0, -np.inf)},
        VALUES, r"must be finite, got -inf \(row 8, slot 0\)",
    ),
    "K larger than N": (
        lambda s: {"index": np.full((N, N + 1), N, np.int32),
                   "values": np.zeros((N, N + 1), np.float32)},
        INDEX, r"has K=201 slots per row, more than N_rec=200",
    ),
    "values of another dtype": (
        lambda s: {"values": entries(s)[VALUES].astype(np.float64)},
        VALUES, r"has dtype float64 but the metadata records float32",
    ),
    "W_in with fewer rows": (
        _cut("W_in", 0), layout.SPARSE_PREFIX + "W_in",
        r"must have shape \(200, 2\) \(from the N_rec=200 rows of W_rec, W_in, W_out\), "
        r"got \(199, 2\)",
    ),
    "W_out with fewer columns": (
        _cut("W_out", 1), layout.SPARSE_PREFIX + "W_out",
        r"must have shape \(1, 200\) .*got \(1, 199\)",
    ),
    "short b_rec": (
        _cut("b_rec", 0), layout.SPARSE_PREFIX + "b_rec", r"must have shape \(200,\)",
    ),
    "Dale signs of another length": (
        _cut("dale_rec_diag", 0), layout.SPARSE_PREFIX + "dale_rec_diag",
        r"must have shape \(200,\) .*got \(199,\)",
    ),
    "Dale sign 3": (
        lambda s: {"dale_out_diag": np.full(N, 3.0, np.float32)},
        layout.SPARSE_PREFIX + "dale_out_diag", r"must hold only \[-1, 0, 1\], got 3.0",
    ),
    "mask of 2": (
        lambda s: {"input_connectivity": np.full((N, 2), 2.0, np.float32)},
        layout.SPARSE_PREFIX + "input_connectivity", r"must hold only \[0, 1\], got 2.0",
    ),
    "missing index": (lambda s: {"index": None}, INDEX, r"missing"),
    "metadata N_rec": (
        lambda s: {"meta": with_meta(s, N_rec=201)},
        META, r"records N_rec=201 but the arrays have N_rec=200",
    ),
    "metadata dale_ratio": (
        lambda s: {"meta": with_meta(s, dale_ratio=0.5)},
        META, r"dale_ratio 0.5 means 100 of 200 units are excitatory, but Dale_rec marks 160",
    ),
    "metadata layout": (
        lambda s: {"meta": with_meta(s, layout="dense")},
        META, r"'layout' must be 'row_sparse' \(format version 3\), got 'dense'",
    ),
    "metadata without layout": (
        lambda s: {"meta": with_meta(s, layout=None)},
        META, r"'layout' must be 'row_sparse'.*got None",
    ),
    "metadata with a recipe": (
        lambda s: {"meta": with_meta(s, provenance={
            "initializer": "alpha_identity", "config": {},
            "key": {"impl": "threefry2x32", "typed": True, "data": [0, 0]}})},
        META, r"a row-sparse file records no recipe",
    ),
    "sparse entries under format 2": (
        lambda s: {"meta": with_meta(s, format_version=2, entries={})},
        "jaxinit/raw/W_in", r"missing",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_files_are_refused(tmp_path, saved, case):
    change, key, match = CRAFTED[case]
    path = crafted(tmp_path, saved, **change(saved))
    with pytest.raises(jaxinit.NpzError, match=match) as err:
        jaxinit.load_npz(path)
    assert err.value.key == key
    assert str(err.value).startswith(f"{path}, entry {key!r}: ")
    with pytest.raises(jaxinit.NpzError, match=match):
        jaxinit.inspect_file(path)


def test_the_unchanged_copy_loads(tmp_path, net, saved):
    """The crafted files differ from a loadable one only by their defect."""
    assert_same(jaxinit.load_npz(crafted(tmp_path, saved)), net)


# ---------------------------------------------------------------------------
# inspect_file, the command line, provenance, dense export
# ---------------------------------------------------------------------------


def test_inspect_a_sparse_file(net, saved):
    report = jaxinit.inspect_file(saved)
    assert report.origin == "jaxinit" and report.layout == "row_sparse"
    assert report.slots == K and report.problems == ()
    s = report.summary
    assert (s.N_in, s.N_rec, s.N_out, s.dtype) == (2, N, 1, "float32")
    assert (s.n_excitatory, s.n_inhibitory, s.dale_ratio) == (160, 40, 0.8)
    assert s.nnz == N * K and s.rec_density == K / N
    index = np.asarray(net.W_rec.index)
    assert s.autapses == int((index == np.arange(N)[:, None]).sum())
    eff = float(jaxinit.spectral_radius(jaxinit.effective(net).W_rec, method="krylov"))
    assert s.raw_spectral_radius == pytest.approx(1.1, rel=1e-4)
    assert s.effective_spectral_radius == pytest.approx(eff, rel=1e-6)
    assert report.notes[0].startswith(
        "row-sparse file: W_rec is 200 rows of K=10 slots (values float32, column indices "
        "int32), 2000 connections"
    )
    assert report.notes[1].startswith(f"written by jaxinit {jaxinit.__version__} with jax")


def test_inspect_reports_isolated_units(tmp_path):
    dense = np.zeros((5, 5), np.float32)
    dense[1, 2], dense[2, 3], dense[3, 1], dense[4, 2] = 0.5, -0.2, 0.7, 0.1  # unit 0 alone
    base = small_net(5, 1, None)
    sp = SparseParams(**{**vars(base), "W_rec": jaxinit.sparse.from_dense(dense)})
    report = jaxinit.inspect_file(jaxinit.save_npz(tmp_path / "iso", sp))
    assert report.problems == ("1 recurrent units have no recurrent connections at all",)
    assert report.slots == 1 and report.summary.nnz == 4
    assert report.summary.rec_density == 4 / 25 and report.summary.autapses == 0


def test_inspect_a_dense_file_says_dense(tmp_path, net):
    report = jaxinit.inspect_file(jaxinit.save_npz(tmp_path / "d", net.todense()))
    assert report.layout == "dense" and report.slots is None
    assert report.summary.rec_density == pytest.approx(K / N, rel=1e-6)  # a float32 mean


def test_cli_inspect(saved, capsys):
    assert cli.main(["inspect", str(saved)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f"{saved} (jaxinit file)" in out
    assert "note: row-sparse file: W_rec is 200 rows of K=10 slots" in out
    assert re.search(r"^stored recurrent entries \(nnz\) +2000$", out, re.MULTILINE)
    assert cli.main(["inspect", "--reproduce", str(saved)]) == ExitCode.NO_RECIPE
    assert "row-sparse file, which records no recipe" in capsys.readouterr().err


def test_provenance_and_reproduce(saved):
    prov = jaxinit.read_provenance(saved)
    assert prov is not None and not prov.has_recipe and prov.recipe is None
    assert prov.versions["jaxinit"] == jaxinit.__version__
    assert prov.versions["jax"] == jax.__version__
    with pytest.raises(jaxinit.NoRecipeError, match=r"is a row-sparse file, which records no"):
        jaxinit.reproduce(saved)


def test_dense_export(tmp_path, net):
    dense = net.todense()
    path = jaxinit.save_npz(tmp_path / "psychrnn", dense)
    with np.load(path, allow_pickle=True) as f:
        assert f["W_rec"].shape == (N, N)  # PsychRNN's format
    loaded = jaxinit.load_npz(path)
    assert isinstance(loaded, jaxinit.Params)
    np.testing.assert_array_equal(loaded.W_rec, net.W_rec.todense())
    np.testing.assert_array_equal(
        jaxinit.effective(loaded).W_rec, jaxinit.effective(net).W_rec.todense()
    )
    with pytest.raises(ValueError, match=r"would take 160000 bytes, more than max_bytes=1000"):
        net.todense(max_bytes=1000)


def test_plot_a_sparse_file(saved):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    import jaxinit.plot

    fig, ax = jaxinit.plot.file_figure(saved, "weights")
    try:
        assert fig is not None and ax is not None
    finally:
        plt.close(fig)
