"""Deep RNNs, across devices · 深度RNN / 使用多个GPU分布计算: the code the chapter defines and others reuse.

Generated from chapters/05_deep_rnn_devices.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/05_deep_rnn_devices.ipynb, cell 3
import collections
from typing import Any, Callable, Sequence

import keras
import tensorflow as tf
from keras import ops


def split_cpu(n_devices: int) -> list[str]:
    """Split the physical CPU into `n_devices` logical devices; return their names.

    Must run before TensorFlow initialises its devices (before the first op), as TF allows
    the split only once per process. Calling it again with the same count is harmless.
    """
    if not isinstance(n_devices, int) or n_devices < 1:
        raise ValueError(f"n_devices must be a positive integer, not {n_devices!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != n_devices:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n_devices)])
        except RuntimeError as error:  # TF already initialised with another split
            raise RuntimeError(f"cannot split the CPU into {n_devices} devices now: {error}; "
                               "call split_cpu before any TensorFlow op runs") from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def available_devices() -> list[str]:
    """Names of the logical devices TensorFlow can place ops on, e.g. '/device:CPU:1'."""
    return [device.name for device in tf.config.list_logical_devices()]


def check_device(name: str) -> str:
    """The canonical name of device `name` (e.g. '/cpu:1' -> '/device:CPU:1').

    Raises ValueError for a malformed name or a device this process does not have, instead
    of TensorFlow's silent soft placement elsewhere (or a late error inside a training loop).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a device name must be a non-empty string, not {name!r}")
    try:
        spec = tf.DeviceSpec.from_string(name.strip())
    except (ValueError, TypeError) as error:
        raise ValueError(f"malformed device name {name!r}: {error}") from None
    if spec.device_type is None:
        raise ValueError(f"device name {name!r} names no device type; use e.g. '/cpu:0' or '/gpu:0'")
    index = 0 if spec.device_index is None else spec.device_index
    canonical = f"/device:{spec.device_type.upper()}:{index}"
    known = available_devices()
    if canonical not in known:
        raise ValueError(f"unknown device {name!r}: this process has {', '.join(known)}")
    return canonical


def short_device(device: str) -> str:
    """'/job:localhost/replica:0/task:0/device:CPU:1' -> 'CPU:1' ('' stays '')."""
    return device.rsplit("device:", 1)[-1] if device else ""


