"""The file format, version 2: ``dale_ratio`` in files, format-1 files, save errors, inspection."""

from __future__ import annotations

import errno
import json
import os

import jax
import numpy as np
import pytest

import jaxinit
from jaxinit._src import files
from jaxinit._src.files import layout
from jaxinit._src.names import ARRAY_FIELDS

TINY = float(np.finfo(np.float64).tiny)


def bits_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def same_params(p, q) -> bool:
    return (
        all(bits_equal(getattr(p, n), getattr(q, n)) for n in ARRAY_FIELDS)
        and p.dale_ratio == q.dale_ratio
        and p.transfer_function == q.transfer_function
    )


def entries(path) -> dict:
    with np.load(path, allow_pickle=True) as f:
        return {k: f[k] for k in f.files}


def network(dale_ratio):
    cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=1, dale_ratio=dale_ratio, alpha=0.8)
    return jaxinit.alpha_identity(jax.random.key(0), cfg)


@pytest.fixture(scope="module")
def nets():
    return {ratio: network(ratio) for ratio in (None, 0.0, 0.5, 1.0)}


# ---------------------------------------------------------------------------
# dale_ratio: one meaning in memory and in files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ratio", "written"), [(None, None), (0.0, TINY), (0.5, 0.5), (1.0, 1.0)])
def test_dale_ratio_entry_and_metadata(tmp_path, nets, ratio, written):
    path = jaxinit.save_npz(tmp_path / "n", nets[ratio])
    e = entries(path)
    assert e["dale_ratio"].shape == ()
    if written is None:  # PsychRNN's own encoding of "no Dale's law"
        assert e["dale_ratio"].dtype == object and e["dale_ratio"].item() is None
    else:
        assert e["dale_ratio"].dtype == np.float64 and e["dale_ratio"].item() == written
    meta = json.loads(str(e[layout.METADATA_KEY]))
    assert meta["format_version"] == 2
    assert meta["params"]["dale_ratio"] == ratio  # the exact value: null, 0.0, ...
    loaded = jaxinit.load_npz(path)
    assert loaded.dale_ratio == ratio and same_params(loaded, nets[ratio])


def test_psychrnn_file_dale_ratio_taken_literally(tmp_path, nets):
    """Without jaxinit's entries: None is no Dale, 0.0 is every unit inhibitory."""
    for ratio, value in ((None, None), (0.0, 0.0), (0.0, TINY), (0.5, 0.5)):
        plain = {k: v for k, v in entries(jaxinit.save_npz(tmp_path / "j", nets[ratio])).items()}
        plain = {k: v for k, v in plain.items() if not k.startswith("jaxinit/")}
        entry = np.asarray(value, dtype=object if value is None else np.float64)
        np.savez(tmp_path / "p.npz", **dict(plain, dale_ratio=entry))
        loaded = jaxinit.load_npz(tmp_path / "p.npz")
        assert loaded.dale_ratio == ratio, value
        np.testing.assert_array_equal(
            jaxinit.effective(loaded).W_rec, jaxinit.effective(nets[ratio]).W_rec
        )


def test_zero_contradicted_by_dale_rec_is_psychrnn_off(tmp_path, nets):
    e = entries(jaxinit.save_npz(tmp_path / "j", nets[0.5]))
    plain = {k: v for k, v in e.items() if not k.startswith("jaxinit/")}
    np.savez(tmp_path / "p.npz", **dict(plain, dale_ratio=np.float64(0.0)))
    with pytest.warns(files.DaleRatioWarning, match="Dale_rec marks 3 units excitatory"):
        loaded = jaxinit.load_npz(tmp_path / "p.npz")
    assert loaded.dale_ratio is None
    report = jaxinit.inspect_file(tmp_path / "p.npz")  # reported, not warned
    assert any("Dale_rec marks 3 units excitatory" in p for p in report.problems)


def test_psychrnn_reads_the_none_entry(tmp_path, nets):
    """PsychRNN's loader: ``dict(np.load(path, allow_pickle=True))`` then ``.item()``."""
    path = jaxinit.save_npz(tmp_path / "n", nets[None])
    with np.load(path, allow_pickle=True) as f:
        loaded = dict(f)
    ratio = loaded["dale_ratio"].item()
    assert ratio is None and not ratio
    tiny = entries(jaxinit.save_npz(tmp_path / "z", nets[0.0]))["dale_ratio"].item()
    assert bool(tiny) and int(tiny * 6) == 0  # Dale on in PsychRNN, no excitatory unit


# ---------------------------------------------------------------------------
# Files written by jaxinit 0.1 (format version 1)
# ---------------------------------------------------------------------------


def as_format_1(path, out):
    """The file jaxinit 0.1 wrote for the same network: 0.0 for no Dale, no digests."""
    e = entries(path)
    meta = json.loads(str(e[layout.METADATA_KEY]))
    meta["format_version"] = 1
    del meta["entries"]
    e[layout.METADATA_KEY] = np.asarray(json.dumps(meta))
    if meta["params"]["dale_ratio"] is None:
        e["dale_ratio"] = np.float64(0.0)
    np.savez(out, **e)
    return out


