// window.backstay: how PMS code (and the backup panel) calls Backstay.
//
// A thin facade over the functions the engine worker exports (app/browser/engine_main.py).
// Every method returns a promise of plain JSON data. See README.md, "Calling Backstay".
import { call, callText, renewEngine } from "./engine_link.mjs";

const VERSIONS_CHANNEL = "backstay-versions";
let isReady = false;
// How long the engine may take to start (a large hotel's first baseline included) before the
// page says so; `ready` itself keeps waiting.
const SLOW_START_MS = 120_000;

// The backup panel (app/browser/panel_main.py) calls the engine through here, so that it follows
// the engine when its worker is replaced.
Object.defineProperty(window, "__backstayEngine", { value: Object.freeze({ call: callText }) });

const ready = call("ready").then(() => { isReady = true; return true; });

// ---- the banner: Backstay's problems, shown to administrators on every PMS page ------------
let latest = null; // the newest status: from this tab's engine, or broadcast by the drainer
let slowStart = false;

function problemsOf(status) {
  const problems = [...((status && status.problems) || [])];
  const capture = window.__backstayCapture && window.__backstayCapture.stats;
  if (capture && capture.failed > 0) {
    problems.push({ area: "capture", message: `Backstay could not store ${capture.failed} write(s) of this page in its journal on this computer (${capture.lastError}). Those the PMS saved, Backstay reads back from the store instead (their versions say so). Free space on this computer's disk if it is full; this message stays until the page is reloaded.` });
  }
  if (slowStart && !isReady) {
    problems.push({ area: "start", message: "Backstay has not finished starting after 2 minutes. Writes are still captured; reload the page if this persists." });
  }
  return problems;
}

function renderBanner() {
  if (!document.body) return;
  let banner = document.getElementById("backstay-banner");
  const problems = latest && latest.isAdmin ? problemsOf(latest) : [];
  if (!problems.length) {
    if (banner) banner.remove();
    return;
  }
  if (!banner) {
    banner = document.createElement("div");
    banner.id = "backstay-banner";
    banner.setAttribute("role", "alert");
    banner.dataset.testid = "backstay-banner";
    document.body.prepend(banner);
  }
  const items = problems.map((problem) => {
    const line = document.createElement("p");
    line.dataset.area = problem.area;
    line.textContent = problem.message; // always text: messages may quote keys and values
    return line;
  });
  const title = document.createElement("strong");
  title.textContent = "Backstay needs attention";
  banner.replaceChildren(title, ...items);
}

async function refreshStatus() {
  try {
    const status = await call("status");
    if (status.renew) renewEngine();
    if (!latest || !latest.drainer || status.drainer) latest = status;
    else latest = { ...latest, isAdmin: status.isAdmin };
  } catch (error) {
    latest = { isAdmin: true, problems: [{ area: "engine", message: `Backstay's engine does not answer (${error.message}). Reload the page.` }] };
  }
  renderBanner();
}

setTimeout(() => { slowStart = true; renderBanner(); }, SLOW_START_MS);
ready.then(refreshStatus, (error) => {
  latest = { isAdmin: true, problems: [{ area: "start", message: `Backstay did not start: ${error.message}. Reload the page.` }] };
  renderBanner();
});
setInterval(refreshStatus, 5000);
window.addEventListener("backstay:capture-error", renderBanner);

const listeners = new Set();
if ("BroadcastChannel" in window) {
  const channel = new BroadcastChannel(VERSIONS_CHANNEL);
  channel.onmessage = (event) => {
    const message = event.data || {};
    if (message.type === "status") {
      latest = { ...message.status, isAdmin: latest ? latest.isAdmin : message.status.isAdmin };
      renderBanner();
      return;
    }
    if (message.type === "restored") {
      announceRestore(message);
      return;
    }
    if (message.type !== "version") return;
    window.dispatchEvent(new CustomEvent("backstay:version", { detail: message.version }));
    for (const listener of listeners) {
      try { listener(message.version); } catch (error) { console.error(error); }
    }
  };
}

