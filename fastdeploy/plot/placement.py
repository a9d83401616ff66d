"""Text labels next to points, keeping clear of each other, markers, lines and the legend.

Greedy: each label tries offsets around its point, nearest first, and takes the first
that stays inside the axes and touches nothing; if every candidate touches something, it
takes the one with the least penalty (overlapped area of boxes, a fixed penalty per line
crossed, a large one for leaving the axes).
"""

from __future__ import annotations

import numpy as np

# Directions tried at each distance (points, 1/72 inch), nearest distance first.
_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
_DISTANCES = (6, 14, 24, 36, 50)
_ALIGN = {1: "left", -1: "right", 0: "center"}
_VALIGN = {1: "bottom", -1: "top", 0: "center"}
LINE_PENALTY = 2000.0  # display px^2 charged for crossing a line (an error bar, the front)


def _overlap(a, b) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _segment_boxes(ax, segments):
    from matplotlib.transforms import Bbox

    out = []
    for a, b in segments:
        (x0, y0), (x1, y1) = ax.transData.transform(np.asarray([a, b], dtype=float))
        if np.all(np.isfinite([x0, y0, x1, y1])):
            out.append(Bbox.from_extents(min(x0, x1) - 1, min(y0, y1) - 1,
                                         max(x0, x1) + 1, max(y0, y1) + 1))
    return out


def place_labels(ax, xs, ys, texts, *, avoid_points=(), avoid_segments=(), fontsize=8,
                 color="black", marker_px=6.0):
    """Annotate point i of (xs, ys) with texts[i]; returns the annotations.

    ``avoid_points`` (x, y) are other markers and ``avoid_segments`` ((x0, y0), (x1, y1))
    axis-parallel lines (error bars, steps) in data coordinates that labels should not
    cover. Call it last: it draws the figure to measure text.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # layout settled, so data -> display transforms are final
    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    r = marker_px * fig.dpi / 72.0
    boxes = []
    for pts in (np.column_stack([xs, ys]), np.asarray(avoid_points, dtype=float)):
        if len(pts):
            for px, py in ax.transData.transform(pts.reshape(-1, 2)):
                boxes.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
    legend = ax.get_legend()
    if legend is not None:
        boxes.append(legend.get_window_extent(renderer))
    lines = _segment_boxes(ax, avoid_segments)
    out = []
    for x, y, text in zip(xs, ys, texts):
        best = best_box = None
        best_cost = np.inf
        for dist in _DISTANCES:
            for dx, dy in _DIRECTIONS:
                ann = ax.annotate(text, (x, y), xytext=(dx * dist, dy * dist),
                                  textcoords="offset points", fontsize=fontsize,
                                  color=color, ha=_ALIGN[dx], va=_VALIGN[dy],
                                  arrowprops=({"arrowstyle": "-", "color": color, "lw": 0.6,
                                               "alpha": 0.6} if dist > 10 else None))
                box = ann.get_window_extent(renderer).padded(1.5)
                outside = (max(0, axbox.x0 - box.x0) + max(0, box.x1 - axbox.x1)
                           + max(0, axbox.y0 - box.y0) + max(0, box.y1 - axbox.y1))
                cost = (sum(_overlap(box, b) for b in boxes)
                        + LINE_PENALTY * sum(_overlap(box, seg) > 0 for seg in lines)
                        + 1e4 * outside + dist)   # + dist: nearer wins a tie
                if cost < best_cost:
                    if best is not None:
                        best.remove()
                    best, best_cost, best_box = ann, cost, box
                else:
                    ann.remove()
            if best_cost <= dist:  # touches nothing
                break
        boxes.append(best_box)
        out.append(best)
    return out
