"""Word embeddings · 文字嵌入: the code the chapter defines and others reuse.

Generated from chapters/08_embeddings.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/08_embeddings.ipynb, cell 4
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from utils.training import JIT_COMPILE, array_dataset, fit_timed

PAD = ""  # id 0: padding (Keras's mask token)
UNK = "[UNK]"  # id 1: any word outside the vocabulary
NUM = "[NUM]"
URL = "[URL]"
PLACEHOLDERS = (UNK, NUM, URL)

_URL_RE = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
# A number standing alone: 45, 3.5, 1,000, -2. "2mp" or "mp3" are words, not numbers.
_NUM_RE = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?![\w])")
# Words keep inner apostrophes (don't, o'er) and digits (mp3, 2nd); placeholders survive whole.
_TOKEN_RE = re.compile(r"\[(?:UNK|NUM|URL)\]|[a-z0-9]+(?:'[a-z]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of `text`, with URLs -> ``[URL]`` and numbers -> ``[NUM]``.

    Punctuation is dropped. Unknown words are mapped to ``[UNK]`` later, by the vocabulary,
    because what is "unknown" depends on the vocabulary.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a str, not {type(text).__name__}")
    text = _URL_RE.sub(f" {URL} ", text.lower())  # URLs first: they contain digits and dots
    text = _NUM_RE.sub(f" {NUM} ", text)
    # digits glued to punctuation the pattern above leaves alone ("v.2") are numbers too
    return [NUM if token.isdigit() else token for token in _TOKEN_RE.findall(text)]


def preprocess(text: str) -> str:
    """The tokens of `text` joined by single spaces: what Keras's vectorizer reads."""
    return " ".join(tokenize(text))


# chapters/08_embeddings.ipynb, cell 7
def check_vectorizer_inputs(texts: Sequence[str], max_tokens: int, reserved: Sequence[str]) -> None:
    """ValueError unless `texts` is a non-empty sequence and `max_tokens` leaves room for a word."""
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 3 + len(reserved):
        raise ValueError(f"max_tokens must be an int >= {3 + len(reserved)} (padding, [UNK], "
                         f"{len(reserved)} placeholders and a word), got {max_tokens!r}")
    if isinstance(texts, str) or len(texts) == 0:
        raise ValueError("texts must be a non-empty sequence of strings")


# chapters/08_embeddings.ipynb, cell 8
def build_vectorizer(texts: Sequence[str], max_tokens: int, reserved: Sequence[str] = (NUM, URL)):
    """A Keras ``TextVectorization`` whose vocabulary is adapted on the preprocessed `texts`.

    Its vocabulary is ``["", "[UNK]", most frequent word, ...]``, at most `max_tokens` entries;
    it outputs ragged id sequences. The `reserved` placeholders are always in it (replacing
    the rarest words if the texts hold too few of them): a ``[URL]`` mapped to ``[UNK]`` would
    throw away what the preprocessing kept.
    """
    check_vectorizer_inputs(texts, max_tokens, reserved)
    # The text is already standardised and split by `preprocess`; Keras splits on spaces only.
    vectorizer = keras.layers.TextVectorization(max_tokens=max_tokens, standardize=None,
                                                split="whitespace", ragged=True)
    # large batches: adapt's cost is mostly per batch
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices([preprocess(t) for t in texts]).batch(65536))
    words = [str(w) for w in vectorizer.get_vocabulary()[2:]]
    missing = [token for token in reserved if token not in words]
    if missing:
        words = words[: max_tokens - 2 - len(missing)] + missing
        vectorizer.set_vocabulary(words)
    return vectorizer


