// window.backstay: how PMS code (and the backup panel) calls Backstay.
//
// A thin facade over the functions the engine worker exports (app/browser/engine_main.py).
// Every method returns a promise of plain JSON data. See README.md, "Calling Backstay".
const ENGINE_SELECTOR = 'script[type="py"][worker][name="engine"]';
const VERSIONS_CHANNEL = "backstay-versions";

function engineElement() {
  return new Promise((resolve) => {
    const poll = () => {
      const el = document.querySelector(ENGINE_SELECTOR);
      if (el && el.xworker) resolve(el);
      else setTimeout(poll, 25);
    };
    poll();
  });
}

// The engine worker that calls go to: {element, sync (a promise of its functions), calls (how
// many are running there)}. It is replaced once, after a large first start (renewEngine); a call
// made meanwhile waits for the new one.
function linkTo(element) {
  const sync = Promise.resolve(element).then((el) => el.xworker.ready).then((xworker) => xworker.sync);
  sync.catch(() => {});
  return { element, sync, calls: 0 };
}
let link = linkTo(engineElement());
let isReady = false;
// How long the engine may take to start (a large hotel's first baseline included) before the
// page says so; `ready` itself keeps waiting.
const SLOW_START_MS = 120_000;

// An engine function's answer: JSON text, the result or {"error": message}.
async function callText(name, ...args) {
  for (;;) {
    const current = link;
    const sync = await current.sync;
    if (current !== link) continue; // replaced while waiting: the new worker answers
    current.calls += 1;
    try {
      return await sync[name](...args);
    } finally {
      current.calls -= 1;
    }
  }
}

async function call(name, ...args) {
  const answer = JSON.parse(await callText(name, ...args));
  if (answer && typeof answer === "object" && !Array.isArray(answer) && typeof answer.error === "string") {
    throw new Error(answer.error);
  }
  return answer;
}

// The backup panel (app/browser/panel_main.py) calls the engine through here, so that it follows
// the engine when its worker is replaced.
Object.defineProperty(window, "__backstayEngine", { value: Object.freeze({ call: callText }) });

// ---- replacing the worker that read a large baseline ------------------------------------------
// WebAssembly memory never shrinks: the worker that recorded a large hotel's first baseline keeps
// the memory of reading the whole hotel (280 MiB on the large sample hotel) for as long as the
// page is open. Once it has written everything and is idle, its status says `renew`:
// 1. A spare worker is started beside it. It opens the history and waits for the engine lock, as
//    a second tab's engine does, and answers as an engine that does not drain.
// 2. Calls made from then on wait; those running on the old worker end first.
// 3. The old worker retires (engine `retire`): in one step it checks that it is still idle and
//    takes its work lock for good, so that no round, restore or other tab's request starts there.
// 4. It is stopped, and the spare takes the lock, records what the journal holds, and answers
//    the waiting calls. Writes made meanwhile wait in the journal, as before any start.
// While another tab's engine waits for the lock, nothing is replaced: that engine would take the
// lock over, and this tab's restores would have to be asked of it. A spare that could not take
// over (the old worker busy again, another tab waiting) is kept for a later status.
const ENGINE_LOCK = "backstay-engine"; // app/browser/coordination.py
const RENEW_WAIT_MS = 10_000; // for the old worker's running calls; else it is tried later
const RENEW_LOCK_MS = 5_000; // for the new worker to take the lock
const RENEW_START_MS = 120_000; // for the spare to start
const RENEW_ANSWER_MS = 5_000; // for a worker's answer during the swap
const RENEW_ATTEMPTS = 3; // spares started at most: each is an interpreter's start
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let renewing = false;
let renewed = false;
let spares = 0;
let spare = null; // {next (its link), sync, stop}

function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function statusOf(sync) {
  return JSON.parse(await within(sync.status(), RENEW_ANSWER_MS, "a worker's status"));
}

