"""The generated book pages (book/_ext/rnnbook_pages.py), their data files, and the Colab bootstrap.

The generators are called directly on temporary data, so these tests need no Sphinx build.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from sphinx.errors import ExtensionError

from tools import sync_colab_bootstrap as sync
from utils.freshness import jupyter_form
from utils.paths import CHAPTERS_DIR, REPO_ROOT

BOOK = REPO_ROOT / "book"
CHAPTERS = CHAPTERS_DIR


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pages = _load("rnnbook_pages", BOOK / "_ext" / "rnnbook_pages.py")

FIRST_FOUR = {"01_bptt", "02_mnist_rnn", "03_time_series", "04_creative_rnn"}


def built(*stems: str):
    return lambda stem: stem in stems


@pytest.fixture
def claims():
    return pages.load_claims(pages.CLAIMS_FILE)


@pytest.fixture
def chapters_dir(tmp_path) -> Path:
    """Empty stand-ins for the notebooks 01-09: the claims generator only reads their names."""
    folder = tmp_path / "chapters"
    folder.mkdir()
    for stem in sorted(FIRST_FOUR) + ["05_deep", "06_dropout", "07_lstm_gru", "08_embeddings", "09_seq2seq"]:
        (folder / f"{stem}.ipynb").write_text("{}")
    return folder


@pytest.fixture
def metrics_dir(tmp_path) -> Path:
    """A copy of the recorded figures of chapters 1-4."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    for stem in FIRST_FOUR:
        shutil.copy(BOOK / "metrics" / f"{stem}.json", folder)
    return folder


def _edit_metrics(metrics_dir: Path, stem: str, **changes) -> None:
    path = metrics_dir / f"{stem}.json"
    record = json.loads(path.read_text())
    for name, value in changes.items():
        if value is None:
            del record["metrics"][name]
        else:
            record["metrics"][name] = value
    path.write_text(json.dumps(record))


def _write_metrics(metrics_dir: Path, stem: str, **metrics) -> None:
    (metrics_dir / f"{stem}.json").write_text(
        json.dumps({"notebook": stem, "profile": "full", "code_hash": "x", "metrics": metrics}))


def _row(page: str, claim_text_start: str) -> str:
    return next(line for line in page.splitlines() if claim_text_start in line)


# ------------------------------------------------------------------------------ claims ledger

def test_the_claims_file_is_valid_and_covers_the_source(claims):
    ids = {claim["id"] for claim in claims}
    assert {"mnist-over-98", "projection-speed-boost", "lstm-converges-faster", "gru-as-well-as-lstm",
            "dropout-prevents-overfitting", "sampled-softmax-cheaper", "attention-improves-translation"} <= ids
    assert {claim["chapter"] for claim in claims} >= {1, 2, 3, 5, 6, 7, 8, 9}


def test_the_claims_of_chapters_6_to_9_use_the_metric_names_their_authors_record(claims):
    names = {number: set() for number in range(1, 10)}
    for claim in claims:
        names[claim["chapter"]] |= pages.claim_metric_names(claim)
    # the metric names the issues give must be the ones the ledger reads (it may read more)
    assert {"best_keep_prob"} <= names[6]
    assert {"lstm_equation_max_abs_error", "gru_equation_max_abs_error"} <= names[7]
    assert {"negatives_equal_to_context", "sentiment_accuracy_frozen",
            "sentiment_accuracy_finetuned", "sentiment_accuracy_scratch"} <= names[8]
    assert {"sampled_softmax_speedup", "bleu_no_attention", "bleu_attention"} <= names[9]


def test_the_ledger_of_the_recorded_figures_renders(claims):
    page = pages.claims_markdown(claims, pages.METRICS_DIR, CHAPTERS, built(*FIRST_FOUR))
    assert "{doc}`chapter 2 </chapters/02_mnist_rnn>`" in page
    figures = json.loads((BOOK / "metrics" / "02_mnist_rnn.json").read_text())["metrics"]
    assert f"{figures['simple_rnn_test_accuracy']:.2%}" in page  # the figure comes from the file
    for verdict in re.findall(r"\| \*\*([\w ]+)\*\* \|", page):
        assert verdict in pages.VERDICTS


