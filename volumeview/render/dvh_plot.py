"""A cumulative DVH plot (matplotlib, Agg: no display needed), one curve per structure in its own colour."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..io.atomic import atomic_path


def plot_dvh(dvhs: Sequence, out: str | os.PathLike[str], *, colors: Sequence[tuple[float, float, float]] | None = None,
             title: str = "Cumulative DVH", size: tuple[int, int] = (900, 600)) -> Path:
    """Write the DVHs (``volumeview.annotations.dvh.DVH``) to ``out`` (.png, .svg, .pdf), atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    unit = "Gy"
    for n, d in enumerate(dvhs):
        unit = d.unit or unit
        color = colors[n] if colors is not None and n < len(colors) else None
        label = f"{d.segment}  (Dmean {d.Dmean:.2f}, D95 {d.D95:.2f} {unit})" if d.total_cc else f"{d.segment} (empty)"
        ax.plot(d.dose, d.volume_percent, color=color, label=label, linewidth=1.8)
    ax.set_xlabel(f"Dose ({unit})")
    ax.set_ylabel("Volume (%)")
    ax.set_ylim(0, 102)
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    if dvhs:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=out.suffix.lstrip(".").lower() or "png")
    return out
