"""An encoder–decoder for machine translation · 机器翻译的编码器-解码器网络: the code the chapter defines and others reuse.

Generated from chapters/09_seq2seq.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/09_seq2seq.ipynb, cell 4
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import keras
import numpy as np
import tensorflow as tf

from utils.training import book_dataset

GO, EOS = "<go>", "<eos>"  # the decoder's first input, and the word that ends a translation
PAD_ID, UNK_ID = 0, 1  # TextVectorization's reserved ids: "" (padding) and "[UNK]"
NEG_INF = -1e9  # a finite "minus infinity": sums of two of them stay finite (no NaN)

Pair = tuple[str, str]


@dataclass(frozen=True)
class Split:
    """Three lists of (English, French) pairs."""

    train: list[Pair]
    validation: list[Pair]
    test: list[Pair]


# chapters/09_seq2seq.ipynb, cell 6
def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    if len(fractions) != 3 or any(not 0 < f < 1 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three numbers in (0, 1) that sum to 1, got {fractions}")
    return tuple(fractions)  # type: ignore[return-value]


# chapters/09_seq2seq.ipynb, cell 7
def grouped_split(pairs: Sequence[Pair], fractions: Sequence[float] = (0.9, 0.05, 0.05),
                  seed: int = 0) -> Split:
    """Split pairs so that every English sentence lands, with all its translations, in one part.

    The distinct English sentences are shuffled with `seed` and cut by `fractions`; the parts
    keep the pairs' file order.
    """
    train_f, val_f, _ = _check_fractions(fractions)
    sources = sorted({english for english, _ in pairs})
    order = np.random.default_rng(seed).permutation(len(sources))
    cut1, cut2 = int(round(train_f * len(sources))), int(round((train_f + val_f) * len(sources)))
    part = {}
    for rank, index in enumerate(order):
        part[sources[index]] = 0 if rank < cut1 else 1 if rank < cut2 else 2
    parts: list[list[Pair]] = [[], [], []]
    for pair in pairs:
        parts[part[pair[0]]].append(pair)
    return Split(*parts)


def random_pair_split(pairs: Sequence[Pair], fractions: Sequence[float] = (0.9, 0.05, 0.05),
                      seed: int = 0) -> Split:
    """The naive split: pairs shuffled and cut, ignoring that sources repeat."""
    train_f, val_f, _ = _check_fractions(fractions)
    order = np.random.default_rng(seed).permutation(len(pairs))
    cut1, cut2 = int(round(train_f * len(pairs))), int(round((train_f + val_f) * len(pairs)))
    pick = lambda idx: [pairs[i] for i in sorted(idx)]  # noqa: E731 - keep file order
    return Split(pick(order[:cut1]), pick(order[cut1:cut2]), pick(order[cut2:]))


# chapters/09_seq2seq.ipynb, cell 9
def source_leak(train: Sequence[Pair], test: Sequence[Pair]) -> float:
    """Share of the distinct test sources that also occur as a training source."""
    train_sources = {english for english, _ in train}
    test_sources = {english for english, _ in test}
    if not test_sources:
        raise ValueError("the test part is empty")
    return len(test_sources & train_sources) / len(test_sources)


def group_references(pairs: Sequence[Pair]) -> tuple[list[str], list[list[str]]]:
    """Distinct sources in first-seen order, and for each all its translations (the references)."""
    references: dict[str, list[str]] = defaultdict(list)
    for english, french in pairs:
        references[english].append(french)
    sources = list(references)
    return sources, [references[s] for s in sources]


# chapters/09_seq2seq.ipynb, cell 13
def standardize(text: tf.Tensor) -> tf.Tensor:
    """Lower-case, split punctuation off words and cut after apostrophes (j'ai -> j' ai).

    Written with tf.strings so that TextVectorization can run it inside its graph.
    """
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, "[\u00a0\u2009\u202f]", " ")  # French thin spaces
    text = tf.strings.regex_replace(text, "[\u2018\u2019]", "'")
    text = tf.strings.regex_replace(text, r"""([.!?,;:«»"()])""", r" \1 ")
    return tf.strings.regex_replace(text, "'", "' ")


def detokenize(tokens: Iterable[str]) -> str:
    """Tokens back to a sentence: re-attach apostrophes, full stops and commas."""
    text = " ".join(tokens).replace("' ", "'")
    for mark in (".", ","):
        text = text.replace(f" {mark}", mark)
    return text


# chapters/09_seq2seq.ipynb, cell 15
def corpus_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (sacreBLEU, 13a tokenisation, lower-cased) with every reference of each sentence.

    `references[i]` lists all the accepted translations of sentence i (any number >= 1).
    """
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists")
    if not hypotheses or any(len(r) == 0 for r in references):
        raise ValueError("every sentence needs at least one reference")
    return float(sacrebleu.corpus_bleu(list(hypotheses), _reference_streams(references), lowercase=True,
                                       tokenize="13a").score)


def _reference_streams(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """sacreBLEU's reference *streams*: stream k holds the k-th reference of every sentence
    (None where a sentence has fewer)."""
    depth = max(len(r) for r in references)
    return [[r[k] if k < len(r) else None for r in references] for k in range(depth)]


# chapters/09_seq2seq.ipynb, cell 17
def nearest_train_translation(train: Sequence[Pair], queries: Sequence[str], chunk: int = 512) -> list[str]:
    """The copy-from-train baseline: for each query, a French translation of the same English
    sentence in `train` if there is one, otherwise of the most similar training sentence
    (tf-idf cosine over words)."""
    if not train:
        raise ValueError("no training pairs")
    translation: dict[str, str] = {}
    for english, french in train:
        translation.setdefault(english, french)
    sources = list(translation)
    vectorizer = keras.layers.TextVectorization(standardize=standardize, ragged=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(sources).batch(4096))
    size = vectorizer.vocabulary_size()
    ids = vectorizer(tf.constant(sources))
    document_frequency = np.bincount(np.unique(np.stack(
        [ids.value_rowids().numpy(), ids.flat_values.numpy()], 1), axis=0)[:, 1], minlength=size)
    idf = np.log((1 + len(sources)) / (1 + document_frequency)) + 1  # smooth idf, as in sklearn
    idf[PAD_ID] = idf[UNK_ID] = 0

    def normalised(texts):
        """Rows of unit-norm tf-idf vectors, as a SparseTensor (texts, vocabulary)."""
        ragged = vectorizer(tf.constant(list(texts)))
        cells, counts = np.unique(np.stack([ragged.value_rowids().numpy(), ragged.flat_values.numpy()], 1),
                                  axis=0, return_counts=True)
        values = counts * idf[cells[:, 1]]
        norms = np.sqrt(np.bincount(cells[:, 0], weights=values ** 2, minlength=len(texts))) + 1e-9
        return tf.SparseTensor(cells.astype(np.int64), (values / norms[cells[:, 0]]).astype(np.float32),
                               [len(texts), size])

    train_matrix = normalised(sources)
    answers = []
    for start in range(0, len(queries), chunk):
        batch = list(queries[start:start + chunk])
        dense = tf.sparse.to_dense(normalised(batch))
        similarity = tf.sparse.sparse_dense_matmul(train_matrix, dense, adjoint_b=True)  # (train, batch)
        nearest = tf.argmax(similarity, axis=0).numpy()
        answers += [translation[q] if q in translation else translation[sources[i]]
                    for q, i in zip(batch, nearest)]
    return answers


# chapters/09_seq2seq.ipynb, cell 20
def wrap_target(texts: Sequence[str]) -> list[str]:
    """French sentences as the decoder sees them: '<go> ... <eos>'."""
    return [f"{GO} {text} {EOS}" for text in texts]


@dataclass
class Vocabularies:
    """Keras TextVectorization layers for both languages (id 0: padding, 1: unknown word)."""

    source: keras.layers.TextVectorization
    target: keras.layers.TextVectorization
    target_words: list[str] = field(init=False)

    def __post_init__(self):
        self.target_words = [str(w) for w in self.target.get_vocabulary()]
        self.go_id = self.target_words.index(GO)
        self.eos_id = self.target_words.index(EOS)

    @classmethod
    def adapt(cls, train_pairs: Sequence[Pair], max_target_tokens: int | None = None) -> "Vocabularies":
        """Every word of the training sources and targets (or the most frequent ones).

        The vocabularies are sorted by decreasing frequency, which the sampled softmax's
        log-uniform (Zipf) candidate sampler assumes.
        """
        if not train_pairs:
            raise ValueError("no training pairs to build vocabularies from")
        source = keras.layers.TextVectorization(standardize=standardize, ragged=True)
        target = keras.layers.TextVectorization(max_tokens=max_target_tokens,
                                                standardize=standardize, ragged=True)
        source.adapt(tf.data.Dataset.from_tensor_slices([e for e, _ in train_pairs]).batch(4096))
        target.adapt(tf.data.Dataset.from_tensor_slices(wrap_target([f for _, f in train_pairs])).batch(4096))
        return cls(source, target)

    @property
    def source_size(self) -> int:
        return self.source.vocabulary_size()

    @property
    def target_size(self) -> int:
        return len(self.target_words)

    def decode(self, ids: Iterable[int]) -> str:
        """Target ids -> French text, stopping at <eos> and dropping padding."""
        words = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.target_words):  # -1 would index the last word
                raise ValueError(f"target id {i} is outside 0..{len(self.target_words) - 1}")
            if i == self.eos_id:
                break
            if i not in (PAD_ID, self.go_id):
                words.append(self.target_words[i])
        return detokenize(words)


# chapters/09_seq2seq.ipynb, cell 22
@dataclass
class Encoded:
    """Ragged id tensors of a list of pairs, ready for a dataset."""

    source: tf.RaggedTensor  # reversed English, as the encoder reads it
    decoder_input: tf.RaggedTensor  # <go> w1 ... wn
    decoder_target: tf.RaggedTensor  # w1 ... wn <eos>

    def __len__(self) -> int:
        return int(self.source.nrows())


def encode_sources(vocabularies: Vocabularies, sources: Sequence[str], reverse: bool = True) -> tf.RaggedTensor:
    ids = vocabularies.source(tf.constant(list(sources)))
    return tf.reverse(ids, axis=[1]) if reverse else ids  # ragged reverse: each row on its own


def encode_pairs(vocabularies: Vocabularies, pairs: Sequence[Pair], reverse_source: bool = True) -> Encoded:
    """Pairs -> ids: the source (reversed, as in Sutskever et al.), decoder input and target."""
    if not pairs:
        raise ValueError("no pairs to encode")
    target = vocabularies.target(tf.constant(wrap_target([f for _, f in pairs])))
    return Encoded(encode_sources(vocabularies, [e for e, _ in pairs], reverse_source),
                   target[:, :-1], target[:, 1:])


def pad_ragged(ids: tf.RaggedTensor) -> np.ndarray:
    """Ragged ids -> int32 array padded with 0 at the end."""
    return ids.to_tensor(PAD_ID).numpy().astype(np.int32)


# chapters/09_seq2seq.ipynb, cell 25
class OutputProjection(keras.layers.Layer):
    """Dense layer to the target vocabulary, its kernel stored (vocabulary, units).

    That is the layout `tf.nn.sampled_softmax_loss` takes, so the sampled loss reads the
    same weights without a transpose.
    """

    def __init__(self, vocabulary_size: int, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.supports_masking = True

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(self.vocabulary_size, input_shape[-1]),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros", name="bias")

    def call(self, features):
        flat = tf.reshape(features, [-1, tf.shape(features)[-1]])
        logits = tf.matmul(flat, self.kernel, transpose_b=True) + self.bias
        return tf.reshape(logits, tf.concat([tf.shape(features)[:-1], [self.vocabulary_size]], 0))


# chapters/09_seq2seq.ipynb, cell 27
class Seq2Seq:
    """Embeddings -> GRU encoder (reads the reversed source) -> GRU decoder -> output layer.

    With `attention`, each decoder output attends over the encoder's outputs (`LuongAttention`).
    `model` maps (source, decoder_input) to logits; `features_model` stops before the output
    layer (for the sampled softmax); `attention_model` gives the attention weights.
    """

    def __init__(self, source_size: int, target_size: int, embedding_dim: int = 128,
                 units: int = 256, attention: bool = False):
        if min(source_size, target_size, embedding_dim, units) < 1:
            raise ValueError("sizes must be positive integers")
        self.attention, self.units = attention, units
        self.source_embedding = keras.layers.Embedding(source_size, embedding_dim, mask_zero=True)
        # use_cudnn=False: XLA compiles the training step, and cannot compile the cuDNN kernel (GPU only)
        self.encoder = keras.layers.GRU(units, return_sequences=True, return_state=True, use_cudnn=False)
        # mask_zero: Keras masking of the padded targets, so that compile()'s loss ignores them
        self.target_embedding = keras.layers.Embedding(target_size, embedding_dim, mask_zero=True)
        self.decoder = keras.layers.GRU(units, return_sequences=True, return_state=True, use_cudnn=False)
        if attention:
            self.attention_layer = LuongAttention(units)
            self.concat = keras.layers.Concatenate()
            self.attentional = keras.layers.Dense(units, activation="tanh")
        self.projection = OutputProjection(target_size)
        source = keras.Input((None,), dtype="int32", name="source")
        decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")
        encoder_outputs, state = self.encoder(self.source_embedding(source))
        decoder_outputs, _ = self.decoder(self.target_embedding(decoder_input), initial_state=state)
        features = decoder_outputs
        if attention:
            context, weights = self.attention_layer(decoder_outputs, encoder_outputs)
            features = self.attentional(self.concat([decoder_outputs, context]))
            self.attention_model = keras.Model([source, decoder_input], weights)
        self.features_model = keras.Model([source, decoder_input], features)
        self.model = keras.Model([source, decoder_input], self.projection(features))
        self._compiled: dict[object, Callable] = {}  # traced decoders, by kind

    @property
    def trainable_variables(self) -> list:
        return self.model.trainable_variables

    def encode(self, source: tf.Tensor):
        """Encoder outputs, final state and source mask of a padded (reversed) source batch."""
        mask = tf.not_equal(source, PAD_ID)
        outputs, state = self.encoder(self.source_embedding(source), mask=mask)
        return outputs, state, mask

    def step(self, previous_ids: tf.Tensor, state: tf.Tensor, encoder_outputs: tf.Tensor,
             source_mask: tf.Tensor):
        """One decoder step fed with `previous_ids` (batch,): logits, new state, attention weights."""
        # a plain lookup: the layer would attach a padding mask that the cell does not take
        embedded = tf.gather(self.target_embedding.embeddings, previous_ids)
        output, new_state = self.decoder.cell(embedded, state)
        weights = None
        if self.attention:
            context, weights = self.attention_layer(output[:, None, :], encoder_outputs, keys_mask=source_mask)
            output = self.attentional(tf.concat([output, context[:, 0]], axis=-1))
            weights = weights[:, 0]
        return self.projection(output), new_state, weights


# chapters/09_seq2seq.ipynb, cell 30
def masked_loss(targets: tf.Tensor, logits: tf.Tensor, weights: tf.Tensor | None = None) -> tf.Tensor:
    """Mean cross-entropy over the real target positions: sum(loss · w) / sum(w).

    `weights` are the source's "target weights" (1 for a word, 0 for padding); by default
    they are `targets != 0`.
    """
    if weights is None:
        weights = tf.cast(tf.not_equal(targets, PAD_ID), logits.dtype)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    return tf.reduce_sum(losses * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


# chapters/09_seq2seq.ipynb, cell 32
def make_dataset(encoded: Encoded, batch_size: int, bucket_boundaries: Sequence[int] | None = None,
                 shuffle_seed: int | None = None, fixed_shapes: bool = False) -> tf.data.Dataset:
    """Batches ((source, decoder_input), decoder_target), each padded with 0 to its longest row.

    With `bucket_boundaries`, `bucket_by_sequence_length` first groups sentences of similar
    length (the longer of source and target), so that a batch holds little padding.
    With `fixed_shapes` as well, all the batches of a bucket have one shape: rows padded to the
    bucket's limit, and `batch_size` rows (a bucket's last batch is filled with rows of padding,
    which the loss weighs 0). XLA compiles a program per input shape: one per bucket then.
    """
    boundaries = _check_batching(batch_size, bucket_boundaries, fixed_shapes)
    # shuffle and bucket sentence *numbers*, then gather each batch's rows from matrices padded once
    columns = tuple(tf.cast(x.to_tensor(PAD_ID), tf.int32)
                    for x in (encoded.source, encoded.decoder_input, encoded.decoder_target))
    source_lengths = tf.cast(encoded.source.row_lengths(), tf.int32)
    target_lengths = tf.cast(encoded.decoder_input.row_lengths(), tf.int32)
    ds = tf.data.Dataset.from_tensor_slices((tf.range(len(encoded)), tf.maximum(source_lengths, target_lengths)))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(encoded), seed=shuffle_seed, reshuffle_each_iteration=True)
    if boundaries:
        if fixed_shapes:  # the last bucket needs a limit too: the longest sentence
            longest = int(tf.reduce_max(tf.maximum(source_lengths, target_lengths)))
            boundaries += [longest + 1] if longest >= boundaries[-1] else []
        ds = ds.bucket_by_sequence_length(lambda index, length: length, bucket_boundaries=boundaries,
                                          bucket_batch_sizes=[batch_size] * (len(boundaries) + 1))
    else:
        ds = ds.batch(batch_size)
    limits = tf.constant(boundaries if fixed_shapes else [0], tf.int32)

    def gather_rows(indices, lengths):
        if fixed_shapes:  # every row padded to its bucket's longest length, batch_size rows
            bucket = tf.searchsorted(limits, lengths[:1], side="right")[0]
            widths = (limits[bucket] - 1,) * 3
        else:  # to the batch's longest source and longest target
            widths = (tf.reduce_max(tf.gather(source_lengths, indices)),
                      *(tf.reduce_max(tf.gather(target_lengths, indices)),) * 2)
        rows = [tf.gather(column, indices)[:, :width] for column, width in zip(columns, widths)]
        if fixed_shapes:
            rows = [tf.pad(x, [[0, batch_size - tf.shape(x)[0]], [0, widths[0] - tf.shape(x)[1]]]) for x in rows]
        source, decoder_input, decoder_target = rows
        return (source, decoder_input), decoder_target

    return book_dataset(ds.map(gather_rows))


# chapters/09_seq2seq.ipynb, cell 33
def _check_batching(batch_size: int, bucket_boundaries: Sequence[int] | None, fixed_shapes: bool) -> list[int]:
    """The bucket boundaries as a list ([] for none), after checking `make_dataset`'s arguments."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if fixed_shapes and not bucket_boundaries:
        raise ValueError("fixed_shapes needs bucket_boundaries")
    boundaries = list(bucket_boundaries or [])
    if boundaries and (boundaries != sorted(set(boundaries)) or boundaries[0] < 1):
        raise ValueError(f"bucket boundaries must be increasing positive integers, got {boundaries}")
    return boundaries


