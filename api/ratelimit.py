"""How fast one terminal may call the API.

A fixed window counted in Django's cache: each terminal may send
TERMINAL_API_BURST requests per window of BURST / RATE seconds, which is
TERMINAL_API_RATE per second on average and a whole burst at once (a till
flushing its queue after a reconnect). At the edge of two windows a terminal
can get up to two bursts through; a fixed window trades that for needing only
`add` and `incr`, which are atomic in Redis and Memcached, and in LocMemCache
within one process.

The default cache is local memory, one per process: with several gunicorn
workers each counts on its own, so the effective limit is the configured one
times the number of workers. With DJANGO_CACHE_URL=redis://127.0.0.1:6379/1
every worker counts in one place.

Every authenticated request counts, a replay of an earlier write as much as a
new one: the limit is about load, and a storm of retries is load. The count
belongs to the terminal's current secret, so issuing a new one starts afresh.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from api.errors import ApiError
from stores.models import Terminal

logger = logging.getLogger(__name__)

# Seconds since the epoch; tests replace it to step past a window without sleeping.
clock = time.time


def terminal_rate_retry_after(*, terminal: Terminal) -> int | None:
    """Count this request; None if it may go on, else the seconds to wait."""
    rate, burst = float(settings.TERMINAL_API_RATE), int(settings.TERMINAL_API_BURST)
    if rate <= 0 or burst <= 0:
        return None
    window = burst / rate
    now = clock()
    index = math.floor(now / window)
    key = f"api:rate:{terminal.pk}:{(terminal.secret_hash or '')[:12]}:{index}"
    timeout = math.ceil(window) + 1
    try:
        cache.add(key, 0, timeout)
        try:
            count = cache.incr(key)
        except ValueError:
            # The key expired between add and incr: this is the window's first request.
            cache.add(key, 1, timeout)
            count = 1
    except Exception:  # whatever the cache backend raises when it is down
        # Tills at the counter matter more than the limit: without a cache, let them through.
        logger.warning("Terminal rate limit not applied: the cache is unavailable.", exc_info=True)
        return None
    if count <= burst:
        return None
    return max(1, math.ceil((index + 1) * window - now))


def terminal_rate_check(*, terminal: Terminal) -> None:
    """Raise the API's 429 when the terminal is over its rate."""
    retry_after = terminal_rate_retry_after(terminal=terminal)
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            _("Too many requests from this terminal; retry after %(seconds)d seconds.") % {"seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
