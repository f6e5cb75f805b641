import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.widgets import PNG_MAGIC, slider_views  # noqa: E402


def _links(box):
    return list(box.links)


def test_figures_become_png_images_in_a_linked_stack():
    figures = []
    for k in range(3):
        fig, ax = plt.subplots()
        ax.plot([0, k])
        figures.append(fig)
    box = slider_views(["a", "b", "c"], figures, description="k")
    controls, stack = box.children
    caption, slider = controls.children
    assert isinstance(caption, widgets.HTML) and caption.value == "<b>k</b>"
    assert isinstance(slider, widgets.SelectionSlider) and slider.description == ""
    assert isinstance(stack, widgets.Stack) and len(stack.children) == 3
    assert all(isinstance(c, widgets.Image) and bytes(c.value).startswith(PNG_MAGIC) for c in stack.children)
    assert slider.options == ("a", "b", "c") and slider.index == 0 and stack.selected_index == 0
    link = next(l for l in _links(box) if l.source[0] is slider)
    assert link.source == (slider, "index") and link.target == (stack, "selected_index")
    assert plt.get_fignums() == []  # figures are closed, so not shown twice


def test_html_views_and_play_button():
    box = slider_views(["x", "y"], ["<b>x</b>", "<i>y</i>"], play=True, initial=1)
    controls, stack = box.children
    player, slider = controls.children
    assert isinstance(player, widgets.Play) and player.max == 1 and player.value == 1
    assert stack.selected_index == 1 and stack.children[1].value == "<i>y</i>"
    ends = [(l.source[0], l.target[0]) for l in _links(box)]
    assert (player, slider) in ends and (slider, stack) in ends


@pytest.mark.parametrize("labels, views, error", [
    ([], [], "at least one"),
    (["a", "b"], ["<p>a</p>"], "2 labels but 1 views"),
    (["a", "a"], ["<p>a</p>", "<p>b</p>"], "distinct"),
])
def test_empty_or_mismatched_input_is_a_clear_error(labels, views, error):
    with pytest.raises(ValueError, match=error):
        slider_views(labels, views)


def test_unknown_view_type_and_bad_bytes():
    with pytest.raises(TypeError, match="must be a matplotlib Figure, PNG bytes or an HTML string"):
        slider_views(["a"], [42])
    with pytest.raises(ValueError, match="must be a PNG"):
        slider_views(["a"], [b"GIF89a"])
    with pytest.raises(ValueError, match="initial index"):
        slider_views(["a"], ["<p/>"], initial=3)


@pytest.mark.parametrize("arguments, error, message", [
    ({"play": True, "interval_ms": -5}, ValueError, "interval_ms"),
    ({"play": True, "interval_ms": 0}, ValueError, "interval_ms"),
    ({"play": True, "interval_ms": 2.5}, ValueError, "interval_ms"),
    ({"dpi": 0}, ValueError, "dpi"),
    ({"initial": -1}, ValueError, "initial"),
    ({"initial": True}, ValueError, "initial"),
])
def test_bad_player_and_image_settings_are_clear_errors(arguments, error, message):
    with pytest.raises(error, match=message):
        slider_views(["a", "b"], ["<p>a</p>", "<p>b</p>"], **arguments)


def test_a_string_is_not_a_sequence_of_labels_or_views():
    with pytest.raises(TypeError, match="labels must be a sequence"):
        slider_views("abc", ["<p>a</p>", "<p>b</p>", "<p>c</p>"])  # became three labels
    with pytest.raises(TypeError, match="views must be a sequence"):
        slider_views(["a"], "<p>a</p>")
