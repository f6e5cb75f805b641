import contextlib
import signal
import time

import numpy as np
import pytest

from chapter_code import ch08_embeddings as embeddings

# ------------------------------------------------------------------ preprocessing

def test_numbers_and_urls_become_placeholders():
    text = "I paid 45.50 (1,000 yen) at https://example.org/a?b=1 or www.shop.com, -3 times v.2!"
    assert embeddings.tokenize(text) == ["i", "paid", embeddings.NUM, embeddings.NUM, "yen", "at", embeddings.URL, "or", embeddings.URL,
                                embeddings.NUM, "times", "v", embeddings.NUM]


def test_words_keep_apostrophes_and_digits_inside_words():
    assert embeddings.tokenize("Don't o'er-reach: the MP3 of 2MP, 1st!") == ["don't", "o'er", "reach", "the", "mp3",
                                                                     "of", "2mp", "1st"]
    assert embeddings.preprocess("  Hello,   WORLD 42 ") == "hello world [NUM]"
    assert embeddings.tokenize("") == [] and embeddings.tokenize("?!") == []


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_tokenize_wants_a_string(bad):
    with pytest.raises(TypeError, match="expects a str"):
        embeddings.tokenize(bad)


def test_unknown_words_map_to_unk_through_the_keras_vocabulary():
    vectorizer = embeddings.build_vectorizer(["the cat sat", "the cat ran 3 times", "the dog"], max_tokens=6)
    vocabulary = embeddings.Vocabulary.from_vectorizer(vectorizer)
    # most frequent first; [URL] never occurs but is kept, in place of the rarest word
    assert vocabulary.words == ("", embeddings.UNK, "the", "cat", embeddings.NUM, embeddings.URL)
    assert embeddings.encode_sentences(vectorizer, ["see http://x.org"])[0].tolist() == [1, vocabulary.id(embeddings.URL)]
    ids, sentence_of = embeddings.encode_sentences(vectorizer, ["The cat", "a zebra sat"])
    unk = vocabulary.id(embeddings.UNK)
    assert ids[:2].tolist() == [vocabulary.id("the"), vocabulary.id("cat")]
    assert ids[2:].tolist() == [unk, unk, unk] and sentence_of.tolist() == [0, 0, 1, 1, 1]
    padded = embeddings.encode_padded(vectorizer, ["the cat", "the the the the the"], max_len=3)
    assert padded.shape == (2, 3) and padded[0, 2] == 0 and (padded[1] == vocabulary.id("the")).all()
    with pytest.raises(ValueError, match="max_len"):
        embeddings.encode_padded(vectorizer, ["x"], 0)


@pytest.mark.parametrize("max_tokens", [4, 0, 3.5, True, "10"])
def test_bad_vocabulary_sizes_are_clear_errors(max_tokens):
    with pytest.raises(ValueError, match="max_tokens"):
        embeddings.build_vectorizer(["a b"], max_tokens)


def test_bad_texts_and_vocabularies_are_clear_errors():
    with pytest.raises(ValueError, match="non-empty sequence"):
        embeddings.build_vectorizer([], 10)
    with pytest.raises(ValueError, match="non-empty sequence"):
        embeddings.build_vectorizer("a single string", 10)
    with pytest.raises(ValueError, match="starts with padding"):
        embeddings.Vocabulary(("[UNK]", "", "a"))
    with pytest.raises(ValueError, match="distinct"):
        embeddings.Vocabulary(("", "[UNK]", "a", "a"))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        embeddings.Vocabulary(("", "[UNK]", "a")).id("b")


# ------------------------------------------------------------------ skip-gram pairs

def test_skipgram_pairs_stay_inside_sentences_and_skip_padding_and_unk():
    ids = np.array([2, 3, 4, 1, 5, 6, 7])
    sentence_of = np.array([0, 0, 0, 0, 1, 1, 1])
    targets, contexts = embeddings.skipgram_pairs(ids, sentence_of, window=1, rng=np.random.default_rng(0))
    pairs = set(zip(targets.tolist(), contexts.tolist()))
    assert pairs == {(2, 3), (3, 2), (3, 4), (4, 3), (5, 6), (6, 5), (6, 7), (7, 6)}
    wide = set(zip(*[a.tolist() for a in embeddings.skipgram_pairs(ids, sentence_of, 5, np.random.default_rng(0))]))
    assert pairs <= wide and all(t != 1 and c != 1 for t, c in wide)
    assert not any({t, c} & {2, 3, 4} and {t, c} & {5, 6, 7} for t, c in wide)  # no cross-sentence pair


