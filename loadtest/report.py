"""Turn a load test's records into summary.json, report.html and one headline line.

Every configuration met the same visitors on the same machine in the same run: compare them with each other,
not with other runs. The spike is judged first by orders placed against buying demand (goodput), then latency.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from loadtest import scaleout
from loadtest.goodput import WHOLE_RUN, goodput_by_phase, queue_left, rounded
from loadtest.locust_process import LoadTestRun
from loadtest.record import percentile, read_events
from loadtest.report_page import render
from loadtest.stress import capacity, overload_figures, ramp_steps

# Read from the live Prometheus after each run into result.json; the charts draw the room's queue.
PROMETHEUS_SERIES = {
    "queue_length": "max(stampede_waitingroom_queue_length)",
    "active_users": "max(stampede_waitingroom_active_users)",
    "app_requests_per_second": "sum(rate(django_http_requests_total_by_method_total[30s]))",
    "celery_backlog": "max(stampede_celery_queue_depth)",
    # What the room's rule read and did (result.json): why it engaged, and at what pace.
    "room_adaptive_engaged": "max(stampede_waitingroom_adaptive_engaged)",
    "room_pace_per_minute": "max(stampede_waitingroom_pace_per_minute)",
    "room_queue_signal_seconds": 'max(stampede_waitingroom_adaptive_measured_seconds{signal="queue"})',
    "room_latency_signal_seconds": 'max(stampede_waitingroom_adaptive_measured_seconds{signal="latency"})',
}
ROOM_ESTIMATE_MIN_WAIT = 10.0  # seconds: shorter waits are below the room's own polling interval


def checkout_figures(checkouts: list[dict], buyers: list[dict]) -> dict:
    """How checkout went: submissions' latency, and the share of buyers who got an order."""
    latencies = [c["latency_ms"] for c in checkouts]
    attempted = {c["visitor"] for c in checkouts}
    outcomes = Counter({b["visitor"]: b["outcome"] for b in buyers if b.get("visitor") in attempted}.values())
    could_buy = len(attempted) - outcomes["sold_out"]  # told "sold out" at checkout: a correct answer
    return {
        "checkout_attempts": len(attempted),
        "checkout_success": round(outcomes["order"] / could_buy, 4) if could_buy else None,
        "checkout_sold_out": outcomes["sold_out"],
        "checkout_p50_ms": rounded(percentile(latencies, 0.50)),
        "checkout_p95_ms": rounded(percentile(latencies, 0.95)),
        "checkout_p99_ms": rounded(percentile(latencies, 0.99)),
    }


NGINX_CHECKOUT = re.compile(r'"POST /checkout/ HTTP/[\d.]+" \d{3} .* t=(?P<at>[\d.]+) rt=(?P<seconds>[\d.]+)')


def checkouts_at_nginx(access_log: Path) -> list[dict]:
    """Each checkout POST as nginx timed it (when it ended, its latency): as a customer's own device would see it.

    Locust's latency also holds its own time to send and read, on the cores the shop uses too.
    """
    if not access_log.exists():
        return []
    found = (NGINX_CHECKOUT.search(line) for line in access_log.open(errors="replace"))
    return [{"at": float(m["at"]), "latency_ms": float(m["seconds"]) * 1000} for m in found if m]


