"""HeadTexts: the text of every head key as the PMS wrote it, and its index once needed.

A key's text is read from the store (``head/<key>``) on first use; a key whose text a version
left stale (its head pointer lists it in staleHeads, see Chain's ``defer_heads``) is rebuilt from
the head version's state instead. A key's index (ModuleText) is built on its first write, or
read back from ``meta/index/<key>`` when it is exactly that text's (see SavedIndexes). Parsed
values are never kept: they cost ten times the text. A saved index whose header names the stored
text can also be left where it is until the key's first write (``prepare(defer=True)``): the
indexes of a large hotel's modules that nobody edits take no memory.

The owner (Chain) moves the head pointer; ``generation`` tells this cache that it did, so that
work begun before a commit never overwrites what the commit left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator, Mapping

from app.core.errors import CorruptData
from app.core.formats.format import FORMAT_VERSION, hash_rules
from app.core.formats.json_value import Json, canonical_text, parse_json
from app.core.formats.module_text import ModuleText, hash_text, text_digest
from app.core.history.head import HeadPointer
from app.core.history.history import State
from app.core.history.saved_index import INDEX_AT as INDEX_AT
from app.core.history.saved_index import INDEX_PREFIX as INDEX_PREFIX
from app.core.history.saved_index import SavedIndexes, Unsaved
from app.core.ports import DataLost, VersionStore

#: A head text at least this long is not kept in memory once the store holds it (``release``):
#: only its index is, and the next write reads it back.
RELEASE_AT = 256 * 1024


class HeadTexts:
    def __init__(
        self,
        store: VersionStore,
        head: Callable[[], HeadPointer],
        generation: Callable[[], int],
        state_at: Callable[[str], Awaitable[State]],
    ) -> None:
        self._store = store
        self._head = head
        self._generation = generation
        self._state_at = state_at
        self._texts: dict[str, str] = {}
        self._modules: dict[str, ModuleText] = {}
        # Indexes whose text was released (the store holds it): key -> (index, text length,
        # text hash).
        self._released: dict[str, tuple[ModuleText, int, str]] = {}
        # The saved indexes: which are the head modules', which are left unread (``deferred``).
        self._indexes = SavedIndexes(store, head, generation)
        #: (SHA-256 hex, length) of the stored head text of keys, when something already hashed
        #: it (``hashes_to``, ``release``): ``prepare`` need not have the store hash it again,
        #: and the head pointer's next write names it. Forgotten as soon as the key's head text
        #: changes.
        self.learned: dict[str, tuple[str, int]] = {}
        # (SHA-256 hex, length) of the UTF-8 of the text of keys in _modules, as the reader of
        # that text hashed it (``keep``): ``release`` names it without hashing it again. Only
        # ever for keys in _modules: whatever drops a key from there drops it here too.
        self._digests: dict[str, tuple[str, int]] = {}
        #: How many head indexes were built by parsing, and how many read back saved.
        self.counts = {"built": 0, "loaded": 0}
        #: How many head texts were read back from the store.
        self.texts_read = 0
        #: Keys whose head text the store lost and that were rebuilt from the history, until
        #: that is told (Chain.lost_told); those of them not written again yet
        #: (Chain.flush_heads writes them).
        self.lost: set[str] = set()
        self.to_rewrite: set[str] = set()
        #: How many saved indexes a start left unread until their key's first write.
        self.deferred = 0

    def clear(self) -> None:
        """Forget everything (another writer moved the head)."""
        self._texts.clear()
        self._modules.clear()
        self._released.clear()
        self._indexes.clear()
        self.learned.clear()
        self._digests.clear()

    def keep(self, modules: Mapping[str, ModuleText],
             digests: Mapping[str, tuple[str, int]] | None = None) -> None:
        """The new head texts of the keys a commit wrote (``digests``: the SHA-256 hex and
        length of the UTF-8 of some of them, as their reader found)."""
        for key, module in modules.items():
            self._modules[key] = module
            self._texts.pop(key, None)
            self._released.pop(key, None)
            self._indexes.deferred.pop(key, None)
            self.learned.pop(key, None)
            found = (digests or {}).get(key)
            if found is None:
                self._digests.pop(key, None)
            else:
                self._digests[key] = found

    def forget(self, key: str) -> None:
        """A key deleted from the head."""
        self._modules.pop(key, None)
        self._texts.pop(key, None)
        self._released.pop(key, None)
        self._indexes.forget(key)
        self.learned.pop(key, None)
        self._digests.pop(key, None)

    def hashes_to(self, key: str, text_hash: str, length: int) -> None:
        """The stored text of head key ``key`` (``head/<key>``) hashes to ``text_hash`` (its
        ``length`` bytes), as something that read it found (the engine's start compares it with
        the live store's): ``prepare`` takes that instead of having the store hash it again."""
        if key in self._head().module_hashes and key not in self._head().stale_heads:
            self.learned[key] = (text_hash, length)

    def release(self, keep: str | None = None) -> int:
        """Drop from memory the large head texts the store holds (every key not in the head
        pointer's staleHeads), but ``keep``'s, keeping their indexes; the next write to such a
        key reads its text back. The engine's memory never shrinks, so texts held for nothing
        cost for good. Returns how many were released."""
        # Texts the store lost are held until written back (Chain.flush_heads).
        stale = set(self._head().stale_heads) | self.to_rewrite
        released = 0
        for key, module in list(self._modules.items()):
            if key != keep and key not in stale and len(module.text) >= RELEASE_AT:
                known = self._digests.pop(key, None)
                text_hash, length = known if known is not None else text_digest(module.text)
                self._released[key] = (module.detached(), len(module.text), text_hash)
                self.learned[key] = (text_hash, length)
                del self._modules[key]
                released += 1
        for key, text in list(self._texts.items()):
            if key != keep and key not in stale and len(text) >= RELEASE_AT:
                del self._texts[key]
        return released

    async def text(self, key: str) -> str | None:
        head = self._head()
        if key not in head.module_hashes:
            return None
        module = self._modules.get(key)
        if module is not None:
            return module.text
        text = self._texts.get(key)
        if text is None and key in head.stale_heads:
            # Its text was not written yet: the head version's state holds its value (and that
            # of every other stale key: one reconstruction serves them all).
            state = await self._head_state()
            head = self._head()
            if state is None or key not in head.module_hashes:
                return await self.text(key)
            for stale in head.stale_heads:
                if stale not in self._modules and stale not in self._texts:
                    self._texts[stale] = canonical_text(state[stale])
            text = self._texts[key]
        elif text is None:
            try:
                stored = await self._store.get("head", key)
            except DataLost:
                return await self._rebuilt(key)
            if stored is None:
                raise CorruptData(f"head value of {key!r} is missing")
            self.texts_read += 1
            text = stored.decode("utf-8")
            if key not in self._released and key not in self._indexes.deferred:  # read again, not kept
                self._texts[key] = text
        return text

    async def _head_state(self) -> State | None:
        """The head version's state, reconstructed from the history; None when the head moved
        while it was (a commit, or another writer)."""
        generation = self._generation()
        state = await self._state_at(self._head().version_id or "")
        return state if generation == self._generation() else None

    async def _rebuilt(self, key: str) -> str | None:
        """The head text of ``key`` when the store lost it (its file is gone): the head version's
        state holds the same value, as for a text not written yet (None: the key left the head
        meanwhile). Raises DataLost when the history lost what that state needs too."""
        state = await self._head_state()
        if state is None or key not in self._head().module_hashes:
            return await self.text(key)  # the head moved meanwhile: its text as it is now
        module = self._modules.get(key)
        if module is not None:  # a commit meanwhile holds a newer text
            return module.text
        self.lost.add(key)
        self.to_rewrite.add(key)
        self.learned.pop(key, None)  # the digest of bytes the store no longer holds
        text = self._texts[key] = canonical_text(state[key])
        return text

    async def unchanged(self, key: str, text: str) -> bool:
        """Is ``text`` the head text of ``key``? A released text is compared by length and hash,
        without reading it back."""
        known = self._released.get(key)
        named = (known[1], known[2]) if known is not None else self._indexes.deferred.get(key)
        if named is not None and key not in self._modules and key not in self._head().stale_heads:
            return len(text) == named[0] and hash_text(text) == named[1]
        return text == await self.text(key)

    async def data(self, key: str) -> bytes | None:
        """The head text of ``key`` as its UTF-8 bytes (what ``head/<key>`` holds), without
        decoding or keeping it: enough to tell whether the store still holds that text."""
        head = self._head()
        if key not in head.module_hashes:
            return None
        if key in self._modules or key in self._texts or key in head.stale_heads:
            text = await self.text(key)
            return None if text is None else text.encode("utf-8")
        try:
            stored = await self._store.get("head", key)
        except DataLost:
            rebuilt = await self._rebuilt(key)
            return None if rebuilt is None else rebuilt.encode("utf-8")
        if stored is None:
            raise CorruptData(f"head value of {key!r} is missing")
        return stored

    async def module(self, key: str) -> ModuleText:
        """The index of a head key's text (built on its first write: the cost of a parse)."""
        module = self._modules.get(key)
        if module is None and (key in self._released or key in self._indexes.deferred):
            # A released text is read back: the other large texts the store holds leave first,
            # so that two are never held where one can be.
            self.release(keep=key)
        if module is None and key in self._indexes.deferred:
            await self._load_deferred(key)
            module = self._modules.get(key)  # a commit while it was read wrote a newer one
        while module is None:
            generation = self._generation()
            text = await self.text(key)
            if text is None:
                raise CorruptData(f"{key!r} has no head value")
            released = self._released.get(key)
            if released is not None and key in self._head().stale_heads:
                del self._released[key]  # a newer text than the one it indexes
                released = None
            if released is not None:
                attached = released[0].attached(text)
                # Its index is that text's only if the text is the one released (checked by hash).
                if (len(text) == released[1] and attached.text_hash() == released[2]
                        and (not attached.is_array or attached.sample_holds())):
                    if generation == self._generation() and key not in self._modules:
                        self._modules[key] = attached
                        del self._released[key]
                    module = self._modules.get(key)
                    continue
                del self._released[key]  # not the text released: index it afresh
            try:
                built = await self._saved_index(key, text)
            except DataLost:  # the index is built again from the text
                built = None
            self.counts["built" if built is None else "loaded"] += 1
            try:
                if built is None:
                    built = await ModuleText.build_stepwise(text)
            except (ValueError, RecursionError) as error:
                raise CorruptData(f"head value of {key!r} is not JSON: {error}") from None
            module = self._modules.get(key)  # a commit while building: its index is newer
            if module is None and generation == self._generation():
                module = self._modules[key] = built
                self._texts.pop(key, None)
        return module

    async def prepare(self, key: str, *, defer: bool = False) -> None:
        """Have the index of a head key at hand for its next write. A large key whose stored
        text the store hashes to what its saved index names gets that index without its text
        ever entering memory (released, see ``release``); any other is indexed by ``module``.
        ``defer``: such a saved index is only checked by its header, and read on the key's
        first use (``module``)."""
        head = self._head()
        if (key in self._modules or key in self._released or key in self._indexes.deferred
                or key not in head.module_hashes):
            return
        if key not in head.stale_heads and hash_rules(head.format_version) == hash_rules(FORMAT_VERSION):
            if defer and await self._indexes.defer(key, self._stored_text_hash, RELEASE_AT):
                self.deferred += 1
                return
            generation = self._generation()
            stored = await self._indexes.read(key)
            text_hash = None if stored is None else await self._stored_text_hash(key)
            found = (ModuleText.from_index_detached(stored, head.module_hashes[key], text_hash)
                     if stored is not None and text_hash is not None else None)
            if found is not None and generation == self._generation() and key not in self._modules:
                index, length = found
                if length >= RELEASE_AT:
                    self._released[key] = (index, length, text_hash or "")
                    if stored is not None and ModuleText.is_current_index(stored):  # else saved anew
                        self._indexes.mark(key, head.module_hashes[key])
                    self.counts["loaded"] += 1
                    return
        await self.module(key)

    async def _stored_text_hash(self, key: str) -> str | None:
        """SHA-256 hex of the stored head text of ``key``: as learned, else hashed by the store."""
        learned = self.learned.get(key)
        try:
            return learned[0] if learned is not None else await self._store.digest("head", key)
        except DataLost:
            rebuilt = await self._rebuilt(key)
            return None if rebuilt is None else hashlib.sha256(rebuilt.encode("utf-8")).hexdigest()

    async def _load_deferred(self, key: str) -> None:
        """Read the saved index left unread by ``prepare(defer=True)`` (as released: its text is
        read and checked against it by ``module``). An index that no longer checks out is
        dropped: the key is indexed from its text."""
        found = await self._indexes.read_deferred(key)
        if found is not None and key not in self._modules:
            self._released[key] = found
            self.counts["loaded"] += 1
        elif found is not None:
            self._indexes.unmark(key)

    async def value(self, key: str) -> Json:
        """A head value, parsed (the head holds only JSON: anything else is corruption)."""
        text = await self.text(key)
        return parsed(key, "null" if text is None else text)

    async def _saved_index(self, key: str, text: str) -> ModuleText | None:
        """The index saved for the head text of ``key``, if it is still that text's."""
        head = self._head()
        expected = head.module_hashes.get(key)
        if hash_rules(head.format_version) != hash_rules(FORMAT_VERSION) or expected is None:
            return None
        return await self._indexes.index_of(key, text, expected)

    async def save_indexes(self) -> int:
        """Save the index of every large head module whose saved index is out of date (a cache
        for the next start: reading it back costs little, building it a parse of the module).
        Returns how many were saved."""
        return await self._indexes.save(self._unsaved())

    @property
    def unsaved_indexes(self) -> int:
        """How many indexes ``save_indexes`` would save now."""
        return sum(1 for _ in self._unsaved())

    def _unsaved(self) -> Iterator[Unsaved]:
        """(key, index, module hash, text hash, text length) of each large head module whose
        saved index is out of date."""
        indexes: list[tuple[str, ModuleText, str | None, int | None]] = [
            (key, module, None, None) for key, module in self._modules.items()]
        indexes += [(key, index, text_hash, length)
                    for key, (index, length, text_hash) in self._released.items()]
        return self._indexes.unsaved(self._head().module_hashes, indexes)


def parsed(key: str, text: str) -> Json:
    """A head text, parsed (the head holds only JSON: anything else is corruption)."""
    try:
        return parse_json(text)
    except (ValueError, RecursionError) as error:
        raise CorruptData(f"head value of {key!r} is not JSON: {error}") from None
