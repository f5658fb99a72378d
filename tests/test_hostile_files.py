"""Crafted files: every one gives an NpzError in bounded memory and time, never a crash.

The cases that could eat memory or hang (a zip bomb, trailing garbage, a
huge declared shape, a link to /dev/zero, a FIFO, a recipe for a huge
network) run in one child process whose address space is capped a few
hundred MiB above what jaxinit needs to load a small file, with a timeout,
so that a regression fails the test instead of taking the machine.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import zipfile

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit._src.files import layout, limits, saving

HEADROOM = 400 * 1024**2  # what the child may allocate beyond a warmed-up load
GARBAGE = 600 * 1024**2  # bytes a crafted member inflates to: more than HEADROOM


def entries(path) -> dict:
    with np.load(path, allow_pickle=True) as f:
        return {k: f[k] for k in f.files}


def network(n_rec=8, dale_ratio=0.75):
    cfg = jaxinit.Config(N_in=2, N_rec=n_rec, N_out=1, dale_ratio=dale_ratio)
    return jaxinit.Recipe("gaussian_spectral_radius", jax.random.key(0), cfg)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return jaxinit.save_npz(tmp_path_factory.mktemp("good") / "good.npz", network())


def npy_header(shape, dtype="<f4") -> bytes:
    """A version-1 .npy header for an array of ``shape`` and ``dtype`` (no data)."""
    text = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()


def with_member(src, dst, name, head: bytes, zeros: int, declared: int | None = None):
    """``src`` with entry ``name`` replaced: ``head`` then ``zeros`` zero bytes, deflated.

    ``declared`` overrides the uncompressed size the zip directory records.
    """
    plain = {k: v for k, v in entries(src).items() if k != name}
    np.savez(dst, **plain)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(name + ".npy", "w", force_zip64=True) as member:
            member.write(head)
            block = bytes(8 * 1024**2)
            for start in range(0, zeros, len(block)):
                member.write(block[: min(len(block), zeros - start)])
        if declared is not None:
            zf.filelist[-1].file_size = declared
    return dst


def with_metadata(src, dst, change):
    e = entries(src)
    meta = json.loads(str(e[layout.METADATA_KEY]))
    change(meta)
    e[layout.METADATA_KEY] = np.asarray(json.dumps(meta))
    np.savez(dst, **e)
    return dst


# ---------------------------------------------------------------------------
# Files that would exhaust memory or block: one capped child process
# ---------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import jaxinit

    plan = json.load(open(sys.argv[1]))
    jaxinit.load_npz(plan["warm"])  # JAX's threads and code in place before the cap
    status = open("/proc/self/status").read().split("VmSize:")[1].split()
    cap = int(status[0]) * 1024 + plan["headroom"]
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for case in plan["cases"]:
        start = time.monotonic()
        try:
            getattr(jaxinit, case["call"])(case["path"], **case["kwargs"])
            out = {"type": None}
        except BaseException as err:
            out = {"type": type(err).__name__, "npz": isinstance(err, jaxinit.NpzError),
                   "message": str(err)[:600], "key": getattr(err, "key", None)}
        out.update(name=case["name"], seconds=round(time.monotonic() - start, 2))
        print(json.dumps(out), flush=True)
    """
)


