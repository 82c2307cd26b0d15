"""The browser benches' site (bench/site.py): the app serves the bench's pages as it serves the
PMS (no request is routed by Playwright, which would turn the browser's HTTP cache off), and the
PMS without Backstay is the PMS page with nothing of Backstay left."""

from __future__ import annotations

from pathlib import Path

from server_harness import AppFactory

from bench import site

PMS_SCRIPTS = ('src="/static/vendor/spark-0.46.15/spark.js"', 'src="/static/pms/app.js"')


def test_the_bench_site_serves_the_pms_with_and_without_backstay_passing_fetch_and_a_bare_worker(
        make_client: AppFactory, tmp_path: Path) -> None:
    folder = site.build(tmp_path / "site", "http://127.0.0.1:8000")
    client = make_client(project_root=folder)
    pages = {path: client.get(path) for path in (
        "/", site.OFF_PATH, site.PASS_FETCH_PMS_PATH, site.BARE_PATH, site.BARE_PMS_PATH, site.BLANK_PATH)}
    assert {path: answer.status_code for path, answer in pages.items()} == dict.fromkeys(pages, 200)
    on, off, passing, bare, bare_pms = (pages[path].text for path in (
        "/", site.OFF_PATH, site.PASS_FETCH_PMS_PATH, site.BARE_PATH, site.BARE_PMS_PATH))
    assert on == (site.ROOT / "index.html").read_text()
    for page in (on, off, passing, bare_pms):
        assert all(script in page for script in PMS_SCRIPTS)
    # Passing fetch on: the PMS without Backstay, with one script more, where capture.js was.
    tag = f'<script src="{site.PASS_FETCH_SCRIPT}"></script>'
    assert passing.replace(tag, "") == off and passing.index(tag) < passing.index(PMS_SCRIPTS[0])
    passer = client.get(site.PASS_FETCH_SCRIPT)
    assert passer.status_code == 200 and "window.fetch = function passFetch" in passer.text
    assert passer.headers["content-type"].startswith("text/javascript")
    for page in (off, passing, bare_pms):
        assert "capture.js" not in page and "facade.js" not in page and "engine_main.py" not in page
    for page in (bare, bare_pms):
        assert f'<script src="{site.BARE_SCRIPT}"></script>' in page and '<script type="py" worker' in page
        assert "<script>" not in page  # the pages' CSP runs no inline script
    script = client.get(site.BARE_SCRIPT)
    assert script.status_code == 200 and "__bareStarted" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert f'src="{site.BARE_WORKER}"' in bare and "BroadcastChannel" in client.get(site.BARE_WORKER).text
    # The app's code, through the site's links to this checkout.
    assert client.get("/app/browser/engine_main.py").status_code == 200
    assert client.get("/static/capture.js").text == (site.ROOT / "static" / "capture.js").read_text()
