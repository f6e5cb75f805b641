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
    with pytest.raises(profile.ProfileError, match="RNNBOOK_PROFILE='fast': 'fast' is not a profile; "
                                                   "use one of smoke, full"):
        profile.current_profile()
    with pytest.raises(profile.ProfileError, match="'medium' is not a profile; use one of smoke, full"):
        profile.chapter_sizes("01_bptt", "medium")


@pytest.mark.parametrize("value", ["", " ", "\t\n"])
def test_a_blank_profile_variable_is_an_error_not_the_full_run(monkeypatch, value):
    monkeypatch.setenv(profile.PROFILE_ENV, value)
    with pytest.raises(profile.ProfileError, match="an empty name is not a profile"):
        profile.current_profile()


@pytest.mark.parametrize("value", ["SMOKE", " Smoke ", "smoke"])
def test_one_parser_accepts_the_same_names_everywhere(monkeypatch, value):
    assert profile.parse_profile(value) == "smoke"
    assert profile.chapter_sizes("01_bptt", value).profile == "smoke"
    monkeypatch.setenv(profile.PROFILE_ENV, value)
    assert profile.current_profile() == "smoke"


@pytest.mark.parametrize("value", [None, 1, b"smoke"])
def test_a_profile_name_must_be_a_string(value):
    with pytest.raises(profile.ProfileError, match="must be a string"):
        profile.parse_profile(value)


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
