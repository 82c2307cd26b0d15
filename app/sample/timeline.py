"""The sample hotel's fixed clock: "today" is BASE_EPOCH_MS, so generated data never depends on
when it is generated. Times are epoch milliseconds, as in the W3 PMS records."""

from __future__ import annotations

#: 2026-01-01T00:00:00Z, the sample hotel's "now".
BASE_EPOCH_MS = 1_767_225_600_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
CHECK_IN_HOUR = 14
CHECK_OUT_HOUR = 11


def day_ms(day: int, hour: int = 0) -> int:
    """Epoch ms of `hour`:00 UTC on `day` days after (negative: before) BASE_EPOCH_MS."""
    return BASE_EPOCH_MS + day * DAY_MS + hour * HOUR_MS

#: The sample hotel's "now": noon on BASE_EPOCH_MS's day. Guests due out today have left (11:00),
#: guests due in today have not arrived yet (14:00).
NOW_MS = day_ms(0, 12)
