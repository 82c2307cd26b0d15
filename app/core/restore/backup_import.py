"""Importing a backup file: a restore whose target is the backup's data, not a version.

The scope is the backup's modules (or those asked for): a key the backup does not hold is left
as it is, so a backup of some modules never deletes the others. Modes ``full`` and ``merge``
work as for a version; ``revert`` needs a history and is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime

from app.core.capture.scope import is_versioned
from app.core.formats.json_value import Json
from app.core.history.history import State
from app.core.restore.plan import RestorePlan, plan_restore
from app.core.restore.request import RequestError, RestoreRequest
from app.core.restore.sides import describe_restore


def backup_label(created_at: int, created_by: str) -> str:
    """How a backup is named in descriptions and the audit trail."""
    when = datetime.fromtimestamp(created_at / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"the backup of {when} by {created_by[:100] or 'unknown'}"


async def plan_import(
    request: RestoreRequest, modules: Mapping[str, Json], label: str, head_id: str | None,
    head_values: Callable[[Collection[str]], Awaitable[State]],
) -> RestorePlan:
    """What importing ``modules`` (the backup's values) as ``request`` asks would write."""
    if request.mode == "revert":
        raise RequestError("A backup is imported in full, merged, or for some modules or "
                           "records; it cannot be reverted (it has no history)")
    if request.expect_head is not None and request.expect_head != head_id:
        raise RequestError("The data changed since this import was previewed: preview it again")
    foreign = sorted(key for key in modules if not is_versioned(key))
    if foreign:
        raise RequestError(f"The backup holds {', '.join(map(repr, foreign))}, which Backstay does not "
                           "keep (not PMS data): it was not made by Export backup. Nothing was imported")
    asked = set(request.modules or ()) | {ref.module for ref in request.records or ()}
    missing = sorted(asked - set(modules))
    if missing:
        raise RequestError(f"The backup holds no module {', '.join(missing)}")
    keys = sorted(asked or modules)
    if not keys:
        raise RequestError("The backup holds no modules: there is nothing to import")
    # Today's values of those keys only: the plan's scope is the keys either side holds.
    return plan_restore(request, target_id=label, head_id=head_id, today=await head_values(keys),
                        target={key: modules[key] for key in keys})


def describe_import(plan: RestorePlan) -> str:
    """'Imported all modules from the backup of … (full)', 'Imported 2 guests from …'."""
    restored = describe_restore(plan)
    return "Imported" + restored.removeprefix("Restored").replace(" to the backup", " from the backup", 1)
