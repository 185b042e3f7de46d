"""Runs CORScanner (PyPI `cors`) over the URLs given on stdin, the way its command line does
(CORSCheck.check_one_by_one in a gevent pool of 50), and prints one JSON object: the class it
reported for each URL (or null) and the wall time of the scan.

Two guards keep it on loopback: tldextract reads its bundled public-suffix snapshot instead of
downloading one, and every name lookup outside fleet.test is refused.
"""
from gevent import monkey

monkey.patch_all()  # first, as CORScanner's own command line does (ssl must be patched early)

import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys
import time

import tldextract  # noqa: E402

_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
tldextract.extract = _extract

from CORScanner.common.corscheck import CORSCheck  # noqa: E402  (patches sockets via gevent)
from gevent.pool import Pool  # noqa: E402

_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    h = host.decode() if isinstance(host, bytes) else str(host)
    if h == "fleet.test" or h.endswith(".fleet.test") or h in ("127.0.0.1", "localhost"):
        return _getaddrinfo("127.0.0.1", *args, **kwargs)
    raise socket.gaierror(f"lookup of {h} refused: the comparison stays on loopback")


socket.getaddrinfo = _loopback_only


if os.environ.get("CORSAIR_CORSCANNER_DEBUG"):
    import requests

    def _send(self, url, origin):
        try:
            return requests.get(url, timeout=5, headers={"Origin": origin}, verify=False)
        except Exception as e:  # noqa: BLE001
            sys.stderr.write(f"{url} {origin}: {e!r}\n")
            return None

    CORSCheck.send_req = _send


class _Quiet:
    filename = None

    def warning(self, *_):
        pass

    def info(self, *_):
        pass


def main():
    urls = [u.strip() for u in sys.stdin if u.strip()]
    headers = json.loads(sys.argv[1]) if len(sys.argv) > 1 else None
    cfg = {"logger": _Quiet(), "headers": headers, "timeout": 5}
    found = {}

    def one(url):
        msg = CORSCheck(url, cfg).check_one_by_one()
        found[url] = msg.get("type") if msg else None

    start = time.time()
    Pool(50).map(one, urls)
    print(json.dumps({"found": found, "seconds": time.time() - start}))


if __name__ == "__main__":
    main()
