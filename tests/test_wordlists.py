import pytest

from utils.wordlists import displayable


@pytest.mark.parametrize("word", ["retarded", "Retarded"])
def test_a_word_of_the_list_is_not_displayed(word):
    assert not displayable(word)


@pytest.mark.parametrize("word", ["eat", "drink", "oysters", "snails", "romeo", "king", "night"])
def test_ordinary_words_are_displayed(word):
    assert displayable(word)


def test_only_words():
    with pytest.raises(TypeError):
        displayable(3)