def test_subsampling_drops_frequent_words():
    counts = np.array([0, 0, 9_000, 10, 10])
    keep = embeddings.keep_probabilities(counts, threshold=1e-3)
    assert keep[0] == keep[1] == 0 and keep[3] == keep[4] == 1.0 and 0 < keep[2] < 0.05
    with pytest.raises(ValueError, match="threshold"):
        embeddings.keep_probabilities(counts, 0)
    with pytest.raises(ValueError, match="non-negative"):
        embeddings.keep_probabilities(np.array([1, -1]))


def test_bad_skipgram_arguments_are_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="window"):
        embeddings.skipgram_pairs(np.array([2, 3]), np.array([0, 0]), 0, rng)
    with pytest.raises(ValueError, match="same length"):
        embeddings.skipgram_pairs(np.array([2, 3]), np.array([0]), 2, rng)
    with pytest.raises(ValueError, match="keep has"):
        embeddings.skipgram_pairs(np.array([2, 9]), np.array([0, 0]), 2, rng, keep=np.ones(4))


# ----------------------------------------------------------------- negative samples

def test_negatives_are_never_the_context_word():
    rng = np.random.default_rng(0)
    counts = np.array([0, 50, 1_000_000, 300, 20, 5, 1])  # one word dominates
    sampler = embeddings.NegativeSampler(counts)
    contexts = rng.integers(2, len(counts), size=5_000)
    contexts[:2_000] = 2  # the most frequent word, the likeliest to be drawn against itself
    negatives = sampler.sample(contexts, 5, rng)
    assert negatives.shape == (5_000, 5)
    assert embeddings.negatives_equal_to_context(negatives, contexts) == 0
    assert negatives.min() >= 2  # padding and [UNK] are never negatives
    # two candidate words: the negative of each must be the other one
    pair = embeddings.NegativeSampler(np.array([0, 0, 7, 3]))
    assert (pair.sample(np.array([2, 3, 2]), 4, rng) == np.array([[3] * 4, [2] * 4, [3] * 4])).all()


def test_negatives_follow_the_unigram_distribution_to_the_power_075_without_the_context():
    rng = np.random.default_rng(1)
    counts = np.array([0, 0, 16, 81, 256])
    sampler = embeddings.NegativeSampler(counts)
    expected = np.array([0, 0, 8, 27, 64]) / 99.0  # counts ** 0.75
    np.testing.assert_allclose(sampler.probabilities, expected)
    negatives = sampler.sample(np.full(40_000, 4), 1, rng).ravel()  # context 4 excluded
    shares = np.bincount(negatives, minlength=5) / len(negatives)
    np.testing.assert_allclose(shares, [0, 0, 8 / 35, 27 / 35, 0], atol=0.01)


def test_bad_sampler_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="at least two words"):
        embeddings.NegativeSampler(np.array([5, 5, 9, 0]))  # only one word besides padding and [UNK]
    with pytest.raises(ValueError, match="non-negative"):
        embeddings.NegativeSampler(np.array([0, 0, 1, -2]))
    with pytest.raises(ValueError, match="power"):
        embeddings.NegativeSampler(np.array([0, 0, 1, 2]), power=float("nan"))
    sampler = embeddings.NegativeSampler(np.array([0, 0, 1, 2]))
    rng = np.random.default_rng(0)
    for negatives_per_pair in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="negatives_per_pair"):
            sampler.sample(np.array([2]), negatives_per_pair, rng)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        sampler.sample(np.array([2, 4]), 1, rng)
    with pytest.raises(ValueError, match="1-D"):
        sampler.sample(np.array([[2]]), 1, rng)
    with pytest.raises(ValueError, match=r"\(n, k\)"):
        embeddings.negatives_equal_to_context(np.array([1, 2]), np.array([1, 2]))


