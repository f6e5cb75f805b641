import json
import shutil

import nbformat
import pytest

from tools import sync_run_times as sync


def test_the_readme_times_are_the_recorded_times():
    assert sync.main(["--check"]) == 0, "run `make run-times`"

def test_the_table_follows_the_stamps_and_the_smoke_record(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "book").mkdir()
    for stem, runtime in (("01_a", 204.3), ("02_b", 1014.0)):
        nb = nbformat.v4.new_notebook()
        nb.metadata["rnnbook"] = {"profile": "full", "runtime_s": runtime}
        nbformat.write(nb, tmp_path / "chapters" / f"{stem}.ipynb")
    (tmp_path / "book" / "smoke_times.json").write_text(json.dumps({"01_a": 29.1}))
    table = sync.times_table(tmp_path)
    assert "| `01_a` | 29 s | 3.4 min |" in table and "| `02_b` | — | 16.9 min |" in table
    assert "| **all chapters** | 29 s | 20.3 min |" in table
    readme = f"intro\n{sync.START}\nold table\n{sync.END}\nrest\n"
    assert sync.synced(readme, table) == f"intro\n{sync.START}\n{table}\n{sync.END}\nrest\n"
    shutil.rmtree(tmp_path / "chapters")

def test_the_overview_line_follows_the_stamp():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## Overview\n- **To run** on a 2-core CPU (measured): smoke profile about 35 s, full profile about\n"
        "  3.5 minutes (204 s for the outputs shown). The profile comes from `RNNBOOK_PROFILE`.\n- next")])
    nb.metadata["rnnbook"] = {"profile": "full", "runtime_s": 62.1}
    assert sync.synced_overview(nb, 13.9)
    assert nb.cells[0].source == (
        "## Overview\n- **To run** on a 2-core CPU (measured; generated from the recorded times): smoke profile "
        "14 s, full profile 62 s for the outputs shown. The profile comes from `RNNBOOK_PROFILE`.\n- next")
    assert not sync.synced_overview(nb, 13.9)  # idempotent
    nb.cells[0].source = "## Overview\nno run times"

    with pytest.raises(ValueError, match="Overview"):
        sync.synced_overview(nb, 1.0)
