"""Execute a notebook of notebooks/ as a reader would, plus a probe cell reporting what it computed."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def execute_with_probe(name: str, workdir: Path, probe: str) -> tuple[list, str]:
    """Run notebooks/<name> top to bottom in ``workdir``, then ``probe`` in the same kernel.

    Returns the outputs of the notebook's own code cells (none may be an error) and the probe's printed text.
    The notebook must be stored without outputs (outputs are generated, never committed).
    """
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code_cells)

    stored = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    probe_cell = notebook.cells.pop()
    assert len(notebook.cells) == stored

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    return outputs, "".join(o.text for o in probe_cell.outputs if o.output_type == "stream")