# chapters/05_deep_rnn_devices.ipynb, cell 10
class CellWrapper(keras.layers.Layer):
    """Base of the book's cell wrappers: holds one Keras RNN cell and shows ``keras.layers.RNN``
    its state and output sizes; subclasses change how the cell is built or called.

    The cell is saved with the wrapper, without its build config, so that a loaded wrapper
    builds it again in its own ``build`` (where the device wrapper places the weights).
    """

    def __init__(self, cell: keras.layers.Layer, **kwargs: Any):
        super().__init__(**kwargs)
        if not hasattr(cell, "state_size") or not callable(getattr(cell, "call", None)):
            raise TypeError(f"{type(cell).__name__} is not an RNN cell (it needs call() and state_size)")
        self.cell = cell

    @property
    def state_size(self) -> Any:
        return self.cell.state_size

    @property
    def output_size(self) -> Any:
        return getattr(self.cell, "output_size", None) or self.cell.state_size

    def build(self, input_shape: Any) -> None:
        if not self.cell.built:
            self.cell.build(input_shape)
        self.built = True

    def get_initial_state(self, batch_size: Any = None) -> Any:
        if hasattr(self.cell, "get_initial_state"):
            return self.cell.get_initial_state(batch_size=batch_size)
        sizes = self.cell.state_size if isinstance(self.cell.state_size, (list, tuple)) else [self.cell.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        return self.cell(inputs, states, training=training)

    def get_config(self) -> dict[str, Any]:
        cell = keras.saving.serialize_keras_object(self.cell)
        cell.pop("build_config", None)  # rebuilt by `build`
        return {**super().get_config(), "cell": cell}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "CellWrapper":
        config = dict(config)
        config["cell"] = keras.saving.deserialize_keras_object(config["cell"])
        return cls(**config)


# chapters/05_deep_rnn_devices.ipynb, cell 12
@keras.saving.register_keras_serializable(package="rnnbook")
class DeviceCellWrapper(CellWrapper):
    """Run an RNN cell, and create its variables, on one device: the source's TF1
    ``DeviceCellWrapper`` for Keras 3, where ``build`` (the weights) and every step of
    ``call`` (the ops) run under ``tf.device``."""

    def __init__(self, cell: keras.layers.Layer, device: str, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self.device = check_device(device)

    def build(self, input_shape: Any) -> None:
        with tf.device(self.device):
            super().build(input_shape)

    def get_initial_state(self, batch_size: Any = None) -> Any:
        with tf.device(self.device):
            return super().get_initial_state(batch_size)

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        with tf.device(self.device):
            return self.cell(inputs, states, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "device": self.device}


def device_stacked_rnn(units: Sequence[int], devices: Sequence[str],
                       cell_factory: Callable[[int], keras.layers.Layer] = keras.layers.GRUCell,
                       **rnn_kwargs: Any) -> keras.layers.RNN:
    """One RNN layer whose stacked cells run on `devices` (one per layer)."""
    if len(units) != len(devices):
        raise ValueError(f"{len(units)} layers but {len(devices)} devices: give one device per layer")
    cells = [DeviceCellWrapper(cell_factory(n), device) for n, device in zip(units, devices)]
    return keras.layers.RNN(keras.layers.StackedRNNCells(cells), **rnn_kwargs)


# chapters/05_deep_rnn_devices.ipynb, cell 14
def variable_devices(model: keras.Model) -> list[tuple[str, str, tuple[int, ...]]]:
    """(variable path, device, shape) of every weight of `model`, from the TF variables."""
    rows = []
    for weight in model.weights:
        variable = getattr(weight, "value", weight)  # the tf.Variable behind a Keras variable
        rows.append((weight.path, short_device(variable.device), tuple(weight.shape)))
    return rows


def traced_op_devices(function: Callable[..., Any], *input_specs: tf.TensorSpec) -> dict[str, collections.Counter]:
    """Requested device of every op in the traced graph of `function`, loop bodies included.

    Returns {device: Counter(op type -> count)}. The RNN loop (``tf.while_loop``) lives in
    nested functions of the graph's library, so those are walked too; an op with no
    device request is listed under '(unassigned)'.
    """
    concrete = tf.function(function).get_concrete_function(*input_specs)
    graph_def = concrete.graph.as_graph_def()
    nodes = list(graph_def.node)
    for library_function in graph_def.library.function:
        nodes.extend(library_function.node_def)
    by_device: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for node in nodes:
        by_device[short_device(node.device) or "(unassigned)"][node.op] += 1
    return dict(by_device)


# chapters/05_deep_rnn_devices.ipynb, cell 20
@keras.saving.register_keras_serializable(package="rnnbook")
class ConcatenatedStateCells(keras.layers.Layer):
    """Stacked cells whose whole state is ONE tensor: TF1's ``MultiRNNCell(state_is_tuple=False)``.

    Each step splits the state into the cells' parts and concatenates their new states
    again. A tensor lives on one device, so with cells on several devices every step copies
    each layer's state to wherever the concatenation runs, and back: the reason TF1 warned
    against it. Kept to show that cost; use ``StackedRNNCells`` (a tuple of states).
    """

    def __init__(self, cells: Sequence[keras.layers.Layer], **kwargs: Any):
        super().__init__(**kwargs)
        self.stack = keras.layers.StackedRNNCells(list(cells))
        self._sizes = [int(size) for size in tf.nest.flatten(self.stack.state_size)]

    @property
    def state_size(self) -> int:
        return sum(self._sizes)

    @property
    def output_size(self) -> Any:
        return self.stack.output_size

    def build(self, input_shape: Any) -> None:
        self.stack.build(input_shape)
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        state = states[0] if isinstance(states, (list, tuple)) else states
        parts = tf.split(state, self._sizes, axis=-1)
        output, new_states = self.stack(inputs, tf.nest.pack_sequence_as(self.stack.state_size, parts),
                                        training=training)
        return output, [tf.concat(tf.nest.flatten(new_states), axis=-1)]


# chapters/05_deep_rnn_devices.ipynb, cell 25
def deep_gru(cells: Sequence[keras.layers.Layer]) -> keras.Model:
    """Chapter 2's task with stacked `cells`: 28 rows of 28 pixels in, 10 logits out."""
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.RNN(keras.layers.StackedRNNCells(cells)),
                              keras.layers.Dense(10)])
    # No XLA here (unlike the rest of the book): it would compile each step for one device and
    # drop the placements this section measures.
    model.compile(keras.optimizers.Adam(2e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    return model


# chapters/05_deep_rnn_devices.ipynb, cell 31
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


# chapters/05_deep_rnn_devices.ipynb, cell 33
def train_with_strategy(strategy: tf.distribute.Strategy, job: dict, checkpoint_dir: str | None = None,
                        restore_dir: str | None = None, report: Callable[[str], None] = print):
    """Train the deep GRU of `job` for job["steps"] steps with a custom loop under `strategy`.

    Every global batch of job["global_batch"] images is split between the replicas of all
    workers. Each replica's loss is its images' share of the global batch's mean, so the sum of
    the replicas' gradients is that mean's gradient. With `checkpoint_dir`, model, optimizer and
    step are saved every job["save_every"] steps; a checkpoint in `restore_dir` is resumed from.
    Returns the final weights and the seconds of every step.
    """
    data = np.load(job["data"])
    dataset = tf.data.Dataset.from_tensor_slices((data["x"], data["y"])).repeat().batch(job["global_batch"])
    options = tf.data.Options()  # split each global batch by element, not by input file
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    with strategy.scope():  # variables made here are mirrored on every replica of every worker
        model = deep_gru([keras.layers.GRUCell(job["units"]) for _ in range(job["layers"])])
        initial = np.load(job["initial_weights"])
        model.set_weights([initial[name] for name in initial.files])
        optimizer = keras.optimizers.Adam(job["learning_rate"])
        optimizer.build(model.trainable_variables)  # its moments exist before a restore fills them
    step = tf.Variable(0, dtype=tf.int64)  # steps done, saved with the weights
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
    manager = checkpoint_dir and tf.train.CheckpointManager(checkpoint, checkpoint_dir, max_to_keep=1)
    latest = restore_dir and tf.train.latest_checkpoint(restore_dir)
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        report(f"restored step {int(step)} from the checkpoint")
    # the same global batches as an uninterrupted run: skip those already trained on
    batches = iter(strategy.experimental_distribute_dataset(dataset.skip(int(step)).with_options(options)))

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            per_image = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True), from_logits=True)
            loss = tf.nn.compute_average_loss(per_image, global_batch_size=job["global_batch"])
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # sums them over replicas first
        return loss

    @tf.function
    def train_step(batch):
        losses = strategy.run(replica_step, args=batch)
        step.assign_add(1)
        return strategy.reduce("SUM", losses, axis=None)  # the global batch's mean loss

    seconds = []
    while int(step) < job["steps"]:
        start = time.perf_counter()
        loss = float(train_step(next(batches)))
        seconds.append(time.perf_counter() - start)
        if manager and int(step) % job["save_every"] == 0:
            manager.save()
            report(f"step {int(step)}: loss {loss:.4f}, checkpoint saved")
    return [np.asarray(weight) for weight in model.get_weights()], seconds


