"""The notebooks in notebooks/: stored without outputs, and each runs without errors.

Each notebook is executed with nbclient in a fresh temporary working folder, by
an IPython kernel running this very interpreter (``sys.executable``): a
kernel spec written to a temporary folder, so no ``ipykernel install`` step is
needed and no kernel installed elsewhere under the same name can be picked up.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import require_module

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
KERNEL_NAME = "jaxinit-tests"
# Generous per-cell limit for a loaded CI machine; each notebook is meant to
# run in well under a minute.
CELL_TIMEOUT_S = 300


def _ids(paths):
    return [p.name for p in paths]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs(path):
    nbformat = require_module("nbformat", "notebooks")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.outputs == [], f"{path.name}: code cell {i} has stored outputs"
        assert cell.execution_count is None, f"{path.name}: code cell {i} has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def _kernel_manager(spec_dir: Path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    folder = spec_dir / KERNEL_NAME
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "jaxinit tests",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, tmp_path):
    nbformat = require_module("nbformat", "notebooks")
    nbclient = require_module("nbclient", "notebooks")
    workdir = tmp_path / "work"
    workdir.mkdir()
    nb = nbformat.read(path, as_version=4)
    # A last cell that reports which interpreter the kernel runs.
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable, end='')"))
    km = _kernel_manager(tmp_path / "kernels")
    client = nbclient.NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    # cleanup_kc: shut the kernel down and close its channels afterwards (by
    # default nbclient leaves a kernel it was handed running).
    client.execute(cleanup_kc=True)  # raises CellExecutionError naming the failing cell
    assert not km.has_kernel
    assert nb.cells[-1].outputs[0].text == sys.executable
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
    assert all(cell.execution_count is not None for cell in nb.cells if cell.cell_type == "code")
