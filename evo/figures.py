"""Matplotlib figures drawn off-screen (no display on a server or in a worker) and handed over
as PNG bytes, which pages show and reports embed."""

from __future__ import annotations

import io


def pyplot():
    """matplotlib.pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int) -> bytes:
    """``fig`` as PNG bytes; the figure is closed (pyplot keeps every open one in memory)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    pyplot().close(fig)
    return buf.getvalue()