def test_changing_a_metric_changes_the_page(claims, metrics_dir, chapters_dir):
    before = pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR))
    row = _row(before, "over 98% accuracy")
    recorded = json.loads((metrics_dir / "02_mnist_rnn.json").read_text())["metrics"]["simple_rnn_test_accuracy"]
    # one training run of the source's recipe: the rule is shown, the verdict cannot be decisive
    assert "**not shown**" in row and f"{recorded:.2%}" in row and "1 training run per setting" in row

    _edit_metrics(metrics_dir, "02_mnist_rnn", source_recipe_test_accuracy=0.9912)
    after = pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR))
    assert after != before
    assert "99.12%" in _row(after, "over 98% accuracy") and "would say confirmed" in _row(after, "over 98% accuracy")

    _edit_metrics(metrics_dir, "02_mnist_rnn", source_recipe_test_accuracy=0.5, simple_rnn_test_accuracy=0.6)
    row = _row(pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR)), "over 98% accuracy")
    assert "would say refuted" in row and "**not shown**" in row and "60.00%" in row


def test_the_speed_claim_follows_the_measured_ratio(claims, metrics_dir, chapters_dir):
    verdicts = {}
    for ratio in (0.95, 1.2, 2.0):
        _edit_metrics(metrics_dir, "03_time_series", projection_speed_ratio=ratio)
        row = _row(pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR)), "speed boost")
        verdicts[ratio] = re.search(r"\*\*(\w+)\*\*", row).group(1)
    assert verdicts == {0.95: "refuted", 1.2: "partly", 2.0: "confirmed"}


def test_outdated_and_not_shown_come_before_the_other_verdicts():
    claim = {"id": "x", "chapter": 1, "source": "s", "claim": "c", "measured": "{a}", "confirmed": "a > 1",
             "partly": "a > 0", "not_shown": "abs(a - b) < spread", "outdated": "old == 1",
             "evidence": "test split, 3 seeds, 10 epochs each"}
    def verdict(**figures):
        return pages.judge_claim(claim, figures, "file")["verdict"]
    assert verdict(a=2, b=0, spread=0.1, old=0) == "confirmed"
    assert verdict(a=0.5, b=0, spread=0.1, old=0) == "partly"
    assert verdict(a=2, b=1.95, spread=0.1, old=0) == "not shown"  # within the spread: no verdict
    assert verdict(a=2, b=1.95, spread=0.1, old=1) == "outdated"
    assert verdict(a=-1, b=0, spread=0.1, old=0) == "refuted"
    with pytest.raises(ExtensionError, match="needs the metric"):
        pages.judge_claim(claim, {"a": 1, "b": 0, "old": 0}, "file")


def test_a_missing_metric_fails_the_build(claims, metrics_dir, chapters_dir):
    _edit_metrics(metrics_dir, "02_mnist_rnn", simple_rnn_test_accuracy=None)
    with pytest.raises(ExtensionError, match=r"mnist-over-98.*simple_rnn_test_accuracy"):
        pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR))


def test_claims_of_a_chapter_wait_for_its_figures_then_are_required(claims, metrics_dir, chapters_dir):
    page = pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR), pending=True)
    assert "`best_keep_prob`" in page and "chapter 6 (in preparation)" in page

    _write_metrics(metrics_dir, "06_dropout", some_other_figure=1.0)
    with pytest.raises(ExtensionError, match="best_keep_prob"):
        pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR))

    dropout_figures = dict(test_gain_over_no_dropout=0.05, test_gain_standard_error=0.01, seed_count=5,
                           test_gain_low=0.02, test_gain_high=0.08,
                           train_validation_gap_best_keep_prob=0.03, train_validation_gap_no_dropout=0.2)
    _write_metrics(metrics_dir, "06_dropout", best_keep_prob=0.75, **dropout_figures)
    page = pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR, "06_dropout"))
    row = _row(page, "dropout between its layers")
    assert "0.75" in row and "**confirmed**" in row and "{doc}`chapter 6 </chapters/06_dropout>`" in row
    assert "5 seeds per keep probability" in row  # the evidence, filled in from the figures
    assert "best_keep_prob" not in pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR),
                                                         pending=True)
    verdicts = {}
    for gain, gap, keep in ((0.05, 0.2, 0.75), (0.01, 0.2, 0.75), (0.0, 0.2, 1.0)):
        dropout_figures.update(test_gain_over_no_dropout=gain, train_validation_gap_best_keep_prob=gap,
                               test_gain_low=gain - 0.02, test_gain_high=gain + 0.02)
        _write_metrics(metrics_dir, "06_dropout", best_keep_prob=keep, **dropout_figures)
        row = _row(pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR)), "dropout between")
        verdicts[gain, keep] = re.search(r"\*\*([\w ]+)\*\* \|", row).group(1)
    # helps but the gap stays: partly; an interval that includes 0: not shown; no dropout best: refuted
    assert verdicts == {(0.05, 0.75): "partly", (0.01, 0.75): "not shown", (0.0, 1.0): "refuted"}