// ---- a restore changed the data behind the PMS's back --------------------------------------
// Every open PMS page is told with the cancelable event `backstay:restored` (detail: {version,
// keys}). A PMS that re-reads its data calls event.preventDefault(); otherwise the page holds the
// old data in memory, and its next save would write it back over the restore, so it is asked to
// reload first.
function announceRestore(message) {
  const event = new CustomEvent("backstay:restored", {
    cancelable: true, detail: { version: message.version, keys: message.keys || [] },
  });
  if (!window.dispatchEvent(event)) return; // the PMS read its data again
  const capture = window.__backstayCapture;
  if (capture && capture.markStale && message.version) capture.markStale(message.version.id);
  showReloadPrompt(message);
}

function showReloadPrompt(message) {
  if (!document.body || document.getElementById("backstay-restored")) return;
  const prompt = document.createElement("div");
  prompt.id = "backstay-restored";
  prompt.setAttribute("role", "alertdialog");
  prompt.dataset.testid = "backstay-restored";
  const text = document.createElement("p");
  const who = (message.version && message.version.createdBy) || "someone";
  text.textContent = `Data was restored by ${who} (${(message.keys || []).join(", ")}). Reload this page before you change anything, or your next save may undo the restore.`;
  const reload = document.createElement("button");
  reload.type = "button";
  reload.textContent = "Reload now";
  reload.addEventListener("click", () => location.reload());
  prompt.append(text, reload);
  document.body.prepend(prompt);
}

const json = (value) => JSON.stringify(value === undefined ? null : value);

