"""Backstay's service worker chosen but not the one that records: the site's own holds the scope
(registered before Backstay's, or taking it over while the PMS saves), or Backstay's cannot be
loaded. Every write is recorded once, none is lost, and the history ends with what the store
holds. Real Chromium, real server, real IndexedDB; the workers' scripts are served by request
routing."""

from __future__ import annotations

from typing import Any

from harness import (
    Server,
    choose_service_worker,
    settled_history,
    status,
    wait_for,
    wait_ready,
    wait_versions,
)

GUESTS = "w3-hotel-guests"

#: A site's own service worker: it takes every page of its scope at once and leaves requests to
#: the network.
SITE_WORKER = """self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', () => {});
"""
SITE_WORKER_PATH = "/site-sw.js"
REGISTER_SITE_WORKER_JS = ("() => { window.__handing = true; return navigator.serviceWorker.register("
                           f"'{SITE_WORKER_PATH}', {{scope: '/'}}).then(() => true); }}")

#: The script URL of the worker that controls the page ("" for none).
CONTROLLER_JS = "() => (navigator.serviceWorker.controller || {scriptURL: ''}).scriptURL"

#: The pause between saves while another worker is being registered.
HANDING_GAP_MS = 400

#: Starts saves of `key`, one after the other (each awaited, then `gap` ms), the n-th holding
#: n + 1 guests: `count` of them, or with `handover`, as many as it takes until `count` more
#: have been made after another worker took the page over (controllerchange; at most 200
#: saves and 120 s). Once window.__handing is set, the pause is HANDING_GAP_MS: on a loaded
#: machine, saves 60 ms apart kept the new worker from taking over for 200 saves (as if Chromium
#: activated it only once the worker it replaces had no save in hand). window.__burst resolves
#: with their HTTP statuses.
BURST_JS = """([key, count, gap, handover]) => {
    const records = (n) => Array.from({length: n + 1}, (_, i) => ({id: 'h-' + i, firstName: 'Guest ' + n}));
    let taken = false;
    navigator.serviceWorker.addEventListener('controllerchange', () => { taken = true; });
    const until = Date.now() + 120000;
    window.__burst = (async () => {
        const statuses = [];
        let left = count;
        for (let n = 0; left > 0 && n < 200 && Date.now() < until; n++) {
            const response = await fetch('/_spark/kv/' + key,
                {method: 'POST', body: JSON.stringify(records(n))});
            statuses.push(response.status);
            if (!handover || taken) left -= 1;
            const pause = window.__handing && !taken ? """ + str(HANDING_GAP_MS) + """ : gap;
            await new Promise((resolve) => setTimeout(resolve, pause));
        }
        return statuses;
    })();
}"""
#: Saves made after the handover.
SAVES_AFTER = 4
#: The pause after each save of the burst.
GAP_MS = 60

#: Keeps which recorder journaled each write: the tab (or service worker) id and the write's
#: start, as each recorder announces an entry it stored.
HEAR_RECORDERS_JS = """() => {
    window.__recorders = [];
    new BroadcastChannel('backstay-journal').onmessage = (event) => {
        if (event.data.type === 'journal' && event.data.pending) {
            window.__recorders.push({tab: event.data.tab, start: event.data.start});
        }
    };
}"""


def serve_site_worker(page: Any) -> None:
    page.context.route(f"**{SITE_WORKER_PATH}", lambda route: route.fulfill(
        status=200, body=SITE_WORKER, headers={"Content-Type": "text/javascript"}))


def check_saves_recorded(page: Any, server: Server, saves: int, journal_before: int, *,
                         page_hears_all: bool = True) -> None:
    """The history after the baseline is the ``saves`` saves of BURST_JS, one version each, in
    order, each with the value saved; each save was journaled once (the journal grew by exactly
    ``saves``, and, with ``page_hears_all``, the page heard of each once); verified in full."""
    found = settled_history(page, server, GUESTS)
    saved = list(reversed(found[:-1]))
    states = [page.evaluate("id => window.backstay.stateAt(id)", version["id"])[GUESTS] for version in saved]
    assert [len(state) for state in states] == list(range(1, saves + 1)), [v["description"] for v in saved]
    assert [state[0]["firstName"] for state in states] == [f"Guest {n}" for n in range(saves)]
    assert status(page)["journalSeq"] == journal_before + saves
    if page_hears_all:
        page.wait_for_function(f"() => window.__backstayCapture.stats.recorded >= {saves}")
        page.wait_for_timeout(1000)  # nothing more comes
        assert page.evaluate("() => window.__backstayCapture.stats.recorded") == saves
    assert page.evaluate("() => window.__backstayCapture.stats.failed") == 0
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


#: Every script of every registration of this origin (active, waiting, installing).
SCRIPTS_JS = """() => navigator.serviceWorker.getRegistrations().then((found) => found.flatMap((r) =>
    [r.active, r.waiting, r.installing].filter(Boolean).map((worker) => worker.scriptURL)))"""


def watch_console(page: Any) -> list[str]:
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    return said