@pytest.mark.parametrize("ratio", [None, 0.0, 0.5])
def test_format_1_files_load_as_before(tmp_path, nets, ratio):
    old = as_format_1(jaxinit.save_npz(tmp_path / "n", nets[ratio]), tmp_path / "old.npz")
    with np.load(old, allow_pickle=False) as f:  # format 1 needed no pickle
        assert f["dale_ratio"].item() == {None: 0.0, 0.0: TINY}.get(ratio, ratio)
    loaded = jaxinit.load_npz(old)
    assert loaded.dale_ratio == ratio and same_params(loaded, nets[ratio])


def test_edited_format_1_file(tmp_path, nets):
    old = as_format_1(jaxinit.save_npz(tmp_path / "n", nets[None]), tmp_path / "old.npz")
    d = dict(np.load(old))
    d["W_rec"] = d["W_rec"] + 1
    np.savez(old, **d)
    with pytest.warns(files.EditedFileWarning, match="'W_rec'"):
        loaded = jaxinit.load_npz(old)
    assert loaded.dale_ratio is None  # format 1's 0.0 still means no Dale's law
    np.testing.assert_array_equal(loaded.W_rec, d["W_rec"])


def test_newer_format_is_refused(tmp_path, nets):
    e = entries(jaxinit.save_npz(tmp_path / "n", nets[0.5]))
    meta = json.loads(str(e[layout.METADATA_KEY]))
    meta["format_version"] = layout.LATEST_FORMAT_VERSION + 1
    e[layout.METADATA_KEY] = np.asarray(json.dumps(meta))
    np.savez(tmp_path / "new.npz", **e)
    with pytest.raises(jaxinit.NpzError, match=r"format version 4.*upgrade jaxinit") as err:
        jaxinit.load_npz(tmp_path / "new.npz")
    assert err.value.key == layout.METADATA_KEY


# ---------------------------------------------------------------------------
# Save errors: one line naming the user's path
# ---------------------------------------------------------------------------


def test_save_to_a_missing_folder(tmp_path, nets):
    target = tmp_path / "no" / "such" / "net.npz"
    with pytest.raises(FileNotFoundError) as err:
        jaxinit.save_npz(target, nets[0.5])
    text = str(err.value)
    assert text == f"cannot save {str(target)!r}: the folder {str(target.parent)!r} does not exist"
    assert ".tmp" not in text and "\n" not in text
    assert err.value.errno == errno.ENOENT and err.value.__cause__ is None


def test_save_over_a_folder_removes_the_temporary_file(tmp_path, nets):
    (tmp_path / "net.npz").mkdir()
    with pytest.raises(OSError, match=r"cannot save .*net\.npz'?: it is a folder") as err:
        jaxinit.save_npz(tmp_path / "net.npz", nets[0.5])
    assert ".tmp" not in str(err.value)
    assert os.listdir(tmp_path) == ["net.npz"] and os.listdir(tmp_path / "net.npz") == []


def test_any_oserror_while_writing_names_the_path(tmp_path, nets, monkeypatch):
    from jaxinit._src.files import archive

    def full(file, data):
        file.write(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive, "write_entries", full)
    with pytest.raises(OSError, match=r"cannot save '.*net\.npz': No space left on device") as err:
        jaxinit.save_npz(tmp_path / "net", nets[0.5])
    assert err.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# inspect_file on both kinds of file
# ---------------------------------------------------------------------------


def test_inspect_both_kinds(tmp_path, nets):
    recipe = jaxinit.Recipe(
        "alpha_identity",
        jax.random.key(0),
        jaxinit.Config(N_in=2, N_rec=6, N_out=1, dale_ratio=0.5, alpha=0.8),
    )
    path = jaxinit.save_npz(tmp_path / "j", recipe)
    mine = jaxinit.inspect_file(path)
    assert isinstance(mine, jaxinit.Inspection)
    assert mine.origin == "jaxinit" and mine.problems == ()
    assert mine.summary.N_rec == 6
    assert any("made by alpha_identity" in n for n in mine.notes)
    plain = {k: v for k, v in entries(path).items() if not k.startswith("jaxinit/")}
    np.savez(tmp_path / "p.npz", **dict(plain, **{"W_rec/Adam": np.zeros((6, 6))}))
    theirs = jaxinit.inspect_file(tmp_path / "p.npz")
    assert theirs.origin == "psychrnn" and theirs.problems == ()
    assert theirs.notes == ("1 extra entries ignored (optimizer slots?): W_rec/Adam",)
    eff = (theirs.summary.effective_spectral_radius, mine.summary.effective_spectral_radius)
    assert eff[0] == pytest.approx(eff[1])


def test_inspect_reports_edits_and_a_literal_zero(tmp_path, nets):
    path = jaxinit.save_npz(tmp_path / "j", nets[0.0])
    d = dict(np.load(path))
    d["b_out"] = d["b_out"] + 1
    np.savez(tmp_path / "e.npz", **d)
    report = jaxinit.inspect_file(tmp_path / "e.npz")  # no warning escapes
    assert report.origin == "jaxinit"
    assert any("'b_out' were changed" in p for p in report.problems)
    plain = {k: v for k, v in d.items() if not k.startswith("jaxinit/")}
    np.savez(tmp_path / "z.npz", **dict(plain, dale_ratio=np.float64(0.0)))
    report = jaxinit.inspect_file(tmp_path / "z.npz")
    assert any("PsychRNN 1.0.0" in p and "without Dale's law" in p for p in report.problems)
