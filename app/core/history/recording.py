"""What a set of writes changes: each written key's new index and its diff from the head, and
the head pointer's capture progress and head texts.

A write costs what its change costs: the new text of an indexed array is spliced into the head
text's index (only the elements between the common prefix and suffix are read), and only that
window is diffed when both are arrays of records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from app.core.diff.diff import ABSENT, KeyDelta, diff_key, diff_window
from app.core.formats.module_text import ModuleText
from app.core.history.head import HeadPointer
from app.core.history.head_texts import HeadTexts, parsed
from app.core.ports import Batch


async def diff_writes(
    heads: HeadTexts, head_keys: Mapping[str, str], writes: Mapping[str, str | None],
    *, is_root: bool, indexes: Mapping[str, ModuleText] | None = None,
) -> tuple[dict[str, ModuleText], list[KeyDelta]]:
    """The new index of every written key whose text changed, and the deltas of the keys whose
    value changed (a deleted key: None). ``head_keys``: the head's module hashes. The root
    diffs nothing (its snapshot records every key whole). ``indexes``: indexes already made of
    some new texts (used for a key new to the head, when made of exactly its text). ValueError
    for text that is not JSON."""
    modules: dict[str, ModuleText] = {}
    deltas: list[KeyDelta] = []
    for key, text in writes.items():
        if text is None:
            if key in head_keys:
                deltas.append(diff_key(key, await heads.value(key), ABSENT))
            continue
        if await heads.unchanged(key, text):
            continue
        known = (indexes or {}).get(key)
        module, delta = await _diff(heads, key, text, is_root or key not in head_keys, is_root,
                                    known if known is not None and known.text is text else None)
        modules[key] = module
        if delta is not None and (is_root or not delta.is_empty):
            deltas.append(delta)
    return modules, deltas


async def _diff(
    heads: HeadTexts, key: str, text: str, is_new: bool, is_root: bool, known: ModuleText | None,
) -> tuple[ModuleText, KeyDelta | None]:
    """The index of a key's new text and the diff from its head value (None: the same value,
    spelled otherwise); ``known``: that text's index, if already made."""
    try:
        if is_new:
            module = known or await ModuleText.build_stepwise(text)
            if is_root:
                return module, KeyDelta(key)  # recorded whole by its snapshot
            return module, diff_key(key, ABSENT, module.value())
        old = await heads.module(key)
        spliced = old.splice(text)
        module = spliced[0] if spliced is not None else await ModuleText.build_stepwise(text)
    except RecursionError:
        raise ValueError(f"the new value of {key!r} is nested too deeply to read") from None
    except ValueError as error:
        raise ValueError(f"the new value of {key!r} is not JSON: {error}") from None
    if module.module_hash == old.module_hash:
        return module, None
    if spliced is not None and old.records and module.records:
        window = spliced[1]
        delta = diff_window(key, window.start, window.old, window.new,
                            (len(old.starts or ()), len(module.starts or ())))
        if delta is not None:
            return module, delta
    return module, diff_key(key, parsed(key, old.text), module.value())


def with_progress(
    head: HeadPointer, *, journal_seq: int | None,
    live_reads: Mapping[str, tuple[int, int]] | None,
    drained_ends: Mapping[str, int] | None,
    drained_writes: Mapping[str, tuple[str, int]] | None,
) -> HeadPointer:
    """``head`` with the capture progress a recording persists: the journal seq it reached, the
    read intervals of keys whose value was just read from the store (``live_reads``), and when
    (and which: ``drained_writes``) the latest write of keys drained from the journal ended
    (``drained_ends``)."""
    return replace(head, journal_seq=max(head.journal_seq, journal_seq or 0),
                   live_reads={**head.live_reads, **(live_reads or {})},
                   drained_ends={**head.drained_ends, **(drained_ends or {})},
                   drained_writes={**{key: write for key, write in head.drained_writes.items()
                                      if key not in (drained_ends or {})}, **(drained_writes or {})})


def put_head_texts(
    batch: Batch, head: HeadPointer, modules: Mapping[str, ModuleText], *, defer: bool,
) -> HeadPointer:
    """Add to ``batch`` the new head texts of ``modules`` (their keys leave staleHeads) or, with
    ``defer``, list their keys in staleHeads instead (see Chain's ``defer_heads``); ``head`` as
    that leaves it."""
    if defer:
        return replace(head, stale_heads=tuple(sorted(set(head.stale_heads) | set(modules))))
    for key, module in modules.items():
        batch.put("head", key, module.text.encode("utf-8"))
    if set(head.stale_heads) & set(modules):
        head = replace(head, stale_heads=tuple(
            key for key in head.stale_heads if key not in modules))
    return head
