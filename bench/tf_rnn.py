"""Two faster ways to run the book's recurrent layers in TensorFlow, for the throughput benchmark.

* :class:`HoistedRNN`: the same equations as ``keras.layers.SimpleRNN`` / ``LSTM`` / ``GRU``
  (``reset_after=True``, the Keras and PyTorch form of the GRU), written so that the input
  projection of all time steps is one matrix product before the loop and the loop over the
  fixed number of steps is unrolled into the graph. Keras's own cells multiply each step's
  input separately inside the loop.
* :class:`FusedLSTM`: TensorFlow's fused CPU kernel ``BlockLSTMV2`` (one op for the whole
  sequence, gradient included), the op behind TF1's ``LSTMBlockFusedCell``.

Both return the last hidden state, like the Keras layers with ``return_sequences=False``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

GATES = {"simple": 1, "lstm": 4, "gru": 3}


class HoistedRNN(keras.layers.Layer):
    """SimpleRNN (tanh), LSTM or GRU over a fixed-length sequence; returns the last state."""

    def __init__(self, cell: str, units: int, **kwargs):
        super().__init__(**kwargs)
        if cell not in GATES:
            raise ValueError(f"cell must be one of {tuple(GATES)}, not {cell!r}")
        if units < 1:
            raise ValueError("units must be >= 1")
        self.cell, self.units = cell, units

    def build(self, input_shape):
        if input_shape[1] is None:
            raise ValueError("HoistedRNN unrolls the loop: the number of time steps must be fixed")
        width = GATES[self.cell] * self.units
        self.kernel = self.add_weight((input_shape[-1], width), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, width), initializer="orthogonal",
                                                name="recurrent_kernel")
        self.bias = self.add_weight((width,), initializer="zeros", name="bias")
        if self.cell == "gru":  # reset_after: the recurrent product has its own bias
            self.recurrent_bias = self.add_weight((width,), initializer="zeros", name="recurrent_bias")

    def _step(self, x_t, h, c, recurrent_kernel, recurrent_bias):
        if self.cell == "simple":
            return ops.tanh(x_t + ops.matmul(h, recurrent_kernel)), c
        if self.cell == "lstm":
            i, f, g, o = ops.split(x_t + ops.matmul(h, recurrent_kernel), 4, axis=-1)
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            return ops.sigmoid(o) * ops.tanh(c), c
        x_z, x_r, x_h = ops.split(x_t, 3, axis=-1)
        h_z, h_r, h_h = ops.split(ops.matmul(h, recurrent_kernel) + recurrent_bias, 3, axis=-1)
        z = ops.sigmoid(x_z + h_z)
        r = ops.sigmoid(x_r + h_r)
        return z * h + (1.0 - z) * ops.tanh(x_h + r * h_h), c

    def call(self, inputs):
        steps = inputs.shape[1]
        projected = ops.matmul(inputs, self.kernel) + self.bias  # (batch, steps, gates*units): one product
        h = ops.zeros_like(projected[:, 0, : self.units])
        c = h
        weights = (ops.convert_to_tensor(self.recurrent_kernel),
                   ops.convert_to_tensor(self.recurrent_bias) if self.cell == "gru" else None)
        for t in range(steps):
            h, c = self._step(projected[:, t], h, c, *weights)
        return h


class FusedLSTM(keras.layers.Layer):
    """An LSTM computed by TensorFlow's fused ``BlockLSTMV2`` kernel; returns the last state.

    Gate order inside the fused kernel is i, c, f, o (Keras uses i, f, c, o): the layer keeps
    its weights in the kernel's order, so it is an LSTM with its own weight layout.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError("units must be >= 1")
        self.units = units

    def build(self, input_shape):
        width = 4 * self.units
        self.kernel = self.add_weight((input_shape[-1] + self.units, width), initializer="glorot_uniform",
                                      name="kernel")
        self.bias = self.add_weight((width,), initializer="zeros", name="bias")

    def call(self, inputs):
        time_major = tf.transpose(inputs, [1, 0, 2])
        batch = tf.shape(inputs)[0]
        zeros_state = tf.zeros(tf.stack([batch, self.units]), inputs.dtype)
        no_peephole = tf.zeros([self.units], inputs.dtype)
        outputs = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(tf.shape(inputs)[1], tf.int64), x=time_major, cs_prev=zeros_state,
            h_prev=zeros_state, w=self.kernel, wci=no_peephole, wcf=no_peephole, wco=no_peephole,
            b=self.bias, cell_clip=0.0, use_peephole=False)
        return outputs.h[-1]
