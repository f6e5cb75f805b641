import keras
import numpy as np
import pytest
import tensorflow as tf

from chapter_code import ch09_seq2seq as seq2seq

PAIRS = [
    ("I am here.", "Je suis là."), ("I am here.", "Je suis ici."), ("You are late!", "Tu es en retard !"),
    ("He's gone.", "Il est parti."), ("Go.", "Va !"), ("Go.", "Allez !"), ("I don't know.", "Je ne sais pas."),
    ("We won.", "Nous avons gagné."), ("Help me.", "Aide-moi."), ("I'm hungry.", "J'ai faim."),
    ("Stop!", "Arrête !"), ("Stop!", "Arrêtez !"), ("It's mine.", "C'est à moi."), ("Who is it?", "Qui est-ce ?"),
]


@pytest.fixture(scope="module")
def vocabularies():
    return seq2seq.Vocabularies.adapt(PAIRS)


@pytest.fixture(scope="module")
def batch(vocabularies):
    (source, decoder_input), target = next(iter(seq2seq.make_dataset(seq2seq.encode_pairs(vocabularies, PAIRS), 8)))
    return source, decoder_input, target


@pytest.fixture(scope="module")
def attention_model(vocabularies):
    keras.utils.set_random_seed(0)
    return seq2seq.Seq2Seq(vocabularies.source_size, vocabularies.target_size, 8, 16, attention=True)


def test_grouped_split_keeps_every_source_in_one_part_and_a_random_split_leaks():
    pairs = [(f"s{i % 30}", f"t{i}") for i in range(120)]  # 30 sources, 4 translations each
    split = seq2seq.grouped_split(pairs, (0.6, 0.2, 0.2), seed=1)
    parts = [{e for e, _ in part} for part in (split.train, split.validation, split.test)]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    assert sorted(split.train + split.validation + split.test) == sorted(pairs)
    assert seq2seq.source_leak(split.train, split.test) == 0
    assert seq2seq.grouped_split(pairs, (0.6, 0.2, 0.2), seed=1) == split  # seeded: the same split again
    naive = seq2seq.random_pair_split(pairs, (0.6, 0.2, 0.2), seed=1)
    assert seq2seq.source_leak(naive.train, naive.test) > 0.5
    sources, references = seq2seq.group_references(split.test)
    assert len(sources) == len(parts[2]) and all(len(r) == 4 for r in references)
    with pytest.raises(ValueError, match="fractions"):
        seq2seq.grouped_split(pairs, (0.8, 0.3, 0.1))


def test_vocabularies_encode_reversed_sources_and_shifted_targets(vocabularies):
    words = vocabularies.target_words
    assert words[:2] == ["", "[UNK]"] and seq2seq.GO in words and seq2seq.EOS in words
    encoded = seq2seq.encode_pairs(vocabularies, PAIRS[:1])
    source_words = vocabularies.source.get_vocabulary()
    assert [source_words[i] for i in encoded.source[0].numpy()] == [".", "here", "am", "i"]
    decoder_input, target = encoded.decoder_input[0].numpy(), encoded.decoder_target[0].numpy()
    assert decoder_input[0] == vocabularies.go_id and target[-1] == vocabularies.eos_id
    np.testing.assert_array_equal(decoder_input[1:], target[:-1])
    assert vocabularies.decode(target) == "je suis là."
    tokens = [words[i] for i in seq2seq.encode_pairs(vocabularies, [("x", "J'ai faim.")]).decoder_target[0].numpy()]
    assert tokens == ["j'", "ai", "faim", ".", seq2seq.EOS]


def test_bucketing_reduces_padding(vocabularies):
    pairs = [(" ".join(["go"] * n), " ".join(["va"] * n)) for n in [1, 9] * 20]
    encoded = seq2seq.encode_pairs(vocabularies, pairs)
    plain = seq2seq.padding_fraction(seq2seq.make_dataset(encoded, 8))
    bucketed = seq2seq.padding_fraction(seq2seq.make_dataset(encoded, 8, bucket_boundaries=[4]))
    assert plain > 0.3 and bucketed == 0.0
    with pytest.raises(ValueError, match="boundaries"):
        seq2seq.make_dataset(encoded, 8, bucket_boundaries=[5, 3])


