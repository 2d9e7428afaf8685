"""Headless Chromium for the tests, driven through its DevTools protocol over a pipe.

Debian's `chromium` (installed by scripts/setup-system.sh), no WebDriver and no download:
`--remote-debugging-pipe` gives the protocol on file descriptors 3 (commands in) and 4
(replies and events out), NUL-separated JSON, so neither a port nor a websocket is needed.

    with Browser(tmp_path, trust_cert=cert_pem) as page:
        page.goto("https://127.0.0.1:8443/")
        page.fill("input[name=login]", "cn=admin,dc=example,dc=org")
        page.click("input[type=submit]")      # waits for the page it loads
        page.text()                            # what a user reads
        page.screenshot(tmp_path / "tree.png")
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT = 60.0


class BrowserError(RuntimeError):
    pass


def spki_hash(cert_pem: bytes) -> str:
    """Chromium's --ignore-certificate-errors-spki-list entry for one certificate."""
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Browser:
    """One headless Chromium with one page; a context manager that always ends the browser."""

    def __init__(self, tmp_path: Path, trust_cert: bytes | None = None, size=(1280, 900)):
        if CHROMIUM is None:
            raise BrowserError("chromium is not installed (scripts/setup-system.sh installs it)")
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", f"--window-size={size[0]},{size[1]}",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "about:blank"]
        if trust_cert is not None:
            # Accept exactly the test's certificate (by its public key), not every bad one.
            args.insert(1, f"--ignore-certificate-errors-spki-list={spki_hash(trust_cert)}")
        to_chrome_r, self._out = os.pipe()
        self._in, from_chrome_w = os.pipe()

        def wire_fds():  # in the child: the protocol's fixed descriptors 3 and 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self._log = open(tmp_path / "chromium.log", "wb")  # pylint: disable=consider-using-with
        self._proc = subprocess.Popen(  # pylint: disable=consider-using-with,subprocess-popen-preexec-fn
            args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, preexec_fn=wire_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next_id = 0
        self._events: list[dict] = []
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime"):
                self.call(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    # --- protocol -------------------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise BrowserError("no answer from chromium within the timeout")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise BrowserError("chromium exited; see chromium.log")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def call(self, method: str, params: dict | None = None) -> dict:
        """A command to the page's session."""
        return self._call(method, params, self._session)

    def _wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method:
                    return self._events.pop(i)
            self._events.append(self._read_message(deadline))

    # --- what a test does -----------------------------------------------------------------
    def goto(self, url: str) -> None:
        self._events.clear()
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def _element(self, selector: str) -> str:
        return f"document.querySelector({json.dumps(selector)})"

    def exists(self, selector: str) -> bool:
        return bool(self.evaluate(f"!!{self._element(selector)}"))

    def fill(self, selector: str, value: str) -> None:
        """Set a text field, select or checkbox as a user would, firing its change events."""
        found = self.evaluate(f"""(() => {{ const e = {self._element(selector)}; if (!e) return false;
            e.focus(); e.value = {json.dumps(value)};
            e.dispatchEvent(new Event('input', {{bubbles: true}}));
            e.dispatchEvent(new Event('change', {{bubbles: true}})); e.blur(); return true; }})()""")
        if not found:
            raise BrowserError(f"no element {selector} on {self.url()}")

    def click(self, selector: str, navigates: bool = True) -> None:
        """Click an element; by default wait for the page the click loads."""
        self._events.clear()
        if not self.evaluate(f"(() => {{ const e = {self._element(selector)}; if (!e) return false; "
                             "e.click(); return true; })()"):
            raise BrowserError(f"no element {selector} on {self.url()}")
        if navigates:
            self._wait_event("Page.loadEventFired")

    def wait_for(self, expression: str, what: str) -> None:
        """Poll a JavaScript condition (pages that fill themselves in by script)."""
        deadline = time.monotonic() + TIMEOUT
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {what} on {self.url()}")
            time.sleep(0.2)

    def url(self) -> str:
        return self.evaluate("location.href")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''")

    def html(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    # --- life cycle -----------------------------------------------------------------------
    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._call("Browser.close")
            except (BrowserError, OSError):
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for fd in (self._in, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