# chapters/08_embeddings.ipynb, cell 10
@dataclass(frozen=True)
class Vocabulary:
    """Words <-> ids, in the vectorizer's order: id 0 is padding, id 1 is ``[UNK]``."""

    words: tuple[str, ...]

    def __post_init__(self):
        if len(self.words) < 3 or self.words[0] != PAD or self.words[1] != UNK:
            raise ValueError("a vocabulary starts with padding '' and '[UNK]' and holds at least one word")
        if len(set(self.words)) != len(self.words):
            raise ValueError("vocabulary words must be distinct")
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    @classmethod
    def from_vectorizer(cls, vectorizer) -> "Vocabulary":
        return cls(tuple(str(w) for w in vectorizer.get_vocabulary()))

    def id(self, word: str) -> int:
        """The id of `word`; a word outside the vocabulary is an error here (no silent [UNK])."""
        try:
            return self._index[word]  # type: ignore[attr-defined]
        except KeyError:
            raise ValueError(f"{word!r} is not in the vocabulary") from None

    def __contains__(self, word: object) -> bool:
        return word in self._index  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.words)


# chapters/08_embeddings.ipynb, cell 12
def encode_sentences(vectorizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All sentences' ids in one flat array, and for each id the index of its sentence."""
    ragged = vectorizer(tf.constant([preprocess(t) for t in texts]))
    return ragged.flat_values.numpy().astype(np.int32), ragged.value_rowids().numpy().astype(np.int32)


def encode_padded(vectorizer, texts: Sequence[str], max_len: int) -> np.ndarray:
    """(len(texts), max_len) int32 ids, cut at `max_len` and padded with 0 on the right."""
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    ragged = vectorizer(tf.constant([preprocess(t) for t in texts]))
    return ragged.to_tensor(default_value=0, shape=[None, max_len]).numpy().astype(np.int32)


# chapters/08_embeddings.ipynb, cell 22
def keep_probabilities(counts: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Mikolov et al.'s subsampling: a word of frequency f is kept with probability
    (sqrt(f / t) + 1) * t / f (capped at 1), as in the word2vec C code.

    Very frequent words ("the", "i") carry little information about their neighbours; dropping
    most of their occurrences speeds training and improves the rarer words' vectors.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("counts must be a 1-D array of non-negative counts with a positive sum")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    frequency = counts / counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(frequency / threshold) + 1) * threshold / frequency
    return np.where(counts > 0, np.minimum(keep, 1.0), 0.0)


# chapters/08_embeddings.ipynb, cell 24
def skipgram_pairs(ids: np.ndarray, sentence_of: np.ndarray, window: int, rng: np.random.Generator,
                   keep: np.ndarray | None = None, first_word_id: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(target, context) pairs of words at most `window` apart within one sentence.

    As in word2vec, each target position draws its own window size in [1, window], so near
    neighbours are paired more often than far ones. Ids below `first_word_id` (padding and
    [UNK]) are removed first, and each occurrence of word w is kept with probability keep[w].
    """
    ids, sentence_of = np.asarray(ids), np.asarray(sentence_of)
    if ids.shape != sentence_of.shape or ids.ndim != 1:
        raise ValueError(f"ids and sentence_of must be 1-D of the same length, got {ids.shape} and {sentence_of.shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an int >= 1, got {window!r}")
    mask = ids >= first_word_id
    if keep is not None:
        keep = np.asarray(keep)
        if len(ids) and ids.max() >= len(keep):
            raise ValueError(f"keep has {len(keep)} entries but an id is {ids.max()}")
        mask &= rng.random(len(ids)) < keep[ids]
    ids, sentence_of = ids[mask], sentence_of[mask]
    reach = rng.integers(1, window + 1, size=len(ids))  # each target's own window size
    targets, contexts = [], []
    for offset in range(1, window + 1):
        same = sentence_of[:-offset] == sentence_of[offset:]
        left = np.nonzero(same & (reach[:-offset] >= offset))[0]  # targets reaching right
        right = np.nonzero(same & (reach[offset:] >= offset))[0]  # targets reaching left
        targets += [ids[left], ids[right + offset]]  # target on the left, then on the right
        contexts += [ids[left + offset], ids[right]]
    return np.concatenate(targets).astype(np.int32), np.concatenate(contexts).astype(np.int32)


# chapters/08_embeddings.ipynb, cell 26
def check_counts_and_power(counts: np.ndarray, power: float) -> np.ndarray:
    """`counts` as float64, or ValueError unless they are finite and non-negative and `power` >= 0."""
    counts = np.asarray(counts, dtype=np.float64)
    # NaN passes `< 0` and inf makes every probability NaN: either would hang `sample`
    if counts.ndim != 1 or not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("counts must be a 1-D array of finite, non-negative counts")
    if not np.isfinite(power) or power < 0:
        raise ValueError(f"power must be finite and >= 0, got {power}")
    return counts


def check_contexts(contexts: np.ndarray, negatives_per_pair: int, vocabulary_size: int) -> np.ndarray:
    """`contexts` as an array, or ValueError unless 1-D ids of the vocabulary, with a count >= 1."""
    contexts = np.asarray(contexts)
    if contexts.ndim != 1:
        raise ValueError(f"contexts must be 1-D, got shape {contexts.shape}")
    if isinstance(negatives_per_pair, bool) or not isinstance(negatives_per_pair, (int, np.integer)) or negatives_per_pair < 1:
        raise ValueError(f"negatives_per_pair must be an int >= 1, got {negatives_per_pair!r}")
    if len(contexts) and (contexts.min() < 0 or contexts.max() >= vocabulary_size):
        raise ValueError("a context id is outside the vocabulary")
    return contexts


# chapters/08_embeddings.ipynb, cell 27
# A context word with sampling probability p needs 1 / (1 - p) draws per negative on average.
MIN_OTHER_MASS = 1e-6


class NegativeSampler:
    """Draws negative context words from the unigram distribution raised to `power` (0.75 in
    word2vec), never the positive context word itself.

    A negative equal to the true context would teach the model, in the same step, to score
    that pair high and low; rejecting it and drawing again samples exactly from the unigram^power
    distribution with the context word removed.
    """

    def __init__(self, counts: np.ndarray, power: float = 0.75, excluded_ids: Sequence[int] = (0, 1)):
        counts = check_counts_and_power(counts, power)
        with np.errstate(over="ignore"):
            weights = np.where(counts > 0, counts, 0.0) ** power
        weights[list(excluded_ids)] = 0.0  # padding and [UNK] are never negatives
        if not np.isfinite(weights.sum()):
            raise ValueError(f"counts ** {power} overflows; scale the counts down")
        probabilities = weights / weights.sum() if weights.sum() > 0 else weights
        # Rejection redraws a clash with probability p(context); it ends only if at least
        # two words keep a drawable share, and in practice only if no word holds nearly all.
        if np.count_nonzero(probabilities) < 2:
            raise ValueError("at least two words must have a positive count to draw negatives")
        if probabilities.max() > 1 - MIN_OTHER_MASS:
            raise ValueError(f"one word holds {probabilities.max():.12g} of the sampling mass; the others "
                             f"need at least {MIN_OTHER_MASS:g} for its negatives to be drawn")
        self.probabilities = probabilities
        self._cumulative = np.cumsum(self.probabilities)

    def _draw(self, size, rng: np.random.Generator) -> np.ndarray:
        # inverse-CDF sampling; the clip guards against a last cumulative value of 1 - 1e-16
        u = rng.random(size)
        return np.minimum(np.searchsorted(self._cumulative, u, side="right"),
                          len(self._cumulative) - 1).astype(np.int32)

    def sample(self, contexts: np.ndarray, negatives_per_pair: int, rng: np.random.Generator) -> np.ndarray:
        """(len(contexts), negatives_per_pair) negative ids; row i never contains contexts[i]."""
        contexts = check_contexts(contexts, negatives_per_pair, len(self.probabilities))
        negatives = self._draw((len(contexts), negatives_per_pair), rng)
        clash = negatives == contexts[:, None]
        while clash.any():  # each round redraws only the clashes; P(clash) <= max p < 1
            negatives[clash] = self._draw(int(clash.sum()), rng)
            clash = negatives == contexts[:, None]
        return negatives


# chapters/08_embeddings.ipynb, cell 29
def tutorial_negative_samples(contexts: np.ndarray, negatives_per_pair: int, vocabulary_size: int, seed: int) -> np.ndarray:
    """Negatives drawn as the TensorFlow word2vec tutorial draws them: one call of
    ``tf.random.log_uniform_candidate_sampler(true_classes=[[context]], unique=True, ...)`` per
    positive pair. `true_classes` only enters the expected counts the op returns: it does not
    stop the op from drawing the context word itself.
    """
    contexts = np.asarray(contexts)
    if contexts.ndim != 1 or negatives_per_pair < 1 or negatives_per_pair > vocabulary_size:
        raise ValueError("contexts must be 1-D and 1 <= negatives_per_pair <= vocabulary_size")
    rows = []
    for context in contexts:
        negatives, _, _ = tf.random.log_uniform_candidate_sampler(
            true_classes=tf.constant([[int(context)]], dtype=tf.int64), num_true=1,
            num_sampled=negatives_per_pair, unique=True, range_max=vocabulary_size, seed=seed)
        rows.append(negatives.numpy())
    return np.array(rows, dtype=np.int32).reshape(len(contexts), negatives_per_pair)


def negatives_equal_to_context(negatives: np.ndarray, contexts: np.ndarray) -> int:
    """How many negatives equal their row's positive context word."""
    negatives, contexts = np.asarray(negatives), np.asarray(contexts)
    if negatives.ndim != 2 or negatives.shape[0] != contexts.shape[0]:
        raise ValueError(f"negatives must be (n, k) and contexts (n,), got {negatives.shape} and {contexts.shape}")
    return int((negatives == contexts[:, None]).sum())


# chapters/08_embeddings.ipynb, cell 35
def word2vec_model(vocabulary_size: int, embedding_dim: int):
    """Skip-gram with negative sampling as a Keras model.

    Inputs: target ids (batch,) and candidates (batch, 1 + negatives_per_pair), the true context first.
    Output: one logit per candidate, the dot product of the target's vector (layer
    ``target_embedding``: the word vectors we keep) with the candidate's context vector.
    Trained with sigmoid cross-entropy, label 1 for the context and 0 for each negative:
    log sigmoid(u.v) + sum log sigmoid(-u.v_neg), Mikolov et al.'s objective.
    """
    if vocabulary_size < 3 or embedding_dim < 1:
        raise ValueError(f"need vocabulary_size >= 3 and embedding_dim >= 1, got {vocabulary_size}, {embedding_dim}")
    target = keras.Input((), dtype="int32", name="target")
    candidates = keras.Input((None,), dtype="int32", name="candidates")
    # word2vec's initialisation: small random target vectors, context vectors at zero
    u = keras.layers.Embedding(vocabulary_size, embedding_dim, name="target_embedding",
                               embeddings_initializer=keras.initializers.RandomUniform(
                                   -0.5 / embedding_dim, 0.5 / embedding_dim))(target)
    v = keras.layers.Embedding(vocabulary_size, embedding_dim, name="context_embedding",
                               embeddings_initializer="zeros")(candidates)
    logits = keras.ops.einsum("bd,bkd->bk", u, v)
    return keras.Model([target, candidates], logits, name="word2vec")


# chapters/08_embeddings.ipynb, cell 37
@dataclass
class Word2VecLog:
    loss: list[float] = field(default_factory=list)  # per epoch: mean sigmoid cross-entropy per candidate
    epoch_seconds: list[float] = field(default_factory=list)
    pairs_per_epoch: list[int] = field(default_factory=list)
    negatives_equal_to_context: int = 0  # over every negative used in training


def train_word2vec(model, ids: np.ndarray, sentence_of: np.ndarray, sampler: NegativeSampler, *,
                   window: int, negatives_per_pair: int, epochs: int, batch_size: int, learning_rate: float,
                   keep: np.ndarray | None = None, seed: int = 0,
                   on_epoch_end: Callable[[int], None] | None = None) -> Word2VecLog:
    """Adam on skip-gram pairs; every epoch draws new subsampled pairs and new negatives
    (in NumPy, fast), then makes one pass over them in large batches."""
    if epochs < 1 or batch_size < 1 or learning_rate <= 0:
        raise ValueError("epochs, batch_size and learning_rate must be positive")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), jit_compile=JIT_COMPILE)
    log = Word2VecLog()
    for epoch in range(epochs):
        start = time.perf_counter()
        targets, contexts = skipgram_pairs(ids, sentence_of, window, rng, keep)
        negatives = sampler.sample(contexts, negatives_per_pair, rng)
        log.negatives_equal_to_context += negatives_equal_to_context(negatives, contexts)
        candidates = np.concatenate([contexts[:, None], negatives], axis=1)
        labels = np.zeros(candidates.shape, np.float32)
        labels[:, 0] = 1.0
        data = array_dataset((targets, candidates), labels, batch_size, shuffle_seed=seed + epoch)
        history = model.fit(data, epochs=1, shuffle=False, verbose=0)
        log.loss.append(float(history.history["loss"][-1]))
        log.epoch_seconds.append(time.perf_counter() - start)
        log.pairs_per_epoch.append(len(targets))
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return log


# chapters/08_embeddings.ipynb, cell 39
def word_vectors(model) -> np.ndarray:
    """The learned word vectors: the target embedding matrix, (vocabulary_size, embedding_dim)."""
    return np.asarray(model.get_layer("target_embedding").get_weights()[0])


def nearest_neighbours(vectors: np.ndarray, vocabulary: Vocabulary, word: str, k: int = 5,
                       first_word_id: int = 2) -> list[tuple[str, float]]:
    """The `k` words of highest cosine similarity to `word` (itself, padding and [UNK] excluded)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(vocabulary):
        raise ValueError(f"vectors must be ({len(vocabulary)}, dim), got {vectors.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    index = vocabulary.id(word)
    norms = np.linalg.norm(vectors, axis=1)
    similarity = vectors @ vectors[index] / np.maximum(norms * norms[index], 1e-12)
    similarity[:first_word_id] = -np.inf
    similarity[index] = -np.inf
    best = np.argsort(-similarity, kind="stable")[:k]
    return [(vocabulary.words[i], float(similarity[i])) for i in best]


def pca_2d(x: np.ndarray) -> np.ndarray:
    """The rows of `x` projected on their first two principal components, signs fixed so
    that the first row has non-negative coordinates (maps of successive epochs then agree)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"pca_2d needs at least 2 rows and 2 columns, got {x.shape}")
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    points = centred @ vt[:2].T
    return points * np.where(points[0] < 0, -1.0, 1.0)


