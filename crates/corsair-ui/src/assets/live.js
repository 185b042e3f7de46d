// Runs one fetch for the corsair ui page that framed this page, and reports what the browser
// let JavaScript see. Only the ui's own page may ask (checked by origin).
"use strict";
const allowed = (o) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(o) && window.parent !== window;
window.addEventListener("message", async (ev) => {
  if (!allowed(ev.origin) || ev.source !== window.parent) return;
  const req = ev.data || {};
  const headers = {};
  for (const line of (req.headers || [])) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  const opts = { method: req.method || "GET", headers, mode: "cors", credentials: req.credentials ? "include" : "same-origin", cache: "no-store" };
  if (req.data && opts.method !== "GET" && opts.method !== "HEAD") opts.body = req.data;
  let out;
  try {
    const r = await fetch(req.url, opts);
    const seen = [];
    r.headers.forEach((v, k) => seen.push([k, v]));
    out = { id: req.id, origin: location.origin, allowed: true, status: r.status, type: r.type, headers: seen };
  } catch (e) {
    out = { id: req.id, origin: location.origin, allowed: false, error: String(e && e.message || e) };
  }
  ev.source.postMessage(out, ev.origin);
});
window.parent.postMessage({ ready: location.origin }, "*");
