import numpy as np
import pytest

from chapter_code import ch04_creative_rnn as char_rnn


@pytest.mark.parametrize("bad", [0, -0.5, float("nan"), float("inf"), "hot", None, "0.5", True, 1e-320])
def test_bad_temperatures_are_clear_errors(bad):
    with pytest.raises(ValueError, match="temperature"):
        char_rnn.sample_with_temperature(np.zeros(3), bad, np.random.default_rng(0))


def test_temperature_sharpens_and_flattens():
    logits = np.array([2.0, 1.0, 0.0])
    cold = char_rnn.softmax_with_temperature(logits, 0.1)
    warm = char_rnn.softmax_with_temperature(logits, 1.0)
    hot = char_rnn.softmax_with_temperature(logits, 100.0)
    assert cold[0] > 0.99 and abs(hot - 1 / 3).max() < 0.01
    np.testing.assert_allclose(warm, np.exp(logits) / np.exp(logits).sum())
    np.testing.assert_allclose(char_rnn.softmax_with_temperature(np.array([1000.0, 0.0]), 1.0), [1, 0])


def test_sampling_follows_the_distribution():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([0.7, 0.2, 0.1]))
    draws = [char_rnn.sample_with_temperature(logits, 1.0, rng) for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 4000, [0.7, 0.2, 0.1], atol=0.03)


def test_vocabulary_round_trip_and_unknown_characters():
    vocabulary = char_rnn.Vocabulary.from_text("hello world")
    assert len(vocabulary) == 8 and vocabulary.decode(vocabulary.encode("low")) == "low"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocabulary.encode("xyz")


def test_a_small_model_learns_a_repeating_text_and_generates_it():
    text = "abcd" * 400
    vocabulary = char_rnn.Vocabulary.from_text(text)
    ids = vocabulary.encode(text)
    model = char_rnn.CharModel(len(vocabulary), embedding_dim=8, units=16)
    log = char_rnn.train_char_model(model, ids, ids, seq_len=20, batch_size=8, epochs=3,
                                    learning_rate=0.02, steps_per_epoch=60)
    assert log.val_loss[-1] < 0.2 < np.log(4)  # uniform guessing costs log 4
    assert model.generate(vocabulary, "abc", 8, temperature=0.2) == "dabcdabc"
    with pytest.raises(ValueError):
        model.generate(vocabulary, "", 5, 1.0)
    with pytest.raises(ValueError):
        model.generate(vocabulary, "ab", 5, 0.0)


def test_a_tiny_temperature_that_overflows_the_logits_is_a_clear_error():
    # 1e-300 is a valid temperature, but 1e10 / 1e-300 is infinite: NaN probabilities before
    with pytest.raises(ValueError, match="logits / temperature is not finite"):
        char_rnn.sample_with_temperature(np.array([1e10, 0.0]), 1e-300, np.random.default_rng(0))
    assert char_rnn.sample_with_temperature(np.array([2.0, 1.0]), 1e-300, np.random.default_rng(0)) == 0


def test_ids_outside_the_vocabulary_do_not_decode():
    vocabulary = char_rnn.Vocabulary.from_text("abc")
    for bad in ([-1], [3], [0, 1, 99]):
        with pytest.raises(ValueError, match="outside 0..2"):
            vocabulary.decode(bad)  # -1 returned "c"
    assert vocabulary.decode(np.array([2, 0])) == "ca"


@pytest.mark.parametrize("length", [-5, 2.5, True, "3"])
def test_a_bad_generation_length_is_a_clear_error(length):
    model = char_rnn.CharModel(3, embedding_dim=2, units=2)
    vocabulary = char_rnn.Vocabulary.from_text("abc")
    with pytest.raises(ValueError, match="length"):
        model.generate(vocabulary, "ab", length, 1.0)  # -5 returned ''


def test_stream_batches_give_each_slot_consecutive_windows():
    ids = np.arange(2 * 31)  # two streams of 31 ids: three windows of 10 and their targets each
    batches = list(char_rnn.stream_batches(ids, seq_len=10, batch_size=2))
    assert len(batches) == 3
    for k, (x, y) in enumerate(batches):
        assert x.shape == y.shape == (2, 10)
        np.testing.assert_array_equal(x[0], np.arange(10 * k, 10 * k + 10))       # stream 0
        np.testing.assert_array_equal(x[1], 31 + np.arange(10 * k, 10 * k + 10))  # stream 1
        np.testing.assert_array_equal(y, x + 1)  # the next character of the same stream
    with pytest.raises(ValueError):
        list(char_rnn.stream_batches(np.arange(20), seq_len=10, batch_size=2))


def test_a_stateful_model_uses_the_state_it_carries():
    # "aab" repeated, read one character per window: after an "a", the next character depends on
    # the one before it, which only the carried state holds; from a zero state it is a coin toss.
    text = "aab" * 400
    vocabulary = char_rnn.Vocabulary.from_text(text)
    ids = vocabulary.encode(text)
    model = char_rnn.CharModel(len(vocabulary), embedding_dim=4, units=8)
    log = char_rnn.train_char_model_stateful(model, ids, ids, seq_len=1, batch_size=4, epochs=3,
                                             learning_rate=0.05)
    assert len(log.train_loss) == len(log.val_loss) == len(log.epoch_seconds) == 3
    carried = char_rnn.char_loss(model, ids, seq_len=1, batch_size=4, carry_state=True)
    assert carried == pytest.approx(log.val_loss[-1])
    zero_state = char_rnn.char_loss(model, ids, seq_len=1, batch_size=4, carry_state=False)
    assert carried < 0.1 and zero_state > 0.3  # a zero state cannot do better than (2/3) ln 2