# chapters/05_deep_rnn_devices.ipynb, cell 35
def keras_fit_error(strategy: tf.distribute.Strategy, job: dict) -> str:
    """'' if Keras's own ``fit`` trains one step under `strategy`, else its error in one line.

    Uses a model of its own, so that the experiment's weights are not touched either way.
    """
    data = np.load(job["data"])
    dataset = tf.data.Dataset.from_tensor_slices((data["x"], data["y"])).batch(job["global_batch"]).take(1)
    with strategy.scope():
        model = deep_gru([keras.layers.GRUCell(job["units"]) for _ in range(job["layers"])])
    try:
        model.fit(dataset, epochs=1, verbose=0)
    except Exception as error:  # whatever Keras raises is the finding
        return f"{type(error).__name__}: {' '.join(str(error).split())[:90]}…"
    return ""


def train_worker() -> None:
    """The program every machine of the cluster runs: join the cluster named in ``TF_CONFIG``,
    train, and write the weights and step times to the job's folder."""
    job = json.loads(Path(os.environ["RNNBOOK_JOB"]).read_text())
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # first: it starts this worker's server

    def report(text: str) -> None:
        print(f"worker {index}: {text}", flush=True)

    workers = strategy.cluster_resolver.cluster_spec().num_tasks("worker")
    report(f"{workers} worker(s), {strategy.num_replicas_in_sync} replica(s) in sync")
    if job.get("try_keras_fit"):
        report(f"keras fit: {keras_fit_error(strategy, job) or 'trained one step'}")
    # Every worker takes part in saving (a collective operation), but only the chief's
    # (worker 0's) copy is the backup that all of them restore from after a failure.
    backup = job.get("checkpoints") and f"{job['checkpoints']}/chief"
    own_folder = backup and (backup if index == 0 else f"{job['checkpoints']}/worker{index}")
    weights, seconds = train_with_strategy(strategy, job, own_folder, backup, report)
    np.savez(Path(job["folder"]) / f"worker{index}.npz", *weights)
    (Path(job["folder"]) / f"worker{index}.json").write_text(json.dumps({"step_seconds": seconds}))
    report(f"done: {len(seconds)} steps")


