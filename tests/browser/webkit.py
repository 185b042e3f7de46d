"""Runs cross-origin requests in WebKit (Debian's WebKitGTK MiniBrowser, the engine of Safari)
and reports what happened, in the same format as runner.mjs does for Chromium.

    python3 webkit.py RUNNER_URL

RUNNER_URL is a page on the page's origin made of the scenarios (`const INPUT = {scenarios:
[{id, url, method, headers, credentials, body, api, crossorigin, repeat}]}`) and webkit_page.js,
which runs them and reports through console.log. Output (stdout): {version, results: [{id, ok,
status, error}], console: {id: [text]}}: the console lines WebKit wrote while each scenario ran.

MiniBrowser has no headless mode: it runs under Xvfb (xvfb-run), with a fresh data and cache
directory, and writes console messages out only with --enable-write-console-messages-to-stdout and
a session that is not ephemeral (its default). Run this inside loopback_only.py: the browser can
then reach nothing but the test servers.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

MINIBROWSER = os.environ.get("CORSAIR_MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
# "URL:LINE:COL: CONSOLE LOG TEXT" for the page's own console.log; "CONSOLE <SOURCE> <LEVEL> TEXT"
# for the engine's messages.
LOG = re.compile(r"CONSOLE LOG (CORSAIR-[A-Z]+)(?: (.*))?$")
ENGINE = re.compile(r"^CONSOLE (?:SECURITY|JS|NETWORK) (?:ERROR|WARN|WARNING) (.*)$")


def version():
    try:
        return "WebKitGTK " + subprocess.check_output(
            ["dpkg-query", "-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"], text=True).split("-")[0]
    except (OSError, subprocess.CalledProcessError):
        return "WebKitGTK ?"


def main():
    url = sys.argv[1]
    if not os.path.exists(MINIBROWSER) or not shutil.which("xvfb-run"):
        raise SystemExit("MiniBrowser or xvfb-run is missing (apt-get install webkit2gtk-driver xvfb)")
    home = tempfile.mkdtemp(prefix="corsair-webkit-")
    env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
               XDG_CACHE_HOME=os.path.join(home, "cache"), XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_RUNTIME_DIR=home, NO_AT_BRIDGE="1", GTK_A11Y="none", LIBGL_ALWAYS_SOFTWARE="1",
               WEBKIT_DISABLE_COMPOSITING_MODE="1")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.Popen(
        ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", MINIBROWSER,
         "--enable-write-console-messages-to-stdout=true", url],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        start_new_session=True)
    results, console, current, finished = [], {}, None, []
    done = threading.Event()

    def read():
        nonlocal current
        for line in proc.stdout:
            line = line.rstrip("\n")
            m = LOG.search(line)
            if m:
                tag, rest = m.group(1), m.group(2)
                if tag == "CORSAIR-BEGIN":
                    current = rest
                    console[current] = []
                elif tag == "CORSAIR-RESULT":
                    results.append(json.loads(rest))
                    current = None
                elif tag == "CORSAIR-DONE":
                    finished.append(True)
                    done.set()
                continue
            m = ENGINE.match(line)
            if m and current is not None:
                console[current].append(m.group(1))
        done.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        # Bounded: a scenario takes at most its 10 s timeout, most take milliseconds.
        done.wait(900)
        if not finished:
            raise SystemExit("WebKit stopped after %d scenarios of the page (it exited, or took over 900 s)" % len(results))
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        shutil.rmtree(home, ignore_errors=True)
    json.dump({"version": version(), "results": results, "console": console}, sys.stdout)


if __name__ == "__main__":
    main()