# chapters/09_seq2seq.ipynb, cell 37
def sampled_loss(projection: OutputProjection, features: tf.Tensor, targets: tf.Tensor,
                 num_sampled: int, seed: int | None = None) -> tf.Tensor:
    """Sampled-softmax estimate (Jean et al. 2015) of the masked cross-entropy, for training.

    Only the non-padding positions are scored, against their true word and `num_sampled`
    words drawn from a log-uniform (Zipf) distribution over the frequency-sorted vocabulary.
    """
    mask = tf.not_equal(targets, PAD_ID)
    inputs = tf.boolean_mask(features, mask)
    labels = tf.cast(tf.boolean_mask(targets, mask), tf.int64)[:, None]
    losses = tf.nn.sampled_softmax_loss(weights=projection.kernel, biases=projection.bias, labels=labels,
                                        inputs=inputs, num_sampled=num_sampled,
                                        num_classes=projection.vocabulary_size, seed=seed)
    return tf.reduce_mean(losses)


def draw_candidates(targets: tf.Tensor, num_sampled: int, vocabulary_size: int,
                    seed: int | None = None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The sampled softmax's draw: `num_sampled` distinct words from the log-uniform (Zipf)
    distribution, the expected count of each target word (shaped like `targets`) and of each
    candidate. TensorFlow's sampler has no XLA kernel, so the compiled step takes the draw as input.
    """
    labels = tf.reshape(tf.cast(targets, tf.int64), [-1, 1])
    candidates, true_expected, sampled_expected = tf.random.log_uniform_candidate_sampler(
        labels, num_true=1, num_sampled=num_sampled, unique=True, range_max=vocabulary_size, seed=seed)
    return tf.cast(candidates, tf.int32), tf.reshape(true_expected, tf.shape(targets)), sampled_expected


def sampled_loss_given(projection: OutputProjection, features: tf.Tensor, targets: tf.Tensor,
                       candidates: tf.Tensor, true_expected: tf.Tensor, sampled_expected: tf.Tensor) -> tf.Tensor:
    """`sampled_loss` for a given draw (`draw_candidates`), written out with static shapes.

    What `tf.nn.sampled_softmax_loss` computes: the logits of the true word and of the candidates,
    each minus the log of its expected count, a candidate equal to the true word (an accidental
    hit) removed, and the cross-entropy of the true word among them. Every position is scored and
    padding weighs 0 (no boolean mask, whose size is unknown until run time), so XLA compiles it.
    """
    flat = tf.reshape(features, [-1, tf.shape(features)[-1]])
    labels = tf.reshape(targets, [-1])
    weights = tf.cast(tf.not_equal(labels, PAD_ID), flat.dtype)
    true_logits = (tf.reduce_sum(tf.gather(projection.kernel, labels) * flat, axis=-1)
                   + tf.gather(projection.bias, labels) - tf.math.log(tf.reshape(true_expected, [-1])))
    sampled_logits = (tf.matmul(flat, tf.gather(projection.kernel, candidates), transpose_b=True)
                      + tf.gather(projection.bias, candidates) - tf.math.log(sampled_expected))
    sampled_logits = tf.where(tf.equal(labels[:, None], candidates[None, :]), flat.dtype.min, sampled_logits)
    logits = tf.concat([true_logits[:, None], sampled_logits], axis=1)
    losses = tf.reduce_logsumexp(logits, axis=1) - true_logits
    return tf.reduce_sum(losses * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


# chapters/09_seq2seq.ipynb, cell 39
def make_train_step(seq2seq: Seq2Seq, optimizer: keras.optimizers.Optimizer, softmax: str = "full",
                    num_sampled: int = 512, jit_compile: bool = True, update: bool = True) -> Callable:
    """A compiled training step `step(source, decoder_input, decoder_target) -> loss`.

    softmax="full" scores every word of the vocabulary; "sampled" uses the sampled softmax.
    With `jit_compile` (the book's policy) XLA compiles the step; the sampled softmax's candidates
    are then drawn outside it (`draw_candidates`) and scored by `sampled_loss_given`. Without
    it, the step is a plain graph that calls `sampled_loss`. `update=False` computes the loss and
    the gradients and applies nothing: it times the optimizer's share of a step.
    """
    vocabulary_size = seq2seq.projection.vocabulary_size
    _check_step_arguments(softmax, num_sampled, vocabulary_size)
    variables = seq2seq.trainable_variables
    optimizer.build(variables)
    spec = tf.TensorSpec((None, None), tf.int32)

    def loss_and_update(source, decoder_input, decoder_target, draw=None):
        with tf.GradientTape() as tape:
            if softmax == "full":
                loss = masked_loss(decoder_target, seq2seq.model([source, decoder_input], training=True))
            else:
                features = seq2seq.features_model([source, decoder_input], training=True)
                if draw is None:
                    loss = sampled_loss(seq2seq.projection, features, decoder_target, num_sampled)
                else:
                    loss = sampled_loss_given(seq2seq.projection, features, decoder_target, *draw)
        gradients = tape.gradient(loss, variables)
        if update:
            optimizer.apply_gradients(zip(gradients, variables))
        else:  # use every gradient, or the compiler would skip computing them
            used = [tf.reduce_sum(g.values if isinstance(g, tf.IndexedSlices) else g) for g in gradients]
            loss += 0.0 * tf.add_n(used)
        return loss

    if softmax == "sampled" and jit_compile:
        compiled = tf.function(lambda s, i, o, *draw: loss_and_update(s, i, o, draw), jit_compile=True)

        @tf.function(input_signature=[spec, spec, spec])
        def step(source, decoder_input, decoder_target):
            return compiled(source, decoder_input, decoder_target,
                            *draw_candidates(decoder_target, num_sampled, vocabulary_size))

        return step
    return tf.function(loss_and_update, input_signature=[spec, spec, spec], jit_compile=jit_compile)


# chapters/09_seq2seq.ipynb, cell 40
def _check_step_arguments(softmax: str, num_sampled: int, vocabulary_size: int) -> None:
    if softmax not in ("full", "sampled"):
        raise ValueError(f"softmax must be 'full' or 'sampled', not {softmax!r}")
    if softmax == "sampled" and not 0 < num_sampled < vocabulary_size:
        raise ValueError(f"num_sampled must be in 1..vocabulary size - 1, got {num_sampled}")


# chapters/09_seq2seq.ipynb, cell 42
def evaluate_loss(seq2seq: Seq2Seq, dataset: tf.data.Dataset) -> float:
    """Full-softmax masked cross-entropy per target word over a dataset."""
    if "loss" not in seq2seq._compiled:
        spec = tf.TensorSpec((None, None), tf.int32)

        @tf.function(input_signature=[spec, spec, spec])
        def batch_loss(source, decoder_input, target):
            logits = seq2seq.model([source, decoder_input], training=False)
            count = tf.reduce_sum(tf.cast(target != PAD_ID, tf.float32))
            return masked_loss(target, logits) * count, count

        seq2seq._compiled["loss"] = batch_loss
    total = count = 0.0
    for (source, decoder_input), target in dataset:
        batch_total, batch_count = seq2seq._compiled["loss"](source, decoder_input, target)
        total, count = total + float(batch_total), count + float(batch_count)
    return total / count


@dataclass
class TrainingLog:
    train_loss: list[float] = field(default_factory=list)  # mean of the epoch's step losses
    val_loss: list[float] = field(default_factory=list)  # full softmax, per target word
    epoch_seconds: list[float] = field(default_factory=list)  # training steps only
    steps: int = 0


# chapters/09_seq2seq.ipynb, cell 43
def train(seq2seq: Seq2Seq, train_data: tf.data.Dataset, val_data: tf.data.Dataset, epochs: int,
          learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 2e-3,
          softmax: str = "sampled", num_sampled: int = 512, clipnorm: float = 5.0,
          jit_compile: bool = True) -> TrainingLog:
    """Adam for `epochs` passes over `train_data`; validation loss (full softmax) after each.

    `learning_rate` is a number or a Keras schedule (counted in steps). An epoch's seconds
    include XLA's compilations for the batch shapes met first in that epoch.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=clipnorm)
    step = make_train_step(seq2seq, optimizer, softmax, num_sampled, jit_compile)
    log = TrainingLog()
    for _ in range(epochs):
        start, losses = time.perf_counter(), []
        for (source, decoder_input), target in train_data:
            losses.append(step(source, decoder_input, target))
        log.epoch_seconds.append(time.perf_counter() - start)
        log.steps += len(losses)
        log.train_loss.append(float(np.mean([float(x) for x in losses])))
        log.val_loss.append(evaluate_loss(seq2seq, val_data))
    return log


# chapters/09_seq2seq.ipynb, cell 48
def _forbidden_bias(seq2seq: Seq2Seq, go_id: int) -> tf.Tensor:
    """-inf for the ids a translation never contains: padding, unknown word, <go>."""
    bias = np.zeros(seq2seq.projection.vocabulary_size, np.float32)
    bias[[PAD_ID, UNK_ID, go_id]] = NEG_INF
    return tf.constant(bias)


def _greedy_fn(seq2seq: Seq2Seq, go_id: int, eos_id: int, max_length: int) -> Callable:
    forbidden = _forbidden_bias(seq2seq, go_id)

    @tf.function(input_signature=[tf.TensorSpec((None, None), tf.int32)])
    def decode(source):
        encoder_outputs, state, mask = seq2seq.encode(source)
        batch = tf.shape(source)[0]
        previous = tf.fill([batch], go_id)
        finished = tf.zeros([batch], tf.bool)
        tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        for t in tf.range(max_length):
            logits, state, _ = seq2seq.step(previous, state, encoder_outputs, mask)
            log_probs = tf.nn.log_softmax(logits + forbidden)
            token = tf.where(finished, PAD_ID, tf.argmax(log_probs, axis=-1, output_type=tf.int32))
            tokens = tokens.write(t, token)
            finished = finished | tf.equal(token, eos_id)
            previous = token
            if tf.reduce_all(finished):
                break
        return tf.transpose(tokens.stack())

    return decode


# chapters/09_seq2seq.ipynb, cell 50
def _beam_fn(seq2seq: Seq2Seq, go_id: int, eos_id: int, max_length: int, width: int) -> Callable:
    forbidden = _forbidden_bias(seq2seq, go_id)
    vocabulary = seq2seq.projection.vocabulary_size
    # a finished hypothesis can only grow by padding, at no cost
    pad_only = tf.constant(np.where(np.arange(vocabulary) == PAD_ID, 0.0, NEG_INF).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec((None, None), tf.int32)])
    def decode(source):
        batch = tf.shape(source)[0]
        encoder_outputs, state, mask = seq2seq.encode(source)
        # each sentence's state is repeated `width` times: rows b*width .. b*width + width-1
        encoder_outputs, state, mask = (tf.repeat(x, width, axis=0) for x in (encoder_outputs, state, mask))
        scores = tf.tile(tf.constant([[0.0] + [NEG_INF] * (width - 1)]), [batch, 1])  # one live beam at first
        finished = tf.zeros([batch, width], tf.bool)
        lengths = tf.zeros([batch, width], tf.float32)
        previous = tf.fill([batch * width], go_id)
        tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        parents = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        for t in tf.range(max_length):
            logits, state, _ = seq2seq.step(previous, state, encoder_outputs, mask)
            log_probs = tf.reshape(tf.nn.log_softmax(logits + forbidden), [batch, width, vocabulary])
            log_probs = tf.where(finished[:, :, None], pad_only, log_probs)
            total = tf.reshape(scores[:, :, None] + log_probs, [batch, width * vocabulary])
            scores, best = tf.math.top_k(total, k=width)
            parent, token = best // vocabulary, best % vocabulary
            rows = tf.reshape(parent + tf.range(batch)[:, None] * width, [-1])
            state = tf.gather(state, rows)
            was_finished = tf.gather(finished, parent, batch_dims=1)
            lengths = tf.gather(lengths, parent, batch_dims=1) + tf.cast(~was_finished, tf.float32)
            finished = was_finished | tf.equal(token, eos_id)
            tokens = tokens.write(t, token)
            parents = parents.write(t, parent)
            previous = tf.reshape(token, [-1])
            if tf.reduce_all(finished):
                break
        return tokens.stack(), parents.stack(), scores, lengths

    return decode


# chapters/09_seq2seq.ipynb, cell 52
# Each sentence holds this many copies of its encoder outputs and state while decoding, and
# top_k ranks width × vocabulary scores; translation beams are 4-12 wide in practice.
MAX_BEAM_WIDTH = 256


def check_beam_width(beam_width, vocabulary_size: int | None = None) -> int:
    """A beam width: an int from 1 to `MAX_BEAM_WIDTH` and, given the target vocabulary's size,
    at most the number of words a translation can start with (all but padding, [UNK], <go>):
    a wider beam cannot hold that many distinct hypotheses after the first step."""
    if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)):
        raise ValueError(f"beam_width must be an integer >= 1, got {beam_width!r}")
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    limit = MAX_BEAM_WIDTH if vocabulary_size is None else min(MAX_BEAM_WIDTH, vocabulary_size - 3)
    if beam_width > limit:
        why = "MAX_BEAM_WIDTH" if limit == MAX_BEAM_WIDTH else "the words a translation can start with"
        raise ValueError(f"beam_width must be <= {limit} ({why}), got {beam_width}")
    return int(beam_width)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_ids(name: str, ids, size: int, ndim: int) -> np.ndarray:
    """`ids` as int32, every one in 0 .. size-1: an embedding lookup would wrap -1 to the last row."""
    array = np.asarray(ids)
    if array.ndim != ndim or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a {ndim}-D array of integer ids, got {array.dtype} of shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= size):
        raise ValueError(f"{name} holds ids outside 0..{size - 1}: min {array.min()}, max {array.max()}")
    return array.astype(np.int32)