def test_a_decisive_verdict_needs_five_training_runs_per_setting(tmp_path):
    claim = {"id": "x", "chapter": 1, "source": "s", "claim": "c", "measured": "{a}", "confirmed": "a_low > 0",
             "not_shown": "a_low <= 0 <= a_high", "trained_runs": "seeds", "evidence": "{seeds} seeds"}
    def judged(**figures):
        return pages.judge_claim(claim, figures, "file")
    assert judged(a=1, a_low=0.5, a_high=1.5, seeds=5)["verdict"] == "confirmed"
    assert judged(a=-1, a_low=-1.5, a_high=-0.5, seeds=7)["verdict"] == "refuted"
    assert judged(a=1, a_low=-0.1, a_high=2.1, seeds=5)["verdict"] == "not shown"
    few = judged(a=1, a_low=0.5, a_high=1.5, seeds=3)
    assert few["verdict"] == "not shown"
    assert few["evidence"] == ("3 seeds The rule alone would say confirmed, but it rests on 3 training runs per "
                               "setting, fewer than the 5 the book's evidence rule needs to decide.")
    path = tmp_path / "claims.yml"
    path.write_text(yaml.safe_dump([{**claim, "trained_runs": 0}]))
    with pytest.raises(ExtensionError, match="trained_runs must be a positive number or a metric name"):
        pages.load_claims(path)


def test_the_ledger_decides_no_trained_comparison_on_fewer_than_five_runs(claims):
    """Every row that rests on trained models says so, and none is decisive with fewer than 5 runs."""
    interval_rules = [c["id"] for c in claims if re.search(r"_low\b", str(c.get("confirmed")))]
    assert all(c.get("trained_runs") for c in claims if c["id"] in interval_rules)
    for number, path in pages.metrics_files().items():
        metrics = pages.read_chapter_metrics(path)
        for claim in (c for c in claims if c["chapter"] == number and c.get("trained_runs")):
            result = pages.judge_claim(claim, metrics, path.name)
            runs = pages.trained_runs(claim, metrics)
            if result["verdict"] in ("confirmed", "partly", "refuted"):
                assert runs >= pages.MIN_TRAINED_RUNS, claim["id"]


def test_a_verdict_that_flips_on_a_rerun_is_not_shown(claims, metrics_dir, chapters_dir):
    record = json.loads((metrics_dir / "03_time_series.json").read_text())
    _edit_metrics(metrics_dir, "03_time_series", projection_speed_ratio=2.0)
    row = _row(pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR)), "speed boost")
    assert "**confirmed**" in row
    rerun = {"03_time_series": {"code_hash": record["code_hash"], "compared": 1, "identical": False,
                                "verdicts": {"projection-speed-boost": {"committed": "confirmed", "rerun": "partly"}}}}
    (metrics_dir.parent / "reproducibility.json").write_text(json.dumps(rerun))
    row = _row(pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR)), "speed boost")
    assert "**not shown**" in row and "A rerun of the chapter gave “partly” instead of “confirmed”" in row
    rerun["03_time_series"]["code_hash"] = "other code"  # a rerun of other code says nothing of this one
    (metrics_dir.parent / "reproducibility.json").write_text(json.dumps(rerun))
    assert "**confirmed**" in _row(pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR)),
                                   "speed boost")
    table = pages.reproducibility_markdown(rerun)
    assert "| `03_time_series` |" in table and "0 of 1" in table


