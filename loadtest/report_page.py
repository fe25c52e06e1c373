"""report.html: every configuration's figures side by side, the alerts, the audits and the charts."""

from __future__ import annotations

import html
from pathlib import Path

from loadtest import charts

# Orders against buying demand first, then who was left in line, then latency and the rest.
ROWS = [
    "visitors",
    "buying_demand",
    "orders_placed",
    "buyers_sold_out",
    "goodput",
    "queue_at_end",
    "queued_60s_after_last_wave",
    "waitingroom_queued_visitors",
    "waitingroom_median_wait_s",
    "waitingroom_left_the_line",
    "arrival_to_product_p50_s",
    "arrival_to_product_p95_s",
    "checkout_p50_ms",
    "checkout_p95_ms",
    "checkout_p99_ms",
    "baseline.checkout_p95_ms",
    "peak.checkout_p95_ms",
    "checkout_p95_peak_vs_baseline",
    "baseline.checkout_p95_at_nginx_ms",
    "peak.checkout_p95_at_nginx_ms",
    "checkout_p95_peak_vs_baseline_at_nginx",
    "checkout_attempts",
    "checkout_success",
    "checkout_sold_out",
    "peak.checkout_success",
    "peak_rps",
    "http_5xx",
    "http_429",
    "no_response",
    "orders_lost",
    "oversold",
    "duplicate_charges",
    "duplicate_emails",
    "alerts_fired",
    "waitingroom_eta_error",
    "loadgen_gc_pause_max_ms",
    "loadgen_cpu_share",
]


CAPACITY_ROWS = ["capacity.visitors_per_second", "capacity.orders_per_second", "capacity.step"]
OVERLOAD_ROWS = [
    "overload.rate",
    "overload.arrived_per_second_in_hold",
    "overload.orders_per_second_in_hold",
    "overload.ramp_orders_per_second",
    "overload.orders_vs_ramp_plateau",
    "overload.checkout_p95_in_hold_ms",
    "overload.goodput.goodput",
    "queue_at_end",
    "overload.loadgen_cpu_share_in_hold",
    "overload.loadgen_saturated_in_hold",
]


def _field(figures: dict, path: str):
    for part in path.split("."):
        figures = figures.get(part) if isinstance(figures, dict) else None
    return figures


def _resolved(alert: dict) -> str:
    return "still firing" if alert["resolved_after_s"] is None else f"+{alert['resolved_after_s']} s"


def render(scenario: str, quick: bool, summary: dict, folders: dict[str, Path], results: dict) -> str:
    """The whole page for one run: ``summary`` from publish(), the raw ``results`` for the charts."""
    names = list(summary)
    head = "".join(f"<th>{html.escape(name)}</th>" for name in names)

    def rows(paths, source) -> str:
        return "".join(
            f"<tr><th>{html.escape(path)}</th>"
            + "".join(f"<td>{_cell(_field(source(name), path))}</td>" for name in names)
            + "</tr>"
            for path in paths
        )

    alerts = (
        "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(alert['alert'])}</td>"
            f"<td>+{alert['fired_after_s']} s</td><td>{_resolved(alert)}</td></tr>"
            for name in names
            for alert in summary[name]["alerts"]
        )
        or "<tr><td colspan=4>none</td></tr>"
    )
    return charts.PAGE.format(
        title=html.escape(f"make loadtest SCENARIO={scenario}{' QUICK=1' if quick else ''}"),
        head=head,
        table=rows(ROWS, lambda name: summary[name]),
        phases=_phases(summary),
        stress=_stress(summary, head, rows),
        alerts=alerts,
        audits=rows(list(summary[names[0]]["audit"]), lambda name: summary[name]["audit"]),
        figures="".join(charts.draw(summary, folders, results)),
    )


def _stress(summary: dict, head: str, rows) -> str:
    """The ramp's capacity and each of its steps, or the overload's hold; nothing for other scenarios."""
    first = next(iter(summary.values()))
    source = lambda name: summary[name]  # noqa: E731
    if "capacity" in first:
        title = "The ramp: capacity, the highest step before the first out of bound (checkout p95 > 1 s, errors > 1%)"
        table = rows(CAPACITY_ROWS, source) + _steps(summary)
    elif "overload" in first:
        title = "The overload: the hold, against the ramp's plateau (orders a second at capacity)"
        table = rows(OVERLOAD_ROWS, source)
    else:
        return ""
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th>{head}</tr>{table}</table>"


def _steps(summary: dict) -> str:
    by_name = {name: {s["step"]: s for s in figures["capacity"]["step_figures"]} for name, figures in summary.items()}
    steps = max(by_name.values(), key=len)

    def cell(step: dict | None) -> str:
        if step is None:
            return "not run"
        p95, errors = step["checkout_p95_ms"], step["error_share"]
        return html.escape(
            f"{'within' if step['within_bound'] else 'OUT OF'} bound: checkout p95"
            f" {'n/a' if p95 is None else f'{p95:,.0f} ms'}, errors {'n/a' if errors is None else f'{errors:.1%}'},"
            f" {step['orders_per_second']:g} orders/s, {step['arrived_per_second']:g} arrived/s,"
            f" Locust CPU {step['loadgen_cpu_share']}"
        )

    return _rows(steps, lambda step, name: cell(by_name[name].get(step)), summary)


def _phases(summary: dict) -> str:
    """One row per phase (and the whole run): each configuration's orders against demand, then its waits."""
    names = list(summary)

    def cell(figures: dict) -> str:
        goodput = "n/a" if figures["goodput"] is None else f"{figures['goodput']:.1%}"
        product = figures["arrival_to_product_p95_s"]
        checkout = figures["checkout_p95_ms"]
        return html.escape(
            f"{figures['orders_placed']:,} of {figures['buying_demand']:,} ({figures['sold_out']:,} sold out): {goodput};"
            f" product page p95 {'n/a' if product is None else f'{product:,.1f} s'},"
            f" checkout p95 {'n/a' if checkout is None else f'{checkout:,.0f} ms'}"
        )

    return _rows(
        summary[names[0]]["goodput_by_phase"], lambda phase, name: cell(summary[name]["goodput_by_phase"][phase]), names
    )


def _rows(row_names, cell, columns) -> str:
    """A table's rows: one per name, one cell per configuration (``cell(row, column)``, escaped already)."""
    return "".join(
        f"<tr><th>{html.escape(row)}</th>" + "".join(f"<td>{cell(row, column)}</td>" for column in columns) + "</tr>"
        for row in row_names
    )


def _cell(value) -> str:
    if isinstance(value, list):
        return html.escape(", ".join(map(str, value)) or "none")
    return html.escape("n/a" if value is None else f"{value:,}" if isinstance(value, (int, float)) else str(value))