# chapters/05_deep_rnn_devices.ipynb, cell 37
def free_ports(count: int) -> list[int]:
    """`count` ports of 127.0.0.1 that the system reports free now: never fixed in advance."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))  # port 0: the system picks a free one
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def tf_config(workers: Sequence[str], index: int) -> str:
    """The ``TF_CONFIG`` of worker `index`: the whole cluster, and which task this process is."""
    return json.dumps({"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}})


@contextlib.contextmanager
def worker_cluster(n_workers: int, job_file: Path):
    """Start `n_workers` processes running :func:`train_worker` on the loopback interface, each
    with its own ``TF_CONFIG``; yield them; on leaving, kill any still running (also on error)."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(n_workers)]
    command = [sys.executable, "-c", "from chapter_code.ch05_deep_rnn_devices import train_worker; train_worker()"]
    processes = []
    try:
        for index in range(n_workers):
            env = {**os.environ, "TF_CONFIG": tf_config(workers, index), "RNNBOOK_JOB": str(job_file),
                   "PYTHONPATH": os.pathsep.join(sys.path), "TF_CPP_MIN_LOG_LEVEL": "2"}
            log = open(job_file.parent / f"worker{index}.log", "w")
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
            log.close()  # the child holds its own copy
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()


def worker_lines(job_file: Path, index: int) -> list[str]:
    """What worker `index` reported itself, without TensorFlow's own log lines."""
    text = (job_file.parent / f"worker{index}.log").read_text(errors="replace")
    return [line for line in text.splitlines() if line.startswith(f"worker {index}: ")]


def run_workers(n_workers: int, job_file: Path, timeout: float = 600) -> list[list[str]]:
    """Run a cluster of `n_workers` to the end; each worker's own lines, or an error with its log."""
    with worker_cluster(n_workers, job_file) as processes:
        for index, process in enumerate(processes):
            if process.wait(timeout=timeout) != 0:
                tail = (job_file.parent / f"worker{index}.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"worker {index} failed (exit code {process.returncode}):\n{tail}")
    return [worker_lines(job_file, index) for index in range(n_workers)]
