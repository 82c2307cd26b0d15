"""Backup files: export the data of a version, and import one here or on another instance.

Export writes app.core.formats.backup's file (gzip'd when asked, sealed with a passphrase when
one is given); import reads it back, checks every module's hash before anything is changed, and
applies it with the Restorer - so an import is previewed, recorded as one version (changeType
import), audited, and undone like any restore (restore the version before it). Both need their
permission; every attempt is audited, with its result.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from app.browser.engine import Engine
from app.browser.passphrase import Passphrase
from app.browser.problems import DATA_LOST_READ, ApiError
from app.browser.restorer import RestoreFailed
from app.browser.webcrypto import open_sealed, open_with, seal, seal_with
from app.core.access.identity import SYSTEM_USERS_KEY
from app.core.access.permissions import AccessDenied
from app.core.chain import Chain
from app.core.errors import VersionNotFound
from app.core.formats.backup import GZIP_MAGIC, Backup, BackupError, Envelope, read_file
from app.core.formats.json_value import Json, compact_json, parse_json
from app.core.ports import Compressor, DataLost, StoreError, StoreFull
from app.core.restore.backup_import import backup_label, describe_import
from app.core.restore.request import RequestError, RestoreRequest

Allowed = Callable[[str, str], Awaitable[Chain]]
#: A preview lists at most this many records per module.
PREVIEW_RECORDS = 200


def _now_ms() -> int:
    return int(time.time() * 1000)


class Backups:
    def __init__(self, engine: Engine, allowed: Allowed, compressor: Compressor,
                 passphrase: Passphrase) -> None:
        self._engine = engine
        self._allowed = allowed  # Api._allowed: the permission check that audits a refusal
        self._compressor = compressor
        self._passphrase = passphrase  # the hotel's: every file is sealed with it when it is set

    # ---- export -----------------------------------------------------------------------------

    async def export(self, options_text: str) -> str:
        """The backup file of a version (default: today's), as {filename, mime, size, data
        (base64), versionId, modules, encrypted, compressed, stateHash}."""
        chain = await self._allowed("export", "export")
        options = _options(options_text, {"version", "modules", "passphrase", "compress"})
        if options.get("passphrase") is not None and not isinstance(options.get("passphrase"), str):
            raise ApiError("passphrase is text (or null for a file that is not encrypted)")
        if options.get("version") is not None and not isinstance(options.get("version"), str):
            raise ApiError("version is a version id (or null for today's data)")
        try:
            if options.get("version") is None:  # today's: every write made so far recorded first
                if not self._engine.drainer:
                    return await self._engine.ask_drainer("export", [options_text])
                async with self._engine.exclusive("exported") as caught_up:
                    backup = await self._backup(caught_up, options)  # the rest needs no lock
            else:
                backup = await self._backup(chain, options)
            file, answer = await self._file(chain, backup, options)
        except (ApiError, BackupError, StoreError) as error:
            message = (str(error) if not isinstance(error, StoreError) else
                       f"{DATA_LOST_READ} ({error}); nothing was exported: export another version"
                       if isinstance(error, DataLost) else
                       f"This browser's storage failed ({error}); nothing was exported: try again")
            await self._engine.auditor.audit_action("export", "failed", message, _safe(options))
            raise ApiError(message) from None
        await self._engine.auditor.audit_action(
            "export", "done", f"Exported {answer['filename']} ({len(file):,} bytes)",
            {key: value for key, value in answer.items() if key != "data"})
        return compact_json(answer).decode("utf-8")

    async def _backup(self, chain: Chain, options: dict[str, Json]) -> Backup:
        version_id = options.get("version") or chain.head_version_id
        if not isinstance(version_id, str):
            raise ApiError("There is nothing to export yet: no version has been recorded")
        try:
            history = await chain.history()
            version = history.get(version_id)
            state = await chain.state_at(version_id)
        except VersionNotFound:
            raise ApiError(f"No version {version_id!r}") from None
        wanted = options.get("modules")
        if wanted is not None:
            if not isinstance(wanted, list) or not wanted or not all(isinstance(m, str) for m in wanted):
                raise ApiError("modules must be a non-empty list of module keys")
            missing = sorted(str(m) for m in wanted if m not in state)
            if missing:
                raise ApiError(f"Version {version_id} holds no module {', '.join(missing)}")
        keys = sorted(str(m) for m in wanted) if isinstance(wanted, list) else sorted(state)
        now = _now_ms()
        backup = Backup(
            modules={key: state[key] for key in keys}, created_at=now,
            created_by=self._engine.access.identity.login, device=chain.device,
            source={"versionId": version.id, "seq": version.seq, "timestamp": version.timestamp,
                    "stateHash": version.state_hash},
            description=f"Backup of version {version.seq} ({version.description})"[:500])
        return backup

    async def _file(self, chain: Chain, backup: Backup,
                    options: dict[str, Json]) -> tuple[bytes, dict[str, Json]]:
        file = backup.encode()
        passphrase = options.get("passphrase")
        hotel = await self._passphrase.sealing_key(chain, str(passphrase) if passphrase else None)
        sealed_with = "hotel-passphrase" if hotel else "passphrase" if passphrase else None
        encrypted = sealed_with is not None
        compressed = encrypted or options.get("compress") is True
        if compressed:
            file = self._compressor.compress(file)
        if hotel is not None:
            key, record = hotel
            file = (await seal_with(file, key, record.salt, record.iterations)).encode()
        elif encrypted:
            file = (await seal(file, str(passphrase))).encode()
        stamp = datetime.fromtimestamp(backup.created_at / 1000, UTC).strftime("%Y%m%d-%H%M%S")
        filename = (f"backstay-backup-{stamp}" + ("-encrypted.json" if encrypted
                                                  else ".json.gz" if compressed else ".json"))
        return file, {
            "filename": filename, "mime": "application/json" if not compressed or encrypted
            else "application/gzip", "size": len(file), "versionId": backup.source["versionId"],
            "timestamp": backup.source["timestamp"],
            "modules": list[Json](sorted(backup.modules)), "encrypted": encrypted,
            "sealedWith": sealed_with, "compressed": compressed,
            "stateHash": backup.state_hash, "data": base64.b64encode(file).decode("ascii"),
        }

    # ---- import -----------------------------------------------------------------------------

    async def preview_import(self, data: str, options_text: str) -> str:
        """What importing the file would change (nothing is written), and what the file holds."""
        chain = await self._allowed("import", "preview-import")
        options = _options(options_text, _IMPORT_OPTIONS)
        try:
            backup = await self._read(chain, data, options.get("passphrase"))
            label = backup_label(backup.created_at, backup.created_by)
            plan = await chain.plan_import(_request(label, options), backup.modules, label)
        except (BackupError, RequestError) as error:
            raise ApiError(str(error)) from None
        return compact_json({"backup": backup.summary(),
                             "preview": plan.to_dict(PREVIEW_RECORDS)}).decode("utf-8")

    async def import_backup(self, data: str, options_text: str) -> str:
        """Import the file as the options ask (mode full or merge, modules, records,
        resolutions, expectHead, passphrase): {nothingToDo, version?, message?}."""
        chain = await self._allowed("import", "import")
        if not self._engine.drainer:  # one engine writes: the one that drains, in another tab
            return await self._engine.ask_drainer("import", [data, options_text])
        options = _options(options_text, _IMPORT_OPTIONS)
        try:
            backup = await self._read(chain, data, options.get("passphrase"))
            label = backup_label(backup.created_at, backup.created_by)
            request = _request(label, options)
        except (ApiError, BackupError, RequestError) as error:
            await self._engine.auditor.audit_action("import", "failed", str(error), _safe(options))
            raise ApiError(str(error)) from None
        try:
            await self._may_write_users(backup, request)
        except AccessDenied as denied:  # a refusal, audited as one
            await self._engine.auditor.audit_action("import", "denied", str(denied),
                                            {**_safe(options), "permission": "settings"})
            raise ApiError(str(denied)) from None
        extra: dict[str, Json] = {"backup": {key: value for key, value in backup.summary().items()
                                             if key != "description"}}
        try:
            async with self._engine.exclusive("imported") as chain:
                result = await self._engine.restorer.apply(
                    chain, request, self._engine.user,
                    lambda: chain.plan_import(request, backup.modules, label),
                    action="import", describe=describe_import, extra=extra)
        except RequestError as error:
            await self._engine.auditor.audit_action("import", "failed", str(error),
                                                    {**_safe(options), **extra})
            raise ApiError(str(error)) from None
        except RestoreFailed as error:
            raise ApiError(str(error)) from None
        except StoreFull:
            raise ApiError("This browser's storage is full, so nothing was imported: free space "
                           "(or delete old versions) and try again") from None
        return compact_json(result).decode("utf-8")

    async def _may_write_users(self, backup: Backup, request: RestoreRequest) -> None:
        """Who is an administrator comes from the PMS's system users: an import that would write
        them also needs the ``settings`` permission (else ``import`` would grant any role)."""
        asked = set(request.modules or ()) | {ref.module for ref in request.records or ()}
        if SYSTEM_USERS_KEY in backup.modules and (not asked or SYSTEM_USERS_KEY in asked):
            chain = await self._engine.fresh_chain()
            try:
                await self._engine.access.check(chain, "settings")
            except AccessDenied as denied:
                raise AccessDenied(f"This backup holds the PMS's system users, which say who is an "
                                   f"administrator: importing them also needs the permission to "
                                   f"change settings. {denied} (or import only the other "
                                   "modules)") from None

    async def _read(self, chain: Chain, data: str, passphrase: Json) -> Backup:
        try:
            file = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise BackupError("The file could not be read (its bytes did not arrive whole); "
                              "choose it again") from None
        if not file.strip():
            raise BackupError("The file is empty: choose a file made by Export backup")
        if passphrase is not None and not isinstance(passphrase, str):
            raise BackupError("passphrase is text")
        file = self._ungzip(file)
        found = read_file(file)
        if isinstance(found, Envelope):
            hotel = None if passphrase else await self._passphrase.opening_key(chain, found)
            plain = (await open_with(found, hotel) if hotel is not None
                     else await open_sealed(found, passphrase or ""))
            found = read_file(self._ungzip(plain))
            if isinstance(found, Envelope):
                raise BackupError("This encrypted backup holds another encrypted backup; Backstay "
                                  "does not write such files")
        return found

    def _ungzip(self, file: bytes) -> bytes:
        if file[:2] != GZIP_MAGIC:
            return file
        try:
            return self._compressor.decompress(file)
        except ValueError:
            raise BackupError("This backup is damaged: its gzip data is cut short or changed. "
                              "Nothing was imported; use another copy") from None


_IMPORT_OPTIONS = {"mode", "modules", "records", "resolutions", "requireResolutions",
                   "expectHead", "passphrase"}


def _options(text: str, known: set[str]) -> dict[str, Json]:
    try:
        options = parse_json(text or "null")
    except ValueError:
        raise ApiError("the options must be a JSON object") from None
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ApiError("the options must be an object, e.g. {mode: 'full'}")
    unknown = set(options) - known
    if unknown:
        raise ApiError(f"Unknown option(s): {', '.join(sorted(unknown))}")
    return options


def _request(label: str, options: dict[str, Json]) -> RestoreRequest:
    return RestoreRequest.parse(label, {key: value for key, value in options.items()
                                        if key != "passphrase"})


def _safe(options: dict[str, Json]) -> dict[str, Json]:
    """The options as the audit keeps them: never the passphrase, only whether there was one."""
    kept: dict[str, Json] = {key: value for key, value in options.items() if key != "passphrase"}
    kept["encrypted"] = bool(options.get("passphrase"))
    return kept

