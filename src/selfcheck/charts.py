"""Charts: one seaborn theme, a CJK font shipped with the dependencies, fixed size and resolution.

The font is Noto Sans CJK SC from the ``mplfonts`` package (installed with the
project, no system font assumed). A glyph missing from the font raises
:class:`MissingGlyphError` when the figure is saved, so a report never shows boxes.
Colours: one blue palette for everything; red only marks what falls short.

Backend: batch runs (the runner, its fork server, tests, scripts) draw with Agg, headless.
A notebook kernel keeps the backend ipykernel chose (``matplotlib_inline``), so
``plt.show()`` displays inline in JupyterLab; saving is the same Agg rendering either way,
so the PNG files do not depend on where the notebook ran.
"""

from __future__ import annotations

import io
import sys
import warnings
from importlib import resources
from pathlib import Path

import matplotlib


def _in_kernel() -> bool:
    """Inside a running IPython kernel (not merely with ipykernel imported, as in the fork
    server, whose forked batch kernels keep Agg)."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


if not _in_kernel():
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from selfcheck.metrics.base import UNITS  # noqa: E402


def show_inline() -> None:
    """In a notebook kernel of the analyst's (not a batch run) draw with the inline backend,
    so ``plt.show()`` displays: an inherited ``MPLBACKEND=Agg`` (set for batch kernels) or
    a module imported before the kernel started must not leave JupyterLab without plots."""
    if not _in_kernel():
        return
    current = matplotlib.rcParams._get_backend_or_none()  # type: ignore[attr-defined]
    if current is not None and "inline" in current:
        return
    from IPython import get_ipython

    try:
        get_ipython().enable_matplotlib("inline")  # as %matplotlib inline
    except Exception:  # no matplotlib_inline: plots are still saved, only not shown
        return


FONT_FILE = "NotoSansCJKsc-Regular.otf"
FONT_FAMILY = "Noto Sans CJK SC"
DPI = 200
WIDTH_IN = 6.3  # 16 cm: the figure is placed at this width in Word, so text keeps its size
HEIGHT_IN = 3.4

PRIMARY = "#2F5597"  # main series
SECONDARY = "#8FAADC"  # comparison series (previous quarter, second window)
NEUTRAL = "#A6A6A6"  # reference lines, targets
SHORTFALL = "#C00000"  # red: only for what falls short of its target
PALETTE = [PRIMARY, SECONDARY, "#548235", "#BF9000", "#7030A0", NEUTRAL]


class MissingGlyphError(RuntimeError):
    """A character of a chart's text is not in the CJK font (it would print as a box)."""


_ready = False


def font_path() -> Path:
    path = Path(str(resources.files("mplfonts") / "fonts" / FONT_FILE))
    if not path.exists():
        raise FileNotFoundError(f"CJK font missing from the mplfonts package: {path}")
    return path


def setup() -> None:
    """Register the CJK font and apply the theme (idempotent)."""
    global _ready
    if _ready:
        return
    font_manager.fontManager.addfont(str(font_path()))
    sns.set_theme(
        context="paper",
        style="whitegrid",
        palette=PALETTE,
        font=FONT_FAMILY,
        rc={
            "font.family": "sans-serif",
            "font.sans-serif": [FONT_FAMILY],
            "axes.unicode_minus": False,
            "figure.dpi": 100,
            "savefig.dpi": DPI,
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "axes.edgecolor": "#BFBFBF",
            "grid.color": "#E7E6E6",
            "svg.hashsalt": "selfcheck",
        },
    )
    _ready = True


def figure(height_in: float = HEIGHT_IN, ncols: int = 1):
    """A new figure at the report's fixed width."""
    setup()
    fig, ax = plt.subplots(1, ncols, figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, ax


TIGHT_PAD_IN = 0.08  # margin kept around a figure whose text would not fit its canvas


def render(fig) -> bytes:
    """The figure as PNG bytes at the fixed resolution; a missing glyph is an error, not a box.

    A figure without a layout engine (one an analyst made with ``plt.subplots()``) is laid
    out with the constrained engine first; if its text still reaches outside the canvas
    (a very long label), it is saved with a tight bounding box and a fixed pad, so nothing
    is cut. The result depends only on the figure, never on the time or the backend.
    """
    setup()
    options: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if fig.get_layout_engine() is None:
            fig.set_layout_engine("constrained")
            if not _fits(fig):
                options = {"bbox_inches": "tight", "pad_inches": TIGHT_PAD_IN}
        buffer = io.BytesIO()
        fig.savefig(buffer, dpi=DPI, format="png", metadata={"Software": None}, **options)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    if missing:
        plt.close(fig)
        raise MissingGlyphError("图表文字中有字体不支持的字符：" + "; ".join(missing))
    for w in caught:
        if "constrained_layout not applied" in str(w.message):
            continue  # the tight bounding box takes over
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return buffer.getvalue()


def _fits(fig) -> bool:
    """Everything drawn lies inside the canvas (after the layout engine ran)."""
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    w, h = fig.get_size_inches()
    eps = 1e-3
    return box.x0 >= -eps and box.y0 >= -eps and box.x1 <= w + eps and box.y1 <= h + eps


def save(fig, path: Path) -> Path:
    """Save at the fixed size and resolution (see :func:`render`)."""
    data = render(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def bar_colors(shortfall: list[bool]) -> list[str]:
    """Blue for bars that meet their target, red for those that fall short."""
    return [SHORTFALL if s else PRIMARY for s in shortfall]


def trend_panels(metrics, *, columns: int = 2):
    """Small multiples: one panel per metric, its values over the quarters of ``metric.trend``,
    the target as a dashed line and the quarters that fall short in red."""
    import math

    setup()
    metrics = [m for m in metrics if m.trend]
    if not metrics:
        return None
    rows = math.ceil(len(metrics) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(WIDTH_IN, 2.1 * rows), layout="constrained", squeeze=False
    )
    for ax, m in zip(axes.flat, metrics, strict=False):
        scale = 100.0 if m.unit == "rate" else 1.0
        labels = [p for p, _ in m.trend]
        values = [None if v is None else v * scale for _, v in m.trend]
        xs = [i for i, v in enumerate(values) if v is not None]
        ys = [values[i] for i in xs]
        ax.plot(xs, ys, color=PRIMARY, marker="o", markersize=3, linewidth=1.2)
        if m.target is not None:
            t = m.target.value * scale
            ax.axhline(t, color=NEUTRAL, linestyle="--", linewidth=1)
            short = [i for i in xs if not m.target.met(values[i] / scale)]
            ax.scatter(short, [values[i] for i in short], color=SHORTFALL, s=14, zorder=3)
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        unit = UNITS.get(m.unit, "")
        ax.set_title(m.name + (f"（{unit}）" if unit else ""), fontsize=9)
        ax.margins(y=0.25)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    return fig