def test_a_chapter_in_the_book_without_figures_fails(claims, metrics_dir, chapters_dir):
    with pytest.raises(ExtensionError, match="07_lstm_gru.*no recorded figures"):
        pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR, "07_lstm_gru"))


def test_figures_from_the_smoke_profile_are_refused(claims, metrics_dir, chapters_dir):
    path = metrics_dir / "01_bptt.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "profile": "smoke"}))
    with pytest.raises(ExtensionError, match="smoke"):
        pages.claims_markdown(claims, metrics_dir, chapters_dir, built(*FIRST_FOUR))


def test_rules_are_arithmetic_on_metrics_and_nothing_else():
    metrics = {"a": 0.5, "b": 2, "seq": [1.0, 3.0]}
    assert pages.evaluate_rule("a < 1 <= b and not a > b", metrics) is True
    assert pages.evaluate_rule("abs(a - b) == 1.5 and max(seq) == seq[1] and mean(seq) == 2", metrics) is True
    assert pages.rule_names("max(a, b) > 2 * c") == {"a", "b", "c"}
    for bad in ("__import__('os')", "a.real", "'text' == a", "[x for x in seq]", "a if b else 0"):
        with pytest.raises(ExtensionError, match="not allowed"):
            pages.evaluate_rule(bad, metrics)
    with pytest.raises(ExtensionError, match="not a valid expression"):
        pages.rule_names("a >")


def test_a_malformed_claim_is_rejected(tmp_path):
    path = tmp_path / "claims.yml"
    base = {"id": "x", "chapter": 2, "source": "s", "claim": "c", "measured": "{a}", "confirmed": "a > 1"}
    for broken in ({**base, "chapter": "two"}, {**base, "surprise": 1}, {k: v for k, v in base.items() if k != "claim"},
                   {**base, "measured": "{}"}):
        path.write_text(yaml.safe_dump([broken]))
        with pytest.raises(ExtensionError):
            pages.load_claims(path)
    path.write_text(yaml.safe_dump([base, base]))
    with pytest.raises(ExtensionError, match="twice"):
        pages.load_claims(path)


# ------------------------------------------------------------------------------ migration table

def test_migration_rows_appear_only_for_chapters_in_the_book():
    rows = pages.load_migration(pages.MIGRATION_FILE)
    page = pages.migration_markdown(rows, CHAPTERS, built("02_mnist_rnn"))
    assert "{ref}`chapter 2 <migrate-placeholder>`" in page
    assert "chapter 3" not in page and "migrate-multirnncell" not in page
    everything = pages.migration_markdown(rows, CHAPTERS, lambda stem: True)
    present = {int(p.name[:2]) for p in CHAPTERS.glob("[0-9][0-9]_*.ipynb")}
    assert everything.count("{ref}") == sum(1 for row in rows if row["chapter"] in present)


def test_the_migration_table_covers_the_source_and_the_agreed_labels():
    rows = pages.load_migration(pages.MIGRATION_FILE)
    text = " ".join(row["api"] for row in rows)
    for api in ("tf.placeholder", "BasicRNNCell", "dynamic_rnn", "static_rnn", "OutputProjectionWrapper",
                "MultiRNNCell", "DropoutWrapper", "BasicLSTMCell", "use_peepholes=True", "GRUCell",
                "embedding_lookup", "embedding_rnn_seq2seq", "sampled_softmax_loss", "tf.train.Saver",
                "tf.Session", "tf.device", "read_data_sets", "fully_connected", "in_top_k",
                "global_variables_initializer", "sparse_softmax_cross_entropy_with_logits", "AdamOptimizer"):
        assert api in text, api
    labels = {(row["chapter"], row["label"]) for row in rows}
    assert {(5, "migrate-multirnncell"), (5, "migrate-tf-device"), (5, "migrate-state-is-tuple"),
            (6, "migrate-dropoutwrapper"), (7, "migrate-basiclstmcell"), (7, "migrate-peephole"),
            (7, "migrate-grucell"), (8, "migrate-embedding-lookup"), (8, "migrate-trainable-false"),
            (9, "migrate-embedding-rnn-seq2seq"), (9, "migrate-sampled-softmax"), (9, "migrate-bucketing")} <= labels


