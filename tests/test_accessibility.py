"""The public pages on a phone and for a screen reader (issue 17, item 10), in
headless Chromium: axe-core (npm, pinned in package-lock.json, `npm ci` in
`make test`) finds no serious or critical violation on the home, case,
document and search pages; at 390 px no page scrolls sideways and every tap
target is at least 24 by 24 px; each page has its language, one <main>, a skip
link to it, and table headers with a scope."""
from __future__ import annotations

from pathlib import Path

import pytest

from archive.site import urls
from tests.conftest import PROJECT, chromium
from tests.test_pages_case import APPEAL, CASE, build, serve, stop

AXE = Path(PROJECT) / "node_modules" / "axe-core" / "axe.min.js"
PAGES = {
    "home": "/",
    # the case page with everything it can show: the district case and its appeal on
    # one timeline, links, missing documents, the chart, parties
    "case": urls.case(*APPEAL) + "?courts=all",
    "document": urls.document(*CASE, "2", 1),
    "search": urls.search("motion"),
    # its filters open (a filter chosen): every control shown
    "search with filters": urls.search("motion") + "&court=cand",
}
PHONE, DESKTOP = 390, 1280

TAP_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary')]
  .filter(e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
                 // inside a closed <details> a control keeps a box but is not shown
                 return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
                        && r.bottom > 0 && r.right > 0
                        && e.checkVisibility({contentVisibilityAuto: true,
                                              visibilityProperty: true}); })
  .filter(e => { const r = e.getBoundingClientRect();
                 return r.width < 23.5 || r.height < 23.5; })
  .map(e => { const r = e.getBoundingClientRect();
              return `${Math.round(r.width)}x${Math.round(r.height)} ${e.outerHTML.slice(0, 100)}`; })"""
LANDMARKS = """() => ({
  lang: document.documentElement.lang,
  mains: document.querySelectorAll('main').length,
  skip: (() => { const a = document.querySelector('body a[href^="#"]');
                 return a && document.querySelector(a.getAttribute('href')) &&
                        document.querySelector(a.getAttribute('href')).tagName; })(),
  unscoped: [...document.querySelectorAll('thead th, tr > th')]
              .filter(th => !th.getAttribute('scope')).map(th => th.textContent.trim()),
  wide: document.documentElement.scrollWidth,
})"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (make test does)")
    db_path, store = build(tmp_path_factory.mktemp("a11y"))
    proc, url = serve(db_path, "--files", str(store))
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible(site, browser, name):
    page = browser.new_page(viewport={"width": PHONE, "height": 900})
    try:
        response = page.goto(site + PAGES[name])
        assert response.status == 200
        marks = page.evaluate(LANDMARKS)
        assert marks["lang"] == "en" and marks["mains"] == 1 and marks["skip"] == "MAIN", marks
        assert marks["unscoped"] == [], marks["unscoped"]
        assert marks["wide"] <= PHONE, f"{name} is {marks['wide']} px wide at {PHONE} px"
        assert page.evaluate(TAP_TARGETS) == [], f"{name}: tap targets under 24 px"
        assert axe_violations(page) == [], f"at {PHONE} px"
        page.set_viewport_size({"width": DESKTOP, "height": 900})
        assert page.evaluate(LANDMARKS)["wide"] <= DESKTOP
        assert axe_violations(page) == [], f"at {DESKTOP} px"
    finally:
        page.close()


def test_skip_link_moves_the_focus_to_the_content(site, browser):
    page = browser.new_page(viewport={"width": PHONE, "height": 900})
    try:
        page.goto(site + PAGES["case"])
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        assert focused == "Skip to the content"
        assert page.evaluate("document.activeElement.getBoundingClientRect().top") >= 0
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
    finally:
        page.close()