# chapters/08_embeddings.ipynb, cell 51
EMBEDDING_MODES = ("scratch", "frozen", "finetuned")


def check_embedding_mode(mode: str, pretrained: np.ndarray | None, shape: tuple[int, int]) -> None:
    """ValueError unless `mode` is known and `pretrained` is given (of `shape`) exactly when needed."""
    if mode not in EMBEDDING_MODES:
        raise ValueError(f"mode must be one of {EMBEDDING_MODES}, not {mode!r}")
    if (pretrained is None) != (mode == "scratch"):
        raise ValueError("pretrained vectors are needed for 'frozen' and 'finetuned', and unused for 'scratch'")
    if pretrained is not None and np.shape(pretrained) != shape:
        raise ValueError(f"pretrained must be ({shape[0]}, {shape[1]}), got {np.shape(pretrained)}")


# chapters/08_embeddings.ipynb, cell 52
def sentiment_model(vocabulary_size: int, embedding_dim: int, units: int, mode: str,
                    pretrained: np.ndarray | None = None):
    """Embedding -> GRU -> one logit (positive sentiment).

    mode "scratch": a randomly initialised embedding, trained; "frozen": the `pretrained`
    vectors with ``trainable=False``; "finetuned": the `pretrained` vectors, trained further.
    """
    check_embedding_mode(mode, pretrained, (vocabulary_size, embedding_dim))
    embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding",
                                       weights=None if pretrained is None else [np.asarray(pretrained)],
                                       trainable=mode != "frozen")
    inputs = keras.Input((None,), dtype="int32")
    hidden = keras.layers.GRU(units)(embedding(inputs))
    return keras.Model(inputs, keras.layers.Dense(1)(hidden), name=f"sentiment_{mode}")


