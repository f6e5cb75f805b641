
import nbformat

from tools import export_chapters as export


def test_generated_modules_match_their_notebooks():
    assert export.main(["--check"]) == 0, "run `make export`"


def test_only_marked_cells_are_exported_in_order(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter · 一章\n\ntext"),
        nbformat.v4.new_code_cell("#| export\nimport numpy as np\n\n\ndef f(x):\n    return np.sum(x)"),
        nbformat.v4.new_code_cell("print(f([1, 2]))"),
        nbformat.v4.new_code_cell("#| export\ndef g():\n    return f([3])"),
    ])
    path = tmp_path / "42_chapter.ipynb"
    nbformat.write(nb, path)
    text = export.exported_module(path)
    assert text.startswith('"""A chapter · 一章: the code the chapter defines')
    assert "Generated from chapters/42_chapter.ipynb by tools/export_chapters.py: do not edit." in text
    assert "print(f" not in text and not any(line.startswith("#| export") for line in text.splitlines())
    assert text.index("def f(x)") < text.index("def g()")
    namespace: dict = {}
    exec(compile(text, "ch42_chapter.py", "exec"), namespace)
    assert namespace["g"]() == 3
    nb.cells = nb.cells[:1]
    nbformat.write(nb, path)
    assert export.exported_module(path) is None


def test_a_hand_edit_of_a_generated_module_is_caught(tmp_path, monkeypatch):
    package = tmp_path / "chapter_code"
    package.mkdir()
    monkeypatch.setattr(export, "PACKAGE", package)
    assert export.main(["--check"]) == 1  # not generated yet
    assert export.main([]) == 0 and export.main(["--check"]) == 0
    module = package / "ch01_bptt.py"
    module.write_text(module.read_text().replace("def rnn_bptt(", "def rnn_bptt_edited("))
    assert export.main(["--check"]) == 1
    (package / "ch99_gone.py").write_text("")
    export.main([])
    assert not (package / "ch99_gone.py").exists() and export.main(["--check"]) == 0