def test_target_weights_equal_keras_masking(vocabularies, batch):
    source, decoder_input, target = batch
    assert (target.numpy() == 0).any()  # the batch holds padding
    keras.utils.set_random_seed(1)
    model = seq2seq.Seq2Seq(vocabularies.source_size, vocabularies.target_size, 8, 16, attention=False)
    logits = model.model([source, decoder_input])
    ours = float(seq2seq.masked_loss(target, logits))
    model.model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    keras_masked = model.model.evaluate((source, decoder_input), target, verbose=0)
    assert ours == pytest.approx(keras_masked, rel=1e-5)
    # explicit 0/1 weights give the same; Keras's sample_weight divides by all positions instead
    weights = tf.cast(target != 0, tf.float32)
    assert float(seq2seq.masked_loss(target, logits, weights)) == pytest.approx(ours, rel=1e-6)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weighted = float(loss(target, tf.convert_to_tensor(logits.numpy()), sample_weight=weights))
    assert weighted == pytest.approx(ours * float(tf.reduce_mean(weights)), rel=1e-5)


def test_one_step_decoding_matches_the_teacher_forced_model(attention_model, batch):
    source, decoder_input, _ = batch
    logits = attention_model.model([source, decoder_input]).numpy()
    outputs, state, mask = attention_model.encode(source)
    for t in range(3):
        step_logits, state, weights = attention_model.step(decoder_input[:, t], state, outputs, mask)
        np.testing.assert_allclose(step_logits.numpy(), logits[:, t], atol=1e-5)
        np.testing.assert_allclose(weights.numpy().sum(-1), 1, atol=1e-5)
        assert np.all(weights.numpy()[~mask.numpy()] < 1e-6)  # no attention on padding


def test_beam_width_one_is_greedy_and_bad_widths_raise(vocabularies, attention_model, batch):
    source = batch[0].numpy()
    args = (attention_model, source, vocabularies.go_id, vocabularies.eos_id)
    greedy = seq2seq.greedy_decode(*args, max_length=6)
    assert seq2seq.beam_search_decode(*args, beam_width=1, max_length=6) == greedy
    assert len(seq2seq.beam_search_decode(*args, beam_width=3, max_length=6)) == len(source)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="beam_width"):
            seq2seq.beam_search_decode(*args, beam_width=bad)
    weights = seq2seq.attention_weights(attention_model, source[0][source[0] != 0], greedy[0], vocabularies.go_id)
    assert weights.shape == (len(greedy[0]) + 1, (source[0] != 0).sum())


@pytest.mark.parametrize("penalty", [float("nan"), float("inf"), -1.0, "1", True])
def test_a_meaningless_length_penalty_is_a_clear_error(vocabularies, attention_model, batch, penalty):
    args = (attention_model, batch[0].numpy(), vocabularies.go_id, vocabularies.eos_id)
    with pytest.raises(ValueError, match="length_penalty"):
        seq2seq.beam_search_decode(*args, beam_width=2, max_length=3, length_penalty=penalty)


def test_length_penalty_zero_ranks_by_raw_log_probability(vocabularies, attention_model, batch):
    args = (attention_model, batch[0].numpy(), vocabularies.go_id, vocabularies.eos_id)
    assert len(seq2seq.beam_search_decode(*args, beam_width=2, max_length=3, length_penalty=0)) == len(batch[0])


@pytest.mark.parametrize("decode", [seq2seq.greedy_decode, seq2seq.beam_search_decode])
@pytest.mark.parametrize("changes, message", [
    ({"max_length": 0}, "max_length"),  # ended in a TensorFlow graph error
    ({"max_length": -3}, "max_length"),
    ({"max_length": 2.0}, "max_length"),
    ({"batch_size": 0}, "batch_size"),
    ({"go_id": -1}, "go_id"),
    ({"eos_id": 10**6}, "eos_id"),
])
def test_bad_decoding_arguments_are_clear_errors(vocabularies, attention_model, batch, decode, changes, message):
    arguments = dict(go_id=vocabularies.go_id, eos_id=vocabularies.eos_id) | changes
    with pytest.raises(ValueError, match=message):
        decode(attention_model, batch[0].numpy(), **arguments)


def test_source_ids_outside_the_vocabulary_are_clear_errors(vocabularies, attention_model, batch):
    source = batch[0].numpy().copy()
    source[0, 0] = -1  # an embedding lookup wraps -1 to the last word
    for decode in (seq2seq.greedy_decode, seq2seq.beam_search_decode):
        with pytest.raises(ValueError, match="source holds ids outside"):
            decode(attention_model, source, vocabularies.go_id, vocabularies.eos_id)
    with pytest.raises(ValueError, match="source must be a 2-D"):
        seq2seq.greedy_decode(attention_model, source[0], vocabularies.go_id, vocabularies.eos_id)