// ---- backup files ----------------------------------------------------------------------------
function base64Of(bytes) {
  let text = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(at, at + 0x8000));
  }
  return btoa(text);
}

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// A backup file given as a File or Blob, an ArrayBuffer or typed array, or the file's text.
async function fileData(file) {
  if (file instanceof Blob) return base64Of(new Uint8Array(await file.arrayBuffer()));
  if (file instanceof ArrayBuffer) return base64Of(new Uint8Array(file));
  if (ArrayBuffer.isView(file)) return base64Of(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
  if (typeof file === "string") return base64Of(new TextEncoder().encode(file));
  throw new Error("Give the backup as a File, Blob, ArrayBuffer or the file's text");
}

async function exportBackup(options) {
  const { download = true, ...rest } = options || {};
  const answer = await call("export_backup", json(rest));
  const { data, ...meta } = answer;
  const blob = new Blob([bytesOf(data)], { type: meta.mime });
  if (download) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = meta.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return { ...meta, blob };
}

window.backstay = Object.freeze({
  // Resolves once the engine has loaded and caught up with every write made so far.
  ready,
  // True once `ready` has resolved.
  get isReady() { return isReady; },
  // BackupVersion metadata, newest first (without `changes`).
  listVersions: () => call("list_versions"),
  // One BackupVersion with its `changes` (the ChangeLog). Rejects with "No version 'x'".
  getVersion: (id) => call("get_version", String(id)),
  // The data as it was at a version: {key: value}.
  stateAt: (id) => call("state_at", String(id)),
  // The field-level differences from state a to state b: each a version id, {at: ms} or "today".
  compareVersions: (a, b) => call("compare_versions", json(a), json(b === undefined ? "today" : b)),
  // What restoreVersion(target, options) would change, per module and record, and its conflicts.
  previewRestore: (target, options) => call("preview_restore", json(target), json(options)),
  // Restore: target = version id | {at: ms} | {from, to} (revert); options = {mode: 'full' |
  // 'merge' | 'revert', modules?, records?: [{module, recordId}], resolutions?: [{module,
  // recordId, keep: 'today' | 'target'}], requireResolutions?, expectHead?}. Resolves with
  // {nothingToDo, version?, message?}.
  restoreVersion: (target, options) => call("restore_version", json(target), json(options)),
  // Download the data of a version as a backup file: options = {version? (default today's),
  // modules?, passphrase? (AES-256-GCM, key from PBKDF2; without one, the hotel's passphrase
  // when set), compress? (gzip), download? (default true)}. Resolves with {filename, mime, size,
  // versionId, modules, encrypted, sealedWith, compressed, stateHash, blob}.
  exportBackup,
  // What importing a backup file would change: {backup: {createdAt, createdBy, source, modules,
  // ...}, preview} (as previewRestore). file: File | Blob | ArrayBuffer | text.
  previewImport: async (file, options) => call("preview_import", await fileData(file), json(options)),
  // Import a backup file (any instance's): options = {mode: 'full' | 'merge', modules?,
  // records?, resolutions?, requireResolutions?, expectHead?, passphrase?}. Recorded as one
  // version (changeType 'import'), undone by restoring the version before it.
  importBackup: async (file, options) => call("import_backup", await fileData(file), json(options)),
  // Delete one version (never today's); every other version stays exact. Needs 'delete'.
  deleteVersion: (id) => call("delete_version", String(id)),
  // Delete what the retention settings say (or options.retention); {dryRun: true} only lists
  // it. Resolves with {deleted | wouldDelete: [ids], kept, retention}. Needs 'delete'.
  cleanup: (options) => call("cleanup", json(options)),
  // {retention: {maxAgeDays, maxVersions, keepBackups}}; setSettings changes the ones given
  // (needs 'settings').
  settings: () => call("settings"),
  setSettings: (settings) => call("set_settings", json(settings)),
  // The hotel's encryption passphrase: {set, setAt?, setBy?, usable} (usable: this browser holds
  // its key). While it is set, every exported backup file is encrypted with it.
  passphrase: () => call("passphrase"),
  // Set it ({passphrase}), change it ({passphrase, current}) or remove it ({passphrase: null,
  // current}). Needs 'passphrase'; never stored, sent to the server or audited.
  setPassphrase: (options) => call("set_passphrase", json(options)),
  // Every action on the backup system (restores, exports, verify, permission changes, denied
  // attempts), oldest first, each with its hash-chain members (prev, hash).
  auditLog: () => call("audit_log"),
  // Who changed what, and when: every captured write (record by record) and every backup action,
  // newest first. filter: {user?, module?, action?, kind?: 'write' | 'backup', since?, until?, text?}.
  auditTrail: (filter) => call("audit_trail", json(filter)),
  // The same rows as a file's text: {format, rows, text}; format 'csv' or 'json'.
  exportAuditTrail: (format, filter) => call("export_audit_trail", String(format || "csv"), json(filter)),
  // Check the history and the audit chain: {ok, problems: [{kind, subject, detail}]}; {full: true}
  // also reads every payload and snapshot.
  verify: (options) => call("verify", json(options)),
  // Who may do what: {permissions: {name: [roles]}, descriptions, you: {login, role, isAdmin}, can}.
  permissions: () => call("permissions"),
  // Grant a permission to exactly these roles (needs the 'settings' permission).
  setPermission: (permission, roles) => call("set_permission", String(permission), json(roles)),
  // Engine state: ready, user, problems (each {area, message}), lastError, timings...
  status: () => call("status"),
  // Mark the notices shown in status().problems (area "notice") as read.
  acknowledgeNotices: () => call("acknowledge_notices").then(refreshStatus),
  // Only when the history lost what recording needs (the status says so): removes it, keeping
  // settings, permissions and the audit trail, and starts anew from today's data.
  startNewHistory: (options) => call("start_new_history", json(options)),
  // Calls `listener(version)` for every new version, from any tab. Returns an unsubscribe function.
  onVersion(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
});

// The backup panel is Python (app/browser/panel_main.py) in the page's main thread. It is loaded
// the first time the PMS opens Settings → System → Version Control & Backups.
window.addEventListener("backstay:panel-open", (event) => {
  if (document.querySelector('script[data-backstay="panel"]')) return; // loaded: it listens itself
  const container = event.detail && event.detail.container;
  if (!container) return;
  container.innerHTML = '<p class="bs-loading" data-testid="panel-loading">Loading version history…</p>';
  window.__backstayPanelPending = container;
  const script = document.createElement("script");
  script.type = "py";
  script.dataset.backstay = "panel";
  script.src = "/app/browser/panel_main.py";
  document.body.append(script);
});
