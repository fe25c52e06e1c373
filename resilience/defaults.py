"""Defaults for every resilience tunable; override any of them in Django's settings.

Read them through ``resilience.conf.get_setting``: ``RESILIENCE_<NAME>`` in settings wins.
"""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Readiness checks run by /readyz, in order: (dotted path, critical?). A failing
    # critical check makes the replica unready (503); a failing optional one is a warning.
    "HEALTH_CHECKS": [
        ("resilience.health.checks.DatabaseCheck", True),
        ("resilience.health.checks.CacheCheck", False),
        ("resilience.health.checks.BrokerCheck", False),
    ],
    "HEALTH_CHECK_TIMEOUT_SECONDS": 1.0,
    # /readyz reuses its last answer this long: a burst of probes runs the checks once.
    "READINESS_CACHE_SECONDS": 1.0,
    # /metrics answers these networks directly (Prometheus inside the cluster), and anyone
    # else only with "Authorization: Bearer <METRICS_TOKEN>". A request that came through
    # a proxy (it has X-Forwarded-For) is never trusted by address.
    "METRICS_TOKEN": "",
    "METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
    # Celery queues whose depth /metrics reports, asking the broker for at most this long.
    "METRICS_CELERY_QUEUES": ["celery"],
    "METRICS_BROKER_TIMEOUT_SECONDS": 1.0,
    # --- Cache-aside (caching.py) and whole pages (pagecache.py) ---
    "CACHE_ALIAS": "default",  # must raise on errors (django-redis IGNORE_EXCEPTIONS off): we count them
    "CACHE_TIMEOUT": 60,  # seconds an entry is fresh
    "CACHE_STALE_FOR": 3600,  # seconds a stale entry is kept, to serve while recomputing or on errors
    "CACHE_LOCK_SECONDS": 10,  # the longest one recomputation may hold the others off
    "CACHE_WAIT_SECONDS": 2.0,  # how long others wait for a value that is not cached at all
    # How long a process trusts the namespace version it last read: edits made by other
    # processes show within this time (0 asks Redis on every request).
    "CACHE_VERSION_LOCAL_SECONDS": 1.0,
    "PAGE_CACHE_TIMEOUT": 60,
    # Query parameters that only say where a visitor came from. No cached page's key may hold
    # one (resilience.checks); add the project's own to PAGE_CACHE_EXTRA_TRACKING_PARAMETERS.
    "PAGE_CACHE_TRACKING_PARAMETERS": [
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "ttclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "yclid",
        "ref",
    ],
    "PAGE_CACHE_EXTRA_TRACKING_PARAMETERS": [],
    # The in-process tier: keys carry the version, so edits show at once; this only bounds
    # how long a value refreshed by another process stays older here.
    "CACHE_LOCAL_SECONDS": 5,
    "CACHE_LOCAL_ENTRIES": 1000,
    # --- The Redis circuit breaker (redis_client.py) ---
    "REDIS_BREAKER_FAILURES": 3,  # consecutive connection failures that open the circuit
    "REDIS_BREAKER_RESET_SECONDS": 5,  # then one trial call after this long
    # --- Load shedding (middleware/shedding.py) ---
    # A request that waited longer than this in front of the app (X-Request-Start, stamped
    # by nginx) is answered 503 at once: its visitor has most likely given up.
    "SHED_AFTER_SECONDS": 2.0,
    # Requests to these path prefixes from a visitor with a session (a cart) are shed last.
    "SHED_PROTECTED_PATHS": [],
    "SHED_PROTECTED_AFTER_SECONDS": 10.0,
    "SHED_SESSION_COOKIE": "sessionid",
    "SHED_RETRY_AFTER_SECONDS": 5,
    # A stamp further off than this is a wrong clock or a forged header: it is ignored.
    "SHED_MAX_PLAUSIBLE_WAIT_SECONDS": 3600.0,
    # --- The waiting room (waitingroom/) ---
    "WAITINGROOM_KEY_PREFIX": "waitingroom",  # Redis keys; one room per prefix
    "WAITINGROOM_CONFIG_REFRESH_SECONDS": 2,  # how soon every process sees an admin change
    # A queued ticket not back this long after the time its page asked it back is dropped...
    "WAITINGROOM_ABANDON_AFTER_SECONDS": 180,
    # ...and an admitted one holds its slot this long after that time (or after its admission) until used.
    "WAITINGROOM_CLAIM_SECONDS": 120,
    "WAITINGROOM_TICKETS_PER_ADDRESS": 20,  # new tickets one client address may take...
    "WAITINGROOM_ADDRESS_WINDOW_SECONDS": 600,  # ...in this window
    "WAITINGROOM_TICKET_MAX_AGE_SECONDS": 6 * 3600,
    "WAITINGROOM_RENEW_AFTER_SECONDS": 60,  # an admitted visitor's slot is extended at most this often
    # The queue page reloads after a random time in this range near the front of the line;
    # further back, after a share of the estimated wait (SHARE, to 7/4 of it), at most LONGEST
    # seconds (pages.refresh_after). Near the front a visitor learns of their turn within
    # seconds: each second of that is a second of waiting.
    "WAITINGROOM_REFRESH_SECONDS": (4, 7),
    "WAITINGROOM_REFRESH_SHARE": 0.5,
    "WAITINGROOM_REFRESH_LONGEST_SECONDS": 240,
    # The estimated wait uses the queue's measured pace once this many were let in from it over
    # at least this many seconds; the configured pace until then.
    "WAITINGROOM_ESTIMATE_MIN_ADMISSIONS": 5,
    "WAITINGROOM_ESTIMATE_MIN_SECONDS": 10.0,
    "WAITINGROOM_FLOOD_RETRY_AFTER_SECONDS": 300,  # Retry-After of the 429 to an address over its ticket cap
    "WAITINGROOM_CLOSED_RETRY_AFTER_SECONDS": 60,  # Retry-After of the 503 while failing closed
    "WAITINGROOM_EXEMPT_PATHS": ["/admin/", "/static/", "/media/", "/favicon.ico"],
    # Adaptive admission (adaptive.py): whose latency auto mode watches, and how it steers.
    "WAITINGROOM_WATCHED_PATHS": [],  # e.g. ["/checkout/"]: the pages that must stay fast
    # Each process's p95 is over this many seconds, and the admissions' pace too. Long enough for a
    # checkout replica's process to see several checkouts at a spike's pace.
    "WAITINGROOM_ADAPTIVE_WINDOW_SECONDS": 10,
    # The pace is cut at most once in this many seconds: visitors let in before a cut keep loading
    # the shop for their whole visit, so the signals show a cut only after it. Cut once a window
    # instead, an overload run's pace fell to a quarter of the shop's capacity and took 70 s back.
    "WAITINGROOM_ADAPTIVE_CUT_EVERY_SECONDS": 30,
    # Fewer samples than this in a window say nothing: the p95 of five is their maximum, and one
    # slow request in a quiet process engaged the room in a spike the shop was serving.
    "WAITINGROOM_ADAPTIVE_MIN_SAMPLES": 20,
    # Open, a signal over its target engages the room once it has stayed over this long, or at
    # once past this multiple of it. Measured: the influencer spike's onset took checkout's p95 to
    # 317-387 ms (target 250) for about 15 s on a machine that served the whole spike, room off,
    # at 114 ms; engaging on it queued 1,653 visitors for a median of 12.6 s and sold no more.
    "WAITINGROOM_ADAPTIVE_ENGAGE_AFTER_SECONDS": 20,
    "WAITINGROOM_ADAPTIVE_ENGAGE_AT_ONCE_RATIO": 2.0,
    # Over target the pace is the admissions' pace times target / signal, never less than this share.
    "WAITINGROOM_ADAPTIVE_DECREASE": 0.7,
    # Engaged, a signal less than this share over its target holds the pace: a cut of a few per
    # cent says nothing, and would stop the next cut for CUT_EVERY_SECONDS (measured: a 1% cut at
    # 255 ms, then 40 s of checkout's p95 at 480-700 ms before the room could cut again).
    "WAITINGROOM_ADAPTIVE_DEAD_BAND": 0.1,
    # Newcomers faster than the room's maximum engage it: counted over this many seconds, not
    # the window, so a spike's rise is seen within seconds, before its visitors reach checkout.
    "WAITINGROOM_ADAPTIVE_SURGE_SECONDS": 5,
    # ...under half of every target: it grows by this share of itself each second, if used (between
    # half and the target it holds: visitors reach checkout 20-30 s after they are let in). At 1% a
    # second an overload run at twice capacity sold 4.1 orders/s against 7.5 at 2%, both with
    # checkout's p95 under 500 ms.
    "WAITINGROOM_ADAPTIVE_INCREASE": 0.02,
    # Auto mode's safety maximum: new visitors let in per minute at most, engaged or not. Not a
    # capacity guess (the pace measures that): a bound on what one misreading could let in.
    "WAITINGROOM_ADAPTIVE_MAX_PER_MINUTE": 60_000,
    "WAITINGROOM_ADAPTIVE_RELEASE_SECONDS": 30,  # calm (under half the targets) this long, nobody waiting: let go
    # Dotted path of a function(request) -> bool: a visitor already buying (holding a cart), let
    # through on the BUYING_PATHS only, counted as active, and not during a scheduled event.
    "WAITINGROOM_ADMIT_IF": "",
    "WAITINGROOM_BUYING_PATHS": [],  # e.g. ["/cart/", "/checkout/"]
    # The cache alias (django-redis) whose Redis holds the room's state: one that never evicts.
    "WAITINGROOM_CACHE_ALIAS": "default",
    "WAITINGROOM_FAIL_OPEN": True,  # Redis down: let everyone in (True) or refuse new visitors (False)
    "WAITINGROOM_SITE_NAME": "",  # shown on the queue page, so visitors know where they wait
    # How many proxies of ours append to X-Forwarded-For (nginx: 1); 0 trusts REMOTE_ADDR only.
    "TRUSTED_PROXY_COUNT": 0,
    # --- Outages (views.py) ---
    "UNAVAILABLE_RETRY_AFTER_SECONDS": 30,
}