// How many requests for the engine lock wait (this origin: every tab's and worker's).
async function enginesWaiting() {
  if (!navigator.locks || !navigator.locks.query) return 0;
  const { pending = [] } = await navigator.locks.query();
  return pending.filter((request) => request.name === ENGINE_LOCK).length;
}

async function startSpare(old) {
  const element = document.createElement("script");
  for (const { name, value } of Array.from(old.attributes)) {
    if (name !== "name" && name !== "id") element.setAttribute(name, value); // the old one's own
  }
  element.dataset.backstayEngine = "renewed";
  let cancelled = false;
  const stop = () => {
    cancelled = true;
    element.remove();
    // PyScript may attach its worker a moment later: stopped then too.
    const until = Date.now() + 10_000;
    const poll = () => {
      if (element.xworker) element.xworker.terminate();
      else if (Date.now() < until) setTimeout(poll, 100);
    };
    poll();
  };
  const next = linkTo(new Promise((resolve) => {
    const poll = () => {
      if (cancelled) return;
      if (element.xworker) resolve(element);
      else setTimeout(poll, 25);
    };
    poll();
  }));
  document.body.append(element);
  try {
    const sync = await within(next.sync, RENEW_START_MS, "starting a new engine worker");
    await within(sync.ready(), RENEW_START_MS, "starting a new engine worker");
    const status = await statusOf(sync);
    if (status.problems && status.problems.length) throw new Error(`the new engine worker reports: ${status.lastError}`);
    return { next, sync, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

async function renewEngine() {
  if (renewing || renewed) return;
  renewing = true;
  try {
    if (!spare) {
      if (spares >= RENEW_ATTEMPTS || await enginesWaiting() > 0) return;
      spares += 1;
      spare = await startSpare(await link.element);
    }
    await swapTo(spare);
  } catch (error) {
    console.error("Backstay could not replace its engine worker; it keeps the first one", error);
    if (spare && !renewed) spare.stop();
    spare = null;
  } finally {
    renewing = false;
  }
}

async function swapTo(taking) {
  const previous = link;
  let resolveWaiting;
  link = { element: taking.next.element, sync: new Promise((resolve) => { resolveWaiting = resolve; }), calls: 0 };
  let swapped = false;
  try {
    for (let waited = 0; previous.calls > 0 && waited < RENEW_WAIT_MS; waited += 50) await sleep(50);
    if (previous.calls > 0 || await enginesWaiting() > 1) return; // busy, or another tab waits too
    const oldSync = await previous.sync;
    let retired;
    try {
      retired = JSON.parse(await within(oldSync.retire(), RENEW_ANSWER_MS, "retiring the old worker"));
    } catch (_) {
      retired = { retired: true }; // it does not answer: stuck, and the spare is ready to take over
    }
    if (!retired.retired) return; // busy again: a later status tries again
    const old = await previous.element;
    old.xworker.terminate();
    old.remove();
    swapped = renewed = true;
    spare = null;
    for (let waited = 0; waited < RENEW_LOCK_MS; waited += 100) {
      try {
        if ((await statusOf(taking.sync)).drainer) break;
      } catch (_) { /* asked again */ }
      await sleep(100);
    }
  } finally {
    link = swapped ? taking.next : previous;
    resolveWaiting(swapped ? taking.sync : await previous.sync);
  }
}

const ready = call("ready").then(() => { isReady = true; return true; });

// ---- the banner: Backstay's problems, shown to administrators on every PMS page ------------
let latest = null; // the newest status: from this tab's engine, or broadcast by the drainer
let slowStart = false;

function problemsOf(status) {
  const problems = [...((status && status.problems) || [])];
  const capture = window.__backstayCapture && window.__backstayCapture.stats;
  if (capture && capture.failed > 0) {
    problems.push({ area: "capture", message: `Backstay could not record ${capture.failed} write(s) in its journal (${capture.lastError}). They are found in the store at the next start; free space in this browser and reload the page.` });
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
