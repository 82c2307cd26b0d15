"""The sides of a restore read from the history, the plan made of them, and its description."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.diff.summary import module_label, record_noun
from app.core.errors import VersionNotFound
from app.core.history.history import History
from app.core.history.version import Version
from app.core.restore.plan import RestorePlan, plan_restore
from app.core.restore.request import RequestError, RestoreRequest, Target


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def resolve(history: History, target: Target) -> Version:
    """The version a target names (for a time: the last version at or before it)."""
    if target.at is not None:
        version = history.at_time(target.at)
        if version is None:
            oldest = history.oldest_first()
            raise RequestError(f"No version at or before {_iso(target.at)}" + (
                f": the oldest is from {_iso(oldest[0].timestamp)}" if oldest else ""))
        return version
    return _get(history, str(target.version_id))


def _get(history: History, version_id: str) -> Version:
    try:
        return history.get(version_id)
    except VersionNotFound:
        raise RequestError(f"No version {version_id!r}") from None


async def plan_from_history(
    history: History, head_id: str | None, request: RestoreRequest
) -> RestorePlan:
    """Read today's state (the head version's), the target's and, for a revert, the base, and
    plan the restore."""
    if head_id is None:
        raise RequestError("There is nothing to restore yet: no version has been recorded")
    if request.expect_head is not None and request.expect_head != head_id:
        raise RequestError("The data changed since this was previewed: preview it again")
    version = resolve(history, request.target)
    today = await history.state_at(head_id)
    if request.mode != "revert":
        target = await history.state_at(version.id)
        return plan_restore(request, target_id=version.id, head_id=head_id, today=today,
                            target=target)
    last = _get(history, request.target.last_id or version.id)
    if last.seq < version.seq:
        raise RequestError("A range to revert goes from an older version to a newer one")
    parent = history.parent_of(version)
    before = await history.state_at(parent.id) if parent is not None else {}
    after = await history.state_at(last.id)
    return plan_restore(request, target_id=version.id, head_id=head_id, today=today,
                        target=before, base=after)


def describe_restore(plan: RestorePlan) -> str:
    """'Restored guests to 1717…-000000042-9f3a1c2e (full)', 'Restored 2 guests to … (merge)'."""
    request = plan.request
    if request.records:
        modules = {ref.module for ref in request.records}
        count = len(request.records)
        if len(modules) == 1:
            noun = record_noun(next(iter(modules)))
            what = f"{count} {noun}{'s' if count > 1 else ''}"
        else:
            what = f"{count} records"
    elif request.modules:
        what = ", ".join(module_label(module) for module in request.modules)
    else:
        what = "all modules"
    if request.mode == "revert":
        return f"Restored {what} to before {request.target.label()} (revert)"
    return f"Restored {what} to {plan.target_id} ({request.mode})"