def test_beam_width_has_a_documented_maximum(vocabularies):
    assert seq2seq.check_beam_width(seq2seq.MAX_BEAM_WIDTH) == seq2seq.MAX_BEAM_WIDTH
    with pytest.raises(ValueError, match="beam_width must be <= 256"):
        seq2seq.check_beam_width(10**9)
    size = vocabularies.target_size  # beyond the first words a translation can have
    assert seq2seq.check_beam_width(size - 3, size) == size - 3
    with pytest.raises(ValueError, match="words a translation can start with"):
        seq2seq.check_beam_width(size - 2, size)


def test_attention_and_decoding_reject_ids_that_would_wrap(vocabularies, attention_model, batch):
    source = batch[0].numpy()[0]
    source = source[source != 0]
    go = vocabularies.go_id
    with pytest.raises(ValueError, match="source_ids holds ids outside"):
        seq2seq.attention_weights(attention_model, [-1, *source], [2, 3], go)
    with pytest.raises(ValueError, match="output_ids holds ids outside"):
        seq2seq.attention_weights(attention_model, source, [2, -1], go)
    with pytest.raises(ValueError, match="output_ids holds ids outside"):
        seq2seq.attention_weights(attention_model, source, [vocabularies.target_size], go)
    with pytest.raises(ValueError, match="target id -1"):
        vocabularies.decode([-1])  # indexed the last word


def test_a_tiny_model_learns_its_translations(vocabularies, batch):
    source, decoder_input, target = batch
    keras.utils.set_random_seed(2)
    model = seq2seq.Seq2Seq(vocabularies.source_size, vocabularies.target_size, 16, 32, attention=True)
    step = seq2seq.make_train_step(model, keras.optimizers.Adam(0.02), "sampled", num_sampled=8)
    losses = [float(step(source, decoder_input, target)) for _ in range(60)]
    assert losses[-1] < 0.2 * losses[0]
    full = float(seq2seq.masked_loss(target, model.model([source, decoder_input])))
    assert full < 0.5  # trained on the sampled estimate, the full softmax loss fell too
    with pytest.raises(ValueError, match="softmax"):
        seq2seq.make_train_step(model, keras.optimizers.Adam(), "hierarchical")
    with pytest.raises(ValueError, match="num_sampled"):
        seq2seq.make_train_step(model, keras.optimizers.Adam(), "sampled", num_sampled=10**6)


def test_bleu_with_several_references():
    assert seq2seq.corpus_bleu(["Je suis là."], [["Je suis là."]]) == pytest.approx(100)
    # lower-cased, 13a tokenisation; any one reference of a sentence may match
    assert seq2seq.corpus_bleu(["je suis ici .", "Va !"], [["Je suis là.", "Je suis ici."], ["Va !"]]) \
        == pytest.approx(100)
    assert seq2seq.corpus_bleu(["le chien dort dans la maison"], [["je suis là ."]]) < 5
    with pytest.raises(ValueError):
        seq2seq.corpus_bleu(["a"], [["a"], ["b"]])
    with pytest.raises(ValueError):
        seq2seq.corpus_bleu(["a"], [[]])


def test_detokenize_round_trips_for_bleu(vocabularies):
    text = "C'est à moi."
    ids = seq2seq.encode_pairs(vocabularies, [("x", text)]).decoder_target[0].numpy()
    assert vocabularies.decode(ids) == "c'est à moi."
    assert seq2seq.corpus_bleu([vocabularies.decode(ids)], [[text]]) == pytest.approx(100)


def test_copy_baseline_finds_exact_and_nearest_sources():
    answers = seq2seq.nearest_train_translation(PAIRS, ["I am here.", "You are very late!", "Who is that?"])
    assert answers == ["Je suis là.", "Tu es en retard !", "Qui est-ce ?"]


def test_written_out_sampled_loss_is_tensorflows_for_the_same_draw(vocabularies, batch):
    source, decoder_input, target = batch
    keras.utils.set_random_seed(3)
    model = seq2seq.Seq2Seq(vocabularies.source_size, vocabularies.target_size, 8, 16, attention=True)
    features = model.features_model([source, decoder_input])
    # with most of the small vocabulary drawn, some candidates hit the true word: they must be removed
    draw = seq2seq.draw_candidates(target, vocabularies.target_size - 4, vocabularies.target_size, seed=1)
    assert draw[1].shape == target.shape
    real = tf.not_equal(target, 0)
    labels = tf.cast(tf.boolean_mask(target, real), tf.int32)
    assert bool(tf.reduce_any(tf.equal(labels[:, None], draw[0][None, :])))
    ours = float(seq2seq.sampled_loss_given(model.projection, features, target, *draw))
    theirs = tf.nn.sampled_softmax_loss(
        weights=model.projection.kernel, biases=model.projection.bias,
        labels=tf.cast(labels, tf.int64)[:, None], inputs=tf.boolean_mask(features, real),
        num_sampled=vocabularies.target_size - 4, num_classes=vocabularies.target_size,
        sampled_values=(tf.cast(draw[0], tf.int64), tf.boolean_mask(draw[1], real)[:, None], draw[2]))
    assert ours == pytest.approx(float(tf.reduce_mean(theirs)), rel=1e-5)