def test_every_migration_label_is_in_its_chapter_notebook():
    stems = pages.chapter_stems(CHAPTERS)
    missing = []
    for row in pages.load_migration(pages.MIGRATION_FILE):
        stem = stems.get(row["chapter"])
        if stem is not None and row["label"] not in pages.labels_in_notebook(CHAPTERS / f"{stem}.ipynb"):
            missing.append(f"({row['label']})= in {stem}")
    assert not missing, f"labels missing from the chapter notebooks: {missing}"


def test_every_errata_label_is_in_its_chapter_notebook():
    stems = pages.chapter_stems(CHAPTERS)
    for erratum in pages.load_errata(pages.ERRATA_FILE):
        stem = stems.get(erratum["chapter"])
        if stem is not None and erratum.get("label"):
            assert erratum["label"] in pages.labels_in_notebook(CHAPTERS / f"{stem}.ipynb"), erratum["title"]


# ------------------------------------------------------------------------------ run times

def _notebook(path: Path, runtime: float | None, profile: str = "full") -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A title")])
    if runtime is not None:
        nb.metadata["rnnbook"] = {"profile": profile, "runtime_s": runtime}
    nbformat.write(nb, path)


def test_the_run_time_table_reads_the_stamps_and_the_smoke_times(tmp_path):
    _notebook(tmp_path / "01_first.ipynb", 204.3)
    _notebook(tmp_path / "02_second.ipynb", 45.0)
    _notebook(tmp_path / "03_third.ipynb", 99.0)
    colab = pages.colab_base("https://github.com/org/repo", "main", "https://colab.research.google.com/")
    table = pages.runtimes_markdown(tmp_path, {"01_first": 29.4}, built("01_first", "02_second"), colab)
    first = _row(table, "01_first")
    assert "29 s" in first and "204 s (3.4 min)" in first
    assert "(https://colab.research.google.com/github/org/repo/blob/main/reader/01_first.ipynb)" in first
    second = _row(table, "02_second")
    assert "| — |" in second and "45 s" in second
    assert "03_third" not in table  # not in the book yet

    _notebook(tmp_path / "02_second.ipynb", 45.0, profile="smoke")  # a smoke stamp is no full time
    assert _row(pages.runtimes_markdown(tmp_path, {}, built("02_second"), None), "02_second").count("—") == 2


def test_the_run_time_table_of_the_book_uses_each_notebooks_stamp():
    table = pages.runtimes_markdown(CHAPTERS, {}, built(*FIRST_FOUR), None)
    runtime = nbformat.read(CHAPTERS / "02_mnist_rnn.ipynb", as_version=4).metadata["rnnbook"]["runtime_s"]
    assert pages.format_seconds(runtime) in _row(table, "02_mnist_rnn")


def test_smoke_times_file(tmp_path):
    assert pages.read_smoke_times(tmp_path / "absent.json") == {}
    path = tmp_path / "smoke.json"
    path.write_text(json.dumps({"01_bptt": 29.4}))
    assert pages.read_smoke_times(path) == {"01_bptt": 29.4}
    path.write_text(json.dumps({"01_bptt": "fast"}))
    with pytest.raises(ExtensionError):
        pages.read_smoke_times(path)


def test_colab_links_need_a_github_repository():
    assert pages.colab_base("https://gitlab.com/org/repo", "main", "https://colab.research.google.com") is None
    assert pages.colab_base("https://github.com/org/repo", "main", "") is None


# ------------------------------------------------------------------------------ errata

def test_errata_link_only_to_chapters_in_the_book():
    errata = pages.load_errata(pages.ERRATA_FILE)
    page = pages.errata_markdown(errata, CHAPTERS, built(*FIRST_FOUR))
    assert "{ref}`chapter 2 <migrate-fully-connected>`" in page
    assert "chapter 7 (in preparation)" in page and "{ref}`chapter 7" not in page
    kinds = [pages.errata_markdown(errata, CHAPTERS, built(*FIRST_FOUR), kind=kind).count("*Shown in:*")
             for kind in ("error", "outdated", "trap")]
    assert sum(kinds) == len(errata) and all(kinds)
    titles = " ".join(e["title"] for e in errata)
    for mistake in ("n_outputs = 18", "corss", "[cell] * n_layers", "19973", "Tabs", "test time", "state_is_tuple",
                    "tf.contrib"):
        assert mistake in titles, mistake


