"""Benchmark 2: per-step output projection against one Dense over the stacked outputs.

The time-series chapter's two heads (chapter 3's ``build_toy_model``: a ReLU SimpleRNN
of 100 units, one prediction per step, batch 50, Adam, the chapter's compiled training step),
timed over sequences of 20, 100 and 500 steps. The ratio is the chapter's
``projection_speed_ratio``: projection time / stacked time (above 1: the stacked head is faster).
Both heads also run with XLA off (the same training step, not compiled by XLA), in the same
interleaved turns: the chapter's step is XLA-compiled, and the difference between the heads
comes from there.

    python -m bench.projection [--tiny] [--out DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    Contender,
    alternate,
    bench_main,
    format_table,
    log,
    paired_ratio,
    quiet_tensorflow,
    spread,
    write_results,
)

HEADS = ("projection", "stacked")
NO_XLA = " (no XLA)"


def head_contender(head: str, n_steps: int, batch: int, iterations: int, units: int, seed: int = 42,
                   xla: bool = True) -> Contender:
    import keras
    import tensorflow as tf

    from chapter_code import ch03_time_series as time_series

    keras.utils.set_random_seed(seed)  # the same initial recurrent weights for both heads
    model = time_series.build_toy_model(head, units, n_steps=n_steps)
    step = time_series.make_train_step(model)
    if not xla:  # the chapter's step function, compiled by tf.function alone
        step = tf.function(step.python_function, jit_compile=False)
    rng = np.random.default_rng(seed)
    batches = [time_series.toy_batch(batch, rng, n_steps=n_steps) for _ in range(iterations)]

    def run() -> int:
        loss = None
        for x, y in batches:
            loss = step(x, y)
        float(loss)  # wait for the last step
        return iterations

    return Contender(head if xla else head + NO_XLA, run)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main("projection", __doc__, run, argv)


def run(tiny: bool, out: Path) -> dict[str, Any]:
    quiet_tensorflow()
    if tiny:
        settings = {"lengths": [5, 10], "units": 8, "batch": 4, "repeats": 1, "iterations": {"5": 2, "10": 2}}
    else:
        # About one second per repeat and head on a 2-core CPU.
        settings = {"lengths": [20, 100, 500], "units": 100, "batch": 50, "repeats": 7,
                    "iterations": {"20": 150, "100": 40, "500": 8}}
    rows, summary = [], {}
    for n_steps in settings["lengths"]:
        iterations = settings["iterations"][str(n_steps)]
        contenders = [head_contender(h, n_steps, settings["batch"], iterations, settings["units"], xla=xla)
                      for xla in (True, False) for h in HEADS]
        log(f"projection: {n_steps} steps, {settings['repeats']} repeats of {iterations} iterations")
        alternate(contenders, settings["repeats"], progress=log)
        per_1000 = {c.name: 1000 * c.median_seconds / iterations for c in contenders}
        projection, stacked, projection_no_xla, stacked_no_xla = contenders
        ratio = paired_ratio(projection.seconds, stacked.seconds)
        no_xla = paired_ratio(projection_no_xla.seconds, stacked_no_xla.seconds)
        for contender in contenders:
            low, high = spread(1000 * s / iterations for s in contender.seconds)
            rows.append({"steps": n_steps, "head": contender.name, "seconds_per_1000_iterations": per_1000[contender.name],
                         "min": low, "max": high, "setup_s": contender.setup_seconds})
        summary[str(n_steps)] = {"projection_speed_ratio": ratio["median"], "ratio_low": ratio["low"],
                                 "ratio_high": ratio["high"], **{f"{h}_s_per_1000": per_1000[h] for h in HEADS},
                                 "no_xla": {"projection_speed_ratio": no_xla["median"], "ratio_low": no_xla["low"],
                                            "ratio_high": no_xla["high"],
                                            **{f"{h}_s_per_1000": per_1000[h + NO_XLA] for h in HEADS}}}
    settings.update({"model": "ReLU SimpleRNN, one output per step, Adam 1e-3, MSE",
                     "ratio": "projection time / stacked time (the chapter's projection_speed_ratio): median of per-turn "
                              "ratios, 95 % bootstrap interval over turns"})
    path = write_results("projection", out, tiny=tiny, settings=settings, rows=rows, summary=summary)
    print(format_table(["steps", "projection s/1000 it", "stacked s/1000 it", "ratio"],
                       [[int(k), v["projection_s_per_1000"], v["stacked_s_per_1000"], v["projection_speed_ratio"]]
                        for k, v in summary.items()]))
    print(f"wrote {path}")
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    main()
