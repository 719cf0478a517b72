"""hlm.preview.server: the book served with the reload script, the status the pages wait on."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from hlm.preview.server import STATUS, BuildState, PreviewServer, inject


def get(url: str, timeout: float = 10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture
def site(tmp_path):
    book = tmp_path / "_book" / "demo"
    (book / "assets").mkdir(parents=True)
    (book / "index.html").write_text("<html><body><p>Home</p></body></html>", encoding="utf-8")
    (book / "intro.html").write_text("<html><body><p>Intro</p></body></html>", encoding="utf-8")
    (book / "assets" / "book.js").write_text("var x = 1;", encoding="utf-8")
    return book


@pytest.fixture
def server(site):
    srv = PreviewServer(site, BuildState(), port=0, poll_timeout=5).start()
    yield srv
    if srv.thread.is_alive():
        srv.stop()


def test_pages_are_served_with_the_reload_script_the_files_without(server, site):
    status, headers, body = get(server.url)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    html = body.decode()
    assert "<p>Home</p>" in html and STATUS in html and "location.reload()" in html
    assert html.index(STATUS) < html.index("</body>")
    assert "var build = 0," in html
    assert "__preview" not in (site / "index.html").read_text()  # the built file is untouched
    assert STATUS in get(server.url + "intro.html")[2].decode()
    status, headers, body = get(server.url + "assets/book.js")
    assert body == b"var x = 1;" and headers["Cache-Control"] == "no-cache"  # not HTML: as it is, revalidated
    assert get(server.url + "missing.html")[0] == 404
    server.state.update(bump=True)
    assert "var build = 1," in get(server.url)[2].decode()


def test_the_status_endpoint_waits_for_a_change(server):
    status, headers, body = get(server.url + STATUS.lstrip("/"))
    first = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert first == {"build": 0, "version": 0, "state": "idle", "message": ""}
    threading.Timer(0.3, server.state.update, kwargs={"bump": True}).start()
    t0 = time.perf_counter()
    got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={first['version']}")[2])
    assert got["build"] == 1 and 0.2 < time.perf_counter() - t0 < 3
    server.state.update(state="error", message="report/x.qmd:3: boom")
    got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={got['version']}")[2])
    assert got["state"] == "error" and "boom" in got["message"] and got["build"] == 1


def test_stopping_answers_the_waiting_pages_and_closes_the_port(server):
    waiter = threading.Thread(target=get, args=(server.url + STATUS.lstrip("/") + "?since=999",))
    waiter.start()
    time.sleep(0.1)
    server.stop()
    waiter.join(timeout=5)
    assert not waiter.is_alive() and not server.thread.is_alive()
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url, timeout=2)


def test_a_page_that_left_while_waiting_is_no_error(server, capsys):
    try:
        raise BrokenPipeError(32, "Broken pipe")  # the reloaded page's old request, answered
    except BrokenPipeError:
        server.handle_error(None, ("127.0.0.1", 0))
    assert capsys.readouterr().err == ""


def test_a_missing_book_is_a_waiting_page_that_reloads(tmp_path):
    srv = PreviewServer(tmp_path / "none", BuildState(), port=0).start()
    try:
        status, _, body = get(srv.url)
        assert status == 503 and STATUS in body.decode()
    finally:
        srv.stop()


def test_injection_without_body_tag():
    assert inject("<p>x</p>", 3).startswith("<p>x</p><script>")
