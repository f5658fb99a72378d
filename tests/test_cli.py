"""The jaxinit command line, run as a subprocess like a user runs it."""

import subprocess
import sys

import jax
import numpy as np
import pytest

import jaxinit


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "jaxinit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def default_network(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    return folder, run("init", cwd=folder)


def test_init_with_no_options_makes_the_default_network(default_network):
    folder, proc = default_network
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "sizes (N_in, N_rec, N_out)        2, 100, 1" in out
    assert "excitatory / inhibitory units     80 / 20" in out
    assert "spectral radius, effective W_rec  1.1\n" in out
    assert "written to                        network.npz" in out
    params = jaxinit.load_npz(folder / "network.npz")
    cfg = jaxinit.Config(N_in=2, N_rec=100, N_out=1, dale_ratio=0.8, spectral_radius_of="effective")
    expected = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
    np.testing.assert_array_equal(params.W_rec, expected.W_rec)
    assert jaxinit.reproduce(folder / "network.npz").matches


def test_inspect_reports_and_reproduces(default_network):
    folder, _ = default_network
    proc = run("inspect", "network.npz", "--reproduce", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "network.npz (jaxinit file)" in proc.stdout
    assert "dale_ratio                        0.8" in proc.stdout
    assert "bitwise identical" in proc.stdout
    assert "problem:" not in proc.stdout


def test_init_options_and_config_file(tmp_path):
    (tmp_path / "cfg.toml").write_text(
        'N_rec = 30\ndale_ratio = 0.5\ninitializer = "alpha_identity"\nalpha = 0.7\nseed = 4\n'
    )
    proc = run(
        "init", "--config", "cfg.toml", "--N-in", "3", "--no-autapses", "-o", "a", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "3, 30, 1" in proc.stdout and "15 / 15" in proc.stdout
    assert "self-connections (autapses)       0" in proc.stdout
    params = jaxinit.load_npz(tmp_path / "a.npz")
    cfg = jaxinit.Config(
        N_in=3,
        N_rec=30,
        N_out=1,
        dale_ratio=0.5,
        alpha=0.7,
        autapses=False,
        spectral_radius_of="effective",
    )
    expected = jaxinit.alpha_identity(jax.random.key(4), cfg)
    np.testing.assert_array_equal(params.W_rec, expected.W_rec)


def test_no_dale_option(tmp_path):
    proc = run("init", "--dale-ratio", "none", "--N-rec", "10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "dale_ratio                        off" in proc.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--dale-ratio", "1.5"], "dale_ratio must be in [0, 1] or None, got 1.5"),
        (["--N-rec", "0"], "N_rec must be a positive integer, got 0"),
        (["--which-rand-init", "xavier"], "which_rand_init must be one of"),
        (["--initializer", "alpha_identity"], "alpha_identity needs config.alpha"),
        (["--seed", "-1"], "seed must be a non-negative integer, got -1"),
        (["--config", "missing.toml"], "cannot read config file 'missing.toml'"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path, args, needle):
    proc = run("init", *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert not (tmp_path / "network.npz").exists()


def test_bad_config_file_contents(tmp_path):
    (tmp_path / "c.json").write_text('{"N_rec": 5, "spectral": 1}')
    proc = run("init", "--config", "c.json", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown option(s) ['spectral']" in proc.stderr
    (tmp_path / "c.toml").write_text("N_rec = [")
    proc = run("init", "--config", "c.toml", cwd=tmp_path)
    assert proc.returncode == 2 and "is not valid" in proc.stderr


def test_argparse_errors_exit_2(tmp_path):
    proc = run("init", "--dale-ratio", "many", cwd=tmp_path)
    assert proc.returncode == 2 and "expected a number or 'none', got 'many'" in proc.stderr


def test_inspect_bad_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    proc = run("inspect", "junk.npz", cwd=tmp_path)
    assert proc.returncode == 1 and "invalid file" in proc.stderr and "junk.npz" in proc.stderr
    np.savez(tmp_path / "partial.npz", W_rec=np.eye(3))
    proc = run("inspect", "partial.npz", cwd=tmp_path)
    assert proc.returncode == 1 and "W_in" in proc.stderr
    proc = run("inspect", "absent.npz", cwd=tmp_path)
    assert proc.returncode == 1


def test_inspect_flags_psychrnn_oddities(tmp_path):
    n = 4
    dale = np.diag([1.0, 1.0, -1.0, -1.0])
    mask = np.ones((n, n))
    mask[3, :] = 0
    mask[:, 3] = 0  # unit 3 is cut off
    np.savez(
        tmp_path / "psy.npz",
        W_in=np.ones((n, 2)),
        W_rec=np.ones((n, n)),
        W_out=np.ones((1, n)),
        b_rec=np.zeros(n),
        b_out=np.zeros(1),
        init_state=np.full((1, n), 0.1),
        input_connectivity=np.ones((n, 2)),
        rec_connectivity=mask,
        output_connectivity=np.ones((1, n)),
        Dale_rec=dale,
        Dale_out=dale,
        dale_ratio=np.array(0.5),
        **{"W_rec/Adam": np.zeros((n, n))},
    )
    proc = run("inspect", "psy.npz", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout
    assert "psy.npz (psychrnn file)" in out
    assert "problem: Dale_out has 2 entries of -1" in out
    assert "problem: 1 recurrent units have no recurrent connections" in out
    assert "note: 1 extra entries ignored (optimizer slots?): W_rec/Adam" in out
    assert "W_rec in the file is raw, not effective" in out


def test_help_names_psychrnn_arguments(tmp_path):
    proc = run("init", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    for name in (
        "N_rec",
        "dale_ratio",
        "which_rand_init",
        "spec_rad",
        "autapses=False",
        "transfer_function",
        "init_minval",
    ):
        assert f"PsychRNN: {name}" in proc.stdout.replace("\n", " ").replace("  ", " ") or (
            name in proc.stdout
        )


def test_plot_command(default_network):
    folder, _ = default_network
    proc = run("plot", "network.npz", "-o", "spectrum.png", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "spectrum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = run("plot", "network.npz", "-o", "w.png", "--kind", "weights", cwd=folder)
    assert proc.returncode == 0 and (folder / "w.png").stat().st_size > 1000
    proc = run("plot", "absent.npz", "-o", "x.png", cwd=folder)
    assert proc.returncode == 1 and "absent.npz" in proc.stderr
