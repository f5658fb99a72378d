"""The persistent compilation cache: a private folder, used by the command line.

The command runs as a subprocess (a fresh process, as a user runs it twice);
JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 makes JAX keep every program, so
the test does not depend on how fast this machine compiles.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import jax
import numpy as np
import pytest

import jaxinit
from jaxinit._src.cache import compilation_cache, default_cache_dir


def run(*args, cwd, cache, **env):
    environment = dict(os.environ, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", **env)
    if cache is None:
        environment.pop("JAXINIT_CACHE_DIR", None)
    else:
        environment["JAXINIT_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "jaxinit", *args],
        capture_output=True, text=True, cwd=cwd, timeout=300, env=environment,
    )


def entries(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def same_network(a, b):
    pa, pb = jaxinit.load_npz(a), jaxinit.load_npz(b)
    return all(
        np.array_equal(np.asarray(x).view(np.uint8), np.asarray(y).view(np.uint8))
        for x, y in zip(pa.arrays().values(), pb.arrays().values(), strict=True)
    )


@pytest.mark.slow
@pytest.mark.parametrize("method", ["eig", "krylov"])
def test_a_second_run_loads_the_programs_the_first_compiled(tmp_path, method):
    cache = tmp_path / "cache"
    args = ("init", "--N-rec", "64", "--dale-ratio", "0.8", "--spectral-method", method)
    first = run(*args, "-o", "a.npz", cwd=tmp_path, cache=cache)
    assert first.returncode == 0, first.stderr
    written = entries(cache)
    # the network's own program is kept: it has no host callback (JAX keeps
    # no program with one; the Krylov path had one before)
    assert any(name.startswith("jit_build-") for name in written), written
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    second = run(*args, "-o", "b.npz", cwd=tmp_path, cache=cache)
    assert second.returncode == 0, second.stderr
    assert entries(cache) == written  # everything was found, nothing compiled again
    assert same_network(tmp_path / "a.npz", tmp_path / "b.npz")


@pytest.mark.slow
def test_no_compile_cache_writes_nothing(tmp_path):
    cache = tmp_path / "cache"
    proc = run("init", "--N-rec", "16", "--no-compile-cache", cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert not cache.exists()


@pytest.mark.slow
def test_an_unsafe_folder_is_refused_or_skipped(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    # given on the command line: an error naming the option and the reason
    proc = run("init", "--N-rec", "16", "--compile-cache", str(shared), cwd=tmp_path, cache=None)
    assert proc.returncode == 2, proc.stderr
    assert "--compile-cache" in proc.stderr and "writable by others" in proc.stderr
    assert not (tmp_path / "network.npz").exists()
    # the default folder: a warning, and the network is made without a cache
    proc = run("init", "--N-rec", "16", cwd=tmp_path, cache=shared)
    assert proc.returncode == 0, proc.stderr
    assert "jaxinit: warning: no compilation cache" in proc.stderr
    assert (tmp_path / "network.npz").is_file() and entries(shared) == []


def test_enable_creates_a_private_folder_and_the_setting_comes_back(tmp_path):
    before = jax.config.jax_compilation_cache_dir
    with compilation_cache(tmp_path / "new" / "cache") as folder:
        assert folder == (tmp_path / "new" / "cache").resolve()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert jax.config.jax_compilation_cache_dir == str(folder)
    assert jax.config.jax_compilation_cache_dir == before


@pytest.mark.parametrize("make", ["file", "symlink", "group-writable", "other-writable"])
def test_unsafe_folders_are_refused_naming_the_reason(tmp_path, make):
    path = tmp_path / "cache"
    if make == "file":
        path.write_text("")
        match = "not a directory"
    elif make == "symlink":
        (tmp_path / "real").mkdir(mode=0o700)
        path.symlink_to(tmp_path / "real")
        match = "symbolic link"
    else:
        path.mkdir()
        path.chmod(0o770 if make == "group-writable" else 0o707)
        match = "writable by others"
    before = jax.config.jax_compilation_cache_dir
    with pytest.raises(ValueError, match=match):
        jaxinit.enable_compilation_cache(path)
    assert jax.config.jax_compilation_cache_dir == before  # nothing was changed


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_folder_of_another_user_is_refused(tmp_path):
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    os.chown(path, 4242, -1)
    with pytest.raises(ValueError, match="belongs to user id 4242"):
        jaxinit.enable_compilation_cache(path)


def test_bad_path_type_and_default_folder(monkeypatch, tmp_path):
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike, got int"):
        jaxinit.enable_compilation_cache(3)
    monkeypatch.delenv("JAXINIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "jaxinit" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "jaxinit" / "jax"
