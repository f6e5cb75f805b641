"""Which path the recurrent layers take on a GPU, checked on a CPU.

On a GPU, Keras runs LSTM and GRU layers with cuDNN's kernel when their settings allow it,
and XLA cannot compile that kernel. Two cases follow from it, tested here by making Keras
believe a GPU is present (its only GPU test is ``_is_gpu_available``):

* a model compiled with ``model.compile(jit_compile=True)`` (chapters 2, 3, 7, 8): Keras
  notices the cuDNN-capable layer and turns XLA off itself, so the layer takes cuDNN;
* a hand-written ``tf.function(jit_compile=True)`` step (chapters 4 and 9) gets no such
  fallback: its GRU layers are built with ``use_cudnn=False`` and stay XLA-compilable.
"""

import importlib
import warnings

import keras
import pytest

# a module, not the function of the same name that its package exports
tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")


@pytest.fixture
def pretend_gpu(monkeypatch):
    monkeypatch.setattr(tf_rnn, "_is_gpu_available", lambda: True)


def test_model_compile_turns_xla_off_for_a_cudnn_layer_on_a_gpu(pretend_gpu):
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4), keras.layers.Dense(1)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile("adam", "mse", jit_compile=True)
    assert model.jit_compile is False
    assert any("jit_compile=True" in str(w.message) for w in caught)


def test_model_compile_keeps_xla_on_a_cpu():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4), keras.layers.Dense(1)])
    model.compile("adam", "mse", jit_compile=True)
    assert model.jit_compile is True


def test_chapter_9_gru_layers_stay_xla_compilable_on_a_gpu(pretend_gpu):
    from chapter_code.ch09_seq2seq import Seq2Seq

    seq2seq = Seq2Seq(source_size=20, target_size=30, embedding_dim=8, units=8, attention=True)
    grus = [seq2seq.encoder, seq2seq.decoder]
    assert all(layer.use_cudnn is False and layer.supports_jit for layer in grus)
    # the same layer with Keras's default would have left XLA
    assert keras.layers.GRU(8).supports_jit is False


def test_chapter_4_gru_layer_stays_xla_compilable_on_a_gpu(pretend_gpu):
    from chapter_code.ch04_creative_rnn import CharModel

    char_model = CharModel(vocabulary_size=12, embedding_dim=4, units=8)
    assert char_model.gru.use_cudnn is False and char_model.gru.supports_jit
