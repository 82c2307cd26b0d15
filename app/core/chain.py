"""Chain: the history of versions of the KV state, and the only object the engine talks to.

Each ``record`` diffs the written keys against the head (the current value of every key, kept
in the store next to the versions) and commits one Version - payload, metadata, new head values
and head pointer - in one atomic store batch. Every ``checkpoint_every``-th version (and every
manual or scheduled backup, and the oldest version) is a checkpoint: it also references a full
snapshot, stored as content-addressed blobs, so reconstructing any version is bounded work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from app.core.comparison import Comparison, compare_states
from app.core.deletion import plan_deletion
from app.core.diff import ABSENT, Absent, KeyDelta, diff_key
from app.core.errors import CorruptData
from app.core.head import HEAD_KEY, HeadPointer
from app.core.history import History, State
from app.core.integrity import content_hash, link, state_hash
from app.core.json_value import Json, canonical_json, needs_strict_types, parse_json
from app.core.payload import Payload
from app.core.ports import Batch, Clock, Compressor, VersionStore
from app.core.snapshot import encode_blob
from app.core.summary import describe
from app.core.verify import VerifyReport, verify_store
from app.core.version import Version, VersionDetail
from app.core.version_id import make_version_id, random_suffix

#: A checkpoint is also made when the deltas since the last one store this many bytes.
CHECKPOINT_BYTES = 4 * 1024 * 1024


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
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self._store = store
        self._clock = clock
        self._compressor = compressor
        self._checkpoint_every = checkpoint_every
        self._checkpoint_bytes = checkpoint_bytes
        self._new_suffix = new_id or random_suffix
        self._head = HeadPointer()
        self._texts: dict[str, str] = {}
        self._values: dict[str, Json] = {}
        self._history: History | None = None
        self._blob_keys: set[str] | None = None
        self._pending_blobs: set[str] = set()
        # Bumped by every change of the store made here, so that a history loaded while a
        # commit interleaved with the load is never kept (it would miss that commit).
        self._generation = 0

    # ---- the head ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Load the head pointer (safe on an empty store); drop caches if another writer moved it."""
        stored = await self._store.get("meta", HEAD_KEY)
        head = HeadPointer.decode(stored) if stored is not None else HeadPointer()
        if head.version_id != self._head.version_id or head.module_hashes != self._head.module_hashes:
            self._texts.clear()
            self._values.clear()
            self._history = None
            self._blob_keys = None
            self._generation += 1
        self._head = head

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
    def store(self) -> VersionStore:
        return self._store

    async def start_journal(self, epoch: str, seq: int = 0) -> None:
        """Count journal seqs in the journal ``epoch`` from now on, from ``seq`` (0 when the
        journal was created anew). Nothing else changes."""
        head = replace(self._head, journal_epoch=epoch, journal_seq=seq)
        batch = Batch()
        batch.put("meta", HEAD_KEY, head.encode())
        await self._store.apply(batch)
        self._head = head

    @property
    def head_version_id(self) -> str | None:
        return self._head.version_id

    async def head_keys(self) -> list[str]:
        return sorted(self._head.module_hashes)

    async def head_text(self, key: str) -> str | None:
        if key not in self._head.module_hashes:
            return None
        text = self._texts.get(key)
        if text is None:
            stored = await self._store.get("head", key)
            if stored is None:
                raise CorruptData(f"head value of {key!r} is missing")
            text = self._texts[key] = stored.decode("utf-8")
        return text

    async def _head_value(self, key: str) -> Json | Absent:
        if key not in self._head.module_hashes:
            return ABSENT
        if key not in self._values:
            text = await self.head_text(key)
            self._values[key] = parse_json(text or "null")
        return self._values[key]

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
    ) -> Version | None:
        """Commit the writes (KV key -> new JSON text, None = deleted) as one version.

        Returns None when nothing changed (``journal_seq`` and ``live_reads`` - the read
        intervals of keys whose value was just read from the store - are still persisted).
        Raises ValueError for text that is not JSON, before anything is written.
        """
        parsed: dict[str, Json | Absent] = {}
        texts: dict[str, str] = {}
        for key, text in writes.items():
            if text is None:
                if key in self._head.module_hashes:
                    parsed[key] = ABSENT
            elif text != await self.head_text(key):
                try:
                    parsed[key] = parse_json(text)
                except ValueError as error:
                    raise ValueError(f"the new value of {key!r} is not JSON: {error}") from None
                except RecursionError:
                    raise ValueError(f"the new value of {key!r} is nested too deeply to read") from None
                texts[key] = text
        deltas: list[KeyDelta] = []
        for key, value in parsed.items():
            old = await self._head_value(key)
            delta = diff_key(key, old, value, strict_types=needs_strict_types(
                self._texts.get(key, ""), texts.get(key, "")))
            if not delta.is_empty:
                deltas.append(delta)
        head = replace(self._head, journal_seq=max(self._head.journal_seq, journal_seq or 0),
                       live_reads={**self._head.live_reads, **(live_reads or {})},
                       drained_ends={**self._head.drained_ends, **(drained_ends or {})})
        batch = Batch()
        for key, text in texts.items():
            batch.put("head", key, text.encode("utf-8"))
        if not deltas and not snapshot:
            if batch or head != self._head:
                batch.put("meta", HEAD_KEY, head.encode())
                await self._store.apply(batch)
                self._head = head
                self._texts.update(texts)
            return None
        values = {key: value for key, value in parsed.items() if not isinstance(value, Absent)}
        version, head = await self._commit(
            batch, head, deltas, values, created_by=created_by, change_type=change_type,
            description=description, snapshot=snapshot,
        )
        for delta in deltas:
            value = parsed[delta.key]
            if isinstance(value, Absent):
                self._values.pop(delta.key, None)
                self._texts.pop(delta.key, None)
            else:
                self._values[delta.key] = value
        self._texts.update(texts)
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
    ) -> Version | None:
        """Record a full state (key -> JSON text): head keys missing from it are deletions,
        except those in ``keep`` (keys whose state is settled elsewhere)."""
        writes: dict[str, str | None] = dict(state)
        for key in self._head.module_hashes:
            if key not in keep:
                writes.setdefault(key, None)
        return await self.record(
            writes, created_by=created_by, change_type=change_type, description=description,
            journal_seq=journal_seq, snapshot=snapshot, live_reads=live_reads,
        )

    async def _commit(
        self,
        batch: Batch,
        head: HeadPointer,
        deltas: list[KeyDelta],
        values: dict[str, Json],
        *,
        created_by: str,
        change_type: str,
        description: str,
        snapshot: bool,
    ) -> tuple[Version, HeadPointer]:
        previous = self._head
        timestamp = max(self._clock.now_ms(), previous.timestamp)
        seq = previous.seq + 1
        version_id = make_version_id(timestamp, seq, self._new_suffix())
        module_hashes = dict(previous.module_hashes)
        canonical: dict[str, bytes] = {}
        for delta in deltas:
            if delta.key in values:
                canonical[delta.key] = canonical_json(values[delta.key])
                module_hashes[delta.key] = content_hash(canonical[delta.key])
            else:
                module_hashes.pop(delta.key, None)
        is_root = previous.version_id is None
        # The root (the baseline) is a checkpoint: its snapshot holds every record, so its
        # ChangeLog would only repeat the whole store as creates. It has none.
        changes = [] if is_root else [change for delta in deltas for change in delta.changes]
        payload = Payload(
            changes,
            None if is_root else [op for delta in deltas for op in delta.forward],
            None if is_root else [op for delta in reversed(deltas) for op in delta.inverse],
        )
        encoded = payload.encode(self._compressor)
        checkpoint = (
            snapshot
            or is_root
            or previous.deltas_since_checkpoint + 1 >= self._checkpoint_every
            or previous.bytes_since_checkpoint + len(encoded) >= self._checkpoint_bytes
        )
        size = len(encoded)
        self._pending_blobs = set()
        if checkpoint:
            size += await self._put_blobs(batch, module_hashes, canonical)
        new_state_hash = state_hash(module_hashes)
        version = Version(
            id=version_id, seq=seq, parent_id=previous.version_id, timestamp=timestamp,
            created_by=created_by, change_type=change_type,
            description=description or describe(changes),
            modules=[delta.key for delta in deltas], size=size,
            change_count=len(payload.changes), kind="checkpoint" if checkpoint else "delta",
            state_hash=new_state_hash,
            link=link(previous.version_id, None if is_root else previous.state_hash, version_id,
                      new_state_hash),
            payload_hash=content_hash(encoded),
            snapshot=dict(module_hashes) if checkpoint else None,
        )
        head = replace(
            head, version_id=version_id, seq=seq, timestamp=timestamp, module_hashes=module_hashes,
            checkpoint_id=version_id if checkpoint else previous.checkpoint_id,
            deltas_since_checkpoint=0 if checkpoint else previous.deltas_since_checkpoint + 1,
            bytes_since_checkpoint=0 if checkpoint else previous.bytes_since_checkpoint + size,
        )
        # Logical write order (FORMAT.md): payload, blobs, metadata, head values, head pointer.
        batch.put("payloads", version_id, encoded)
        batch.put("versions", version_id, version.encode())
        for delta in deltas:
            if delta.key not in values:
                batch.delete("head", delta.key)
        batch.put("meta", HEAD_KEY, head.encode())
        await self._store.apply(batch)
        if self._blob_keys is not None:
            self._blob_keys |= self._pending_blobs
        self._head = head
        self._generation += 1
        if self._history is not None:
            self._history.put(version)
        return version, head

    async def _put_blobs(
        self, batch: Batch, module_hashes: Mapping[str, str], canonical: Mapping[str, bytes]
    ) -> int:
        """Add to ``batch`` the blobs of ``module_hashes`` not stored yet; return their bytes."""
        if self._blob_keys is None:
            self._blob_keys = set(await self._store.keys("blobs"))
        written = 0
        pending: set[str] = set()
        for key, module_hash in module_hashes.items():
            if module_hash in self._blob_keys or module_hash in pending:
                continue
            data = canonical.get(key)
            if data is None:
                value = await self._head_value(key)
                if isinstance(value, Absent):
                    raise CorruptData(f"no value for {key!r} to snapshot")
                data = canonical_json(value)
            blob = encode_blob(data, self._compressor)
            batch.put("blobs", module_hash, blob)
            pending.add(module_hash)
            written += len(blob)
        self._pending_blobs |= pending  # known to exist only once the batch is applied
        return written

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

    async def verify(self, full: bool = False) -> VerifyReport:
        return await verify_store(self._store, self._compressor, full=full)

    # ---- deleting ---------------------------------------------------------------------------

    async def delete_version(self, version_id: str) -> None:
        """Delete one version; every remaining version stays exactly reconstructible.

        Its child's patches are recomputed against its parent (so nothing of the deleted
        version remains), and the child becomes a checkpoint if the deleted version was one or
        was the oldest. Raises VersionNotFound, and CannotDeleteHead for the head version.
        """
        history = await self.history()
        if self._blob_keys is None:
            self._blob_keys = set(await self._store.keys("blobs"))
        plan = await plan_deletion(history, self._head, version_id, self._compressor,
                                   self._blob_keys)
        await self._store.apply(plan.batch)
        self._generation += 1
        history.remove(version_id)
        history.put(plan.child)
        self._head = plan.head
        self._blob_keys = None
