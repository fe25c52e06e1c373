"""report.html (every configuration's figures side by side, the alerts, the audits, the charts) and the headline."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from pathlib import Path

from loadtest import charts, scaleout

# Orders against buying demand first, then who was left in line, then latency and the rest.
ROWS = """
    visitors buying_demand orders_placed buyers_sold_out goodput queue_at_end queued_60s_after_last_wave
    waitingroom_queued_visitors waitingroom_median_wait_s waitingroom_left_the_line
    arrival_to_product_p50_s arrival_to_product_p95_s checkout_p50_ms checkout_p95_ms checkout_p99_ms
    baseline.checkout_p95_ms peak.checkout_p95_ms checkout_p95_peak_vs_baseline
    baseline.checkout_p95_at_nginx_ms peak.checkout_p95_at_nginx_ms checkout_p95_peak_vs_baseline_at_nginx
    checkout_attempts checkout_success checkout_sold_out peak.checkout_success
    peak_rps http_5xx http_429 no_response orders_lost oversold duplicate_charges duplicate_emails
    alerts_fired waitingroom_eta_error loadgen_gc_pause_max_ms loadgen_cpu_share
""".split()
CAPACITY_ROWS = ["capacity.visitors_per_second", "capacity.orders_per_second", "capacity.step"]
OVERLOAD_ROWS = """
    overload.rate overload.arrived_per_second_in_hold overload.orders_per_second_in_hold
    overload.ramp_orders_per_second overload.orders_vs_ramp_plateau overload.checkout_p95_in_hold_ms
    overload.goodput.goodput queue_at_end overload.loadgen_cpu_share_in_hold overload.loadgen_saturated_in_hold
""".split()


def render(scenario: str, quick: bool, summary: dict, folders: dict[str, Path], results: dict) -> str:
    """The whole page for one run: ``summary`` from publish(), the raw ``results`` for the charts."""
    first = next(iter(summary.values()))
    head = "".join(f"<th>{html.escape(name)}</th>" for name in summary)
    alerts = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(alert['alert'])}</td><td>+{alert['fired_after_s']} s</td>"
        f"<td>{_resolved(alert)}</td></tr>"
        for name, figures in summary.items()
        for alert in figures["alerts"]
    )
    return PAGE.format(
        title=html.escape(f"make loadtest SCENARIO={scenario}{' QUICK=1' if quick else ''}"),
        head=head,
        table=_rows(ROWS, summary),
        phases=_rows(first["goodput_by_phase"], summary, _phase),
        stress=_stress(summary, head),
        alerts=alerts or "<tr><td colspan=4>none</td></tr>",
        audits=_rows(first["audit"], summary, lambda figures, row: _cell(figures["audit"], row)),
        figures="".join(charts.draw(summary, folders, results)),
    )


def headline(scenario: str, summary: dict[str, dict]) -> str:
    """One line with the figures that matter, every configuration side by side: orders and goodput first."""
    return f"loadtest {scenario}: " + " | ".join(_headline_part(name, figures) for name, figures in summary.items())


def _headline_part(name: str, figures: dict) -> str:
    baseline, peak = figures["baseline"], figures["peak"]
    return (
        f"{name}: {_scale_out(figures.get('scale_out'))}{_capacity(figures.get('capacity'))}orders {figures['orders_placed']} of"
        f" {figures['buying_demand']} buyers ({figures['buyers_sold_out']} sold out), goodput {_share(figures['goodput'])},"
        f" still queued at the end {_count(figures['queue_at_end'])},"
        f" arrival to product page p95 {_seconds(figures['arrival_to_product_p95_s'])};{_overload(figures.get('overload'))}"
        f" checkout p95 {_ms(figures['checkout_p95_ms'])} (baseline {_ms(baseline['checkout_p95_ms'])},"
        f" peak {_ms(peak['checkout_p95_ms'])}; at nginx {_ms(baseline['checkout_p95_at_nginx_ms'])}"
        f" → {_ms(peak['checkout_p95_at_nginx_ms'])}), success {_share(figures['checkout_success'])},"
        f" 5xx {figures['http_5xx']}, lost {figures['orders_lost']}, oversold {figures['oversold']},"
        f" double charges {figures['duplicate_charges']}, alerts {','.join(figures['alerts_fired']) or 'none'}"
    )


SCALE_OUT_ROWS = [
    *(
        f"scale_out.{side}.{figure}"
        for figure in """admitted_per_minute let_in_per_minute queue_mean queue_at_end wait_p50_s wait_p95_s
            orders_per_second checkout_p95_ms http_5xx""".split()
        for side in ("before", "after")
    ),
    "scale_out.admitted_after_vs_before",
    "scale_out.admitted_faster_after_s",
    "scale_out.queue_empty_after_s",
]


def _cell(figures: dict, path: str) -> str:
    """The field at ``path`` ("peak.checkout_p95_ms": a field of a field) as the table shows it."""
    value = figures
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return "n/a" if value is None else f"{value:,}" if isinstance(value, (int, float)) else str(value)


def _rows(names: Iterable[str], summary: dict, cell: Callable[[dict, str], str] = _cell) -> str:
    """A table's rows: one per name, a cell per configuration (``cell(its figures, name)``; the field by default)."""
    return "".join(
        f"<tr><th>{html.escape(row)}</th>"
        + "".join(f"<td>{html.escape(cell(figures, row))}</td>" for figures in summary.values())
        + "</tr>"
        for row in names
    )


