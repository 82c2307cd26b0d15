"""Chain: the history of versions of the KV state, and the only object the engine talks to.

Each ``record`` diffs the written keys against the head (the current value of every key, kept
in the store next to the versions) and commits one Version - payload, metadata, new head values
and head pointer - in one atomic store batch. Every ``checkpoint_every``-th version (and every
manual or scheduled backup, and the oldest version) is a checkpoint: it also references a full
snapshot, stored as content-addressed blobs, so reconstructing any version is bounded work.
What a version's batch holds is history.commit's; the head texts and their indexes are
history.head_texts'.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from app.core.diff.comparison import Comparison, compare_states
from app.core.diff.diff import KeyDelta
from app.core.formats.format import FORMAT_VERSION, hash_rules
from app.core.formats.json_value import Json
from app.core.formats.module_text import ModuleText
from app.core.history.commit import CHECKPOINT_BYTES, Committer
from app.core.history.head import TAIL_LIMIT, HeadPointer
from app.core.history.head_loading import load_head
from app.core.history.head_texts import HeadTexts
from app.core.history.history import History, State
from app.core.history.recording import diff_writes, put_head_texts, with_progress
from app.core.history.version import Version, VersionDetail
from app.core.history.version_id import random_suffix
from app.core.ports import AsyncCompressor, Batch, Clock, Compressor, VersionStore

if TYPE_CHECKING:
    from app.core.history.verify_report import VerifyReport
    from app.core.restore.plan import RestorePlan
    from app.core.restore.request import RestoreRequest


class Chain:
    def __init__(
        self,
        store: VersionStore,
        clock: Clock,
        compressor: Compressor,
        *,
        checkpoint_every: int = 200,
        checkpoint_bytes: int = CHECKPOINT_BYTES,
        new_id: Callable[[], str] | None = None,
        blob_compressor: AsyncCompressor | None = None,
        defer_heads: bool = False,
        device: str = "",
    ) -> None:
        """``defer_heads``: write a key's head text when ``flush_heads`` is called (the engine
        does when idle), not with every version that changes it: a 15 MB module is then not
        rewritten for a 400 B change. Until then the head pointer lists it in staleHeads."""
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self._store = store
        self._compressor = compressor
        self._defer_heads = defer_heads
        # ``device`` is recorded in each version this chain commits.
        self._committer = Committer(clock, compressor, new_id or random_suffix, checkpoint_every,
                                    checkpoint_bytes, blob_compressor, device)
        self._head = HeadPointer()
        self._history: History | None = None
        self._blob_keys: set[str] | None = None
        # Bumped by every change of the store made here, so that a history loaded while a
        # commit interleaved with the load is never kept (it would miss that commit).
        self._generation = 0
        self._heads = HeadTexts(store, lambda: self._head, lambda: self._generation,
                                self.state_at)

    # ---- the head ---------------------------------------------------------------------------

    async def open(self, upgrade: bool = True) -> None:
        """Load the head pointer (safe on an empty store); drop caches if another writer moved it
        (a new version, or a deletion). ``upgrade``: rewrite a store of an older format in this
        one (only the writer does: a reader takes the pointer as it is)."""
        head = await load_head(self._store) or HeadPointer()
        if (head.version_id != self._head.version_id or head.module_hashes != self._head.module_hashes
                or head.deletions != self._head.deletions):
            self._heads.clear()
            self._history = None
            self._blob_keys = None
            self._generation += 1
        self._head = head
        if head.format_version < FORMAT_VERSION and upgrade:
            # Nothing hashed yet, or hashed alike: the pointer is rewritten as is.
            if head.version_id is None or hash_rules(head.format_version) == hash_rules(FORMAT_VERSION):
                await self._upgrade_pointer()
            else:
                await self._upgrade()

    async def _upgrade_pointer(self) -> None:
        """Upgrade a store written in format 2 or 3 (or one whose pointer names no version yet):
        its head pointer's stored records are rewritten in format 4, one record per key, every
        member kept; nothing else differs, and no version is made."""
        head = replace(self._head, format_version=FORMAT_VERSION)
        batch = Batch()
        head = head.put(batch, None)
        await self._store.apply(batch)
        self._head = head

    async def _upgrade(self) -> None:
        """Upgrade a store written in format 1 in place: one checkpoint of the head values in
        the new format follows the history (which stays readable by format 1's rules). The data is
        unchanged; its versions are all kept."""
        modules = {key: await self._heads.module(key) for key in sorted(self._head.module_hashes)}
        hashes = {key: module.module_hash for key, module in modules.items()}
        head = replace(self._head, format_version=FORMAT_VERSION)
        await self._commit(
            Batch(), head, [KeyDelta(key) for key in sorted(hashes)], hashes,
            created_by="backstay", change_type="upgrade", snapshot=True,
            description=f"Storage upgraded to format {FORMAT_VERSION}; the data did not change")

    @property
    def journal_seq(self) -> int:
        return self._head.journal_seq

    @property
    def head_seq(self) -> int:
        """The seq of the head version (how many versions were recorded; 0 before the first)."""
        return self._head.seq

    @property
    def journal_epoch(self) -> str:
        return self._head.journal_epoch

    @property
    def live_reads(self) -> dict[str, tuple[int, int]]:
        return dict(self._head.live_reads)

    @property
    def drained_ends(self) -> dict[str, int]:
        return dict(self._head.drained_ends)

    @property
    def drained_writes(self) -> dict[str, tuple[str, int]]:
        return dict(self._head.drained_writes)

    @property
    def store(self) -> VersionStore:
        return self._store

    @property
    def device(self) -> str:
        """The browser this chain records from, as versions name it ("" when not known)."""
        return self._committer.device

    async def start_journal(self, epoch: str, seq: int = 0) -> None:
        """Count journal seqs in the journal ``epoch`` from now on, from ``seq`` (0 when the
        journal was created anew). Nothing else changes."""
        head = replace(self._head, journal_epoch=epoch, journal_seq=seq)
        batch = Batch()
        head = head.put(batch, self._head)
        await self._store.apply(batch)
        self._head = head

    @property
    def head_version_id(self) -> str | None:
        return self._head.version_id

    async def head_keys(self) -> list[str]:
        return sorted(self._head.module_hashes)

    async def head_text(self, key: str) -> str | None:
        return await self._heads.text(key)

    def head_is_stored(self, key: str) -> bool:
        """Does ``head/<key>`` hold the head text of ``key`` (it is a head key, and no version
        left its stored text stale)?"""
        return key in self._head.module_hashes and key not in self._head.stale_heads

    def all_heads_written(self) -> bool:
        """Whether every head text is written (no key in the head pointer's staleHeads)."""
        return not self._head.stale_heads

    def head_text_hashes_to(self, key: str, text_hash: str, length: int) -> None:
        """The stored head text of ``key`` was found to hash to ``text_hash`` (SHA-256 hex of
        its ``length`` UTF-8 bytes): indexing it (``prepare``) need not hash it again, and the
        head pointer's next write names it (``headText``)."""
        self._heads.hashes_to(key, text_hash, length)

    def head_text_digest(self, key: str) -> tuple[str, int] | None:
        """(SHA-256 hex, length) of the bytes of ``head/<key>``, when the head pointer knows them."""
        return self._head.head_texts.get(key) if self.head_is_stored(key) else None

    def _named_texts(self, head: HeadPointer, changed: Iterable[str] = ()) -> HeadPointer:
        """``head`` naming the digests of the stored head texts that are known (its own and those
        learned since), but of the keys in ``changed`` (their head text is another now), of
        keys it does not hold and of keys whose stored text is stale."""
        changed = set(changed)
        found = {**head.head_texts, **self._heads.learned}
        return replace(head, head_texts={
            key: digest for key, digest in found.items()
            if key not in changed and key in head.module_hashes and key not in head.stale_heads})

    async def head_data(self, key: str) -> bytes | None:
        """The head text of ``key`` as UTF-8 bytes (not decoded, not kept)."""
        return await self._heads.data(key)

    async def flush_heads(self) -> int:
        """Write the head texts the versions left stale (see ``defer_heads``) and those the store
        lost, one key per transaction (a large hotel's texts are not all held twice at once);
        how many."""
        written = 0
        for key in self._head.stale_heads:
            generation = self._generation
            text = await self.head_text(key)
            if generation != self._generation or key not in self._head.stale_heads:
                break  # a commit came first; the next idle moment writes the rest
            await self._put_head_text(key, text or "", replace(self._head, stale_heads=tuple(
                other for other in self._head.stale_heads if other != key)))
            written += 1
        for key in sorted(self._heads.to_rewrite):
            # A head text the store lost, rebuilt from the history: written again as it was.
            generation = self._generation
            text = await self.head_text(key) if self.head_is_stored(key) else None
            if generation != self._generation:
                break
            if text is not None:
                # The rebuilt text is the values' canonical text, not necessarily the bytes lost:
                # the pointer no longer names those (the next start compares, and learns).
                await self._put_head_text(key, text, replace(self._head, head_texts={
                    other: digest for other, digest in self._head.head_texts.items() if other != key}))
                written += 1
            self._heads.to_rewrite.discard(key)
        return written

    async def _put_head_text(self, key: str, text: str, head: HeadPointer) -> None:
        """Write ``head/<key>`` and, in the same transaction, ``head`` if it differs."""
        batch = Batch()
        batch.put("head", key, text.encode("utf-8"))
        if head != self._head:
            head = head.put(batch, self._head)
        await self._store.apply(batch)
        self._head = head

    def release_texts(self) -> int:
        """Drop from memory the large head texts the store holds, keeping their indexes (see
        HeadTexts.release); how many."""
        return self._heads.release()

    async def save_indexes(self) -> int:
        """Save the indexes of large head modules for the next start (see HeadTexts), and the
        digests of stored head texts learned since the head pointer was written."""
        saved = await self._heads.save_indexes()
        head = self._named_texts(self._head)
        if head != self._head:
            batch = Batch()
            head = head.put(batch, self._head)
            await self._store.apply(batch)
            self._head = head
        return saved

    @property
    def unsaved_indexes(self) -> int:
        """How many indexes of large head modules ``save_indexes`` would save now."""
        return self._heads.unsaved_indexes

    @property
    def index_counts(self) -> dict[str, int]:
        """How many head indexes were built by parsing, and how many read back saved."""
        return self._heads.counts

    @property
    def lost_head_texts(self) -> frozenset[str]:
        """Keys whose head text the store lost (its file gone) and that were rebuilt from the
        history, since they were last told (``lost_told``)."""
        return frozenset(self._heads.lost)

    def lost_told(self, keys: Iterable[str]) -> None:
        """The loss of the head texts of ``keys`` was told: a key lost again is named again."""
        self._heads.lost.difference_update(keys)

    @property
    def head_texts_read(self) -> int:
        """How many head texts were read back from the store to be used (not those only
        compared or hashed where they are stored)."""
        return self._heads.texts_read

    @property
    def indexes_deferred(self) -> int:
        """How many saved indexes ``prepare(defer=True)`` has left unread until a write needs
        them, in all (a running count, like ``index_counts``)."""
        return self._heads.deferred

    async def prepare(self, key: str, *, defer: bool = False) -> None:
        """Index a head key now (so that its next write is recorded at the cost of its change).
        ``defer``: a large key's saved index that names its stored text is checked by its header
        only, and read by the key's first write (memory is spent on the modules being edited)."""
        if key in self._head.module_hashes:
            await self._heads.prepare(key, defer=defer)

    # ---- recording --------------------------------------------------------------------------

    async def record(
        self,
        writes: Mapping[str, str | None],
        *,
        created_by: str,
        change_type: str = "auto",
        description: str = "",
        journal_seq: int | None = None,
        snapshot: bool = False,
        live_reads: Mapping[str, tuple[int, int]] | None = None,
        drained_ends: Mapping[str, int] | None = None,
        drained_writes: Mapping[str, tuple[str, int]] | None = None,
        indexes: Mapping[str, ModuleText] | None = None,
        text_digests: Mapping[str, tuple[str, int]] | None = None,
    ) -> Version | None:
        """Commit the writes (KV key -> new JSON text, None = deleted) as one version.

        Returns None when nothing changed (``journal_seq`` and ``live_reads`` - the read
        intervals of keys whose value was just read from the store - are still persisted).
        ``indexes``: indexes already made of some of the new texts (formats.tiling);
        ``text_digests``: (SHA-256 hex, length) of the UTF-8 of some of them, as their reader
        hashed it (the head texts need not be hashed again to be named, see HeadTexts.release).
        Raises ValueError for text that is not JSON, before anything is written.
        """
        modules, deltas = await diff_writes(self._heads, self._head.module_hashes, writes,
                                            is_root=self._head.version_id is None, indexes=indexes)
        head = with_progress(self._head, journal_seq=journal_seq, live_reads=live_reads,
                             drained_ends=drained_ends, drained_writes=drained_writes)
        batch = Batch()
        head = put_head_texts(batch, head, modules, defer=self._defer_heads)
        head = self._named_texts(head, modules)
        if not deltas and not snapshot:
            if batch or head != self._head:
                head = head.put(batch, self._head)
                await self._store.apply(batch)
                self._head = head
                self._heads.keep(modules, text_digests)
            return None
        hashes = {key: module.module_hash for key, module in modules.items()}
        version, head = await self._commit(
            batch, head, deltas, hashes, created_by=created_by, change_type=change_type,
            description=description, snapshot=snapshot, new_modules=modules,
        )
        for delta in deltas:
            if delta.key not in hashes:
                self._heads.forget(delta.key)
        self._heads.keep(modules, text_digests)
        return version

    async def record_state(
        self,
        state: Mapping[str, str],
        *,
        created_by: str,
        change_type: str = "auto",
        description: str = "",
        journal_seq: int | None = None,
        snapshot: bool = False,
        live_reads: Mapping[str, tuple[int, int]] | None = None,
        keep: frozenset[str] = frozenset(),
        indexes: Mapping[str, ModuleText] | None = None,
        text_digests: Mapping[str, tuple[str, int]] | None = None,
    ) -> Version | None:
        """Record a full state (key -> JSON text): head keys missing from it are deletions,
        except those in ``keep`` (keys whose state is settled elsewhere)."""
        writes: dict[str, str | None] = dict(state)
        for key in self._head.module_hashes:
            if key not in keep:
                writes.setdefault(key, None)
        return await self.record(
            writes, created_by=created_by, change_type=change_type, description=description,
            journal_seq=journal_seq, snapshot=snapshot, live_reads=live_reads, indexes=indexes,
            text_digests=text_digests,
        )

    async def _commit(
        self,
        batch: Batch,
        head: HeadPointer,
        deltas: list[KeyDelta],
        hashes: dict[str, str],
        *,
        created_by: str,
        change_type: str,
        description: str,
        snapshot: bool,
        new_modules: Mapping[str, ModuleText] | None = None,
    ) -> tuple[Version, HeadPointer]:
        """Commit one version: ``deltas`` of the keys it changed, ``hashes`` the new module
        hashes of those still present (the others were deleted). Its batch is history.commit's;
        the head pointer that names it goes last, then the head moves to it."""
        previous = self._head
        new_modules = new_modules or {}
        commit = await self._committer.put(
            batch, previous, head, deltas, hashes, created_by=created_by, change_type=change_type,
            description=description, snapshot=snapshot, new_modules=new_modules,
            stored_blobs=self._stored_blobs, head_module=self._heads.module,
            finish=lambda moved: self._named_texts(moved, new_modules),
        )
        for key in commit.gone:
            self._heads.forget(key)
        head = commit.head
        if (head.has_tail and previous.has_tail and previous.version_id is not None
                and previous.tail + 1 < TAIL_LIMIT):
            # The version carries the pointer's changes: the stored records stay as they are.
            head = replace(head, base=previous.stored, tail=previous.tail + 1)
        else:
            head = head.put(batch, previous)
        await self._store.apply(batch)
        if self._blob_keys is not None:
            self._blob_keys |= commit.blobs
        self._head = head
        self._generation += 1
        if self._history is not None:
            self._history.put(commit.version)
        return commit.version, head

    async def _stored_blobs(self) -> set[str]:
        """The keys of the blobs the store holds (listed on first use, then kept by commits)."""
        if self._blob_keys is None:
            self._blob_keys = set(await self._store.keys("blobs"))
        return self._blob_keys

    # ---- reading ----------------------------------------------------------------------------

    async def history(self) -> History:
        while self._history is None:
            generation = self._generation
            loaded = await History.load(self._store, self._compressor)
            if generation == self._generation:
                self._history = loaded
        return self._history

    async def list_versions(self) -> list[Version]:
        """All versions, newest first (metadata only)."""
        return list(reversed((await self.history()).oldest_first()))

    async def get_version(self, version_id: str) -> VersionDetail:
        history = await self.history()
        version = history.get(version_id)
        return VersionDetail(version, (await history.payload(version_id)).changes)

    async def state_at(self, version_id: str) -> State:
        return await (await self.history()).state_at(version_id)

    async def state_at_time(self, ts_ms: int) -> tuple[Version, State] | None:
        history = await self.history()
        version = history.at_time(ts_ms)
        if version is None:
            return None
        return version, await history.state_at(version.id)

    async def compare(self, a_id: str, b_id: str) -> Comparison:
        history = await self.history()
        return compare_states(a_id, b_id, await history.state_at(a_id),
                              await history.state_at(b_id))

    # Verifying, restoring and deleting import their modules when first used: an engine's start
    # (in Pyodide, where each import is compiled from source) spares them.

    async def verify(self, full: bool = False) -> VerifyReport:
        from app.core.history.verify import verify_store

        return await verify_store(self._store, self._compressor, full=full)

    # ---- restoring --------------------------------------------------------------------------

    async def plan_restore(self, request: RestoreRequest) -> RestorePlan:
        """What ``request`` would write, against the head (nothing is written)."""
        from app.core.restore.sides import plan_from_history

        return await plan_from_history(await self.history(), self._head.version_id,
                                       dict(self._head.module_hashes), request, self._head_values)

    async def _head_values(self, keys: Collection[str]) -> State:
        """Today's values of ``keys`` (those present), parsed from the head texts."""
        return {key: await self._heads.value(key) for key in sorted(keys)
                if key in self._head.module_hashes}

    async def plan_import(self, request: RestoreRequest, modules: Mapping[str, Json],
                          label: str) -> RestorePlan:
        """What importing a backup's ``modules`` would write, against the head (nothing is
        written); ``label`` names the backup (app.core.restore.backup_import)."""
        from app.core.restore.backup_import import plan_import

        return await plan_import(request, modules, label, self._head.version_id, self._head_values)

    async def record_restore(
        self, plan: RestorePlan, *, created_by: str,
        live_reads: Mapping[str, tuple[int, int]] | None = None,
        change_type: str = "restore", description: str | None = None,
    ) -> Version | None:
        """Record a restore (or an import: changeType import) the shell applied to the store as
        one version; None when the data already was what the plan writes."""
        from app.core.restore.sides import describe_restore

        return await self.record(plan.texts(), created_by=created_by, change_type=change_type,
                                 description=description or describe_restore(plan),
                                 live_reads=live_reads)

    # ---- deleting ---------------------------------------------------------------------------

    async def delete_version(self, version_id: str) -> None:
        """Delete one version; every remaining version stays exactly reconstructible.

        Its child's patches are recomputed against its parent (so nothing of the deleted
        version remains), and the child becomes a checkpoint if the deleted version was one or
        was the oldest. Raises VersionNotFound, and CannotDeleteHead for the head version.
        """
        from app.core.retention.deletion import plan_deletion

        history = await self.history()
        blob_keys = await self._stored_blobs()
        plan = await plan_deletion(history, self._head, version_id, self._compressor, blob_keys)
        await self._store.apply(plan.batch)
        self._generation += 1
        history.remove(version_id)
        history.put(plan.child)
        self._head = plan.head
        self._blob_keys = None