# chapters/08_embeddings.ipynb, cell 54
@dataclass
class ClassifierRun:
    test_accuracy: float
    seconds: float  # fit time, all epochs, first-epoch graph tracing included
    epochs: int  # epochs run (early stopping on the validation accuracy)
    seconds_per_epoch: float  # median epoch time after the first (which also traces the graphs)


def train_sentiment(model, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                    *, epochs: int, batch_size: int, learning_rate: float, patience: int,
                    validation_fraction: float = 0.1, seed: int = 0) -> ClassifierRun:
    """Adam on binary cross-entropy; keeps the weights of the epoch with the best validation
    accuracy (the last `validation_fraction` of the training set), then measures accuracy on
    the test set."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if epochs < 1 or batch_size < 1 or learning_rate <= 0 or patience < 1:
        raise ValueError("epochs, batch_size, learning_rate and patience must be positive")
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")], jit_compile=JIT_COMPILE)
    # the last `validation_fraction` of the (already shuffled) training set, as validation_split took it
    n_fit = int(np.floor(len(y_train) * (1.0 - validation_fraction)))
    train = array_dataset(x_train[:n_fit], y_train[:n_fit], batch_size, shuffle_seed=seed)
    validation = array_dataset(x_train[n_fit:], y_train[n_fit:], batch_size)
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=patience, restore_best_weights=True)
    start = time.perf_counter()
    history = fit_timed(model, train, validation_data=validation, epochs=epochs, callbacks=[stop])
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(array_dataset(x_test, y_test, 512), verbose=0)
    return ClassifierRun(float(accuracy), seconds, history.epochs, history.steady_seconds)


# chapters/08_embeddings.ipynb, cell 56
def train_test_split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and test indices of n items, fixed by `seed`."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(n * test_fraction)
    if n_test == 0 or n_test == n:
        raise ValueError(f"{n} items cannot be split with test_fraction {test_fraction}")
    # shuffled, not sorted: Keras's validation_split takes the *last* rows of the training set
    return order[n_test:], order[:n_test]


# chapters/08_embeddings.ipynb, cell 61
from collections import Counter

SPEAKER_LINE = re.compile(r"[A-Za-z][A-Za-z' ,.-]*:")
OTHER = "[OTHER]"


def speaker_turns(text: str) -> list[str]:
    """The speaker of each speech of a play, in order: a line "NAME:" at the start or after a blank line."""
    lines = text.split("\n")
    return [line[:-1] for i, line in enumerate(lines)
            if SPEAKER_LINE.fullmatch(line) and (i == 0 or not lines[i - 1].strip())]


def category_ids(values: Sequence[str], min_count: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Ids of categorical values, most frequent first; values seen fewer than `min_count` times
    share the last id, that of ``[OTHER]``. Returns the ids and the names of the categories."""
    if min_count < 1 or len(values) == 0:
        raise ValueError("need at least one value and min_count >= 1")
    counts = Counter(values)
    kept = sorted((v for v, n in counts.items() if n >= min_count), key=lambda v: (-counts[v], v))
    index = {v: i for i, v in enumerate(kept)}
    return np.array([index.get(v, len(kept)) for v in values], np.int32), (*kept, OTHER)


def next_category_model(n_categories: int, encoding: str, dim: int | None = None):
    """The current category's id -> logits of the next category.

    encoding "one-hot": the id as a one-hot vector into one Dense layer (a table of logits);
    "embedding": a `dim`-dimensional Embedding into the same Dense layer.
    """
    inputs = keras.Input((), dtype="int32")
    if encoding == "one-hot":
        features = keras.ops.one_hot(inputs, n_categories)
    elif encoding == "embedding" and dim:
        features = keras.layers.Embedding(n_categories, dim, name="category_embedding")(inputs)
    else:
        raise ValueError(f"encoding must be 'one-hot', or 'embedding' with a dim, not {encoding!r}")
    return keras.Model(inputs, keras.layers.Dense(n_categories)(features), name=f"next_{encoding}")


def count_table_log_probabilities(current: np.ndarray, following: np.ndarray, n_categories: int,
                                  alpha: float = 1.0) -> np.ndarray:
    """log P(next | current) from counted pairs with add-`alpha` smoothing, (n_categories, n_categories)."""
    table = np.full((n_categories, n_categories), alpha, np.float64)
    np.add.at(table, (current, following), 1.0)
    return np.log(table / table.sum(axis=1, keepdims=True))
