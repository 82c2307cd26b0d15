"""Backstay's service worker chosen but not the one that records: the site's own holds the scope
(registered before Backstay's, or taking it over while the PMS saves), or Backstay's cannot be
loaded. Every write is recorded once, none is lost, and the history ends with what the store
holds. Real Chromium, real server, real IndexedDB; the workers' scripts are served by request
routing."""

from __future__ import annotations

from typing import Any

from harness import Server, choose_service_worker, versions, wait_ready, wait_versions

GUESTS = "w3-hotel-guests"

#: A site's own service worker: it takes every page of its scope at once and leaves requests to
#: the network.
SITE_WORKER = """self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', () => {});
"""
SITE_WORKER_PATH = "/site-sw.js"
REGISTER_SITE_WORKER_JS = (f"() => navigator.serviceWorker.register('{SITE_WORKER_PATH}', {{scope: '/'}})"
                           ".then(() => true)")

#: The script URL of the worker that controls the page ("" for none).
CONTROLLER_JS = "() => (navigator.serviceWorker.controller || {scriptURL: ''}).scriptURL"

#: Starts saves of the guests key, one after the other (each awaited, then `gap` ms), the n-th
#: holding n + 1 guests: `count` of them, or with `handover` set, as many as it takes until
#: `count` more have been made after the site's worker took the page over (at most 200).
#: window.__burst resolves with their HTTP statuses.
BURST_JS = """([count, gap, handover]) => {
    const records = (n) => Array.from({length: n + 1}, (_, i) => ({id: 'h-' + i, firstName: 'Guest ' + n}));
    const handedOver = () =>
        (navigator.serviceWorker.controller || {scriptURL: ''}).scriptURL.endsWith(handover);
    window.__burst = (async () => {
        const statuses = [];
        let left = count;
        for (let n = 0; left > 0 && n < 200; n++) {
            const response = await fetch('/_spark/kv/w3-hotel-guests',
                {method: 'POST', body: JSON.stringify(records(n))});
            statuses.push(response.status);
            if (!handover || handedOver()) left -= 1;
            await new Promise((resolve) => setTimeout(resolve, gap));
        }
        return statuses;
    })();
}"""
#: Saves made after the handover.
SAVES_AFTER = 4
#: The pause after each save of the burst.
GAP_MS = 60

#: Keeps, in order, which recorder journaled each write (the tab or service worker id each
#: announces with its entry).
HEAR_RECORDERS_JS = """() => {
    window.__recorders = [];
    new BroadcastChannel('backstay-journal').onmessage = (event) => {
        if (event.data.type === 'journal' && event.data.pending) window.__recorders.push(event.data.tab);
    };
}"""


def serve_site_worker(page: Any) -> None:
    page.context.route(f"**{SITE_WORKER_PATH}", lambda route: route.fulfill(
        status=200, body=SITE_WORKER, headers={"Content-Type": "text/javascript"}))


def settled_history(page: Any, server: Server) -> list[dict[str, Any]]:
    """Waits until the engine has drained everything and its newest version is the store's
    value; returns the history, newest first."""
    live = server.kv_get(GUESTS)

    def settled() -> bool:
        newest = versions(page)[0]
        state = page.evaluate("id => window.backstay.stateAt(id)", newest["id"])
        return bool(page.evaluate("() => window.backstay.status()")["waiting"] == 0
                    and state.get(GUESTS) == live)

    for _ in range(150):
        if settled():
            break
        page.wait_for_timeout(200)
    assert settled(), "the history does not end with the store's value"
    page.wait_for_timeout(1500)  # nothing more comes
    return versions(page)


