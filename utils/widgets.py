"""Kernel-free interactive views: a slider over precomputed figures or HTML.

Every view is rendered in Python beforehand (a PNG in an ``Image`` or an ``HTML``
widget) and put in a ``Stack``; the slider's ``index`` is linked to the Stack's
``selected_index`` with ``jslink``, so switching happens in the browser. The same cell
works in a live Jupyter/Colab kernel and in the static site with no kernel at all.
"""

from __future__ import annotations

import html
import io
import numbers
from typing import Sequence, Union

import ipywidgets as widgets

try:  # matplotlib is optional for HTML-only views
    from matplotlib.figure import Figure
except ImportError:  # pragma: no cover
    Figure = None  # type: ignore[assignment,misc]

View = Union["Figure", str, bytes]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def figure_png(fig: "Figure", dpi: int = 80) -> bytes:
    """PNG bytes of a matplotlib figure, which is then closed (so it is not shown twice)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _view_widget(label: str, view: View, dpi: int) -> widgets.Widget:
    if Figure is not None and isinstance(view, Figure):
        view = figure_png(view, dpi)
    if isinstance(view, bytes):
        if not view.startswith(PNG_MAGIC):
            raise ValueError(f"view {label!r}: bytes must be a PNG image")
        return widgets.Image(value=view, format="png", layout=widgets.Layout(max_width="100%"))
    if isinstance(view, str):
        return widgets.HTML(value=view)
    raise TypeError(f"view {label!r} must be a matplotlib Figure, PNG bytes or an HTML string, "
                    f"not {type(view).__name__}")


def slider_views(labels: Sequence[str], views: Sequence[View], description: str = "",
                 play: bool = False, interval_ms: int = 1200, dpi: int = 80,
                 initial: int = 0) -> widgets.VBox:
    """A slider (and optional Play button) that switches between precomputed views.

    `labels[i]` names `views[i]`; each view is a matplotlib Figure, PNG bytes or HTML.
    The returned box's ``links`` attribute holds its ``jslink`` objects.
    """
    for name, value in (("labels", labels), ("views", views)):
        if isinstance(value, (str, bytes)):  # "abc" would become three labels
            raise TypeError(f"slider_views {name} must be a sequence, not one {type(value).__name__}")
    for name, value, minimum in (("interval_ms", interval_ms, 1), ("dpi", dpi, 1), ("initial", initial, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"slider_views {name} must be an integer >= {minimum}, got {value!r}")
    labels, views = list(labels), list(views)
    if not labels or not views:
        raise ValueError("slider_views needs at least one label and one view")
    if len(labels) != len(views):
        raise ValueError(f"slider_views got {len(labels)} labels but {len(views)} views")
    if len(set(map(str, labels))) != len(labels):
        raise ValueError(f"slider_views labels must be distinct: {labels}")
    if not 0 <= initial < len(views):
        raise ValueError(f"initial index {initial} is outside 0..{len(views) - 1}")
    stack = widgets.Stack([_view_widget(str(l), v, dpi) for l, v in zip(labels, views)],
                          selected_index=initial)
    # No `description=`: the static widget manager typesets descriptions with the MathJax 2
    # API, which fails on pages that load MathJax 3. A plain HTML caption is not typeset.
    slider = widgets.SelectionSlider(options=[str(l) for l in labels], index=initial,
                                     continuous_update=True, layout=widgets.Layout(width="380px"))
    links = [widgets.jslink((slider, "index"), (stack, "selected_index"))]
    controls: list[widgets.Widget] = [slider]
    if description:
        controls.insert(0, widgets.HTML(f"<b>{html.escape(description)}</b>"))
    if play:
        player = widgets.Play(min=0, max=len(views) - 1, step=1, value=initial,
                              interval=interval_ms)
        links.append(widgets.jslink((player, "value"), (slider, "index")))
        controls.insert(len(controls) - 1, player)
    box = widgets.VBox([widgets.HBox(controls), stack])
    box.add_class("rnnbook-slider-views")
    box.links = tuple(links)  # the browser-side links, for inspection
    return box