def count_requests(page: Any, pattern: str, answer: int | None = None) -> list[str]:
    """The URLs of the requests for ``pattern`` from now on; answered ``answer`` (else sent on)."""
    asked: list[str] = []

    def seen(route: Any) -> None:
        asked.append(route.request.url)
        if answer is None:
            route.continue_()
        else:
            route.fulfill(status=answer, body="down")

    page.context.route(pattern, seen)
    return asked


def test_a_site_with_a_service_worker_of_its_own_keeps_it_and_backstay_records_in_the_page(
        page: Any, server: Server) -> None:
    """The site's own worker holds the root scope before Backstay's service worker is chosen:
    Backstay asks for nothing of its own worker (a registration for the same scope would replace
    the site's), leaves the site's worker the only script of the origin and in control, says
    why in the console, and the page records its own saves, each once."""
    serve_site_worker(page)
    ours = count_requests(page, "**/capture_sw.js")
    said = watch_console(page)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.evaluate(REGISTER_SITE_WORKER_JS)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.evaluate("() => localStorage.setItem('backstay:capture', 'service-worker')")
    page.reload()  # this load would register Backstay's worker
    wait_ready(page)
    wait_for(page, lambda: any("service worker of its own" in text for text in said),
             "Backstay saying the site has a service worker of its own", timeout_s=10)
    page.reload()
    wait_ready(page)
    assert ours == []
    assert [url.rsplit("/", 1)[1] for url in page.evaluate(SCRIPTS_JS)] == ["site-sw.js"]
    assert page.evaluate(CONTROLLER_JS).endswith(SITE_WORKER_PATH)
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    journal_before = status(page)["journalSeq"]
    page.evaluate(BURST_JS, [GUESTS, 3, GAP_MS, None])
    assert page.evaluate("() => window.__burst") == [200] * 3
    check_saves_recorded(page, server, 3, journal_before)


def test_the_site_s_own_worker_taking_the_page_over_during_a_burst_of_saves_loses_and_doubles_none(
        page: Any, server: Server) -> None:
    """Under Backstay's service worker the PMS saves, one after the other (each awaited, 60 ms
    apart; 400 ms once the site's worker is being registered). A moment in, the site registers
    its own worker for the same scope, which takes the page over as soon as Chromium activates
    it; the saves go on until 4 have been made under it. The saves before the
    handover are recorded by Backstay's worker, those after by the page itself from the moment
    it is told: each save one version, in order, with the value saved, journaled once."""
    serve_site_worker(page)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    choose_service_worker(page)
    page.evaluate(HEAR_RECORDERS_JS)
    journal_before = status(page)["journalSeq"]
    page.evaluate(BURST_JS, [GUESTS, SAVES_AFTER, GAP_MS, SITE_WORKER_PATH])
    page.wait_for_timeout(4 * GAP_MS)
    page.evaluate(REGISTER_SITE_WORKER_JS)
    statuses = page.evaluate("() => window.__burst")
    saves = len(statuses)
    assert statuses == [200] * saves and SAVES_AFTER < saves < 200, statuses
    assert page.evaluate(CONTROLLER_JS).endswith(SITE_WORKER_PATH)
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    # The worker the site's replaced may be stopped before it tells the page of its last
    # saves (the page's count of them), or announces them: what counts is the journal.
    check_saves_recorded(page, server, saves, journal_before, page_hears_all=False)
    # The handover fell inside the burst: in the order the saves were made, a first run of
    # those announced was journaled by Backstay's worker and the rest, the last 4 at least, by
    # this page.
    heard = sorted(page.evaluate("() => window.__recorders"), key=lambda entry: entry["start"])
    recorders = [entry["tab"] for entry in heard]
    assert len(recorders) > SAVES_AFTER, recorders
    assert recorders[-SAVES_AFTER:] == [page.evaluate("() => window.__backstayCapture.tab")] * SAVES_AFTER
    runs = [tab for at, tab in enumerate(recorders) if at == 0 or recorders[at - 1] != tab]
    assert len(runs) == 2 and runs[0].startswith("sw-"), recorders
    assert runs[1] == recorders[-1], recorders


def test_a_service_worker_that_cannot_be_registered_leaves_the_page_recording_itself(
        page: Any, server: Server) -> None:
    """Capture in the service worker is chosen, but its script cannot be loaded (the server
    answers 500): the registration fails and says so in the console, none is left, and the page
    goes on recording its own saves, each once."""
    asked = count_requests(page, "**/capture_sw.js", answer=500)
    said = watch_console(page)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.evaluate("() => localStorage.setItem('backstay:capture', 'service-worker')")
    page.reload()  # this load tries to register the worker
    wait_ready(page)
    wait_for(page, lambda: any("could not be registered" in text for text in said),
             "Backstay saying its service worker could not be registered", timeout_s=10)
    assert asked, "the page never asked for Backstay's worker"
    page.reload()
    wait_ready(page)
    assert page.evaluate(SCRIPTS_JS) == []
    assert page.evaluate(CONTROLLER_JS) == ""
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    journal_before = status(page)["journalSeq"]
    page.evaluate(BURST_JS, [GUESTS, 3, GAP_MS, None])
    assert page.evaluate("() => window.__burst") == [200] * 3
    check_saves_recorded(page, server, 3, journal_before)
