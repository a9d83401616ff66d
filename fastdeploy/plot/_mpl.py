"""matplotlib, imported on first use, and the figure conventions every plot shares.

Plots are drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot,
no global backend switch, no window, so plotting works the same in scripts, tests,
notebooks (a Figure displays itself there) and on machines without a display.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = "plots need matplotlib: pip install 'fastdeploy[plot]' (or pip install matplotlib)"
FORMATS = ("png", "svg", "pdf")
DPI = 150

# Colours (matplotlib's tab10, named by role so every plot uses them alike).
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                          "#9467bd", "#7f7f7f")
STYLE = {
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}


class MatplotlibMissing(ImportError):
    """matplotlib is not installed (the ``plot`` extra)."""


def matplotlib():
    """The matplotlib module, or MatplotlibMissing with the install command."""
    try:
        import matplotlib as mpl
    except ImportError:
        raise MatplotlibMissing(INSTALL_HINT) from None
    return mpl


@contextmanager
def style():
    """The shared rc settings, for the duration of one plot only."""
    mpl = matplotlib()
    with mpl.rc_context(STYLE):
        yield


def figure(width: float = 8.0, height: float = 4.5, **subplots):
    """(Figure, axes) on an Agg canvas; ``subplots`` go to ``Figure.subplots``."""
    matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(**subplots)


def wrap(text: str, fig, share: float = 1.0) -> str:
    """``text`` broken into lines that fit ``share`` of the figure's width at the title
    font size (about 8 bold characters per inch at 12 pt)."""
    import textwrap

    width = max(20, int(fig.get_size_inches()[0] * share * 8.3))
    return "\n".join(textwrap.wrap(text, width)) if len(text) > width else text


def output_format(path) -> str:
    """The file format named by ``path``'s suffix; ValueError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path}: the file name must end in "
                         f"{', '.join('.' + f for f in FORMATS)} (got {suffix or 'no suffix'!r})")
    return suffix


def save(fig, path) -> Path:
    """Write ``fig`` to ``path`` (.png, .svg or .pdf, by the suffix); returns the path."""
    path = Path(path)
    fmt = output_format(path)
    metadata = {"png": {"Software": None}, "svg": {"Date": None},
                "pdf": {"CreationDate": None}}[fmt]
    # SVG text stays text (searchable, selectable, smaller), not glyph outlines.
    with matplotlib().rc_context({"svg.fonttype": "none", "svg.hashsalt": "fastdeploy"}):
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)
    return path


def finish(fig, out):
    """Save ``fig`` to ``out`` when given; return the figure."""
    if out is not None:
        save(fig, out)
    return fig


def log_axis(ax, which: str) -> None:
    """Log scale on ``ax``'s ``"x"`` or ``"y"`` axis with plain tick labels at 1, 2 and
    5 x 10^k (0.5, 1, 2, 5, 10 rather than 10^0, 10^1)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from .labels import fmt

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt(v)))
    axis.set_minor_formatter(NullFormatter())