def test_a_site_with_a_service_worker_of_its_own_keeps_it_and_backstay_records_in_the_page(
        page: Any, server: Server) -> None:
    serve_site_worker(page)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.evaluate(REGISTER_SITE_WORKER_JS)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    choose_service_worker(page, reload_under_it=False)
    page.reload()
    wait_ready(page)
    # The site's worker still holds the scope and controls the page; Backstay's was not
    # registered beside or over it, and the page records its own writes.
    assert page.evaluate(CONTROLLER_JS).endswith(SITE_WORKER_PATH)
    scripts = page.evaluate("""() => navigator.serviceWorker.getRegistrations().then((found) =>
        found.map((r) => (r.active || r.waiting || r.installing).scriptURL))""")
    assert [url.rsplit("/", 1)[1] for url in scripts] == ["site-sw.js"]
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    page.evaluate(BURST_JS, [3, GAP_MS, None])
    assert page.evaluate("() => window.__burst") == [200] * 3
    found = settled_history(page, server)
    assert len(found) == 4, [version["description"] for version in found]
    assert page.evaluate("() => window.__backstayCapture.stats.recorded") == 3
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


def test_the_site_s_own_worker_taking_the_page_over_during_a_burst_of_saves_loses_and_doubles_none(
        page: Any, server: Server) -> None:
    """Under Backstay's service worker the PMS saves, one after the other; after the fourth save
    the site registers its own worker for the same scope, which takes the page over at once, and
    4 more saves follow: from the moment the page is told, it records its writes itself. Each
    save is one version, in order, with the value saved: none missed in the handover, none
    recorded twice."""
    serve_site_worker(page)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    choose_service_worker(page)
    page.evaluate(HEAR_RECORDERS_JS)
    page.evaluate(BURST_JS, [SAVES_AFTER, GAP_MS, SITE_WORKER_PATH])
    page.wait_for_timeout(4 * GAP_MS)
    page.evaluate(REGISTER_SITE_WORKER_JS)
    statuses = page.evaluate("() => window.__burst")
    saves = len(statuses)
    assert statuses == [200] * saves and SAVES_AFTER < saves < 200, statuses
    assert page.evaluate(CONTROLLER_JS).endswith(SITE_WORKER_PATH)
    # The handover came in the middle of the burst: its first saves were recorded by Backstay's
    # worker, the rest by the page.
    recorders = page.evaluate("() => window.__recorders")
    assert len(recorders) == saves, recorders
    runs = [tab for at, tab in enumerate(recorders) if at == 0 or recorders[at - 1] != tab]
    assert len(runs) == 2 and runs[0].startswith("sw-") and not runs[1].startswith("sw-"), recorders
    assert runs[1] == page.evaluate("() => window.__backstayCapture.tab")
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    found = settled_history(page, server)
    saved = list(reversed(found[:-1]))
    states = [page.evaluate("id => window.backstay.stateAt(id)", version["id"])[GUESTS] for version in saved]
    assert [len(state) for state in states] == list(range(1, saves + 1)), [v["description"] for v in saved]
    assert [state[0]["firstName"] for state in states] == [f"Guest {n}" for n in range(saves)]
    assert page.evaluate("() => window.__backstayCapture.stats.failed") == 0
    assert page.evaluate("() => window.backstay.verify({full: true})")["ok"] is True


def test_a_service_worker_that_cannot_be_registered_leaves_the_page_recording_itself(
        page: Any, server: Server) -> None:
    """Capture in the service worker is chosen, but its script cannot be loaded (the server
    answers 500): the page goes on recording its own writes, and none is lost."""
    asked: list[str] = []

    def down(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=500, body="down")

    page.context.route("**/capture_sw.js", down)
    page.goto(server.url + "/")
    wait_ready(page)
    wait_versions(page, 1)
    page.evaluate("() => localStorage.setItem('backstay:capture', 'service-worker')")
    page.reload()  # this load tries to register the worker
    wait_ready(page)
    page.wait_for_timeout(1000)
    page.reload()
    wait_ready(page)
    assert asked, "the page never tried to register Backstay's worker"
    assert page.evaluate("() => navigator.serviceWorker.getRegistrations().then((all) => all.length)") == 0
    assert page.evaluate(CONTROLLER_JS) == ""
    assert page.evaluate("() => window.__backstayCapture.writer()") == "worker"
    page.evaluate(BURST_JS, [3, GAP_MS, None])
    assert page.evaluate("() => window.__burst") == [200] * 3
    found = settled_history(page, server)
    assert len(found) == 4, [version["description"] for version in found]
    assert page.evaluate("() => window.__backstayCapture.stats.recorded") == 3