def _resolved(alert: dict) -> str:
    return "still firing" if alert["resolved_after_s"] is None else f"+{alert['resolved_after_s']} s"


def _stress(summary: dict, head: str) -> str:
    """The ramp's capacity and each of its steps, or the overload's hold; nothing for other scenarios."""
    first = next(iter(summary.values()))
    if "capacity" in first:
        title = "The ramp: capacity, the highest step before the first out of bound (checkout p95 > 1 s, errors > 1%)"
        steps = max((figures["capacity"]["step_figures"] for figures in summary.values()), key=len)
        table = _rows(CAPACITY_ROWS, summary) + _rows([step["step"] for step in steps], summary, _step)
    elif "overload" in first:
        title = "The overload: the hold, against the ramp's plateau (orders a second at capacity)"
        table = _rows(OVERLOAD_ROWS, summary)
    elif "scale_out" in first:
        moments = first["scale_out"]
        title = (
            f"The scale-out ({moments['configuration']}): web {moments['web_before']} → {moments['web_after']} replicas"
            f" asked for when {moments['alert']} fired, at +{moments['requested_after_s']:g} s, running at {_after(moments['started_after_s'])},"
            f" every new one healthy at {_after(moments['ready_after_s'])};"
            f" the {scaleout.WINDOW_SECONDS} s before the asking against the {scaleout.WINDOW_SECONDS} s after the"
            " replicas were ready, at the same moments in every configuration"
        )
        minutes = [f"minute {m['minute']:+d} from the asking" for m in moments["by_minute"]]
        table = _rows(SCALE_OUT_ROWS, summary) + _rows(minutes, summary, _minute)
    else:
        return ""
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th>{head}</tr>{table}</table>"


def _step(figures: dict, name: str) -> str:
    step = next((step for step in figures["capacity"]["step_figures"] if step["step"] == name), None)
    if step is None:
        return "not run"
    return (
        f"{'within' if step['within_bound'] else 'OUT OF'} bound: checkout p95 {_ms(step['checkout_p95_ms'])},"
        f" errors {_share(step['error_share'])}, {step['orders_per_second']:g} orders/s,"
        f" {step['arrived_per_second']:g} arrived/s, Locust CPU {step['loadgen_cpu_share']}"
    )


def _minute(figures: dict, row: str) -> str:
    """A "minute +N from the asking" row's cell: admissions and orders in that minute."""
    number = int(row.split()[1])
    minute = next(m for m in figures["scale_out"]["by_minute"] if m["minute"] == number)
    return f"{minute['admitted']:,} admitted, {minute['orders']:,} orders"


def _phase(figures: dict, name: str) -> str:
    """A phase's (or the whole run's) orders against demand, then its waits."""
    phase = figures["goodput_by_phase"][name]
    return (
        f"{phase['orders_placed']:,} of {phase['buying_demand']:,} ({phase['sold_out']:,} sold out):"
        f" {_share(phase['goodput'])}; product page p95 {_seconds(phase['arrival_to_product_p95_s'])},"
        f" checkout p95 {_ms(phase['checkout_p95_ms'])}"
    )


def _capacity(capacity: dict | None) -> str:
    if capacity is None:
        return ""
    if capacity["step"] is None:
        return "capacity below the first step, "
    return f"capacity {capacity['visitors_per_second']:g} visitors/s, {capacity['orders_per_second']:g} orders/s; "


def _overload(overload: dict | None) -> str:
    if overload is None:
        return ""
    versus = overload["orders_vs_ramp_plateau"]
    plateau = (
        "no ramp to compare" if versus is None else f"{versus:g}x the ramp's {overload['ramp_orders_per_second']:g}"
    )
    saturated = ", saturated: its latencies include its own lag, so offer less with --rate"
    return (
        f" held at {overload['rate']:g} visitors/s ({overload['arrived_per_second_in_hold']:g} arrived/s,"
        f" Locust CPU {_count(overload['loadgen_cpu_share_in_hold'])} of a core"
        f"{saturated if overload.get('loadgen_saturated_in_hold') else ''}):"
        f" {overload['orders_per_second_in_hold']:g} orders/s ({plateau}), checkout p95 of those let in"
        f" {_ms(overload['checkout_p95_in_hold_ms'])};"
    )


def _scale_out(scaled: dict | None) -> str:
    """Admissions and the line around the scale-out, first: what the rehearsal is for."""
    if scaled is None:
        return ""
    before, after = scaled["before"], scaled["after"]
    return (
        f"around the scale-out (asked at +{scaled['requested_after_s']:g} s), admitted a minute"
        f" {before['admitted_per_minute']:g} → {after['admitted_per_minute']:g}"
        f" ({_times(scaled['admitted_after_vs_before'])}), queue empty {_after(scaled['queue_empty_after_s'])}"
        " after the asking; "
    )


def _after(seconds: float | None) -> str:
    return "never in the run" if seconds is None else f"+{seconds:g} s"


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:g}x"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} s"


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
