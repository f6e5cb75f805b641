import pytest

from utils import profile


def test_default_is_full_for_a_reader(monkeypatch):
    monkeypatch.delenv(profile.PROFILE_ENV, raising=False)
    assert profile.current_profile() == "full"


def test_profile_from_the_environment(monkeypatch):
    monkeypatch.setenv(profile.PROFILE_ENV, " Smoke ")
    assert profile.current_profile() == "smoke"
    assert profile.chapter_sizes("01_bptt").profile == "smoke"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profile.PROFILE_ENV, "fast")
    with pytest.raises(profile.ProfileError, match="'fast' is not a profile; use one of smoke, full"):
        profile.current_profile()
    with pytest.raises(profile.ProfileError, match="unknown profile"):
        profile.chapter_sizes("01_bptt", "medium")


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(profile.ProfileError, match="no sizes declared"):
        profile.chapter_sizes("99_nothing", "full")


@pytest.mark.parametrize("chapter", sorted(profile.CHAPTER_SIZES))
def test_both_profiles_declare_the_same_sizes(chapter):
    smoke = profile.chapter_sizes(chapter, "smoke")
    full = profile.chapter_sizes(chapter, "full")
    assert set(smoke) == set(full)


def test_sizes_are_read_only_and_attribute_access_works():
    sizes = profile.chapter_sizes("01_bptt", "full")
    assert sizes.echo_lag == sizes["echo_lag"]
    with pytest.raises(TypeError):
        sizes["echo_lag"] = 3  # type: ignore[index]
    with pytest.raises(AttributeError, match="no size named"):
        sizes.epochs
