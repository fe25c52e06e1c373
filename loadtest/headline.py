"""The line `make loadtest` prints last: every configuration side by side, orders and goodput first."""

from __future__ import annotations


def headline(scenario: str, summary: dict[str, dict]) -> str:
    """One line with the figures that matter, every configuration side by side: orders and goodput first."""
    parts = []
    for name, figures in summary.items():
        parts.append(
            f"{name}: {_capacity(figures.get('capacity'))}orders {figures['orders_placed']} of"
            f" {figures['buying_demand']} buyers ({figures['buyers_sold_out']} sold out), goodput {_share(figures['goodput'])},"
            f" still queued at the end {_count(figures['queue_at_end'])},"
            f" arrival to product page p95 {_seconds(figures['arrival_to_product_p95_s'])};{_overload(figures.get('overload'))}"
            f" checkout p95 {_ms(figures['checkout_p95_ms'])} (baseline {_ms(figures['baseline']['checkout_p95_ms'])},"
            f" peak {_ms(figures['peak']['checkout_p95_ms'])}; at nginx {_ms(figures['baseline']['checkout_p95_at_nginx_ms'])}"
            f" → {_ms(figures['peak']['checkout_p95_at_nginx_ms'])}), success {_share(figures['checkout_success'])},"
            f" 5xx {figures['http_5xx']}, lost {figures['orders_lost']}, oversold {figures['oversold']},"
            f" double charges {figures['duplicate_charges']}, alerts {','.join(figures['alerts_fired']) or 'none'}"
        )
    return f"loadtest {scenario}: " + " | ".join(parts)


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
    return (
        f" held at {overload['rate']:g} visitors/s ({overload['arrived_per_second_in_hold']:g} arrived/s,"
        f" Locust CPU {_count(overload['loadgen_cpu_share_in_hold'])} of a core{_saturated(overload)}):"
        f" {overload['orders_per_second_in_hold']:g} orders/s ({plateau}), checkout p95 of those let in"
        f" {_ms(overload['checkout_p95_in_hold_ms'])};"
    )


def _saturated(overload: dict) -> str:
    if not overload.get("loadgen_saturated_in_hold"):
        return ""
    return ", saturated: its latencies include its own lag, so offer less with --rate"


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _share(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _count(value) -> str:
    return "n/a" if value is None else f"{value:,}"


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:,.1f} s"
