"""SavedIndexes: the indexes of large head modules, saved in the store for the next start.

``meta/index/<key>`` holds the index (ModuleText.encode_index) of the head text of ``key`` when
that text is an array of at least INDEX_AT elements: reading it back costs little, building it a
parse of the module. A saved index is used only when it is exactly that text's. One whose header
names the stored head text (by hash) can also be left where it is until the key's first write
(``defer``): the indexes of a large hotel's modules that nobody edits take no memory.

HeadTexts holds the indexes in use; this reads and writes the saved ones, and keeps track of
which key's saved index is its head module's and which were left unread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping

from app.core.formats.module_text import ModuleText
from app.core.history.head import HeadPointer
from app.core.ports import Batch, DataLost, VersionStore

#: Where the index of a head module is saved (meta/index/<key>), for modules of at least
#: INDEX_AT elements.
INDEX_PREFIX = "index/"
INDEX_AT = 1000
#: At most this many bytes of a saved index are read to check its header (``prepare(defer=True)``).
HEADER_LIMIT = 4096

#: (key, index, module hash, text hash, text length) of a head module whose saved index is out
#: of date.
Unsaved = tuple[str, ModuleText, str, str | None, int | None]


class SavedIndexes:
    def __init__(
        self, store: VersionStore, head: Callable[[], HeadPointer], generation: Callable[[], int],
    ) -> None:
        self._store = store
        self._head = head
        self._generation = generation
        #: Saved indexes checked by their header to be those of the stored head text, read on
        #: the key's first use: key -> (text length, text hash).
        self.deferred: dict[str, tuple[int, str]] = {}
        # The module hash of each key's index as saved under meta/index/<key>.
        self._saved: dict[str, str] = {}

    def clear(self) -> None:
        """Forget everything (another writer moved the head)."""
        self.deferred.clear()
        self._saved.clear()

    def forget(self, key: str) -> None:
        """A key deleted from the head."""
        self.deferred.pop(key, None)
        self._saved.pop(key, None)

    def mark(self, key: str, module_hash: str) -> None:
        """The index saved for ``key`` is that of the module of hash ``module_hash``."""
        self._saved[key] = module_hash

    def unmark(self, key: str) -> None:
        """The index saved for ``key`` is not known to be its head module's (it is saved anew)."""
        self._saved.pop(key, None)

    async def read(self, key: str) -> bytes | None:
        """The index saved for ``key``, as stored; None when there is none, or the store lost it
        (a cache: the key is indexed from its text, and the index saved anew)."""
        try:
            return await self._store.get("meta", INDEX_PREFIX + key)
        except DataLost:
            self._saved.pop(key, None)
            return None

    async def index_of(self, key: str, text: str, expected: str) -> ModuleText | None:
        """The index saved for the head text of ``key`` (``text``, of module hash ``expected``),
        if it is still that text's."""
        stored = await self.read(key)
        if stored is None:
            return None
        module = ModuleText.from_index(text, stored, expected)
        if module is not None and ModuleText.is_current_index(stored):  # else saved again
            self._saved[key] = expected
        return module

    async def defer(
        self, key: str, stored_text_hash: Callable[[str], Awaitable[str | None]], at_least: int,
    ) -> bool:
        """Leave the saved index of ``key`` unread until its first use, if its header names the
        head's module hash and the stored head text (by hash: ``stored_text_hash``), and that
        text is large (``at_least`` long)."""
        generation = self._generation()
        try:
            line = await self._store.first_line("meta", INDEX_PREFIX + key, HEADER_LIMIT)
        except DataLost:  # read (and saved anew) on the key's first use
            return False
        if line is None:
            return False
        text_hash = await stored_text_hash(key)
        module_hash = self._head().module_hashes.get(key)
        length = (ModuleText.header_names(line, module_hash, text_hash)
                  if module_hash is not None and text_hash is not None else None)
        if length is None or length < at_least or generation != self._generation():
            return False
        self.deferred[key] = (length, text_hash or "")
        self._saved[key] = module_hash or ""
        return True

    async def read_deferred(self, key: str) -> tuple[ModuleText, int, str] | None:
        """Read the saved index left unread by ``defer``: (index, text length, text hash), or
        None. An index that no longer checks out is dropped (None): the key is indexed from its
        text."""
        length, text_hash = self.deferred[key]
        module_hash = self._head().module_hashes.get(key)
        stored = await self.read(key)
        found = (ModuleText.from_index_detached(stored, module_hash, text_hash)
                 if stored is not None and module_hash is not None else None)
        del stored
        if self.deferred.get(key) != (length, text_hash):
            return None  # a commit meanwhile dropped it (keep, forget, clear): what it left stands
        del self.deferred[key]
        head = self._head()
        if head.module_hashes.get(key) != module_hash or key in head.stale_heads:
            self._saved.pop(key, None)  # the key changed meanwhile: it is indexed afresh
            return None
        if found is not None and found[1] == length:
            return found[0], length, text_hash
        self._saved.pop(key, None)
        return None

    def unsaved(
        self, hashes: Mapping[str, str], indexes: Iterable[tuple[str, ModuleText, str | None, int | None]],
    ) -> Iterator[Unsaved]:
        """Of ``indexes`` ((key, index, text hash, text length) of the head modules held), those
        of large head modules (``hashes``: their module hashes) whose saved index is out of
        date."""
        for key, module, text_hash, length in indexes:
            module_hash = hashes.get(key)
            if (module_hash is not None and module.is_array and len(module.starts or ()) >= INDEX_AT
                    and module.module_hash == module_hash and self._saved.get(key) != module_hash):
                yield key, module, module_hash, text_hash, length

    async def save(self, unsaved: Iterable[Unsaved]) -> int:
        """Save the ``unsaved`` indexes (a cache for the next start: reading it back costs little,
        building it a parse of the module). Returns how many were saved."""
        batch = Batch()
        saved: dict[str, str] = {}
        for key, module, module_hash, text_hash, length in unsaved:
            batch.put("meta", INDEX_PREFIX + key, module.encode_index(text_hash, length))
            saved[key] = module_hash
        if batch:
            await self._store.apply(batch)
            self._saved.update(saved)
        return len(saved)