def test_every_erratum_cites_its_line_of_the_source():
    errata = pages.load_errata(pages.ERRATA_FILE)
    page = pages.errata_markdown(errata, CHAPTERS, lambda stem: True)
    cited = re.findall(r"\*The source \(lines? \d+|\*The source's companion notebook \(not its text; "
                       r"the figures are at lines? \d+", page)
    assert len(cited) == len(errata)
    images = [e for e in errata if e.get("origin") == "equation image"]
    assert len(images) >= 2 and all("14-3" in e["source"] or "14-4" in e["source"] for e in images)
    assert page.count("an equation the source shows only as an image") == len(images)
    titles = " ".join(e["title"] for e in errata)
    assert "put_keep_prob" in titles and "tf.nn.legacy_seq2seq" in titles
    # the source's DeviceCellWrapper listing is right: its properties sit beside __init__
    assert "DeviceCellWrapper" not in titles
    assert "seed of figure 14-11" not in page


def test_a_malformed_erratum_line_is_rejected(tmp_path):
    path = tmp_path / "errata.yml"
    base = {"title": "t", "chapter": 2, "source": "s", "correct": "c", "line": 25}
    assert pages.load_errata(_dump(path, [base]))
    for broken in ({**base, "line": "25"}, {**base, "line": []}, {**base, "line": 0},
                   {k: v for k, v in base.items() if k != "line"}, {**base, "origin": "somewhere"}):
        with pytest.raises(ExtensionError):
            pages.load_errata(_dump(path, [broken]))


def _dump(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ glossary, references

GLOSSARY_TERMS = {
    "Backpropagation through time": "通过时间反向传播", "Truncated backpropagation through time": "截断反向传播",
    "Unrolling": "展开", "Memory cell": "记忆单元", "Peephole connection": "窥孔连接",
    "Long short-term memory": "长短期记忆", "Gated recurrent unit": "门控循环单元", "Embedding": "嵌入",
    "Negative sampling": "负采样", "Encoder–decoder": "编码器-解码器", "Teacher forcing": "教师强制",
    "Sampled softmax": "采样softmax", "Attention mechanism": "注意力机制", "Beam search": "束搜索",
    "Bucketing": "分桶", "BLEU": "BLEU", "Dropout": "Dropout", "Keep probability": "保留概率",
    "Gradient clipping": "梯度裁剪", "Vanishing and exploding gradients": "梯度消失与梯度爆炸",
    "Time series": "时间序列", "Output projection": "输出投影", "Temperature": "温度",
    "Data parallelism": "数据并行", "Model parallelism": "模型并行", "Device placement": "设备放置",
}


def _glossary() -> dict[str, str]:
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries, term = {}, None
    for line in block.splitlines():
        if line and not line.startswith((" ", ":")):
            term = line.strip()
            entries[term] = ""
        elif term and line.strip():
            entries[term] += line.strip() + " "
    return entries


def test_the_glossary_has_every_term_in_english_and_chinese():
    entries = _glossary()
    for term, chinese in GLOSSARY_TERMS.items():
        assert term in entries, term
        assert entries[term].startswith(chinese + " · "), (term, entries[term][:30])


def _markdown_sources() -> dict[str, str]:
    sources = {str(p.relative_to(REPO_ROOT)): p.read_text(encoding="utf-8") for p in BOOK.glob("*.md")}
    for name in ("claims.yml", "errata.yml"):
        sources[f"book/{name}"] = (BOOK / name).read_text(encoding="utf-8")
    for path in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        sources[path.name] = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return sources


def test_every_term_role_names_a_glossary_term():
    terms = {term.lower() for term in _glossary()}
    for name, text in _markdown_sources().items():
        for role in re.findall(r"(?<!`)\{term\}`([^`\n]+)`", text):
            target = re.search(r"<([^>]+)>$", role)
            assert (target.group(1) if target else role).strip().lower() in terms, (name, role)


def _bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(encoding="utf-8"), re.MULTILINE))


