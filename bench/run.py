"""Run the benchmark suite: every benchmark (or those named), then the plots of the results.

    python -m bench.run                  # the real thing: bench/results/*.json, book/performance/*.png
    python -m bench.run --tiny --out D   # tiny sizes, results in D: proves the harness (timings meaningless)
    python -m bench.run throughput projection

Each benchmark prints its table; its results file describes the machine it ran on.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS_DIR, log  # noqa: E402

BENCHMARKS = ("throughput", "projection", "time_to_accuracy", "sampled_softmax", "book_times")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: proves the harness, timings meaningless")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: bench/results)")
    parser.add_argument("--no-plots", action="store_true", help="do not redraw the Performance page's plots")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if args.tiny and args.out is None:
        parser.error("--tiny needs --out: tiny results must not replace the committed ones")
    out = args.out or RESULTS_DIR
    names = args.names or list(BENCHMARKS)
    started = time.perf_counter()
    for name in names:
        start = time.perf_counter()
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"bench.{name}").run(args.tiny, out)
        log(f"{name}: {time.perf_counter() - start:.0f} s")
    if not args.no_plots:
        from bench import plots

        figures = out / "figures" if args.tiny else plots.FIGURES_DIR
        for path in plots.draw_all(out, figures):
            print(f"wrote {path}")
    print(f"\nbenchmarks done in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