def _check_decoding(seq2seq: Seq2Seq, source, go_id: int, eos_id: int, max_length: int,
                    batch_size: int) -> np.ndarray:
    target_size = seq2seq.projection.vocabulary_size
    for name, value in (("go_id", go_id), ("eos_id", eos_id)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not 2 <= value < target_size:  # 0 and 1 are padding and [UNK]
            raise ValueError(f"{name} must be a target id in 2..{target_size - 1}, got {value!r}")
    _check_count("max_length", max_length)  # 0 or less ended in a TensorFlow graph error
    _check_count("batch_size", batch_size)
    return _check_ids("source", source, seq2seq.source_embedding.input_dim, ndim=2)


def _check_length_penalty(length_penalty) -> float:
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float, np.integer, np.floating)) \
            or not np.isfinite(length_penalty) or length_penalty < 0:
        # NaN made every score NaN and argmax silently took the first beam
        raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")
    return float(length_penalty)


# chapters/09_seq2seq.ipynb, cell 53
def _decoder(seq2seq: Seq2Seq, key: tuple, make: Callable) -> Callable:
    if key not in seq2seq._compiled:  # one traced graph per (method, width, ...) and model
        seq2seq._compiled[key] = make()
    return seq2seq._compiled[key]


def _batches(source: np.ndarray, batch_size: int) -> Iterable[np.ndarray]:
    for start in range(0, len(source), batch_size):
        chunk = source[start:start + batch_size]
        yield chunk[:, : max(1, int((chunk != PAD_ID).sum(1).max()))]  # trim shared padding


