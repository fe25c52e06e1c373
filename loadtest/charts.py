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


def _seconds(folder: Path, started: float) -> dict[int, dict]:
    raw = json.loads((folder / "record" / "seconds.json").read_text())
    return {int(second) - int(started): counts for second, counts in raw.items()}


def _per_second(counts: dict[int, dict], key: str, *, sampled: bool = False) -> tuple[list[int], list[float]]:
    """One point a second; a ``sampled`` value (a gauge) only where it was sampled, a count everywhere."""
    xs = [x for x in sorted(counts) if not sampled or key in counts[x]]
    return xs, [counts[x].get(key, 0) for x in xs]


def _checkout_p95(folder: Path, started: float) -> tuple[list[float], list[float]]:
    windows: dict[int, list[float]] = {}
    for event in read_events(folder / "record"):
        if event["type"] == "checkout":
            windows.setdefault(int((event["at"] - started) // WINDOW), []).append(event["latency_ms"])
    xs = sorted(windows)
    return [x * WINDOW + WINDOW / 2 for x in xs], [percentile(windows[x], 0.95) for x in xs]


def _prometheus(result: dict, name: str, started: float) -> tuple[list[float], list[float]]:
    series = result["monitoring"]["series"].get(name) or {}
    points = next(iter(series.values()), [])
    return [t - started for t, _ in points], [v for _, v in points]


def _figure(title: str, ylabel: str, summary: dict, lines, *, log: bool = False) -> str:
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
    for label, colour, style, (xs, ys) in lines:
        if xs:
            axes.plot(xs, ys, label=label, color=colour, linestyle=style, linewidth=1.4)
    if log:
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


def draw(summary: dict, folders: dict[str, Path], results: dict) -> list[str]:
    """One chart per question a reader asks, each configuration a line."""
    started = {name: figures["started_at"] for name, figures in summary.items()}
    seconds = {name: _seconds(folders[name], started[name]) for name in summary}
    colour = lambda name: COLOURS.get(name, "#444")  # noqa: E731
    return [
        _figure(
            "Requests answered per second (as the visitors saw them)",
            "requests/s",
            summary,
            [(name, colour(name), "-", _per_second(seconds[name], "requests")) for name in summary],
        ),
        _figure(
            f"Checkout p95 ({WINDOW} s windows): placing an order",
            "ms (log)",
            summary,
            [(name, colour(name), "-", _checkout_p95(folders[name], started[name])) for name in summary],
            log=True,
        ),
        _figure(
            "Errors per second: 5xx and no answer (solid), 429 (dotted)",
            "responses/s",
            summary,
            [(f"{name} 5xx", colour(name), "-", _per_second(seconds[name], "5xx")) for name in summary]
            + [(f"{name} no answer", colour(name), "--", _per_second(seconds[name], "no_response")) for name in summary]
            + [(f"{name} 429", colour(name), ":", _per_second(seconds[name], "429")) for name in summary],
        ),
        _figure(
            "Waiting room: queue length (solid) and active users (dashed)",
            "visitors",
            summary,
            [
                (f"{name} queue", colour(name), "-", _prometheus(results[name], "queue_length", started[name]))
                for name in summary
            ]
            + [
                (f"{name} active", colour(name), "--", _prometheus(results[name], "active_users", started[name]))
                for name in summary
            ],
        ),
        _figure(
            "Visitors in the shop (solid) and waiting in the room (dotted)",
            "visitors",
            summary,
            [
                (f"{name} in the shop", colour(name), "-", _per_second(seconds[name], "visitors_in_shop", sampled=True))
                for name in summary
            ]
            + [
                (f"{name} waiting", colour(name), ":", _per_second(seconds[name], "visitors_queued", sampled=True))
                for name in summary
            ],
        ),
    ]


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; color: #1f2430; max-width: 1060px; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; margin: 1rem 0 2rem; }}
th, td {{ border-bottom: 1px solid #e3e6eb; padding: .3rem .8rem; text-align: right; }}
th:first-child {{ text-align: left; font-weight: 500; }}
figure {{ margin: 0 0 1.5rem; }} svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>{title}</h1>
<p>Each configuration ran the same scenario, with the same visitors, on this machine in one run: compare
them with each other, by orders placed against buying demand first, then by latency.
The shaded stretch is the peak; checkout latency is the time to answer the order form's submission.</p>
{figures}
<h2>Summary</h2><table><tr><th></th>{head}</tr>{table}</table>
{stress}
<h2>Orders against buying demand, by the phase each visitor arrived in</h2>
<p>Buying demand counts every buyer who arrived, served or not; goodput is orders / (demand − sold out).
A buyer still in line when the run ended is a lost sale.</p>
<table><tr><th></th>{head}</tr>{phases}</table>
<h2>Alerts that fired (live Prometheus, deploy/prometheus/alerts.yml)</h2>
<table><tr><th>configuration</th><th>alert</th><th>fired</th><th>resolved</th></tr>{alerts}</table>
<h2>Audit (database, the gateway's ledger, the mail sent)</h2><table><tr><th></th>{head}</tr>{audits}</table>
</body></html>
"""
