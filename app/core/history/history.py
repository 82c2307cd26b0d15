"""The history as stored: the index of Version metadata, and reconstruction of any state.

A state is reconstructed from the nearest checkpoint at or before the version (its snapshot
blobs) by applying the forward patches of the versions after it, in order. The Chain keeps
checkpoints close enough (``checkpoint_every`` versions, a cap on delta bytes) that this is
bounded work.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection

from app.core.diff.patch import apply_patch
from app.core.errors import CorruptData, PatchError, VersionNotFound
from app.core.formats.json_value import Json, copy_json
from app.core.formats.pointer import unescape
from app.core.history.payload import Payload
from app.core.history.snapshot import decode_blob
from app.core.history.version import Version
from app.core.ports import Compressor, VersionStore

State = dict[str, Json]


class History:
    """Version metadata in memory (loaded once), and reads of payloads and snapshots."""

    def __init__(self, store: VersionStore, compressor: Compressor) -> None:
        self._store = store
        self._compressor = compressor
        self._by_id: dict[str, Version] = {}
        self._ordered: list[Version] = []
        self._child: dict[str, str] = {}

    @classmethod
    async def load(cls, store: VersionStore, compressor: Compressor) -> History:
        history = cls(store, compressor)
        ids = await store.keys("versions")
        stored = await store.get_many("versions", ids)
        for version_id in ids:
            if version_id not in stored:
                continue
            version = Version.decode(stored[version_id])
            if version.id != version_id:
                raise CorruptData(f"versions/{version_id} holds version {version.id}")
            history._by_id[version.id] = version
        history._reindex()
        return history

    def _reindex(self) -> None:
        self._ordered = sorted(self._by_id.values(), key=lambda version: version.seq)
        self._child = {
            version.parent_id: version.id for version in self._ordered if version.parent_id
        }

    # ---- the index ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ordered)

    def oldest_first(self) -> list[Version]:
        return list(self._ordered)

    def get(self, version_id: str) -> Version:
        try:
            return self._by_id[version_id]
        except KeyError:
            raise VersionNotFound(version_id) from None

    def child_of(self, version_id: str) -> Version | None:
        child = self._child.get(version_id)
        return self._by_id[child] if child is not None else None

    def parent_of(self, version: Version) -> Version | None:
        return self.get(version.parent_id) if version.parent_id is not None else None

    def put(self, version: Version) -> None:
        """Add or replace a version's metadata in the index (after it was stored)."""
        appended = version.id not in self._by_id and (
            not self._ordered or version.seq > self._ordered[-1].seq
        )
        self._by_id[version.id] = version
        if appended:
            self._ordered.append(version)
            if version.parent_id is not None:
                self._child[version.parent_id] = version.id
        else:
            self._reindex()

    def remove(self, version_id: str) -> None:
        self._by_id.pop(version_id, None)
        self._reindex()

    def at_time(self, ts_ms: int) -> Version | None:
        """The last version whose timestamp is at or before ``ts_ms``."""
        position = bisect_right([version.timestamp for version in self._ordered], ts_ms)
        return self._ordered[position - 1] if position else None

    def referenced_blobs(self, excluding: str | None = None) -> set[str]:
        return {
            module_hash
            for version in self._ordered
            if version.snapshot is not None and version.id != excluding
            for module_hash in version.snapshot.values()
        }

    def since_checkpoint(self, version_id: str) -> list[Version]:
        """The versions from the nearest checkpoint at or before ``version_id`` to it."""
        path: list[Version] = []
        version: Version | None = self.get(version_id)
        while version is not None:
            path.append(version)
            if version.is_checkpoint:
                path.reverse()
                return path
            version = self.parent_of(version)
        raise CorruptData(f"no checkpoint at or before version {version_id}")

    # ---- payloads and states --------------------------------------------------------------

    async def payload(self, version_id: str) -> Payload:
        stored = await self._store.get("payloads", version_id)
        if stored is None:
            raise CorruptData(f"payload of version {version_id} is missing")
        return Payload.decode(stored, self._compressor)

    async def snapshot_state(self, version: Version, keys: Collection[str] | None = None) -> State:
        """The state a checkpoint holds (only ``keys`` of it, when given)."""
        if version.snapshot is None:
            raise CorruptData(f"version {version.id} is not a checkpoint")
        snapshot = {key: module_hash for key, module_hash in version.snapshot.items()
                    if keys is None or key in keys}
        hashes = sorted(set(snapshot.values()))
        stored = await self._store.get_many("blobs", hashes)
        values: dict[str, Json] = {}
        for module_hash in hashes:
            if module_hash not in stored:
                raise CorruptData(f"blob {module_hash} of checkpoint {version.id} is missing")
            values[module_hash] = decode_blob(stored[module_hash], self._compressor, module_hash,
                                              version.format_version)
        state: State = {}
        seen: set[str] = set()
        for key, module_hash in snapshot.items():
            if module_hash in seen:  # two keys with equal values must not share objects
                state[key] = copy_json(values[module_hash])
            else:
                state[key] = values[module_hash]
                seen.add(module_hash)
        return state

    def module_hashes_at(self, version_id: str) -> dict[str, str | None]:
        """Each key's module hash at ``version_id`` where the nearest checkpoint tells it; None
        for keys a version since that checkpoint changed (their hash is not stored)."""
        path = self.since_checkpoint(version_id)
        hashes: dict[str, str | None] = dict(path[0].snapshot or {})
        for version in path[1:]:
            for key in version.modules:
                hashes[key] = None
        return hashes

    async def state_at(self, version_id: str, keys: Collection[str] | None = None) -> State:
        """The state ``{kvKey: value}`` as of version ``version_id``: all of it, or only
        ``keys`` (the others are not read: a large hotel's other modules cost nothing)."""
        path = self.since_checkpoint(version_id)
        state = await self.snapshot_state(path[0], keys)
        later = [version.id for version in path[1:]]
        stored = await self._store.get_many("payloads", later)
        for version_id_after in later:
            if version_id_after not in stored:
                raise CorruptData(f"payload of version {version_id_after} is missing")
            payload = Payload.decode(stored[version_id_after], self._compressor)
            if payload.forward is None:
                raise CorruptData(f"version {version_id_after} has no forward patch")
            forward = payload.forward if keys is None else [
                op for op in payload.forward if _key_of(op) in keys]
            try:
                result = apply_patch(state, forward)
            except PatchError as error:
                raise CorruptData(f"forward patch of {version_id_after}: {error}") from None
            if not isinstance(result, dict):
                raise CorruptData(f"forward patch of {version_id_after} replaced the state")
            state = result
        return state


def _key_of(op: Json) -> str:
    """The state key an operation of a stored patch is on (patches are rooted at the state
    document: the first token of the path; the diff never moves values between keys)."""
    path = str(op.get("path", "")) if isinstance(op, dict) else ""
    return unescape(path.split("/")[1]) if path.count("/") else ""
