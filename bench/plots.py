"""The Performance page's plots, drawn from the results files (small PNGs, committed).

Each PNG carries the sha256 of the results file it was drawn from (PNG text chunk
``rnnbook-results-sha256``); the book's extension refuses a plot whose digest does not match
the results it shows, so a plot can never silently describe older numbers.

    python -m bench.plots [--results DIR] [--figures DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import zlib
from pathlib import Path

from bench.common import REPO_ROOT, RESULTS_DIR

FIGURES_DIR = REPO_ROOT / "book" / "bench_figures"
DIGEST_KEY = "rnnbook-results-sha256"
DPI = 80
CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def results_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def png_text(path: Path) -> dict[str, str]:
    """The tEXt / iTXt / zTXt chunks of a PNG (no imaging library needed)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    found, offset = {}, 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            found[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\x00")
            found[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\x00")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\x00")  # language tag
            _, _, text = rest.partition(b"\x00")  # translated keyword
            found[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode("utf-8")
        elif kind == b"IEND":
            break
        offset += 12 + length
    return found


def _save(fig, path: Path, results: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={DIGEST_KEY: results_digest(results), "Software": None})
    plt.close(fig)
    return path


def _figure(width: float, height: float, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), **kwargs)


def draw_throughput(record: dict, results: Path, out: Path) -> Path:
    cells = [c for c in CELL_NAMES if any(r["cell"] == c for r in record["rows"])]
    fig, axes = _figure(8.5, 1.2 + 0.33 * max(sum(r["cell"] == c for r in record["rows"]) for c in cells) * len(cells),
                        nrows=len(cells))
    axes = axes if hasattr(axes, "__len__") else [axes]
    for ax, cell in zip(axes, cells):
        rows = [r for r in record["rows"] if r["cell"] == cell]
        labels = [r["variant"].replace("Keras: ", "") for r in rows]
        rates = [r["samples_per_s"] for r in rows]
        errors = [[r["samples_per_s"] - r["min"] for r in rows], [r["max"] - r["samples_per_s"] for r in rows]]
        colors = [{"pytorch-eager": "tab:orange", "pytorch-compiled": "tab:red", "keras-book": "tab:green",
                   "keras-stock": "tab:blue"}.get(r["kind"], "tab:cyan") for r in rows]
        ax.barh(range(len(rows)), rates, xerr=errors, color=colors, capsize=2)
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.invert_yaxis()
        torch_rate = max((r["samples_per_s"] for r in rows if r["framework"] == "pytorch"), default=None)
        if torch_rate:
            ax.axvline(torch_rate, color="tab:red", linestyle="--", linewidth=1)
        ax.set_title(f"{CELL_NAMES[cell]}(150): training samples / s (median, min–max)", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    axes[-1].set_xlabel("samples / s (green: the book's settings, blue: stock Keras, cyan: custom layer,\n"
                        "orange: PyTorch eager, red: torch.compile; dashed: the best PyTorch)", fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "throughput.png", results)


def draw_projection(record: dict, results: Path, out: Path) -> Path:
    summary = record["summary"]
    lengths = sorted(int(k) for k in summary)
    fig, (left, right) = _figure(7.5, 2.8, ncols=2)
    for head, color in (("projection", "tab:blue"), ("stacked", "tab:green")):
        left.plot(lengths, [summary[str(n)][f"{head}_s_per_1000"] for n in lengths], "o-", color=color, label=head)
    left.set_xscale("log"); left.set_yscale("log")
    left.set_xlabel("sequence length (steps)"); left.set_ylabel("s / 1,000 training iterations")
    left.legend(fontsize=8)
    ratios = [summary[str(n)]["projection_speed_ratio"] for n in lengths]
    errors = [[r - summary[str(n)]["ratio_low"] for r, n in zip(ratios, lengths)],
              [summary[str(n)]["ratio_high"] - r for r, n in zip(ratios, lengths)]]
    right.errorbar(lengths, ratios, yerr=errors, fmt="o-", color="tab:purple", capsize=3)
    right.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    right.set_xscale("log"); right.set_xlabel("sequence length (steps)")
    right.set_ylabel("projection time / stacked time")
    from matplotlib.ticker import NullFormatter

    for ax in (left, right):
        ax.set_xticks(lengths, [str(n) for n in lengths])
        ax.xaxis.set_minor_formatter(NullFormatter())
    left.yaxis.set_minor_formatter(NullFormatter())
    fig.tight_layout()
    return _save(fig, out / "projection.png", results)


def draw_time_to_accuracy(record: dict, results: Path, out: Path) -> Path:
    fig, ax = _figure(6.5, 3.2)
    for row, color in zip(record["rows"], ("tab:grey", "tab:blue", "tab:green")):
        curve = row["curve"]
        ax.plot([p["train_s"] for p in curve], [100 * p["test_accuracy"] for p in curve], "o-", markersize=3,
                color=color, label=f"{row['recipe']} recipe")
    for target in record["settings"]["targets"]:
        ax.axhline(100 * target, color="grey", linestyle=":", linewidth=1)
    low = min(100 * p["test_accuracy"] for row in record["rows"] for p in row["curve"])
    ax.set_ylim(max(low - 0.5, 90.0) if not record["tiny"] else None, None)
    ax.set_xlabel("training seconds (evaluations excluded)"); ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "time_to_accuracy.png", results)


def draw_sampled_softmax(record: dict, results: Path, out: Path) -> Path:
    summary = record["summary"]
    vocabularies = sorted(int(k) for k in summary)
    fig, ax = _figure(6.5, 3.0)
    width = 0.2
    positions = range(len(vocabularies))
    bars = (("full_ms", "full softmax, Adam", "tab:red"), ("sampled_ms", "sampled softmax, Adam", "tab:blue"),
            ("full_sgd_ms", "full softmax, SGD", "salmon"), ("sampled_sgd_ms", "sampled softmax, SGD", "lightblue"))
    for k, (key, label, color) in enumerate(bars):
        ax.bar([p + (k - 1.5) * width for p in positions], [summary[str(v)][key] for v in vocabularies], width,
               label=label, color=color)
    for p, v in zip(positions, vocabularies):
        top = max(summary[str(v)][key] for key, _, _ in bars)
        ax.annotate(f"{summary[str(v)]['speedup']['median']:.1f}× (Adam)", (p, top), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xticks(list(positions), [f"{v:,}" for v in vocabularies])
    ax.set_xlabel("vocabulary size"); ax.set_ylabel("ms / training step (median)")
    ax.margins(y=0.15)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "sampled_softmax.png", results)


def draw_book_times(record: dict, results: Path, out: Path) -> Path:
    rows = record["rows"]
    fig, ax = _figure(7.0, 1.0 + 0.45 * len(rows))
    names = [f"{r['chapter']}" for r in rows]
    height = 0.38
    full = [r["full_s"] or 0 for r in rows]
    smoke = [r["smoke_s"] or 0 for r in rows]
    ax.barh([k - height / 2 for k in range(len(rows))], full, height, label="full profile", color="tab:blue")
    ax.barh([k + height / 2 for k in range(len(rows))], smoke, height, label="smoke profile", color="tab:green")
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("seconds (log scale)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "book_times.png", results)


DRAW = {"throughput": draw_throughput, "projection": draw_projection, "time_to_accuracy": draw_time_to_accuracy,
        "sampled_softmax": draw_sampled_softmax, "book_times": draw_book_times}


def draw_all(results_dir: Path = RESULTS_DIR, figures_dir: Path = FIGURES_DIR) -> list[Path]:
    """Draw a plot for every results file present; returns the paths written."""
    written = []
    for name, draw in DRAW.items():
        results = Path(results_dir) / f"{name}.json"
        if results.exists():
            written.append(draw(json.loads(results.read_text()), results, Path(figures_dir)))
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.plots", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--figures", type=Path, default=FIGURES_DIR)
    args = parser.parse_args(argv)
    for path in draw_all(args.results, args.figures):
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
