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

const api = engineElement().then((el) => el.xworker.ready).then((xworker) => xworker.sync);
let isReady = false;
const ready = api.then((sync) => sync.ready()).then(() => { isReady = true; return true; });

async function call(name, ...args) {
  const sync = await api;
  return sync[name](...args);
}

const listeners = new Set();
if ("BroadcastChannel" in window) {
  const channel = new BroadcastChannel(VERSIONS_CHANNEL);
  channel.onmessage = (event) => {
    const message = event.data || {};
    if (message.type !== "version") return;
    window.dispatchEvent(new CustomEvent("backstay:version", { detail: message.version }));
    for (const listener of listeners) {
      try { listener(message.version); } catch (error) { console.error(error); }
    }
  };
}

window.backstay = Object.freeze({
  // Resolves once the engine has loaded and caught up with every write made so far.
  ready,
  // True once `ready` has resolved.
  get isReady() { return isReady; },
  // BackupVersion metadata, newest first (without `changes`).
  listVersions: async () => JSON.parse(await call("list_versions")),
  // One BackupVersion with its `changes` (the ChangeLog).
  getVersion: async (id) => JSON.parse(await call("get_version", String(id))),
  // Engine state: ready, user, lastError, timings... (diagnostics).
  status: async () => JSON.parse(await call("status")),
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