def test_the_bibliography_has_the_works_the_book_cites():
    keys = _bib_keys()
    assert {"hochreiter1997", "gers2000", "cho2014", "sutskever2014", "jean2015", "bahdanau2015", "mikolov2013",
            "werbos1990", "geron2017", "papineni2002", "kotzias2015", "srivastava2014", "zaremba2014", "gal2016",
            "luong2015"} <= keys
    claims = pages.load_claims(pages.CLAIMS_FILE)
    cited = {claim["cite"] for claim in claims if claim.get("cite")}
    for text in _markdown_sources().values():
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            cited.update(key.strip() for key in group.split(","))
    assert cited <= keys, cited - keys


# ------------------------------------------------------------------------------ Colab bootstrap

def test_the_sync_script_writes_the_bootstrap_cell_from_the_config(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/example/book\n  branch: dev\n")
    url, branch = sync.repository(config)
    source = sync.bootstrap_source(url, branch)
    assert '"https://github.com/example/book"' in source and '"--branch", "dev"' in source
    assert '"google.colab" in sys.modules' in source and 'sys.path.insert(0, book)' in source
    compile(source, "bootstrap", "exec")  # plain Python: freshness and linters can parse it

    notebook = tmp_path / "01_bptt.ipynb"  # a chapter without its bootstrap cell
    original = nbformat.read(CHAPTERS / "01_bptt.ipynb", as_version=4)
    original.cells = [c for c in original.cells if sync.TAG not in c.metadata.get("tags", [])]
    original = jupyter_form(original)  # as the chapters are stored, and the script writes them
    nbformat.write(original, notebook)
    assert sync.sync_file(notebook, source, check=True)  # not in sync yet
    assert sync.sync_file(notebook, source) is True
    synced = nbformat.read(notebook, as_version=4)
    first_code = next(i for i, cell in enumerate(synced.cells) if cell.cell_type == "code")
    cell = synced.cells[first_code]
    assert cell.source == source and set(sync.TAGS) <= set(cell.metadata["tags"])
    assert [c for i, c in enumerate(synced.cells) if i != first_code] == original.cells  # nothing else moved
    assert synced.metadata == original.metadata

    written = notebook.read_bytes()
    assert sync.sync_file(notebook, source) is False and notebook.read_bytes() == written  # idempotent
    assert not sync.sync_file(notebook, source, check=True)

    newer = sync.bootstrap_source("https://github.com/example/moved", "main")
    assert sync.sync_file(notebook, newer) is True
    updated = nbformat.read(notebook, as_version=4)
    assert [c.source for c in updated.cells].count(newer) == 1 and source not in [c.source for c in updated.cells]
    assert len(updated.cells) == len(synced.cells)


def test_the_sync_script_refuses_a_bad_config(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: 'not a url; rm -rf /'\n")
    with pytest.raises(ValueError):
        sync.repository(config)


def test_every_chapter_has_the_bootstrap_cell_of_the_config():
    """Fails until `python tools/sync_colab_bootstrap.py` has written the cell into every chapter."""
    source = sync.bootstrap_source(*sync.repository())
    stale = [path.name for path in sync.chapter_notebooks() if sync.sync_file(path, source, check=True)]
    assert not stale, f"run `python tools/sync_colab_bootstrap.py`: not in sync: {stale}"


def test_the_repository_url_is_written_in_one_place():
    url, _ = sync.repository()
    holders = []
    for folder in ("book", "tools", "utils", "tests", ".ci"):
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix not in (".png", ".json", ".js", ".css", ".woff", ".woff2", ".pyc") \
                    and url in path.read_text(encoding="utf-8", errors="ignore"):
                holders.append(str(path.relative_to(REPO_ROOT)))
    for name in ("README.md", "Makefile", "pyproject.toml", "_toc.yml"):
        if url in (REPO_ROOT / name).read_text(encoding="utf-8"):
            holders.append(name)
    for path in sorted(CHAPTERS.glob("*.ipynb")):  # only the generated bootstrap cell may name it
        nb = nbformat.read(path, as_version=4)
        if any(url in cell.source for cell in nb.cells if sync.TAG not in cell.metadata.get("tags", [])):
            holders.append(path.name)
    assert holders == [], f"the repository URL is written outside _config.yml: {holders}"


# ------------------------------------------------------------------------------ site fixes (rnnbook_site)

site = _load("rnnbook_site", BOOK / "_ext" / "rnnbook_site.py")


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib
    row = b"\x00" + b"\xff\xff\xff" * width
    body = zlib.compress(row * height)
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (site.PNG_MAGIC + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _widget_state(views: list[dict], index: int) -> dict:
    import base64
    state = {"box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_row", "IPY_MODEL_stack"]}},
             "row": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_name", "IPY_MODEL_slider"]}},
             "name": {"model_name": "HTMLModel", "state": {"value": "<b>keep_prob</b>"}},
             "slider": {"model_name": "SelectionSliderModel",
                        "state": {"_options_labels": [str(0.5 + 0.1 * i) for i in range(len(views))], "index": index}},
             "stack": {"model_name": "StackModel",
                       "state": {"children": [f"IPY_MODEL_v{i}" for i in range(len(views))], "selected_index": index}}}
    for i, view in enumerate(views):
        if "png" in view:
            state[f"v{i}"] = {"model_name": "ImageModel", "state": {"format": "png"},
                              "buffers": [{"path": ["value"], "encoding": "base64",
                                           "data": base64.b64encode(view["png"]).decode()}]}
        else:
            state[f"v{i}"] = {"model_name": "HTMLModel", "state": {"value": view["html"]}}
    return state


