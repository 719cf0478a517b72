"""The built-in HTML book as a reader's browser shows it: headless Chromium (Playwright)
opens the pages of a whole built book from disk (file://) and checks what Quarto's
pages give a reader: stretchy math, pages that fit a phone, the search, folded
callouts, copy buttons, heading anchors, dark mode; and that nothing is fetched from
the network."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p and os.path.exists(p)), None)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def book(clinics_book) -> Path:
    work, _ = clinics_book
    return work / "_book" / "clinics"


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install playwright")
    if CHROMIUM is None:
        pytest.skip("no Chromium: apt-get install chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page; `page.requests` lists every URL it asked for."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def _open(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")


def _page_with(book: Path, needle: str) -> Path:
    found = [p for p in sorted(book.glob("*.html")) if needle in p.read_text(encoding="utf-8")]
    assert found, f"no page of {book} has {needle!r}"
    return found[0]


def test_every_page_fits_a_phone_and_fetches_nothing(book, page):
    pages = sorted(book.glob("*.html"))
    assert len(pages) > 10
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path in pages:
        _open(page, path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path.name] = width
    assert too_wide == {}
    assert page.requests and [url for url in page.requests if not url.startswith("file://")] == []
    assert any(url.endswith("/assets/STIXTwoMath-Regular.woff2") for url in page.requests)  # the book's own font


def test_matrix_brackets_stretch(book, page):
    """Eq. (5.1): each bracket of a matrix spans (nearly) the matrix's height, as it
    does only with an OpenType MATH font (Chromium's fallback leaves it text-sized)."""
    _open(page, _page_with(book, '<span class="eq-number">(5.1)</span>'))
    assert page.evaluate('document.fonts.check(\'16px "STIX Two Math"\')')
    ratios = page.evaluate("""() => {
      const eq = [...document.querySelectorAll('.quarto-equation')]
        .find(d => d.querySelector('.eq-number').textContent.trim() === '(5.1)');
      return [...eq.querySelectorAll('mo')]
        .filter(mo => ['[', ']'].includes(mo.textContent.trim()) && mo.parentElement.querySelector(':scope > mtable'))
        .map(mo => mo.getBoundingClientRect().height
                   / mo.parentElement.querySelector(':scope > mtable').getBoundingClientRect().height);
    }""")
    assert len(ratios) >= 2 and min(ratios) >= 0.8, ratios


def test_search_finds_the_section_that_says_it(book, page):
    _open(page, book / "index.html")
    page.fill("#search-input", "shrinkage")
    hrefs = page.eval_on_selector_all("#search-results a", "links => links.map(a => a.getAttribute('href'))")
    href = next((h for h in hrefs if "#" in h), None)
    assert href, hrefs
    page.click(f'#search-results a[href="{href}"]')
    page.wait_for_load_state("load")
    assert page.url.endswith(href)
    section = page.evaluate("""(id) => {
      const h = document.getElementById(id);
      if (!h) return null;
      let text = h.textContent;
      for (let el = h.nextElementSibling; el && !/^H[1-3]$/.test(el.tagName); el = el.nextElementSibling)
        text += " " + el.textContent;
      return text;
    }""", href.split("#", 1)[1])
    assert section is not None and "shrinkage" in section.lower()


def test_collapsed_callout_starts_closed(book, page):
    path = _page_with(book, '<details class="callout')
    _open(page, path)
    first = page.evaluate("[...document.querySelectorAll('details.callout')].findIndex(d => !d.open)")
    assert first >= 0
    closed = page.locator("details.callout").nth(first)
    assert not closed.locator(".callout-body").is_visible()
    closed.locator("summary").click()
    assert closed.locator(".callout-body").is_visible()


def test_copy_buttons_anchors_and_dark_mode(book, page):
    path = _page_with(book, '<div class="sourceCode')
    page.emulate_media(color_scheme="dark")
    _open(page, path)
    assert page.locator("div.sourceCode > button.copy-button").count() == page.locator("div.sourceCode").count()
    assert page.locator("h2[id] > a.anchor-link").count() >= 1
    href = page.locator("h2[id] > a.anchor-link").first.get_attribute("href")
    assert href.startswith("#") and page.locator(f"h2[id='{href[1:]}']").count() == 1
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(map(int, re.findall(r"\d+", background)[:3])) < 100, background  # dark
