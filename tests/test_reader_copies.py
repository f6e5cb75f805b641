"""The reader's copies (reader/): in sync with the chapters, plain Markdown, same code and outputs."""

import nbformat
import pytest

from tools import reader_copies
from utils.freshness import cells_hash
from utils.metrics import same_value
from utils.paths import CHAPTERS_DIR, REPO_ROOT

SITE = "https://example.org/book/"
STEMS = [path.stem for path in reader_copies.chapters()]


def test_every_copy_is_current():
    stale = reader_copies.sync(check=True)
    assert stale == [], f"reader copies out of date: {stale}; run `make reader-copies`"


@pytest.mark.parametrize("stem", STEMS)
def test_a_copy_holds_no_raw_myst_and_the_chapters_code_and_outputs(stem):
    chapter = nbformat.read(CHAPTERS_DIR / f"{stem}.ipynb", as_version=4)
    copy = nbformat.read(reader_copies.READER_DIR / f"{stem}.ipynb", as_version=4)
    left = {index: reader_copies.raw_myst(cell.source) for index, cell in enumerate(copy.cells)
            if cell.cell_type == "markdown" and reader_copies.raw_myst(cell.source)}
    assert left == {}, f"raw MyST in reader/{stem}.ipynb: {left}"
    assert copy.cells[0].id == reader_copies.NOTE_ID and reader_copies.site_url() in copy.cells[0].source
    assert cells_hash(copy) == cells_hash(chapter)
    code = [(c.source, c.outputs) for c in copy.cells if c.cell_type == "code"]
    assert same_value(code, [(c.source, c.outputs) for c in chapter.cells if c.cell_type == "code"])


def test_roles_become_links_to_the_site_and_labels_go():
    source = ("(my-label)=\n## Gates\n\nA {term}`GRU <Gated recurrent unit>` and {term}`Dropout` "
              "{cite:p}`hochreiter1997,cho2014`; see {ref}`stateful-vs-stateless` and "
              "{doc}`chapter 1 </chapters/01_bptt>`, [how it is built](../book/how_it_is_built.md#top), {math}`h_t`.")
    plain = reader_copies.plain_markdown(source, SITE, "chapters/06_dropout")
    title = reader_copies.labels()["stateful-vs-stateless"][1]
    assert plain == (
        "## Gates\n\nA [GRU](https://example.org/book/book/glossary.html#term-Gated-recurrent-unit) and "
        "[Dropout](https://example.org/book/book/glossary.html#term-Dropout) "
        "\\[[Hochreiter and Schmidhuber, 1997; Cho et al., 2014](https://example.org/book/book/references.html)\\]; "
        f"see [{title}](https://example.org/book/chapters/04_creative_rnn.html#stateful-vs-stateless) and "
        "[chapter 1](https://example.org/book/chapters/01_bptt.html), "
        "[how it is built](https://example.org/book/book/how_it_is_built.html#top), $h_t$.")
    assert reader_copies.raw_myst(plain) == []
    assert reader_copies.raw_myst(source) == ["{term}`GRU <Gated recurrent unit>`", "{term}`Dropout`",
                                              "{cite:p}`hochreiter1997,cho2014`", "{ref}`stateful-vs-stateless`",
                                              "{doc}`chapter 1 </chapters/01_bptt>`", "{math}`h_t`", "(my-label)="]


@pytest.mark.parametrize(("source", "error"), [
    ("{eq}`my-equation`", "no plain Markdown for the role {eq}"),
    ("{ref}`no-such-label`", "names no label 'no-such-label'"),
    ("{cite:p}`nobody2099`", "no reference nobody2099"),
    ("```{note}\nA note.\n```", "a MyST directive"),
])
def test_markup_without_a_plain_form_is_an_error(source, error):
    with pytest.raises(reader_copies.ReaderCopyError, match=error):
        reader_copies.plain_markdown(source, SITE, "chapters/06_dropout")


def test_a_stale_or_orphan_copy_is_found_and_rewritten(tmp_path):
    assert sorted(reader_copies.sync(reader_dir=tmp_path)) == [f"{stem}.ipynb" for stem in STEMS]
    (tmp_path / f"{STEMS[0]}.ipynb").write_text("{}")
    (tmp_path / "99_gone.ipynb").write_text("{}")
    assert reader_copies.sync(check=True, reader_dir=tmp_path) == [f"{STEMS[0]}.ipynb", "99_gone.ipynb"]
    reader_copies.sync(reader_dir=tmp_path)
    assert reader_copies.sync(check=True, reader_dir=tmp_path) == []
    assert not (tmp_path / "99_gone.ipynb").exists()


def test_the_site_address_is_the_configs(tmp_path):
    assert reader_copies.site_url(REPO_ROOT / "_config.yml").startswith("https://")
    bad = tmp_path / "_config.yml"
    bad.write_text("html:\n  baseurl: ''\n")
    with pytest.raises(ValueError, match="html.baseurl"):
        reader_copies.site_url(bad)
