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


def _field(figures: dict, path: str):
    for part in path.split("."):
        figures = figures.get(part) if isinstance(figures, dict) else None
    return figures


def _resolved(alert: dict) -> str:
    return "still firing" if alert["resolved_after_s"] is None else f"+{alert['resolved_after_s']} s"


def render(scenario: str, quick: bool, summary: dict, folders: dict[str, Path], results: dict) -> str:
    """The whole page for one sitting: ``summary`` from publish(), the raw ``results`` for the charts."""
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
        alerts=alerts,
        audits=rows(list(summary[names[0]]["audit"]), lambda name: summary[name]["audit"]),
        figures="".join(charts.draw(summary, folders, results)),
    )


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

    return "".join(
        f"<tr><th>{html.escape(phase)}</th>"
        + "".join(f"<td>{cell(summary[name]['goodput_by_phase'][phase])}</td>" for name in names)
        + "</tr>"
        for phase in summary[names[0]]["goodput_by_phase"]
    )


def _cell(value) -> str:
    if isinstance(value, list):
        return html.escape(", ".join(map(str, value)) or "none")
    return html.escape("n/a" if value is None else f"{value:,}" if isinstance(value, (int, float)) else str(value))