def _until_eos(ids: Iterable[int], eos_id: int) -> list[int]:
    out = []
    for i in ids:
        if int(i) in (eos_id, PAD_ID):
            break
        out.append(int(i))
    return out


def greedy_decode(seq2seq: Seq2Seq, source: np.ndarray, go_id: int, eos_id: int, max_length: int = 20,
                  batch_size: int = 256) -> list[list[int]]:
    """Translate padded reversed sources by feeding back the most likely word at each step.

    Returns each translation's ids up to (not including) <eos>.
    """
    source = _check_decoding(seq2seq, source, go_id, eos_id, max_length, batch_size)
    decode = _decoder(seq2seq, ("greedy", go_id, eos_id, max_length),
                      lambda: _greedy_fn(seq2seq, go_id, eos_id, max_length))
    out: list[list[int]] = []
    for chunk in _batches(source, batch_size):
        for row in decode(tf.constant(chunk)).numpy():
            out.append(_until_eos(row, eos_id))
    return out


# chapters/09_seq2seq.ipynb, cell 54
def beam_search_decode(seq2seq: Seq2Seq, source: np.ndarray, go_id: int, eos_id: int, beam_width: int = 4,
                       max_length: int = 20, length_penalty: float = 1.0,
                       batch_size: int = 128) -> list[list[int]]:
    """Beam search: keep the `beam_width` most probable partial translations at each step.

    A finished hypothesis (it produced <eos>) keeps its score; the answer is the hypothesis
    with the best log-probability / length ** length_penalty. Width 1 is greedy decoding.
    `length_penalty` is a finite number >= 0: 0 ranks by the raw log-probability (no length
    normalisation, which favours short translations), 1 by the mean log-probability per word,
    above 1 favours longer ones; a negative one would punish length twice over.
    """
    source = _check_decoding(seq2seq, source, go_id, eos_id, max_length, batch_size)
    width = check_beam_width(beam_width, seq2seq.projection.vocabulary_size)
    length_penalty = _check_length_penalty(length_penalty)
    decode = _decoder(seq2seq, ("beam", go_id, eos_id, max_length, width),
                      lambda: _beam_fn(seq2seq, go_id, eos_id, max_length, width))
    out: list[list[int]] = []
    for chunk in _batches(source, batch_size):
        tokens, parents, scores, lengths = (x.numpy() for x in decode(tf.constant(chunk)))
        normalised = scores / np.maximum(lengths, 1.0) ** length_penalty
        for b, k in enumerate(normalised.argmax(axis=1)):
            ids = []
            for t in range(len(tokens) - 1, -1, -1):  # follow the parents back from the last step
                ids.append(tokens[t, b, k])
                k = parents[t, b, k]
            out.append(_until_eos(ids[::-1], eos_id))
    return out