def summarise(folder: Path, result: dict, *, ramp: dict | None = None, scale_out: dict | None = None) -> dict:
    """The figures of one configuration's run; ``ramp``: its capacity, which the overload is measured against;
    ``scale_out``: the moments a configuration of the run scaled out at, read in every configuration alike."""
    record = folder / "record"
    run = json.loads((record / "run.json").read_text())
    seconds = {int(s): counts for s, counts in json.loads((record / "seconds.json").read_text()).items()}
    events = read_events(record)
    of_type: defaultdict[str, list[dict]] = defaultdict(list)
    for event in events:
        of_type[event["type"]].append(event)
    started, checkouts, buyers = run["started_at"], of_type["checkout"], of_type["buyer"]
    spans = {phase["name"]: phase for phase in run["phases"]}
    at_nginx = checkouts_at_nginx(folder / "stack" / "logs" / "nginx-access.log")

    def during(names: list[str], items: list[dict]) -> list[dict]:
        windows = [(started + spans[n]["start"], started + spans[n]["end"]) for n in names if n in spans]
        return [item for item in items if any(low <= item["at"] < high for low, high in windows)]

    # A buyer belongs to the phases they submitted the form in, whenever their outcome came.
    baseline = checkout_figures(during([run["baseline_phase"]], checkouts), buyers)
    peak = checkout_figures(during(run["peak_phases"], checkouts), buyers)
    for figures, names in ((baseline, [run["baseline_phase"]]), (peak, run["peak_phases"])):
        nginx_ms = [c["latency_ms"] for c in during(names, at_nginx)]
        figures["checkout_p95_at_nginx_ms"] = rounded(percentile(nginx_ms, 0.95))
    audit, alerts = result["audit"], result["monitoring"]["alerts"]
    room_waits = of_type["room"]  # let in after a wait
    left_the_line = of_type["left the line"]
    timed = [e for e in room_waits if e["estimate"] is not None and e["waited"] >= ROOM_ESTIMATE_MIN_WAIT]
    goodput = goodput_by_phase(events, list(spans))
    whole = goodput[WHOLE_RUN]
    stress = {}
    if run.get("scenario") == "ramp":
        stress["capacity"] = capacity(ramp_steps(run, events, seconds))
    if scale_out and scale_out["requested_after_s"] is not None:
        stress["scale_out"] = {**scale_out, **scaleout.around(scale_out, events, seconds, started)}
    if run.get("hold_phase"):
        stress["overload"] = {**overload_figures(run, events, seconds, ramp), "goodput": goodput[run["hold_phase"]]}
    return {
        **stress,
        "visitors": run["visitors"],
        # First: orders placed against buying demand (loadtest/goodput.py), and who was left in line.
        "buying_demand": whole["buying_demand"],
        "orders_placed": whole["orders_placed"],
        "buyers_sold_out": whole["sold_out"],
        "goodput": whole["goodput"],
        "arrival_to_product_p50_s": whole["arrival_to_product_p50_s"],
        "arrival_to_product_p95_s": whole["arrival_to_product_p95_s"],
        **queue_left(seconds, run),
        "last_wave_phase": run.get("last_wave_phase"),
        "goodput_by_phase": goodput,
        "peak_rps": _peak_rps(seconds),
        **checkout_figures(checkouts, buyers),
        "http_5xx": sum(c.get("5xx", 0) for c in seconds.values()),
        **{key: audit[key] for key in ("orders_lost", "oversold", "duplicate_charges", "duplicate_emails")},
        "alerts_fired": sorted({alert["alert"] for alert in alerts}),
        "waitingroom_eta_error": _median([abs(e["estimate"] - e["waited"]) / e["waited"] for e in timed], 3),
        # More than the fields above: where the time went, and what the audit counted.
        "http_429": sum(c.get("429", 0) for c in seconds.values()),
        "no_response": sum(c.get("no_response", 0) for c in seconds.values()),
        "baseline": baseline,
        "peak": peak,
        "checkout_p95_peak_vs_baseline": _ratio(peak["checkout_p95_ms"], baseline["checkout_p95_ms"]),
        "checkout_p95_peak_vs_baseline_at_nginx": _ratio(
            peak["checkout_p95_at_nginx_ms"], baseline["checkout_p95_at_nginx_ms"]
        ),
        # Locust's own longest stall (a full garbage collection): time counted in every latency above.
        "loadgen_gc_pause_max_ms": round(max((e["ms"] for e in of_type["loadgen_gc"]), default=0), 1),
        # Locust's own CPU (one process: near 1.0 of a core, it could offer no more than it did).
        "loadgen_cpu_seconds": run.get("loadgen_cpu_seconds"),
        "loadgen_cpu_share": _ratio(run.get("loadgen_cpu_seconds"), run.get("stopped_at", started) - started),
        "waitingroom_queued_visitors": len(room_waits) + len(left_the_line),
        "waitingroom_left_the_line": len(left_the_line),  # turned away while waiting: 429, 503, no answer
        "waitingroom_median_wait_s": _median([e["waited"] for e in room_waits], 1),
        "alerts": [
            {
                **a,
                "fired_after_s": round(a["fired_at"] - started),
                "resolved_after_s": None if a["resolved_at"] is None else round(a["resolved_at"] - started),
            }
            for a in alerts
        ],
        "audit": audit,
        "phases": run["phases"],
        "peak_phases": run["peak_phases"],
        "started_at": started,
    }


def publish(out: Path, run: LoadTestRun, results: dict[str, dict], *, ramp_capacity: dict[str, dict]) -> dict:
    """Write summary.json and report.html for the configurations of one run; return the summary."""
    started = {name: json.loads((out / name / "record" / "run.json").read_text())["started_at"] for name in results}
    moments = scaleout.reference(results, started)
    summary = {
        name: summarise(out / name, result, ramp=ramp_capacity.get(name), scale_out=moments)
        for name, result in results.items()
    }
    settings = {"scenario": run.scenario, "quick": run.quick, "seed": run.seed, "rate": run.rate}
    document = {**settings, "ramp_capacity": ramp_capacity, "scale_out": moments, "configurations": summary}
    (out / "summary.json").write_text(json.dumps(document, indent=2))
    page = render(run.scenario, run.quick, summary, {name: out / name for name in results}, results)
    (out / "report.html").write_text(page)
    return summary


def _peak_rps(seconds: dict[int, dict], width: int = 5) -> float:
    """The most requests answered a second, averaged over ``width`` seconds in a row."""
    if not seconds:
        return 0
    requests = [seconds.get(s, {}).get("requests", 0) for s in range(min(seconds), max(seconds) + 1)]
    return round(max(sum(requests[i : i + width]) / width for i in range(max(1, len(requests) - width + 1))), 1)


def _median(values: list[float], digits: int) -> float | None:
    return round(statistics.median(values), digits) if values else None


def _ratio(a, b):
    return round(a / b, 2) if a and b else None