@pytest.fixture(scope="module")
def capped(tmp_path_factory, good):
    """Run every crafted case in one memory-capped child; name -> outcome."""
    tmp = tmp_path_factory.mktemp("capped")
    shape = (32768, 32768)  # 4 GiB of float32
    head = npy_header(shape)
    bomb = with_member(good, tmp / "bomb.npz", "W_rec", head, GARBAGE, len(head) + 4 * 32768**2)
    w_rec = entries(good)["W_rec"]
    valid = npy_header(w_rec.shape) + w_rec.tobytes()
    trailing = with_member(good, tmp / "trailing.npz", "W_rec", valid, GARBAGE)
    huge = with_member(good, tmp / "huge.npz", "W_rec", npy_header((10**9, 10**9), "<f8"), 0)
    zero = tmp / "zero.npz"
    zero.symlink_to("/dev/zero")
    fifo = tmp / "fifo.npz"
    os.mkfifo(fifo)

    def big_recipe(meta):
        meta["provenance"]["config"]["N_rec"] = 10**9

    recipe = with_metadata(good, tmp / "recipe.npz", big_recipe)
    cases = [
        ("control", "load_npz", good),
        ("bomb", "load_npz", bomb),
        ("trailing", "load_npz", trailing),
        ("huge_shape", "load_npz", huge),
        ("dev_zero", "load_npz", zero),
        ("dev_zero_inspect", "inspect_file", zero),
        ("fifo", "load_npz", fifo),
        ("huge_recipe", "reproduce", recipe),
    ]
    plan = {
        "warm": str(good),
        "headroom": HEADROOM,
        "cases": [dict(name=n, call=c, path=str(p), kwargs={}) for n, c, p in cases],
    }
    (tmp / "plan.json").write_text(json.dumps(plan))
    (tmp / "child.py").write_text(CHILD)
    proc = subprocess.run(
        [sys.executable, str(tmp / "child.py"), str(tmp / "plan.json")],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=os.getcwd(),
    )
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            outcome = json.loads(line)
            results[outcome["name"]] = outcome
    results["stderr"] = proc.stderr[-3000:]
    return results


def test_capped_child_loads_a_valid_file(capped):
    assert capped.get("control", {}).get("type", "missing") is None, capped["stderr"]


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("bomb", r"entry 'W_rec': holds an array of shape \(32768, 32768\).*4\.0 GiB.*max_bytes"),
        ("trailing", r"entry 'W_rec': declares \d+ bytes in the zip directory, but its \.npy"),
        ("huge_shape", r"entry 'W_rec': holds an array of shape \(1000000000, 1000000000\)"),
        ("dev_zero", r"zero\.npz: is a character device \(it is a link to '/dev/zero'\)"),
        ("dev_zero_inspect", r"is a character device"),
        ("fifo", r"fifo\.npz: is a FIFO \(named pipe\), not a regular file"),
        ("huge_recipe", r"records a recipe for a network of .*N_rec=1000000000.*max_bytes"),
    ],
)
def test_crafted_file_is_refused_in_bounded_memory_and_time(capped, name, match):
    outcome = capped.get(name)
    assert outcome is not None, f"the child never reported {name}: {capped['stderr']}"
    assert outcome["npz"], outcome
    assert outcome["seconds"] < 10, outcome

    assert re.search(match, outcome["message"]), outcome["message"]


# ---------------------------------------------------------------------------
# Values, metadata fields and their agreement with the arrays
# ---------------------------------------------------------------------------


def psychrnn_entries(src) -> dict:
    return {k: v for k, v in entries(src).items() if not k.startswith("jaxinit/")}


def test_overflow_to_inf_is_refused(tmp_path, good):
    e = {k: np.asarray(v, np.float64) for k, v in psychrnn_entries(good).items()}
    e["W_rec"][0, 0] = 1e300
    path = tmp_path / "f64.npz"
    np.savez(path, **e)
    with pytest.raises(
        jaxinit.NpzError, match=r"entry 'W_rec': holds 1e\+300, which is not finite"
    ):
        jaxinit.load_npz(path)
    with pytest.raises(jaxinit.NpzError, match="not finite as float32"):
        jaxinit.inspect_file(path)


def test_deep_json_is_refused_before_parsing(tmp_path, good):
    text = '{"format": "jaxinit.npz", "format_version": 2, "x": ' + "[" * 200_000 + "]" * 200_000
    path = tmp_path / "deep.npz"
    np.savez(path, **dict(entries(good), **{layout.METADATA_KEY: np.asarray(text + "}")}))
    with pytest.raises(jaxinit.NpzError, match="nests 200001 levels deep"):
        jaxinit.load_npz(path)


def test_long_metadata_is_refused(tmp_path, good):
    text = json.dumps({"format": "jaxinit.npz", "pad": "x" * (limits.MAX_METADATA_CHARS + 1)})
    path = tmp_path / "long.npz"
    np.savez(path, **dict(entries(good), **{layout.METADATA_KEY: np.asarray(text)}))
    with pytest.raises(jaxinit.NpzError, match=r"jaxinit reads (metadata|values) of at most"):
        jaxinit.load_npz(path)


