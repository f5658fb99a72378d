"""The jaxinit command line, run as a subprocess like a user runs it.

Every error must be exactly one line on stderr (``jaxinit: error: ...``), never
a traceback, with the exit status documented in ``jaxinit._src.cli``.
"""

import json
import pathlib
import re
import subprocess
import sys
import zipfile

import jax
import numpy as np
import pytest

import jaxinit
from jaxinit._src import cli
from jaxinit._src.cli.app import translate
from jaxinit._src.cli.codes import EXIT_CODES, ExitCode
from jaxinit._src.cli.options import MAX_SEED, MAX_UNITS

SCRIPT = pathlib.Path(sys.executable).with_name("jaxinit")


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "jaxinit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def assert_error(proc, code, *needles):
    """The command failed with ``code`` and printed one error line holding ``needles``."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("jaxinit: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def psychrnn_file(path, n=4):
    """A small PsychRNN-format file (no jaxinit entries)."""
    np.savez(
        path,
        W_in=np.ones((n, 2)),
        W_rec=np.eye(n) * 0.5,
        W_out=np.ones((1, n)),
        b_rec=np.zeros(n),
        b_out=np.zeros(1),
        init_state=np.full((1, n), 0.1),
        input_connectivity=np.ones((n, 2)),
        rec_connectivity=np.ones((n, n)),
        output_connectivity=np.ones((1, n)),
        Dale_rec=np.diag([1.0] * (n - 1) + [-1.0]),
        Dale_out=np.diag([1.0] * (n - 1) + [0.0]),
        dale_ratio=np.array(0.75),
    )


@pytest.fixture(scope="module")
def default_network(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    return folder, run("init", cwd=folder)


# ---------------------------------------------------------------------------
# init: defaults, options, config files


def test_init_with_no_options_uses_configs_defaults(default_network):
    folder, proc = default_network
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert "sizes (N_in, N_rec, N_out)        2, 100, 1" in out
    assert "dale_ratio                        none (no Dale's law)" in out
    assert "excitatory" not in out  # no E/I counts without Dale's law
    assert "spectral radius, raw W_rec        1.1\n" in out  # Config's "raw" default
    assert "written to                        network.npz" in out
    params = jaxinit.load_npz(folder / "network.npz")
    expected = jaxinit.gaussian_spectral_radius(
        jax.random.key(0), jaxinit.Config(N_in=2, N_rec=100, N_out=1)
    )
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(a, b)
    assert params.dale_ratio is None
    recipe = jaxinit.read_provenance(folder / "network.npz")
    assert recipe.config == jaxinit.Config(N_in=2, N_rec=100, N_out=1)
    assert jaxinit.reproduce(folder / "network.npz").matches


def test_readme_example(tmp_path):
    proc = run(
        "init", "--N-rec", "200", "--dale-ratio", "0.8", "--spectral-radius-of", "effective",
        "--no-autapses", "--seed", "3", "-o", "rnn.npz", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "excitatory / inhibitory units     160 / 40" in proc.stdout
    assert "spectral radius, effective W_rec  1.1\n" in proc.stdout
    assert "self-connections (autapses)       0" in proc.stdout
    cfg = jaxinit.Config(
        N_in=2, N_rec=200, N_out=1, dale_ratio=0.8, spectral_radius_of="effective", autapses=False
    )
    expected = jaxinit.gaussian_spectral_radius(jax.random.key(3), cfg)
    np.testing.assert_array_equal(jaxinit.load_npz(tmp_path / "rnn.npz").W_rec, expected.W_rec)


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
    cfg = jaxinit.Config(N_in=3, N_rec=30, N_out=1, dale_ratio=0.5, alpha=0.7, autapses=False)
    expected = jaxinit.alpha_identity(jax.random.key(4), cfg)
    np.testing.assert_array_equal(params.W_rec, expected.W_rec)
    # An option given on the command line wins over the file.
    proc = run("init", "--config", "cfg.toml", "--dale-ratio", "none", "-o", "b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert jaxinit.load_npz(tmp_path / "b.npz").dale_ratio is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("off.toml", 'dale_ratio = "none"\nN_rec = 6\n'),
        ("false.toml", "dale_ratio = false\nN_rec = 6\n"),
        ("null.json", '{"dale_ratio": null, "N_rec": 6}'),
        ("none.json", '{"dale_ratio": "None", "N_rec": 6}'),
    ],
)
def test_config_file_switches_dale_off(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    proc = run("init", "--config", name, "-o", "net", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "none (no Dale's law)" in proc.stdout
    assert jaxinit.load_npz(tmp_path / "net.npz").dale_ratio is None


def test_dale_ratio_zero_is_all_inhibitory(tmp_path):
    proc = run("init", "--dale-ratio", "0", "--N-rec", "10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "excitatory / inhibitory units     0 / 10" in proc.stdout
    params = jaxinit.load_npz(tmp_path / "network.npz")
    assert params.dale_ratio == 0.0 and bool((params.dale_rec_diag < 0).all())


def test_float64_and_a_warning_on_one_line(tmp_path):
    proc = run(
        "init", "--dtype", "float64", "--initializer", "weight_initializer", "--N-rec", "8",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "dtype                             float64" in proc.stdout
    (line,) = proc.stderr.splitlines()
    assert line.startswith("jaxinit: warning: weight_initializer drew W_rec without regulating")


def test_the_console_script_is_the_same_command(tmp_path):
    proc = subprocess.run(
        [str(SCRIPT), "init", "--N-rec", "5", "-o", "s"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.npz").exists()


# ---------------------------------------------------------------------------
# init: errors


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--dale-ratio", "1.5"], "argument --dale-ratio: expected a number in [0, 1] or 'none'"),
        (["--dale-ratio", "many"], "expected a number in [0, 1] or 'none', got 'many'"),
        (["--dale-ratio", "nan"], "got 'nan'"),
        (["--N-rec", "0"], "N_rec must be a positive integer, got 0"),
        (["--N-rec", "1000000000"], f"N_rec must be at most {MAX_UNITS} on the command line"),
        (["--N-in", str(MAX_UNITS + 1)], f"N_in must be at most {MAX_UNITS}"),
        (["--N-rec", "1e3"], "argument --N-rec: invalid int value: '1e3'"),
        (["--which-rand-init", "xavier"], "argument --which-rand-init: invalid choice: 'xavier'"),
        (["--initializer", "alpha_identity"], "alpha_identity needs config.alpha"),
        (["--seed", "-1"], f"seed must be an integer in [0, {MAX_SEED}], got -1"),
        (["--seed", "18446744073709551616"], "seed must be an integer in [0, 4294967295]"),
        (["--seed", str(2**32)], "got 4294967296"),
        (["--spec-rad", "inf"], "spec_rad must be finite, got inf"),
        (["--spec-rad", "-2"], "spec_rad must be positive, got -2.0"),
        (["--alpha", "1e999", "--initializer", "alpha_identity"], "alpha must be finite"),
        (["--init-minval", "1", "--init-maxval", "0"], "init_minval must not exceed init_maxval"),
        (["--config", "missing.toml"], "cannot read config file missing.toml"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, args, needle):
    proc = run("init", *args, cwd=tmp_path)
    assert_error(proc, ExitCode.USAGE, needle)
    assert not (tmp_path / "network.npz").exists()


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("c.json", '{"N_rec": 5, "spectral": 1}', "unknown option(s) ['spectral']"),
        ("c.toml", "N_rec = [", "is not valid"),
        ("list.json", "[1, 2]", "must hold a table of options"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "is not valid"),
        ("yes.toml", "dale_ratio = true", 'dale_ratio must be a number in [0, 1], "none" or false'),
        ("word.toml", 'dale_ratio = "half"', "got 'half'"),
        ("huge.toml", "N_rec = 123456789012", f"N_rec must be at most {MAX_UNITS}"),
        ("seed.toml", "seed = 1.5", "seed must be an integer"),
        ("init.toml", 'initializer = "orthogonal"', "initializer must be one of"),
        ("float.toml", "N_rec = 10.0", "N_rec must be a positive integer, got 10.0"),
        ("bin.toml", "\udcff", "is not valid"),
    ],
)
def test_bad_config_files_exit_2(tmp_path, name, text, needle):
    (tmp_path / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    proc = run("init", "--config", name, cwd=tmp_path)
    assert_error(proc, ExitCode.USAGE, needle)


def test_init_output_that_cannot_be_written_names_it(tmp_path):
    proc = run("init", "-o", "missing_dir/x", cwd=tmp_path)
    line = assert_error(proc, ExitCode.FILE, "missing_dir/x")
    assert ".tmp" not in line and "does not exist" in line
    (tmp_path / "plain").write_text("")
    proc = run("init", "-o", "plain/x.npz", cwd=tmp_path)
    assert_error(proc, ExitCode.FILE, "plain/x.npz", "plain is not a folder")
    (tmp_path / "dir.npz").mkdir()
    proc = run("init", "-o", "dir.npz", cwd=tmp_path)
    assert_error(proc, ExitCode.FILE, "dir.npz", "is a folder")


@pytest.mark.skipif(not pathlib.Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_init_write_failure_in_an_existing_folder_names_the_file(tmp_path):
    proc = run("init", "--N-rec", "4", "-o", "/proc/jaxinit-test.npz", cwd=tmp_path)
    line = assert_error(proc, ExitCode.FILE, "/proc/jaxinit-test.npz")
    assert ".tmp" not in line


# ---------------------------------------------------------------------------
# inspect


def test_inspect_reports_and_reproduces(default_network):
    folder, _ = default_network
    proc = run("inspect", "network.npz", "--reproduce", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "network.npz (jaxinit file)" in proc.stdout
    assert "dale_ratio                        none (no Dale's law)" in proc.stdout
    assert "bitwise identical" in proc.stdout
    assert "problem:" not in proc.stdout


def test_inspect_bad_files_exit_1(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    assert_error(run("inspect", "junk.npz", cwd=tmp_path), ExitCode.FILE, "junk.npz")
    np.savez(tmp_path / "partial.npz", W_rec=np.eye(3))
    assert_error(run("inspect", "partial.npz", cwd=tmp_path), ExitCode.FILE, "W_in")
    proc = run("inspect", "absent.npz", cwd=tmp_path)
    assert_error(proc, ExitCode.FILE, "cannot read absent.npz", "No such file")
    proc = run("inspect", "absent.npz", "--reproduce", cwd=tmp_path)
    assert_error(proc, ExitCode.FILE, "absent.npz")


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
    assert proc.returncode == ExitCode.PROBLEMS, proc.stderr
    out = proc.stdout
    assert "psy.npz (psychrnn file)" in out
    assert "excitatory / inhibitory units     2 / 2" in out
    assert "problem: Dale_out has 2 entries of -1" in out
    assert "problem: 1 recurrent units have no recurrent connections" in out
    assert "note: 1 extra entries ignored (optimizer slots?): W_rec/Adam" in out
    assert "W_rec in the file is raw, not effective" in out
    # --reproduce: no recipe in a PsychRNN file, and that decides the exit status.
    proc = run("inspect", "psy.npz", "--reproduce", cwd=tmp_path)
    assert_error(proc, ExitCode.NO_RECIPE, "psy.npz", "records no recipe")


def test_reproduce_without_a_recipe_exits_4_on_every_kind_of_file(tmp_path):
    psychrnn_file(tmp_path / "psy.npz")
    proc = run("inspect", "psy.npz", "--reproduce", cwd=tmp_path)
    assert_error(proc, ExitCode.NO_RECIPE, "psy.npz", "records no recipe")
    assert "psy.npz (psychrnn file)" in proc.stdout  # the report still comes first
    params = jaxinit.alpha_identity(
        jax.random.key(0), jaxinit.Config(N_in=1, N_rec=3, N_out=1, alpha=1.0)
    )
    jaxinit.save_npz(tmp_path / "bare.npz", params)
    proc = run("inspect", "bare.npz", "--reproduce", cwd=tmp_path)
    assert_error(proc, ExitCode.NO_RECIPE, "bare.npz", "records no recipe")
    assert run("inspect", "bare.npz", cwd=tmp_path).returncode == ExitCode.OK


def test_reproduce_mismatch_exits_5(default_network, tmp_path):
    folder, _ = default_network
    # The same file with another recorded key: the recipe now makes another network.
    with zipfile.ZipFile(folder / "network.npz") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    meta = np.load(folder / "network.npz")["jaxinit/metadata"]
    record = json.loads(str(meta))
    record["provenance"]["key"]["data"] = [0, 1]
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        for name, data in entries.items():
            if name != "jaxinit/metadata.npy":
                archive.writestr(name, data)
        with archive.open("jaxinit/metadata.npy", "w") as f:
            np.lib.format.write_array(f, np.asarray(json.dumps(record, sort_keys=True)))
    proc = run("inspect", "other.npz", "--reproduce", cwd=tmp_path)
    line = assert_error(proc, ExitCode.MISMATCH, "other.npz does not match its recipe")
    assert "W_rec" in line
    assert run("inspect", "other.npz", cwd=tmp_path).returncode == ExitCode.OK


# ---------------------------------------------------------------------------
# plot


def test_plot_command(default_network):
    folder, _ = default_network
    proc = run("plot", "network.npz", "-o", "spectrum.png", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "spectrum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = run("plot", "network.npz", "-o", "w.svg", "--kind", "weights", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "w.svg").read_text().lstrip().startswith("<?xml")


def test_plot_errors_name_the_right_file(default_network, tmp_path):
    folder, _ = default_network
    net = str(folder / "network.npz")
    proc = run("plot", net, "-o", "missing_dir/x.png", cwd=tmp_path)
    line = assert_error(proc, ExitCode.FILE, "missing_dir/x.png")
    assert "network.npz" not in line
    proc = run("plot", "absent.npz", "-o", "x.png", cwd=tmp_path)
    assert_error(proc, ExitCode.FILE, "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK junk")
    line = assert_error(run("plot", "junk.npz", "-o", "x.png", cwd=tmp_path), ExitCode.FILE)
    assert "junk.npz" in line and "x.png" not in line
    proc = run("plot", net, "-o", "x.docx", cwd=tmp_path)
    assert_error(proc, ExitCode.USAGE, "cannot write 'docx' files")
    proc = run("plot", net, "-o", "x.png", "--spec-rad", "-1", cwd=tmp_path)
    assert_error(proc, ExitCode.USAGE, "--spec-rad: expected a finite positive number")
    proc = run("plot", net, "-o", "x.png", "--kind", "histogram", cwd=tmp_path)
    assert_error(proc, ExitCode.USAGE, "invalid choice: 'histogram'")
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.skipif(not pathlib.Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_plot_write_failure_in_an_existing_folder_names_the_image(default_network):
    folder, _ = default_network
    proc = run("plot", "network.npz", "-o", "/proc/jaxinit-test.png", cwd=folder)
    line = assert_error(proc, ExitCode.FILE, "/proc/jaxinit-test.png")
    assert "network.npz" not in line


# ---------------------------------------------------------------------------
# Help, usage and the exit-code table


def test_help_names_psychrnn_arguments_and_defaults(tmp_path):
    proc = run("init", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for name in ("N_rec", "dale_ratio", "which_rand_init", "spec_rad", "autapses=False",
                 "transfer_function", "init_minval"):  # fmt: skip
        assert f"PsychRNN: {name}" in text
    assert "%%" not in proc.stdout
    assert "Dale's law (PsychRNN: dale_ratio). Default: none" in text
    assert "Default: raw" in text and "Default: gaussian_spectral_radius" in text
    assert 'dale_ratio = "none" or dale_ratio = false' in text
    assert proc.stdout.rstrip().endswith(EXIT_CODES[ExitCode.INTERRUPTED])


def test_usage_errors_are_one_line(tmp_path):
    assert_error(run(cwd=tmp_path), ExitCode.USAGE, "the following arguments are required")
    assert_error(run("train", cwd=tmp_path), ExitCode.USAGE, "invalid choice: 'train'")
    assert_error(run("plot", "x.npz", cwd=tmp_path), ExitCode.USAGE, "-o/--output")
    proc = run("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"jaxinit {jaxinit.__version__}"


def test_exit_code_table_is_the_same_in_the_docs_and_the_help():
    rows = dict(re.findall(r"^(\d+) +(.+)$", cli.__doc__, flags=re.MULTILINE))
    assert {int(code): text.replace("``", "") for code, text in rows.items()} == {
        int(code): text for code, text in EXIT_CODES.items()
    }
    help_text = cli.build_parser().format_help()
    for code, text in EXIT_CODES.items():
        assert f"  {int(code):<4} {text}" in help_text


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (jaxinit.NpzError("f.npz", "W_in", "bad"), ExitCode.FILE, "cannot load f.npz, entry"),
        (PermissionError(13, "Permission denied", "f.npz"), ExitCode.FILE, "cannot use f.npz"),
        (ValueError("N_rec must be positive"), ExitCode.USAGE, "N_rec must be positive"),
        (TypeError("alpha must be a number"), ExitCode.USAGE, "alpha must be a number"),
        (OverflowError("int too large"), ExitCode.USAGE, "int too large"),
        (MemoryError(), ExitCode.FAILED, "out of memory"),
        (RecursionError("deep"), ExitCode.FAILED, "nested too deeply"),
        (KeyError("x"), ExitCode.FAILED, "unexpected KeyError"),
    ],
)
def test_library_errors_are_translated(error, code, message):
    translated = translate(error)
    assert translated.code == code
    assert message in str(translated)
