"""The line `make loadtest` prints last: every configuration side by side, orders and goodput first."""

from __future__ import annotations


def headline(scenario: str, summary: dict[str, dict]) -> str:
    """One line with the figures that matter, every configuration side by side: orders and goodput first."""
    parts = []
    for name, figures in summary.items():
        parts.append(
            f"{name}: orders {figures['orders_placed']} of {figures['buying_demand']} buyers"
            f" ({figures['buyers_sold_out']} sold out), goodput {_share(figures['goodput'])},"
            f" still queued at the end {_count(figures['queue_at_end'])},"
            f" arrival to product page p95 {_seconds(figures['arrival_to_product_p95_s'])};"
            f" checkout p95 {_ms(figures['checkout_p95_ms'])} (baseline {_ms(figures['baseline']['checkout_p95_ms'])},"
            f" peak {_ms(figures['peak']['checkout_p95_ms'])}; at nginx {_ms(figures['baseline']['checkout_p95_at_nginx_ms'])}"
            f" → {_ms(figures['peak']['checkout_p95_at_nginx_ms'])}), success {_share(figures['checkout_success'])},"
            f" 5xx {figures['http_5xx']}, lost {figures['orders_lost']}, oversold {figures['oversold']},"
            f" double charges {figures['duplicate_charges']}, alerts {','.join(figures['alerts_fired']) or 'none'}"
        )
    return f"loadtest {scenario}: " + " | ".join(parts)


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _share(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _count(value) -> str:
    return "n/a" if value is None else f"{value:,}"


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:,.1f} s"