def _set(*keys, value):
    def change(meta):
        target = meta
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_set("provenance", value="x"), "'provenance' must be an object or null"),
        (_set("versions", value="abc"), "'versions' must be an object of strings"),
        (_set("versions", "jax", value=3), "'versions' must map names to strings"),
        (_set("provenance", "key", "data", value=[2**40, -1]), r"integers in \[0, 2\*\*32\)"),
        (_set("provenance", "given", value=["nope"]), "'given' must list PsychRNN array names"),
        (_set("format_version", value=True), "format version True"),
        (_set("format_version", value=-5), "format version -5"),
        (_set("format_version", value=2.0), "format version 2.0"),
        (_set("params", "dale_ratio", value=5.0), r"'dale_ratio' must be a number in \[0, 1\]"),
        (_set("params", "dale_ratio", value=10**400), "a huge integer"),
        (_set("params", "dale_ratio", value=0.25), r"dale_ratio 0\.25 means 2 of 8 units.*6"),
        (_set("params", "N_rec", value=9), "records N_rec=9 but the arrays have N_rec=8"),
        (_set("params", "N_in", value=True), "'N_in' must be a positive integer"),
        (_set("params", "transfer_function", value=["relu"]), "'transfer_function' must be"),
        (_set("params", value=[]), "'params' must be an object"),
        (_set("entries", value=7), "'entries' must be an object of strings"),
    ],
)
def test_bad_metadata_fields(tmp_path, good, change, match):
    path = with_metadata(good, tmp_path / "meta.npz", change)
    with pytest.raises(jaxinit.NpzError, match=match) as err:
        jaxinit.load_npz(path)
    assert err.value.key == layout.METADATA_KEY and err.value.path == str(path)


def test_psychrnn_dale_ratio_must_agree_with_the_dale_signs(tmp_path, good):
    e = psychrnn_entries(good)  # 6 of 8 units excitatory
    np.savez(tmp_path / "r.npz", **dict(e, dale_ratio=np.float64(0.25)))
    with pytest.raises(jaxinit.NpzError, match=r"entry 'dale_ratio': .*Dale_rec marks 6"):
        jaxinit.load_npz(tmp_path / "r.npz")
    np.savez(tmp_path / "ok.npz", **dict(e, dale_ratio=np.float64(0.75)))
    assert jaxinit.load_npz(tmp_path / "ok.npz").dale_ratio == 0.75


@pytest.mark.parametrize("shape", [(8, 7), (8,), (8, 8, 1), (0, 8)])
def test_raw_and_effective_shapes_differ(tmp_path, good, shape):
    path = tmp_path / "raw.npz"
    np.savez(path, **dict(entries(good), **{"jaxinit/raw/W_rec": np.zeros(shape, np.float32)}))
    with pytest.raises(jaxinit.NpzError, match="entry 'jaxinit/raw/W_rec'") as err:
        jaxinit.load_npz(path)
    assert err.value.path == str(path)


def test_pickle_of_a_big_structure_is_refused(tmp_path, good):
    value = np.empty((), dtype=object)
    value[()] = [[0] * 10]
    np.savez(tmp_path / "p.npz", **dict(psychrnn_entries(good), dale_ratio=value))
    with pytest.raises(jaxinit.NpzError, match="holds a pickled list"):
        jaxinit.load_npz(tmp_path / "p.npz")


def test_max_bytes_is_configurable(good):
    with pytest.raises(jaxinit.NpzError, match=r"more than the limit of 1\.0 KiB"):
        jaxinit.load_npz(good, max_bytes=1024)
    assert jaxinit.load_npz(good, max_bytes=10**6).N_rec == 8
    for call in (jaxinit.inspect_file, jaxinit.read_provenance, jaxinit.reproduce):
        with pytest.raises(jaxinit.NpzError, match="pass a larger max_bytes"):
            call(good, max_bytes=1024)
    with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
        jaxinit.load_npz(good, max_bytes=0)
    with pytest.raises(TypeError, match="max_bytes must be a positive integer"):
        jaxinit.load_npz(good, max_bytes=True)


