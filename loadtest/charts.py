"""The report's charts (matplotlib, inline SVG): every configuration on the same axes, the peak shaded."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen: draw to files
import matplotlib.pyplot as plt  # noqa: E402

from loadtest.record import percentile, read_events  # noqa: E402

COLOURS = {"stampede": "#2553c7", "2023": "#c2410c", "stampede-no-room": "#15803d"}
WINDOW = 10  # seconds per point of the checkout latency line
COUNTS = ("requests", "5xx", "no_response", "429")  # the record's counts, every second
GAUGES = ("visitors_in_shop", "visitors_queued")  # the record's samples, where taken
ROOM_SERIES = ("queue_length", "active_users")  # the live Prometheus's (loadtest.report.PROMETHEUS_SERIES)
# Each chart, by title: its y label (a log scale if it says so), and its lines, each drawn for every
# configuration: (the label after the configuration's name, the line style, the series).
CHARTS = {
    "Requests answered per second (as the visitors saw them)": ("requests/s", [("", "-", "requests")]),
    f"Checkout p95 ({WINDOW} s windows): placing an order": ("ms (log)", [("", "-", "checkout_p95")]),
    "Errors per second: 5xx and no answer (solid), 429 (dotted)": (
        "responses/s",
        [(" 5xx", "-", "5xx"), (" no answer", "--", "no_response"), (" 429", ":", "429")],
    ),
    "Waiting room: queue length (solid) and active users (dashed)": (
        "visitors",
        [(" queue", "-", "queue_length"), (" active", "--", "active_users")],
    ),
    "Visitors in the shop (solid) and waiting in the room (dotted)": (
        "visitors",
        [(" in the shop", "-", "visitors_in_shop"), (" waiting", ":", "visitors_queued")],
    ),
}


def draw(summary: dict, folders: dict[str, Path], results: dict) -> list[str]:
    """One chart per question a reader asks, each configuration a line (or a few, by style)."""
    series = {name: _series(folders[name], results[name], figures["started_at"]) for name, figures in summary.items()}
    return [_figure(title, ylabel, lines, summary, series) for title, (ylabel, lines) in CHARTS.items()]


def _series(folder: Path, result: dict, started: float) -> dict[str, tuple[list[float], list[float]]]:
    """Every series a configuration draws, by name: (seconds since the start of the run, values)."""
    raw = json.loads((folder / "record" / "seconds.json").read_text())
    seconds = {int(second) - int(started): counts for second, counts in raw.items()}
    series = {"checkout_p95": _checkout_p95(folder, started)}
    for key in COUNTS + GAUGES:
        xs = [x for x in sorted(seconds) if key in COUNTS or key in seconds[x]]
        series[key] = xs, [seconds[x].get(key, 0) for x in xs]
    for key in ROOM_SERIES:
        points = next(iter((result["monitoring"]["series"].get(key) or {}).values()), [])
        series[key] = [t - started for t, _ in points], [v for _, v in points]
    return series


def _checkout_p95(folder: Path, started: float) -> tuple[list[float], list[float]]:
    windows: dict[int, list[float]] = {}
    for event in read_events(folder / "record"):
        if event["type"] == "checkout":
            windows.setdefault(int((event["at"] - started) // WINDOW), []).append(event["latency_ms"])
    xs = sorted(windows)
    return [x * WINDOW + WINDOW / 2 for x in xs], [percentile(windows[x], 0.95) for x in xs]


def _figure(title: str, ylabel: str, lines: list[tuple], summary: dict, series: dict[str, dict]) -> str:
    """One chart of CHARTS, each of its ``lines`` drawn for every configuration from its ``series``."""
    figure, axes = plt.subplots(figsize=(10, 3.2), dpi=100)
    first = next(iter(summary.values()))
    peak = [phase for phase in first["phases"] if phase["name"] in first["peak_phases"]]
    for phase in peak:
        axes.axvspan(phase["start"], phase["end"], color="#f2c94c", alpha=0.18, linewidth=0)
    if peak:
        axes.axvline(peak[0]["start"], color="#9a6700", linestyle=":", linewidth=1)
        axes.annotate(
            peak[0]["name"] + " starts",
            (peak[0]["start"], 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            color="#9a6700",
        )
    for label, style, key in lines:
        for name in summary:
            xs, ys = series[name][key]
            if xs:
                axes.plot(xs, ys, label=name + label, color=COLOURS.get(name, "#444"), linestyle=style, linewidth=1.4)
    if ylabel.endswith("(log)"):
        axes.set_yscale("log")
    axes.set_xlim(0, first["phases"][-1]["end"])
    axes.set_title(title, fontsize=11, loc="left")
    axes.set_xlabel("seconds since the start of the run", fontsize=9)
    axes.set_ylabel(ylabel, fontsize=9)
    axes.grid(alpha=0.25)
    axes.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    svg = buffer.getvalue()
    return f"<figure>{svg[svg.index('<svg') :]}</figure>"
