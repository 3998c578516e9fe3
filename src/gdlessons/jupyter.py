"""An IPython extension for the lessons' kernels: figures fall back to their titles, not a repr.

A figure shown with ``plt.show()`` is published as its PNG plus a text/plain fallback, which IPython
makes ``<Figure size 700x450 with 1 Axes>``: a repr, stored in every notebook. The fallback is what
a text-only reader gets, so this gives it the figure's titles instead. Matplotlib's inline backend
clears figure printers whenever it sets itself up, so the printer is (re)registered before each
cell. ``make setup`` loads the extension in every kernel started from ``.venv`` (see
``jupyter-env/ipython_kernel_config.py``).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["figure_text", "load_ipython_extension"]


def figure_text(fig: Any, printer: Any, cycle: bool) -> None:
    """IPython pretty-printer for a matplotlib ``Figure``: ``Figure: <title> | <title> ...``."""
    titles = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes if ax.get_visible()]
    printer.text("Figure: " + " | ".join(title for title in titles if title))


def load_ipython_extension(ip: Any) -> None:
    """Register ``figure_text`` for figures before every cell (``%load_ext gdlessons.jupyter``)."""

    def before_cell(*args: Any) -> None:
        if "matplotlib.figure" in sys.modules:
            figure_class = sys.modules["matplotlib.figure"].Figure
            ip.display_formatter.formatters["text/plain"].for_type(figure_class, figure_text)

    ip.events.register("pre_run_cell", before_cell)
