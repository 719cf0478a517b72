"""Serving the book with reloads: every HTML page gets a script that waits on the build
counter (`STATUS`) and reloads the page when newer pages are served, or shows the error
of a build that failed."""
from __future__ import annotations

import json
import sys
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


class BuildState:
    """The build counter the pages wait on, and what the preview is doing."""

    def __init__(self):
        self.cond = threading.Condition()
        self.build = 0        # bumped when new pages are served
        self.version = 0      # bumped on every change of this state
        self.state = "idle"   # idle | building | error
        self.message = ""
        self.closed = False

    def snapshot(self) -> dict:
        return {"build": self.build, "version": self.version, "state": self.state, "message": self.message}

    def update(self, state: str | None = None, message: str | None = None, bump: bool = False) -> None:
        with self.cond:
            if state is not None:
                self.state = state
            if message is not None:
                self.message = message
            if bump:
                self.build += 1
            self.version += 1
            self.cond.notify_all()

    def wait(self, since: int, timeout: float) -> dict:
        """The state once its version is past `since` (or after `timeout` seconds)."""
        with self.cond:
            self.cond.wait_for(lambda: self.version > since or self.closed, timeout)
            return self.snapshot()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


STATUS = "/__preview/status"

RELOAD_SCRIPT = """<script>/* added by the preview server, not part of the book */
(function () {
  var build = %(build)d, since = -1, box = null;
  function show(s) {
    if (!box) { box = document.createElement("div"); document.body.appendChild(box); }
    box.style.cssText = "position:fixed;z-index:9999;right:8px;bottom:8px;max-width:60em;max-height:60vh;"
      + "overflow:auto;font:13px monospace;white-space:pre-wrap;padding:6px 10px;border-radius:4px;"
      + (s.state === "error" ? "background:#fee;color:#900;border:1px solid #c00" : "background:#eee;color:#333");
    box.style.display = s.state === "idle" ? "none" : "block";
    box.textContent = s.state === "error" ? "Build failed:\\n" + s.message : "Rebuilding\\u2026";
  }
  function poll() {
    fetch("%(status)s?since=" + since, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.build > build) { location.reload(); return; }
        since = s.version; show(s); poll();
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
"""


def inject(html: str, build: int) -> str:
    """`html` with the reload script added before `</body>` (or at the end)."""
    script = RELOAD_SCRIPT % {"build": build, "status": STATUS}
    at = html.lower().rfind("</body>")
    return html[:at] + script + html[at:] if at >= 0 else html + script


WAITING_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Preview</title></head>
<body><p>The book is being built; this page reloads when it is ready.</p></body></html>
"""


class _Handler(SimpleHTTPRequestHandler):
    server: "PreviewServer"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    cache = "no-store"

    def end_headers(self):
        # pages and the status never come from a cache; the other files are checked
        # (If-Modified-Since: 304), so that a reload does not fetch every figure again
        self.send_header("Cache-Control", self.cache)
        super().end_headers()

    def _send(self, body: bytes, ctype: str, status=HTTPStatus.OK, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _html_file(self) -> Path | None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        return path if path.suffix == ".html" and path.is_file() else None

    def _serve(self, head: bool) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == STATUS:
            since = parse_qs(url.query).get("since", [""])[0]
            snap = state.wait(int(since), self.server.poll_timeout) if since.lstrip("-").isdigit() \
                else state.snapshot()
            self._send(json.dumps(snap).encode(), "application/json", head=head)
            return
        if not Path(self.directory).is_dir():
            self._send(inject(WAITING_PAGE, state.build).encode(), "text/html; charset=utf-8",
                       HTTPStatus.SERVICE_UNAVAILABLE, head)
            return
        html = self._html_file()
        if html is None:
            self.cache = "no-cache"
            super().do_HEAD() if head else super().do_GET()
            return
        try:
            text = html.read_text(encoding="utf-8")
        except OSError:  # replaced by a rebuild this instant
            time.sleep(0.05)
            text = html.read_text(encoding="utf-8")
        self._send(inject(text, state.build).encode("utf-8"), "text/html; charset=utf-8", head=head)

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)


class PreviewServer(ThreadingHTTPServer):
    """Serves `directory` (looked up on every request: rebuilds replace it) with reloads."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory: Path, state: BuildState, host: str = "127.0.0.1", port: int = 8000,
                 poll_timeout: float = 25.0):
        self.directory, self.state, self.poll_timeout = Path(directory), state, poll_timeout
        handler = lambda *a, **k: _Handler(*a, directory=str(self.directory), **k)  # noqa: E731
        super().__init__((host, port), handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="preview-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a page left while it waited
            super().handle_error(request, client_address)

    def start(self) -> "PreviewServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.state.close()
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)