def test_reproduce_checks_the_recipe_size_against_max_bytes(tmp_path):
    path = jaxinit.save_npz(tmp_path / "n.npz", network(n_rec=64))
    assert jaxinit.reproduce(path, max_bytes=10**6).matches
    bigger = with_metadata(
        path, tmp_path / "b.npz", _set("provenance", "config", "N_rec", value=1000)
    )
    with pytest.raises(jaxinit.NpzError, match=r"N_rec=1000, N_out=1 \(7\.7 MiB of arrays\)"):
        jaxinit.reproduce(bigger, max_bytes=10**6)
    assert not jaxinit.reproduce(bigger, max_bytes=10**8).matches  # allowed: then it runs


# ---------------------------------------------------------------------------
# Saving: never a file the loader refuses, never over a special file
# ---------------------------------------------------------------------------


def test_save_refuses_a_recorded_given_array_the_loader_refuses(tmp_path, good):
    # jaxinit.Recipe refuses complex arrays itself; the check before writing is the
    # loader's own, so it refuses them too, naming the entry and writing nothing.
    e = entries(good)
    meta = json.loads(str(e[layout.METADATA_KEY]))
    meta["provenance"]["given"] = ["W_rec"]
    e[layout.METADATA_KEY] = np.asarray(json.dumps(meta))
    e["jaxinit/given/W_rec"] = np.zeros((8, 8), complex)
    target = str(tmp_path / "c.npz")
    with pytest.raises(
        jaxinit.NpzError, match=r"entry 'jaxinit/given/W_rec': not saved.*real numbers"
    ):
        saving.check_loadable(target, e, limits.DEFAULT_MAX_BYTES)
    del e["jaxinit/given/W_rec"]
    saving.check_loadable(target, e, limits.DEFAULT_MAX_BYTES)  # complete again: fine


def test_save_refuses_metadata_that_contradicts_the_arrays(tmp_path):
    params = network().build().replace(dale_ratio=0.25)  # Dale signs: 6 of 8 excitatory
    with pytest.raises(jaxinit.NpzError, match=r"not saved, the file would not load.*Dale_rec"):
        jaxinit.save_npz(tmp_path / "d.npz", params)
    assert os.listdir(tmp_path) == []


def test_save_refuses_more_than_max_bytes(tmp_path):
    with pytest.raises(jaxinit.NpzError, match=r"not saved.*more than the limit"):
        jaxinit.save_npz(tmp_path / "b.npz", network(), max_bytes=1024)
    assert os.listdir(tmp_path) == []


def test_save_through_a_link_to_dev_null_is_refused(tmp_path):
    link = tmp_path / "null.npz"
    link.symlink_to("/dev/null")
    with pytest.raises(FileExistsError, match=r"cannot save .*null\.npz'?: it is a character"):
        jaxinit.save_npz(link, network())
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["null.npz"]


def test_save_over_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "pipe.npz"
    link.symlink_to(fifo)
    for target in (link, tmp_path / "pipe.npz"):
        with pytest.raises(FileExistsError, match="FIFO") as err:
            jaxinit.save_npz(target, network())
        assert ".tmp" not in str(err.value)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe", "pipe.npz"]


def test_a_file_saved_is_a_file_loaded(tmp_path):
    for ratio in (None, 0.0, 0.3, 1.0):
        path = jaxinit.save_npz(tmp_path / "n.npz", network(n_rec=10, dale_ratio=ratio))
        assert jaxinit.load_npz(path).dale_ratio == ratio


# ---------------------------------------------------------------------------
# Random damage: an NpzError or a network, nothing else
# ---------------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_corruption_gives_npz_error_or_a_network(good, tmp_path_factory, data):
    raw = bytearray(good.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        where = data.draw(st.integers(0, len(raw) - 1))
        raw[where] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = tmp_path_factory.mktemp("fuzz") / "f.npz"
    path.write_bytes(bytes(raw))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jaxinit.EditedFileWarning)
        try:
            params = jaxinit.load_npz(path, max_bytes=1 << 20)
        except jaxinit.NpzError as err:
            assert str(path) in str(err)
        else:
            assert params.N_rec >= 1
