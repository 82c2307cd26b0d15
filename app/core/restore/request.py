"""What a restore is asked to do: its target, mode and scope, read from the API's arguments.

``target``: a version id, ``{"at": <ms timestamp>}`` (the last version at or before it), or, for
a revert, ``{"from": <version id>, "to": <version id>}`` (a contiguous range; ``to`` defaults to
``from``). ``options``: ``{mode: "full" | "merge" | "revert", modules?: [key], records?:
[{module, recordId}], resolutions?: [{module, recordId, keep: "today" | "target"}],
requireResolutions?: bool, expectHead?: version id}``. Every mistake is a RequestError whose
message is for the person who made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from app.core.formats.json_value import Json
from app.core.restore.merge import RESOLUTIONS, Resolution

Mode = Literal["full", "merge", "revert"]
MODES = ("full", "merge", "revert")


class RequestError(ValueError):
    """A restore request that cannot be carried out as asked; the message says why."""


@dataclass(frozen=True)
class Target:
    """A version id, or a point in time (``at``, ms); a revert may name a range."""

    version_id: str | None = None
    at: int | None = None
    last_id: str | None = None  # the end of a revert's range (inclusive)

    @classmethod
    def parse(cls, raw: Json) -> Target:
        if isinstance(raw, str) and raw:
            return cls(version_id=raw)
        if isinstance(raw, dict):
            if "at" in raw:
                at = raw["at"]
                if isinstance(at, bool) or not isinstance(at, int | float):
                    raise RequestError("target.at must be a time in milliseconds since 1970")
                return cls(at=int(at))
            first, last = raw.get("from"), raw.get("to", raw.get("from"))
            if isinstance(first, str) and first and isinstance(last, str) and last:
                return cls(version_id=first, last_id=last)
        raise RequestError(
            "A target is a version id, {at: <ms timestamp>} or {from: <version id>, to: <version id>}")

    def label(self) -> str:
        if self.at is not None:
            return f"at {self.at}"
        if self.last_id and self.last_id != self.version_id:
            return f"{self.version_id}..{self.last_id}"
        return str(self.version_id)


@dataclass(frozen=True)
class RecordRef:
    module: str
    record_id: str


@dataclass(frozen=True)
class RestoreRequest:
    target: Target
    mode: Mode = "full"
    modules: tuple[str, ...] | None = None
    records: tuple[RecordRef, ...] | None = None
    resolutions: Mapping[RecordRef, Resolution] = field(default_factory=dict)
    require_resolutions: bool = False
    expect_head: str | None = None

    @classmethod
    def parse(cls, target: Json, options: Json = None) -> RestoreRequest:
        options = {} if options is None else options
        if not isinstance(options, dict):
            raise RequestError("options must be an object, e.g. {mode: 'full'}")
        unknown = set(options) - {"mode", "modules", "records", "resolutions",
                                  "requireResolutions", "expectHead"}
        if unknown:
            raise RequestError(f"Unknown restore option(s): {', '.join(sorted(unknown))}")
        mode = options.get("mode", "full")
        if mode not in MODES:
            raise RequestError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        modules = options.get("modules")
        if modules is not None and (not isinstance(modules, list) or not modules
                                    or not all(isinstance(m, str) and m for m in modules)):
            raise RequestError("modules must be a non-empty list of module keys")
        records = options.get("records")
        refs = None if records is None else tuple(_refs(records, "records"))
        if refs == ():
            raise RequestError("records must list at least one {module, recordId}")
        resolutions: dict[RecordRef, Resolution] = {}
        raw = options.get("resolutions") or []
        for ref, item in zip(_refs(raw, "resolutions"), cast(list[Json], raw), strict=True):
            keep = cast(dict[str, Json], item).get("keep")
            if keep not in RESOLUTIONS:
                raise RequestError("each resolution keeps 'today' or 'target'")
            resolutions[ref] = cast(Resolution, keep)
        expect = options.get("expectHead")
        if expect is not None and not isinstance(expect, str):
            raise RequestError("expectHead must be a version id")
        parsed_target = Target.parse(target)
        if parsed_target.last_id is not None and mode != "revert":
            raise RequestError("a range of versions can only be reverted (mode 'revert')")
        return cls(parsed_target, cast(Mode, mode),
                   None if modules is None else tuple(cast(list[str], modules)), refs,
                   resolutions, bool(options.get("requireResolutions", False)), expect)


def _refs(raw: Json, name: str) -> list[RecordRef]:
    if not isinstance(raw, list):
        raise RequestError(f"{name} must be a list of {{module, recordId}}")
    refs = []
    for item in raw:
        if not (isinstance(item, dict) and isinstance(item.get("module"), str)
                and isinstance(item.get("recordId"), str)):
            raise RequestError(f"each item of {name} is {{module: <key>, recordId: <id>}}")
        refs.append(RecordRef(cast(str, item["module"]), cast(str, item["recordId"])))
    return refs