# chapters/09_seq2seq.ipynb, cell 61
class LuongAttention(keras.layers.Layer):
    """Luong's 'general' (multiplicative) attention: score(s_t, h_j) = s_t · W h_j.

    The queries are the decoder's outputs s_t, the keys and the values the encoder's outputs h_j.
    Returns the context vectors c_t = sum_j alpha_tj h_j (batch, T, units) and the weights alpha
    (batch, T, source length), a softmax over the source positions; padded source positions
    (keys_mask False) get weight 0.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.key_projection = keras.layers.Dense(units, use_bias=False)
        self.supports_masking = True

    def call(self, query, keys, keys_mask=None):
        scores = tf.matmul(query, self.key_projection(keys), transpose_b=True)  # (B, T, S)
        if keys_mask is not None:
            scores = tf.where(tf.cast(keys_mask, tf.bool)[:, None, :], scores, NEG_INF)
        weights = tf.nn.softmax(scores, axis=-1)
        return tf.matmul(weights, keys), weights

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask  # the query's mask carries on to the context


# chapters/09_seq2seq.ipynb, cell 71
def attention_weights(seq2seq: Seq2Seq, source_ids: Sequence[int], output_ids: Sequence[int],
                      go_id: int) -> np.ndarray:
    """Attention weights (output words + <eos>, source words) of one translation.

    Re-runs the decoder on <go> + the translation (teacher forcing on the model's own
    output reproduces the decoding steps), for the source as the encoder read it.
    """
    if not seq2seq.attention:
        raise ValueError("this model has no attention")
    source = _check_ids("source_ids", source_ids, seq2seq.source_embedding.input_dim, ndim=1)[None]
    decoder_input = _check_ids("go_id and output_ids", [go_id, *output_ids],
                               seq2seq.projection.vocabulary_size, ndim=1)[None]
    return seq2seq.attention_model([source, decoder_input], training=False).numpy()[0]


# chapters/09_seq2seq.ipynb, cell 81
def paired_bootstrap_bleu(hypotheses_a: Sequence[str], hypotheses_b: Sequence[str],
                          references: Sequence[Sequence[str]], resamples: int = 1000,
                          seed: int = 0) -> tuple[float, float, float]:
    """Corpus BLEU of system a minus system b, and a 95 % interval for it.

    Paired bootstrap resampling (Koehn 2004): the test sentences are drawn with replacement
    `resamples` times and both systems are scored on each draw. The interval covers the test
    set's sampling only, not the spread between training runs.
    """
    from sacrebleu.metrics import BLEU

    if not len(hypotheses_a) == len(hypotheses_b) == len(references):
        raise ValueError("both systems need one hypothesis per reference list")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    # Per sentence, from sacreBLEU's public scores: lengths and n-gram matches and totals, which
    # add up over any resample (effective_order only changes a sentence's own score, not these).
    metric = BLEU(lowercase=True, tokenize="13a", effective_order=True)
    stats = [np.array([[s.sys_len, s.ref_len, *s.counts, *s.totals]
                       for s in (metric.sentence_score(h, list(r)) for h, r in zip(hyps, references))], dtype=np.int64)
             for hyps in (hypotheses_a, hypotheses_b)]

    def score(rows):
        sys_len, ref_len, *matches = rows.sum(axis=0).tolist()
        return BLEU.compute_bleu(matches[:4], matches[4:], sys_len, ref_len, smooth_method="exp").score

    draws = np.random.default_rng(seed).integers(0, len(references), size=(resamples, len(references)))
    differences = np.array([score(stats[0][d]) - score(stats[1][d]) for d in draws])
    low, high = np.percentile(differences, [2.5, 97.5])
    return score(stats[0]) - score(stats[1]), float(low), float(high)


# chapters/09_seq2seq.ipynb, cell 86
def padding_fraction(dataset: tf.data.Dataset) -> float:
    """Share of the positions of all batches (sources and targets) that are padding."""
    def count(inputs, target):
        ids = [inputs[0], target]
        return (tf.add_n([tf.reduce_sum(tf.cast(x == PAD_ID, tf.int64)) for x in ids]),
                tf.add_n([tf.size(x, out_type=tf.int64) for x in ids]))

    padded, total = dataset.map(count).reduce((tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
                                              lambda acc, x: (acc[0] + x[0], acc[1] + x[1]))
    if int(total) == 0:
        raise ValueError("the dataset is empty")
    return int(padded) / int(total)