@contextlib.contextmanager
def _no_hang(seconds: float):
    """Turn a hang into a test failure: SIGALRM interrupts the Python-level sampling loop."""
    def expire(*_):
        raise TimeoutError(f"still running after {seconds} s: the sampler hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("counts", [
    [0, 0, np.inf, 3.0, 2.0],  # every probability NaN: the rejection loop never ended
    [0, 0, np.nan, 3.0, 2.0],
    [0, 0, 1e15, 1.0, 0.0],  # one word holds all but 3e-12 of the mass
    [0, 0, 1e300, 1e-300, 0.0],  # the second word's share underflows to zero
])
def test_counts_that_would_hang_the_sampler_are_rejected_before_sampling(counts):
    rng = np.random.default_rng(0)
    start = time.monotonic()
    with _no_hang(5), pytest.raises(ValueError, match="counts|mass|two words"):
        embeddings.NegativeSampler(np.array(counts)).sample(np.array([2, 2, 3]), 4, rng)
    assert time.monotonic() - start < 1


def test_the_tutorial_sampler_draws_the_context_word_as_a_negative():
    contexts = np.full(200, 2)
    negatives = embeddings.tutorial_negative_samples(contexts, negatives_per_pair=4, vocabulary_size=10, seed=42)
    assert negatives.shape == (200, 4) and negatives.max() < 10
    assert embeddings.negatives_equal_to_context(negatives, contexts) > 0  # the bug our sampler avoids


# ----------------------------------------------------------------------- word2vec

def test_word2vec_model_starts_at_log_2_and_learns():
    import keras

    keras.utils.set_random_seed(0)
    model = embeddings.word2vec_model(vocabulary_size=6, embedding_dim=4)
    targets, candidates = np.array([2, 3]), np.array([[3, 4, 5], [2, 5, 4]])
    assert model((targets, candidates)).shape == (2, 3)
    labels = np.tile(np.array([[1.0, 0.0, 0.0]], np.float32), (2, 1))
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    assert model.evaluate((targets, candidates), labels, verbose=0) == pytest.approx(np.log(2), abs=1e-6)
    assert embeddings.word_vectors(model).shape == (6, 4)
    with pytest.raises(ValueError, match="vocabulary_size"):
        embeddings.word2vec_model(2, 4)


def test_train_word2vec_lowers_the_loss_and_never_uses_the_context_as_negative():
    ids = np.tile(np.array([2, 3, 4, 5, 6, 7]), 60)
    sentence_of = np.repeat(np.arange(60), 6)
    model = embeddings.word2vec_model(8, 8)
    sampler = embeddings.NegativeSampler(np.bincount(ids, minlength=8))
    seen = []
    log = embeddings.train_word2vec(model, ids, sentence_of, sampler, window=2, negatives_per_pair=3, epochs=3, batch_size=64,
                           learning_rate=0.05, on_epoch_end=seen.append)
    assert seen == [0, 1, 2] and log.loss[-1] < log.loss[0] < np.log(2)
    assert log.negatives_equal_to_context == 0 and len(log.epoch_seconds) == 3
    with pytest.raises(ValueError, match="positive"):
        embeddings.train_word2vec(model, ids, sentence_of, sampler, window=2, negatives_per_pair=3, epochs=0, batch_size=8,
                         learning_rate=0.1)


def test_nearest_neighbours_by_cosine():
    vocabulary = embeddings.Vocabulary(("", "[UNK]", "a", "b", "c", "d"))
    vectors = np.array([[1, 0], [1, 0.01], [1, 0], [2, 0.1], [0, 1], [-1, 0]], dtype=float)
    result = embeddings.nearest_neighbours(vectors, vocabulary, "a", k=3)
    assert [w for w, _ in result] == ["b", "c", "d"]  # scale does not matter; padding, [UNK], "a" left out
    assert result[0][1] == pytest.approx(2 / np.hypot(2, 0.1)) and result[2][1] == pytest.approx(-1)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        embeddings.nearest_neighbours(vectors, vocabulary, "zebra")
    with pytest.raises(ValueError, match="vectors must be"):
        embeddings.nearest_neighbours(vectors[:3], vocabulary, "a")
    with pytest.raises(ValueError, match="k must be"):
        embeddings.nearest_neighbours(vectors, vocabulary, "a", k=0)


