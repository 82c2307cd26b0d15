"""The sides of a restore read from the history, the plan made of them, and its description."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime

from app.core.diff.summary import module_label, record_noun
from app.core.errors import VersionNotFound
from app.core.history.history import History, State
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


HeadValues = Callable[[Collection[str]], Awaitable[State]]


async def plan_from_history(
    history: History, head_id: str | None, head_hashes: Mapping[str, str],
    request: RestoreRequest, head_values: HeadValues,
) -> RestorePlan:
    """Read the sides (only the keys the restore can change) and plan the restore:
    ``head_hashes`` are the head's module hashes, ``head_values(keys)`` today's values."""
    if head_id is None:
        raise RequestError("There is nothing to restore yet: no version has been recorded")
    if request.expect_head is not None and request.expect_head != head_id:
        raise RequestError("The data changed since this was previewed: preview it again")
    version = resolve(history, request.target)
    if request.mode != "revert":
        keys = _scope(history, version.id, head_hashes, request)
        target = await history.state_at(version.id, keys)
        return plan_restore(request, target_id=version.id, head_id=head_id,
                            today=await head_values(keys), target=target)
    last = _get(history, request.target.last_id or version.id)
    if last.seq < version.seq:
        raise RequestError("A range to revert goes from an older version to a newer one")
    reverted = {key for v in history.oldest_first() if version.seq <= v.seq <= last.seq
                for key in v.modules}
    keys = _requested(request) or reverted
    parent = history.parent_of(version)
    before = await history.state_at(parent.id, keys) if parent is not None else {}
    after = await history.state_at(last.id, keys)
    return plan_restore(request, target_id=version.id, head_id=head_id,
                        today=await head_values(keys), target=before, base=after)


def _requested(request: RestoreRequest) -> set[str]:
    return set(request.modules or ()) | {ref.module for ref in request.records or ()}


def _scope(history: History, version_id: str, head_hashes: Mapping[str, str],
           request: RestoreRequest) -> set[str]:
    """The keys to read: those asked for, or every key whose value at the target may differ
    from today's (a key whose module hash is the same on both sides cannot change)."""
    asked = _requested(request)
    if asked:
        return asked
    then = history.module_hashes_at(version_id)
    return {key for key in set(then) | set(head_hashes)
            if then.get(key) is None or then.get(key) != head_hashes.get(key)}


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
