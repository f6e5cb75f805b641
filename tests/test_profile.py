import re

import nbformat
import pytest

from utils import profile
from utils.paths import CHAPTERS_DIR


def test_default_is_full_for_a_reader(monkeypatch):
    monkeypatch.delenv(profile.PROFILE_ENV, raising=False)
    assert profile.current_profile() == "full"


def test_profile_from_the_environment(monkeypatch):
    monkeypatch.setenv(profile.PROFILE_ENV, " Smoke ")
    assert profile.current_profile() == "smoke"
    assert profile.chapter_settings("01_bptt").profile == "smoke"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profile.PROFILE_ENV, "fast")
    with pytest.raises(profile.ProfileError, match="RNNBOOK_PROFILE='fast': 'fast' is not a profile; "
                                                   "use one of smoke, full"):
        profile.current_profile()
    with pytest.raises(profile.ProfileError, match="'medium' is not a profile; use one of smoke, full"):
        profile.chapter_settings("01_bptt", "medium")


@pytest.mark.parametrize("value", ["", " ", "\t\n"])
def test_a_blank_profile_variable_is_an_error_not_the_full_run(monkeypatch, value):
    monkeypatch.setenv(profile.PROFILE_ENV, value)
    with pytest.raises(profile.ProfileError, match="an empty name is not a profile"):
        profile.current_profile()


@pytest.mark.parametrize("value", ["SMOKE", " Smoke ", "smoke"])
def test_one_parser_accepts_the_same_names_everywhere(monkeypatch, value):
    assert profile.parse_profile(value) == "smoke"
    assert profile.chapter_settings("01_bptt", value).profile == "smoke"
    monkeypatch.setenv(profile.PROFILE_ENV, value)
    assert profile.current_profile() == "smoke"


@pytest.mark.parametrize("value", [None, 1, b"smoke"])
def test_a_profile_name_must_be_a_string(value):
    with pytest.raises(profile.ProfileError, match="must be a string"):
        profile.parse_profile(value)


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(profile.ProfileError, match="no settings file for chapter '99_nothing'"):
        profile.chapter_settings("99_nothing", "full")


NOTEBOOKS = sorted(p.stem for p in CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_has_one_settings_file_and_every_file_a_chapter():
    assert sorted(p.stem for p in CHAPTERS_DIR.glob("*.toml")) == NOTEBOOKS


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_each_settings_file_is_complete_and_read_by_its_notebook_alone(chapter):
    data = profile.read_settings_file(chapter)
    assert set(data["smoke"]) == set(data["full"])
    assert set(profile.chapter_settings(chapter, "smoke")) == set(data["full"])
    assert profile.budget_seconds(chapter, "smoke") < profile.budget_seconds(chapter, "full")
    code = "\n".join(c.source for c in nbformat.read(CHAPTERS_DIR / f"{chapter}.ipynb", as_version=4).cells
                     if c.cell_type == "code")
    assert code.count(f'chapter_settings("{chapter}")') == 1  # the notebook names itself once
    assert not re.search(r'chapter_settings\("(?!' + chapter + r'")', code)
    used = set(re.findall(r"\bsettings\.([a-z_0-9]+)", code)) - {"profile", "chapter"}
    assert used <= set(data["full"]), f"{chapter} reads settings its file lacks: {used - set(data['full'])}"
    assert set(data["full"]) <= used, f"{chapter}.toml sets values its notebook never reads: {set(data['full']) - used}"


@pytest.mark.parametrize("bad, message", [
    ("[smoke]\na = 1\n[full]\na = 2\n", "lacks the table"),
    ("[budget_seconds]\nsmoke = 1\nfull = 2\n[smoke]\na = 1\n[full]\nb = 2\n", "same keys; only in one: a, b"),
    ("[budget_seconds]\nsmoke = 1\nfull = 2\n[smoke]\na = 1\n[full]\na = 2\n[meaning]\nb = 'x'\n",
     "explains settings it does not set: b"),
    ("[budget_seconds]\nsmoke = 0\nfull = 2\n[smoke]\na = 1\n[full]\na = 2\n", "positive smoke and full"),
    ("[budget_seconds]\nsmoke = 1\nfull = 2\n[smoke]\na = 1\n[full]\na = 2\n[sizes]\n", "unknown table"),
    ("[smoke\n", "not valid TOML"),
])
def test_a_broken_settings_file_is_a_clear_error(tmp_path, bad, message):
    (tmp_path / "77_demo.toml").write_text(bad)
    with pytest.raises(profile.ProfileError, match=message):
        profile.read_settings_file("77_demo", tmp_path)


def test_settings_are_read_only_all_means_no_limit_and_lists_are_tuples(tmp_path, monkeypatch):
    (tmp_path / "77_demo.toml").write_text(
        "[budget_seconds]\nsmoke = 1\nfull = 2\n[meaning]\nlimit = 'how many'\n"
        "[smoke]\nlimit = 10\nlengths = [1, 2]\nper_cell = { lstm = 1 }\n"
        "[full]\nlimit = 'all'\nlengths = [1, 2, 3]\nper_cell = { lstm = 3 }\n")
    monkeypatch.setattr(profile, "CHAPTERS_DIR", tmp_path)
    monkeypatch.setattr(profile.settings_path, "__defaults__", (tmp_path,))
    monkeypatch.setattr(profile.read_settings_file, "__defaults__", (tmp_path,))
    full = profile.chapter_settings("77_demo", "full")
    assert full.limit is None and full.lengths == (1, 2, 3) and full["per_cell"]["lstm"] == 3
    with pytest.raises(TypeError):
        full["limit"] = 3  # type: ignore[index]
    with pytest.raises(TypeError):
        full.per_cell["lstm"] = 4
    with pytest.raises(AttributeError, match="no setting named 'epochs'"):
        full.epochs
    table = profile.chapter_settings("77_demo", "smoke")._repr_markdown_()
    assert "| `limit` | **10** | all | how many |" in table and "**smoke** (running)" in table


def test_settings_refuse_assignment_and_say_how_to_change_a_value():
    settings = profile.chapter_settings("06_dropout", "smoke")
    before = settings["epochs"]
    with pytest.raises(AttributeError, match=r"read-only: to change 'epochs', edit chapters/06_dropout.toml "
                                             r"or pass it to chapter_settings\('06_dropout', epochs=...\)"):
        settings.epochs = before + 2
    with pytest.raises(AttributeError, match="read-only"):
        del settings.epochs
    with pytest.raises(TypeError):
        settings["epochs"] = 3  # a Mapping has no item assignment
    assert settings.epochs == settings["epochs"] == before
    first = next(iter(settings))
    assert f'`chapter_settings("06_dropout", {first}=...)`' in settings._repr_markdown_()


def test_an_override_changes_one_run_and_is_marked_in_the_table():
    settings = profile.chapter_settings("06_dropout", "smoke", epochs=3)
    assert settings.epochs == settings["epochs"] == 3
    table = settings._repr_markdown_()
    assert "**3** (changed here)" in table
    untouched = profile.chapter_settings("06_dropout", "smoke")
    assert "(changed here)" not in untouched._repr_markdown_()


def test_an_override_must_name_a_setting_and_keep_its_kind():
    with pytest.raises(profile.ProfileError, match="06_dropout has no setting named 'epoch'"):
        profile.chapter_settings("06_dropout", "smoke", epoch=3)
    with pytest.raises(profile.ProfileError, match="epochs must be a number"):
        profile.chapter_settings("06_dropout", "smoke", epochs="3")
