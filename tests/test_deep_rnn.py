"""Device placement of stacked cells: checked in a subprocess that splits the CPU in three
(TensorFlow allows the split only before its first op, which this test process is past)."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from chapter_code.ch05_deep_rnn_devices import ConcatenatedStateCells, DeviceCellWrapper, check_device, split_cpu

PLACEMENT_SCRIPT = textwrap.dedent("""
    import json, numpy as np, keras, tensorflow as tf
    from chapter_code.ch05_deep_rnn_devices import (split_cpu, device_stacked_rnn, variable_devices,
                                traced_op_devices, ConcatenatedStateCells, DeviceCellWrapper)
    devices = split_cpu(3)
    layer = device_stacked_rnn([4, 5, 6], ["/cpu:0", "/cpu:1", "/cpu:2"], return_state=True)
    outputs = layer(np.ones((2, 7, 3), "float32"))
    model = keras.Sequential([keras.Input((7, 3)), layer])
    ops = traced_op_devices(lambda x: layer(x), tf.TensorSpec((None, 7, 3), tf.float32))
    concat = keras.layers.RNN(ConcatenatedStateCells(
        [DeviceCellWrapper(keras.layers.GRUCell(4), d) for d in ("/cpu:1", "/cpu:2")]), return_state=True)
    concat_out = concat(np.ones((2, 7, 3), "float32"))
    print(json.dumps({
        "devices": devices,
        "variables": [(path, device) for path, device, _ in variable_devices(model)],
        "state_devices": [s.device[-5:] for s in tf.nest.flatten(outputs[1:])],
        "state_shapes": [list(s.shape) for s in tf.nest.flatten(outputs[1:])],
        "matmul_devices": sorted(d for d, ops_ in ops.items() if ops_["MatMul"]),
        "concat_state_shape": list(concat_out[1].shape),
    }))
""")


@pytest.fixture(scope="module")
def placement():
    done = subprocess.run([sys.executable, "-c", PLACEMENT_SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_split_cpu_gives_three_logical_devices(placement):
    assert placement["devices"] == ["/device:CPU:0", "/device:CPU:1", "/device:CPU:2"]


def test_each_layers_variables_live_on_its_device(placement):
    for path, device in placement["variables"]:
        layer = 0 if "wrapper/" in path else int(path.split("device_cell_wrapper_")[1][0])
        assert device == f"CPU:{layer}", (path, device)
    assert len(placement["variables"]) == 9


def test_each_layers_ops_and_final_state_run_on_its_device(placement):
    assert placement["state_devices"] == ["CPU:0", "CPU:1", "CPU:2"]
    assert placement["state_shapes"] == [[2, 4], [2, 5], [2, 6]]
    assert placement["matmul_devices"] == ["CPU:0", "CPU:1", "CPU:2"]


def test_concatenated_state_is_one_tensor(placement):
    assert placement["concat_state_shape"] == [2, 8]


def test_unknown_or_malformed_devices_are_clear_errors():
    assert check_device("/cpu:0") == "/device:CPU:0"
    assert check_device("/device:CPU:0") == "/device:CPU:0"
    for bad in ("/gpu:99", "/cpu:99", "cpu0", "", "/job:worker"):
        with pytest.raises(ValueError):
            check_device(bad)
    with pytest.raises(ValueError, match="unknown device"):
        DeviceCellWrapper(keras.layers.GRUCell(3), "/gpu:99")
    with pytest.raises(TypeError):
        DeviceCellWrapper(keras.layers.Dense(3), "/cpu:0")
    with pytest.raises(ValueError):
        split_cpu(0)


def test_wrapper_computes_what_the_bare_cell_computes():
    keras.utils.set_random_seed(0)
    cell = keras.layers.GRUCell(5)
    bare = keras.layers.RNN(cell)
    x = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
    expected = bare(x)
    wrapped = keras.layers.RNN(DeviceCellWrapper(keras.layers.GRUCell(5), "/cpu:0"))
    wrapped(x)
    wrapped.set_weights(bare.get_weights())
    np.testing.assert_allclose(wrapped(x), expected, atol=1e-6)


def test_concatenated_state_matches_tuple_state():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    stacked = keras.layers.RNN(keras.layers.StackedRNNCells([keras.layers.LSTMCell(4), keras.layers.GRUCell(3)]))
    concat = keras.layers.RNN(ConcatenatedStateCells([keras.layers.LSTMCell(4), keras.layers.GRUCell(3)]))
    expected = stacked(x)
    concat(x)
    concat.set_weights(stacked.get_weights())
    np.testing.assert_allclose(concat(x), expected, atol=1e-6)
    assert concat.cell.state_size == 4 + 4 + 3


def test_wrapper_saves_its_device_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.RNN(DeviceCellWrapper(keras.layers.GRUCell(5), "/cpu:0"))])
    x = np.ones((2, 4, 3), "float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].cell.device == "/device:CPU:0"
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def _two_worker_job(folder, steps):
    from chapter_code.ch05_deep_rnn_devices import deep_gru

    rng = np.random.default_rng(0)
    np.savez(folder / "data.npz", x=rng.random((40, 28, 28), dtype=np.float32), y=rng.integers(0, 10, 40))
    keras.utils.set_random_seed(0)
    np.savez(folder / "initial.npz", *deep_gru([keras.layers.GRUCell(4) for _ in range(2)]).get_weights())
    job = {"data": str(folder / "data.npz"), "initial_weights": str(folder / "initial.npz"), "units": 4,
           "layers": 2, "learning_rate": 1e-2, "global_batch": 8, "steps": steps, "save_every": 10,
           "folder": str(folder)}
    (folder / "job.json").write_text(json.dumps(job))
    return folder / "job.json"


def test_two_workers_on_loopback_end_a_step_with_identical_weights(tmp_path):
    from chapter_code.ch05_deep_rnn_devices import run_workers

    job_file = _two_worker_job(tmp_path, steps=1)
    reports = run_workers(2, job_file, timeout=300)
    assert [lines[0] for lines in reports] == [f"worker {i}: 2 worker(s), 2 replica(s) in sync" for i in range(2)]
    weights = [np.load(tmp_path / f"worker{i}.npz") for i in range(2)]
    initial = np.load(tmp_path / "initial.npz")
    assert weights[0].files == weights[1].files and len(weights[0].files) == len(initial.files)
    for name in weights[0].files:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])  # all-reduced: the same, bit for bit
    assert any(not np.array_equal(weights[0][a], initial[b]) for a, b in zip(weights[0].files, initial.files))


def test_a_failed_worker_is_reported_and_no_process_outlives_the_cluster(tmp_path):
    from chapter_code.ch05_deep_rnn_devices import run_workers, worker_cluster

    job_file = _two_worker_job(tmp_path, steps=1)
    job = json.loads(job_file.read_text())
    job["data"] = str(tmp_path / "missing.npz")
    job_file.write_text(json.dumps(job))
    with pytest.raises(RuntimeError, match="worker 0 failed"):
        run_workers(2, job_file, timeout=300)
    with worker_cluster(2, job_file) as processes:
        pass
    assert all(process.poll() is not None for process in processes)
