"""Drawing the book's diagrams so that they stay legible on a phone.

A figure on the site is shown at its natural width (``width_in * dpi`` CSS pixels) or, when that is
wider than the article, shrunk to the article's width. At a 390 px wide phone the article is
:data:`PHONE_ARTICLE_PX` wide (the browser test measures it), so a text of ``size`` points in a
figure ``width_in`` inches wide is displayed at

    size * dpi / 72 * min(1, PHONE_ARTICLE_PX / (width_in * dpi)) CSS pixels  (x 0.75 for CSS points).

:func:`show` refuses a diagram whose smallest text would be displayed under :data:`MIN_DISPLAYED_PT`
and displays it as a PNG at twice its resolution, with a text alternative for screen readers.
:func:`box` and :func:`arrow` are the two shapes every diagram of the book is made of.
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text

PHONE_ARTICLE_PX = 358  # the article's width on a 390 px wide phone (tests/browser measures it)
MIN_DISPLAYED_PT = 9.0
CSS_PT_PER_PX = 0.75
RESOLUTION = 2  # PNG pixels per CSS pixel: sharp on high-density screens


def _drawn_width_in(fig: Figure) -> float:
    """Width of the saved figure in inches (saved with a tight bounding box, as Jupyter does)."""
    renderer = fig.canvas.get_renderer()
    return fig.get_tightbbox(renderer).width


def displayed_pt(fig: Figure, size: float, article_px: float = PHONE_ARTICLE_PX) -> float:
    """CSS points at which a `size`-point text of `fig` is displayed in an article `article_px` wide."""
    natural_px = _drawn_width_in(fig) * fig.dpi
    scale = min(1.0, article_px / natural_px)
    return size * fig.dpi / 72 * scale * CSS_PT_PER_PX


def small_texts(fig: Figure, min_pt: float = MIN_DISPLAYED_PT) -> list[tuple[str, float]]:
    """The visible texts of `fig` displayed under `min_pt` on a phone, with their displayed size."""
    fig.canvas.draw()
    hidden = set()  # the tick labels of an axis that is switched off are never drawn
    for ax in fig.axes:
        if not ax.axison:
            hidden |= {id(t) for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(Text)}
    found = []
    for text in fig.findobj(Text):
        if id(text) in hidden or not text.get_visible() or not text.get_text().strip():
            continue
        shown = displayed_pt(fig, text.get_fontsize())
        if shown < min_pt:
            found.append((text.get_text(), round(float(shown), 1)))
    return found


def png_output(fig: Figure, alt: str) -> tuple[dict, dict]:
    """The figure as Jupyter stores a 2x PNG: data and metadata (CSS size, text alternative)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi * RESOLUTION, bbox_inches="tight",
                metadata={"Software": None})
    png = buffer.getvalue()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<Figure: {alt}>"}
    metadata = {"image/png": {"width": width // RESOLUTION, "height": height // RESOLUTION, "alt": alt}}
    return data, metadata


def show(fig: Figure, alt: str) -> None:
    """Display diagram `fig` at 2x with the text alternative `alt`; refuse text too small on a phone."""
    if not isinstance(alt, str) or len(alt.split()) < 4:
        raise ValueError(f"a diagram needs a text alternative of a few words that says what it shows, not {alt!r}")
    too_small = small_texts(fig)
    if too_small:
        listed = ", ".join(f"{text!r} at {size} pt" for text, size in too_small[:5])
        raise ValueError(f"text under {MIN_DISPLAYED_PT} pt on a {PHONE_ARTICLE_PX} px wide article: {listed}; "
                         "make the figure narrower or the text larger")
    from IPython.display import display  # only where a diagram is shown

    data, metadata = png_output(fig, alt)
    plt.close(fig)  # shown once, here, not again by the inline backend
    display(data, raw=True, metadata=metadata)


def box(ax, xy: tuple[float, float], width: float, height: float, label: str = "", *, color: str = "#4C72B0",
        filled: bool = True, fontsize: float = 11, text_color: str | None = None, **text_kw) -> FancyBboxPatch:
    """A rounded box at lower-left corner `xy`, its label centred in it."""
    patch = FancyBboxPatch(xy, width, height, boxstyle="round,pad=0.02,rounding_size=0.08",
                           facecolor=color if filled else "white", edgecolor=color, linewidth=1.5,
                           alpha=0.9 if filled else 1.0)
    ax.add_patch(patch)
    if label:
        ax.text(xy[0] + width / 2, xy[1] + height / 2, label, ha="center", va="center", fontsize=fontsize,
                color=text_color or ("white" if filled else "black"), **text_kw)
    return patch


def arrow(ax, start: tuple[float, float], end: tuple[float, float], label: str = "", *, color: str = "black",
          fontsize: float = 10, curve: float = 0.0, style: str = "-|>", linestyle: str = "-",
          label_offset: tuple[float, float] = (0.0, 0.0), **text_kw) -> FancyArrowPatch:
    """An arrow from `start` to `end` (bent by `curve`), with an optional label at its middle."""
    patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color, linewidth=1.4,
                            linestyle=linestyle, connectionstyle=f"arc3,rad={curve}", shrinkA=2, shrinkB=2)
    ax.add_patch(patch)
    if label:
        middle = ((start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1])
        ax.text(*middle, label, ha="center", va="center", fontsize=fontsize, color=color, **text_kw)
    return patch


def canvas(width_in: float, height_in: float, xlim: tuple[float, float], ylim: tuple[float, float]):
    """A blank figure with one axis-free panel in data coordinates `xlim` x `ylim`."""
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    ax.set(xlim=xlim, ylim=ylim)
    ax.set_axis_off()
    return fig, ax
