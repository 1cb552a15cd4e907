"""A real headless Chromium, driven over the DevTools protocol, for the report's tests.

``Browser()`` starts Debian's ``chromium`` (or ``$CALLSLOTS_CHROMIUM``) in a fresh
profile directory, on a free local port, and ``open(path)`` loads a page and returns
what a person would see: every console error and uncaught exception, the drawn size of
every chart, the resources fetched, and a PNG screenshot of the whole page.

When no browser can be started the tests that need one are skipped, saying why,
unless CALLSLOTS_REQUIRE_BROWSER is set (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE = bool(os.environ.get("CALLSLOTS_REQUIRE_BROWSER"))
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-allow-origins=*",
)
#: What the page reports about itself once loaded: chart sizes, messages, resources.
PROBE = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  return JSON.stringify({
    title: document.title,
    charts: [...document.querySelectorAll('figure.chart')].map(f => ({
      id: f.id,
      svg: f.querySelector('svg') ? box(f.querySelector('svg')) : null,
      label: f.querySelector('svg') ? f.querySelector('svg').getAttribute('aria-label') : null,
      message: f.querySelector('p.message') ? f.querySelector('p.message').textContent : null,
      messageBox: f.querySelector('p.message') ? box(f.querySelector('p.message')) : null,
    })),
    resources: performance.getEntriesByType('resource').map(r => r.name),
    scripts: document.scripts.length,
    height: document.documentElement.scrollHeight,
  });
})()"""


def chromium() -> str | None:
    found = os.environ.get("CALLSLOTS_CHROMIUM")
    if found:
        return found
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Seen:
    """A page as the browser showed it."""

    errors: list[str]
    title: str
    charts: list[dict[str, Any]]
    resources: list[str]
    scripts: int
    png: bytes


class Browser:
    """One headless Chromium, stopped by ``close()``."""

    def __init__(self, width: int = 1100) -> None:
        import websocket  # websocket-client

        exe = chromium()
        if exe is None:
            raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
        self.width = width
        self.profile = tempfile.mkdtemp(prefix="callslots-chromium-")
        port = _free_port()
        self.process = subprocess.Popen(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                f"--window-size={width},900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        pages: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.close()
                raise RuntimeError(f"{exe} exited with status {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    pages = [p for p in json.load(r) if p.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        if not pages:
            self.close()
            raise RuntimeError(f"{exe} did not open its DevTools port within 30 s")
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def _wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout} s")
            self.events.append(json.loads(self.socket.recv()))

    def open(self, path: Path) -> Seen:
        self.events.clear()
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.navigate", url=path.resolve().as_uri())
        self._wait_for("Page.loadEventFired")
        probe = self.call("Runtime.evaluate", expression=PROBE, returnByValue=True)
        facts = json.loads(probe["result"]["value"])
        shot = self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": self.width, "height": facts["height"], "scale": 1},
        )
        errors = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "assert",
            ):
                errors.append(str(params.get("args")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return Seen(
            errors,
            facts["title"],
            facts["charts"],
            facts["resources"],
            facts["scripts"],
            base64.b64decode(shot["data"]),
        )

    def close(self) -> None:
        sock = getattr(self, "socket", None)
        if sock is not None:
            sock.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def start_browser() -> Browser:
    """A browser, or the test skipped (failed under CALLSLOTS_REQUIRE_BROWSER)."""
    try:
        return Browser()
    except Exception as error:  # an import, a missing binary, a crash: all say why
        why = f"no headless Chromium could be started: {error}"
    if REQUIRE:
        pytest.fail(f"CALLSLOTS_REQUIRE_BROWSER is set and {why}")
    pytest.skip(f"browser tests skipped: {why}; set CALLSLOTS_REQUIRE_BROWSER=1 to fail instead")