def test_fixed_shapes_give_one_shape_per_bucket_and_weightless_padding_rows(vocabularies):
    pairs = [(" ".join(["go"] * n), " ".join(["va"] * m)) for n, m in [(1, 2), (2, 1), (7, 8), (9, 7), (3, 3)] * 5]
    encoded = seq2seq.encode_pairs(vocabularies, pairs)
    batches = list(seq2seq.make_dataset(encoded, 4, bucket_boundaries=[4], fixed_shapes=True))
    shapes = {(tuple(s.shape), tuple(i.shape), tuple(o.shape)) for (s, i), o in batches}
    # two buckets: length < 4 (padded to 3) and 4 .. the longest (9 English words), padded to 9
    assert shapes == {((4, 3), (4, 3), (4, 3)), ((4, 9), (4, 9), (4, 9))}
    rows = sum(int(tf.reduce_sum(tf.cast(tf.reduce_any(o != 0, axis=1), tf.int32))) for _, o in batches)
    assert rows == len(pairs)  # the added rows are all padding, so the loss weighs them 0
    with pytest.raises(ValueError, match="fixed_shapes"):
        seq2seq.make_dataset(encoded, 4, fixed_shapes=True)


@pytest.mark.parametrize("buckets", [None, [3, 5]])
def test_every_pair_comes_out_once_padded_to_its_batch(vocabularies, buckets):
    """The pipeline gathers rows by sentence number: each pair appears exactly once, whole, and a
    batch is as wide as its longest source (sources) and its longest target (decoder sides)."""
    encoded = seq2seq.encode_pairs(vocabularies, PAIRS)
    expected = sorted((tuple(encoded.source[k].numpy()), tuple(encoded.decoder_input[k].numpy()),
                       tuple(encoded.decoder_target[k].numpy())) for k in range(len(encoded)))
    seen = []
    for (source, decoder_input), target in seq2seq.make_dataset(encoded, 4, buckets, shuffle_seed=3):
        source, decoder_input, target = source.numpy(), decoder_input.numpy(), target.numpy()
        assert source.dtype == decoder_input.dtype == target.dtype == np.int32
        source_lengths, target_lengths = (source != 0).sum(1), (target != 0).sum(1)
        assert source.shape[1] == source_lengths.max() and target.shape[1] == target_lengths.max()
        assert decoder_input.shape == target.shape
        seen += [(tuple(s[:n]), tuple(i[:m]), tuple(o[:m]))
                 for s, i, o, n, m in zip(source, decoder_input, target, source_lengths, target_lengths)]
    assert sorted(seen) == expected


@pytest.mark.parametrize("jit_compile", [False, True])
def test_both_steps_learn_and_update_false_changes_nothing(vocabularies, batch, jit_compile):
    source, decoder_input, target = batch
    keras.utils.set_random_seed(2)
    model = seq2seq.Seq2Seq(vocabularies.source_size, vocabularies.target_size, 16, 32, attention=True)
    frozen = seq2seq.make_train_step(model, keras.optimizers.Adam(0.02), "sampled", num_sampled=8,
                                     jit_compile=jit_compile, update=False)
    before = [v.numpy().copy() for v in model.trainable_variables]
    frozen(source, decoder_input, target)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.trainable_variables))
    step = seq2seq.make_train_step(model, keras.optimizers.Adam(0.02), "sampled", num_sampled=8,
                                   jit_compile=jit_compile)
    losses = [float(step(source, decoder_input, target)) for _ in range(40)]
    assert losses[-1] < 0.3 * losses[0]


def test_paired_bootstrap_bleu():
    references = [["je suis là ."], ["il est parti ."], ["va !"], ["nous avons gagné ."]] * 5
    good = [r[0] for r in references]
    poor = ["je suis ici .", "il part .", "allez !", "on a gagné ."] * 5
    same = seq2seq.paired_bootstrap_bleu(good, good, references, resamples=50)
    assert same == (0.0, 0.0, 0.0)
    gain, low, high = seq2seq.paired_bootstrap_bleu(good, poor, references, resamples=200)
    assert gain == pytest.approx(seq2seq.corpus_bleu(good, references) - seq2seq.corpus_bleu(poor, references))
    assert 0 < low <= gain <= high
    with pytest.raises(ValueError):
        seq2seq.paired_bootstrap_bleu(good, poor[:3], references)