def test_pca_2d():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 5)) * np.array([10, 3, 0.1, 0.1, 0.1])
    points = embeddings.pca_2d(x)
    assert points.shape == (50, 2) and (points[0] >= 0).all()
    assert points[:, 0].var() > points[:, 1].var() > 1
    with pytest.raises(ValueError, match="at least 2 rows"):
        embeddings.pca_2d(np.ones((1, 5)))


# ---------------------------------------------------------------- reusing vectors

def test_frozen_embeddings_do_not_move_and_finetuned_ones_are_trained():
    rng = np.random.default_rng(0)
    pretrained = rng.normal(size=(10, 4)).astype(np.float32)
    models = {mode: embeddings.sentiment_model(10, 4, 3, mode, pretrained) for mode in ("frozen", "finetuned")}
    for model in models.values():
        np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], pretrained)
    trained = {mode: [w.path for w in model.trainable_weights] for mode, model in models.items()}
    assert not any("embedding" in path for path in trained["frozen"])
    assert any("embedding" in path for path in trained["finetuned"])
    x = rng.integers(1, 10, size=(20, 5)).astype(np.int32)
    y = (x[:, 0] > 5).astype(np.float32)
    run = embeddings.train_sentiment(models["frozen"], x, y, x, y, epochs=1, batch_size=32, learning_rate=0.05, patience=5)
    assert 0 <= run.test_accuracy <= 1 and run.epochs == 1 and run.seconds > 0
    np.testing.assert_array_equal(models["frozen"].get_layer("embedding").get_weights()[0], pretrained)


def test_bad_classifier_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="mode"):
        embeddings.sentiment_model(10, 4, 3, "thawed")
    with pytest.raises(ValueError, match="pretrained vectors are needed"):
        embeddings.sentiment_model(10, 4, 3, "frozen")
    with pytest.raises(ValueError, match="pretrained vectors are needed"):
        embeddings.sentiment_model(10, 4, 3, "scratch", np.zeros((10, 4)))
    with pytest.raises(ValueError, match=r"pretrained must be \(10, 4\)"):
        embeddings.sentiment_model(10, 4, 3, "finetuned", np.zeros((10, 5)))


def test_train_test_split_is_a_fixed_partition():
    train, test = embeddings.train_test_split(100, 0.2, seed=3)
    assert len(test) == 20 and len(train) == 80
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    again, _ = embeddings.train_test_split(100, 0.2, seed=3)
    assert (again == train).all()
    with pytest.raises(ValueError, match="test_fraction"):
        embeddings.train_test_split(100, 1.0, seed=0)
    with pytest.raises(ValueError, match="cannot be split"):
        embeddings.train_test_split(3, 0.1, seed=0)


def test_speaker_turns_reads_the_name_lines_of_a_play():
    play = "ROMEO:\nBut soft!\n\nJULIET:\nAy me!\nNot a name:\n\nFirst Citizen:\nSpeak.\n"
    assert embeddings.speaker_turns(play) == ["ROMEO", "JULIET", "First Citizen"]


def test_rare_categories_share_the_other_id():
    ids, names = embeddings.category_ids(["b", "a", "b", "c", "b", "a"], min_count=2)
    assert names == ("b", "a", embeddings.OTHER)
    assert ids.tolist() == [0, 1, 0, 2, 0, 1]
    with pytest.raises(ValueError):
        embeddings.category_ids([], min_count=1)


def test_count_table_is_smoothed_and_normalised():
    table = embeddings.count_table_log_probabilities(np.array([0, 0, 1]), np.array([1, 1, 0]), 2, alpha=1.0)
    np.testing.assert_allclose(np.exp(table).sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(table[0]), [1 / 4, 3 / 4])


def test_one_hot_and_embedding_next_category_models():
    one_hot = embeddings.next_category_model(7, "one-hot")
    embedded = embeddings.next_category_model(7, "embedding", 3)
    assert one_hot.count_params() == 7 * 7 + 7 and embedded.count_params() == 7 * 3 + 3 * 7 + 7
    assert one_hot(np.array([0, 6])).shape == embedded(np.array([0, 6])).shape == (2, 7)
    with pytest.raises(ValueError):
        embeddings.next_category_model(7, "embedding")