def test_a_widget_fallback_is_the_selected_view_with_its_label():
    views = [{"png": _png(40 + i, 10)} for i in range(3)]
    fallback = site.widget_fallback(_widget_state(views, 2), "box")
    assert fallback["png"] == views[2]["png"] and fallback["label"] == "keep_prob = 0.7"
    assert fallback["count"] == 3 and site.png_size(fallback["png"]) == (42, 10)
    figure = site.fallback_html(fallback, "../_images/widgets/x.png")
    assert 'width="42" height="10"' in figure and "rnnbook-wide-figure" in figure
    assert "keep_prob = 0.7" in figure and "<figcaption>" in figure
    # the caption holds without scripts and on paper: no promise that the slider will appear
    assert "one of 3 views (0.5 … 0.7)" in figure and "have loaded" not in figure
    html_view = site.widget_fallback(_widget_state([{"html": "<p>a</p>"}, {"html": "<p>b</p>"}], 0), "box")
    assert html_view["html"] == "<p>a</p>"
    assert site.widget_fallback(_widget_state(views, 0), "row") is None  # no Stack under it


def test_every_site_image_links_to_its_full_size():
    body = ('<img alt="a" src="../_images/a.png" /><a class="image-reference" href="x"><img src="../_images/b.png"/></a>'
            '<img alt="logo" src="https://example.org/c.png">')
    linked = site.link_full_size(body)
    assert linked.count('class="rnnbook-full-size"') == 1
    assert '<a class="rnnbook-full-size" href="../_images/a.png"' in linked and 'href="../_images/b.png"' not in linked


def test_inline_code_gets_break_opportunities_and_chinese_is_marked():
    body = '<code class="docutils literal notranslate"><span class="pre">tf.nn.sparse_softmax_cross_entropy</span></code>'
    assert site.add_word_breaks(body).count("<wbr>") == 5
    assert site.add_word_breaks('<span class="pre">short.name</span>') == '<span class="pre">short.name</span>'
    page = '<title>门控</title><p title="门控">Gated 门控循环单元 · GRU</p><script>var a = "门控";</script>'
    marked = site.mark_chinese(page)
    assert marked.count('<span lang="zh">') == 1 and '<span lang="zh">门控循环单元</span>' in marked
    assert site.mark_chinese(marked) == marked  # idempotent
    assert "门控循环单元" in site.glossary_chinese_terms((BOOK / "glossary.md").read_text(encoding="utf-8"))
