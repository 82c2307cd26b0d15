// The link from the page to the engine worker: every call of window.backstay (facade.js) and of
// the backup panel goes through here, to the worker that currently runs the engine, and the
// worker that read a large first baseline is replaced by a new one (renewEngine).
const ENGINE_SELECTOR = 'script[type="py"][worker][name="engine"]';

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

// An engine function's answer: JSON text, the result or {"error": message}.
export async function callText(name, ...args) {
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

export async function call(name, ...args) {
  const answer = JSON.parse(await callText(name, ...args));
  if (answer && typeof answer === "object" && !Array.isArray(answer) && typeof answer.error === "string") {
    throw new Error(answer.error);
  }
  return answer;
}

// ---- replacing the worker that read a large baseline ------------------------------------------
// WebAssembly memory never shrinks: the worker that recorded a large hotel's first baseline keeps
// the memory of reading the whole hotel (280 MiB on the large sample hotel) for as long as the
// page is open. Once it has written everything and is idle, its status says `renew`:
// 1. A spare worker is started beside it. It opens the history and waits for the engine lock, as
//    a second tab's engine does, and answers as an engine that does not drain.
// 2. Calls made from then on wait; those running on the old worker end first.
// 3. The old worker retires (engine `retire`): it checks that it is still idle and takes its
//    work lock for good (checking again once it holds it), so that no round, restore or other
//    tab's request starts there. One that cannot retire is kept, and asked again later.
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

const healthy = (status) => !(status.problems && status.problems.length);

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
  try {
    document.body.append(element);
    const sync = await within(next.sync, RENEW_START_MS, "starting a new engine worker");
    await within(sync.ready(), RENEW_START_MS, "starting a new engine worker");
    const status = await statusOf(sync);
    if (!healthy(status)) throw new Error(`the new engine worker reports: ${status.lastError}`);
    return { next, sync, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

export async function renewEngine() {
  if (renewing || renewed) return;
  renewing = true;
  try {
    if (spare && !(await stillSpare(spare))) {
      spare.stop();
      spare = null;
    }
    if (!spare) {
      if (spares >= RENEW_ATTEMPTS || await enginesWaiting() > 0) return;
      spares += 1;
      spare = await startSpare(await link.element);
    }
    if (await enginesWaiting() > 1) return; // another tab's engine waits too: kept for later
    await swapTo(spare);
  } catch (error) {
    console.error("Backstay could not replace its engine worker; it keeps the first one", error);
    if (spare && !renewed) spare.stop();
    spare = null;
  } finally {
    renewing = false;
  }
}

// A kept spare still answers, waits for the lock and reports no problem.
async function stillSpare(kept) {
  try {
    const status = await statusOf(kept.sync);
    return !status.drainer && healthy(status);
  } catch (_) {
    return false;
  }
}

async function swapTo(taking) {
  const previous = link;
  let resolveWaiting;
  link = { element: taking.next.element, sync: new Promise((resolve) => { resolveWaiting = resolve; }), calls: 0 };
  let swapped = false;
  try {
    const callsEnd = Date.now() + RENEW_WAIT_MS;
    while (previous.calls > 0 && Date.now() < callsEnd) await sleep(50);
    if (previous.calls > 0) return; // busy: a later status tries again
    // No deadline here: a retire answered late would leave the old worker holding its work
    // lock for good. A worker that never answers would not have answered the calls either.
    let retired = { retired: false };
    try {
      retired = JSON.parse(await (await previous.sync).retire());
    } catch (error) {
      console.warn("Backstay's engine worker could not retire; it is kept", error);
    }
    if (!retired.retired) return; // busy again: a later status tries again
    const old = await previous.element;
    old.xworker.terminate();
    old.remove();
    swapped = renewed = true;
    spare = null;
    const lockTaken = Date.now() + RENEW_LOCK_MS;
    while (Date.now() < lockTaken) {
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
