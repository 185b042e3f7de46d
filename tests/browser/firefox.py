"""Runs cross-origin requests in real headless Firefox (Debian's firefox-esr) and reports what
happened, in the same format as runner.mjs does for Chromium.

Input (argv[1]): a JSON file {pageUrl, scenarios: [{id, url, method, headers, credentials, body,
api, crossorigin, repeat, timeoutMs}]} (see scenario.js), or {pages: [{pageUrl, permissions:
{"loopback-network"|"local-network": "granted"|"denied"}, scenarios}], prefs: {name: value}}:
several pages in turn, each origin's Local Network Access permissions set before it loads, with
extra prefs (address-space overrides) for the whole run. Output (stdout): {version, results: [{id, ok, status, error}], console: [text]}.

Firefox is driven through Marionette (PyPI marionette-driver, no geckodriver), headless, with a
fresh profile whose updates, telemetry, remote settings and background connections are off, and
MOZ_DISABLE_NONLOCAL_CONNECTIONS=1 so that it cannot reach anything but loopback. CORS errors do
not reach stdout: they are read from Services.console in the chrome context.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from marionette_driver.marionette import Marionette

PREFS = {
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.newtabpage.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "services.settings.server": "http://127.0.0.1:9/remote-settings",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "network.prefetch-next": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "media.gmp-manager.url": "http://127.0.0.1:9/gmp",
    "dom.security.https_first": False,
    "devtools.console.stdout.content": False,
}

# scenario.js defines corsairRun(s), the one scenario runner all three engines share; Marionette
# passes the scenario and then the callback.
RUN = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenario.js")).read() + """
const [s, done] = arguments;
corsairRun(s).then(done);
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    spec = json.load(open(sys.argv[1]))
    profile = tempfile.mkdtemp(prefix="corsair-firefox-")
    port = free_port()
    # Extra prefs from the input: the LNA differential's address-space overrides and the names
    # it maps to 127.0.0.1 (network.dns.localDomains).
    prefs = dict(PREFS, **spec.get("prefs", {}), **{"marionette.port": port})
    with open(os.path.join(profile, "user.js"), "w") as f:
        for k, v in prefs.items():
            f.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))
    env = dict(os.environ, MOZ_DISABLE_NONLOCAL_CONNECTIONS="1", MOZ_HEADLESS="1")
    binary = os.environ.get("CORSAIR_FIREFOX", "/usr/bin/firefox-esr")
    proc = subprocess.Popen(
        [binary, "--headless", "--marionette", "--remote-allow-system-access", "--no-remote", "-profile", profile],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("Firefox did not open its Marionette port")
                time.sleep(0.1)
        m = Marionette(host="127.0.0.1", port=port)
        m.start_session()
        version = m.session_capabilities.get("browserVersion")
        m.timeout.script = 30
        results = []
        console = []

        def drain():
            # The console service keeps only its last few hundred messages: read and empty it
            # every few requests.
            time.sleep(0.3)
            with m.using_context("chrome"):
                console.extend(m.execute_script(
                    "const all = Services.console.getMessageArray() || [];"
                    " Services.console.reset();"
                    " return all.map(m => {"
                    " try { return m.QueryInterface(Ci.nsIScriptError).errorMessage; }"
                    " catch (e) { return m.message; } });"))

        pages = spec.get("pages") or [{"pageUrl": spec["pageUrl"], "scenarios": spec["scenarios"]}]
        done = 0
        for page in pages:
            # The page origin's Local Network Access permissions, set before it loads.
            perms = page.get("permissions") or {}
            if perms:
                origin = page["pageUrl"].rstrip("/")
                with m.using_context("chrome"):
                    for name, state in perms.items():
                        m.execute_script(
                            "const p = Services.scriptSecurityManager.createContentPrincipalFromOrigin(arguments[0]);"
                            " Services.perms.addFromPrincipal(p, arguments[1], arguments[2] === 'granted'"
                            " ? Services.perms.ALLOW_ACTION : Services.perms.DENY_ACTION);",
                            script_args=[origin, name, state])
            m.navigate(page["pageUrl"])
            for s in page["scenarios"]:
                r = m.execute_async_script(RUN, script_args=[s])
                if s.get("repeat"):
                    # Firefox stores a preflight result a moment after the preflight ends: a
                    # request sent at once can miss it.
                    time.sleep(0.3)
                    r = m.execute_async_script(RUN, script_args=[s])
                results.append(dict(id=s["id"], **r))
                done += 1
                if done % 25 == 0:
                    drain()
        drain()
        m.delete_session()
        json.dump({"version": "Firefox " + str(version), "results": results, "console": console}, sys.stdout)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
