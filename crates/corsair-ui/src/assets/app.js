// corsair ui: the check, live, explain and policy panels over the ui's JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
let config = { stacks: [], targets: [] };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// The texts corsair writes use `code` and **bold**: shown as such, never as raw markup.
function md(text) {
  if (text === null || text === undefined) return null;
  const out = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let last = 0;
  for (const m of String(text).matchAll(re)) {
    if (m.index > last) out.push(String(text).slice(last, m.index));
    out.push(m[1] !== undefined ? el("code", {}, m[1]) : el("strong", {}, m[2]));
    last = m.index + m[0].length;
  }
  if (last < String(text).length) out.push(String(text).slice(last));
  return out;
}

// A short confirmation next to a control, cleared after a while.
function confirmIn(id, text) {
  const s = $(id);
  s.textContent = text;
  s.className = "copied";
  setTimeout(() => { if (s.textContent === text) s.textContent = ""; }, 2500);
}

const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers["X-Corsair-Token"] = token;
  // Always POST with a JSON body: the browser then sends Origin, which the API checks.
  const r = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  const v = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(v.error || `HTTP ${r.status}`);
  return v;
}

function copyButton(text, label = "Copy") {
  const b = el("button", { type: "button" }, label);
  b.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(text); b.textContent = "Copied"; }
    catch { b.textContent = "Select and copy"; }
    setTimeout(() => (b.textContent = label), 1500);
  });
  return b;
}

// ---- tabs (keyboard: arrows, Home, End) ----
const tabs = [...document.querySelectorAll("[role=tab]")];
function select(tab, focus = true) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on);
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
  const name = tab.id.slice(4);
  if (!location.hash.startsWith(`#${name}`)) history.replaceState(null, "", `#${name}`);
}
tabs.forEach((t, i) => {
  t.addEventListener("click", () => select(t));
  t.addEventListener("keydown", (e) => {
    const n = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (n !== undefined) { e.preventDefault(); select(tabs[(n + tabs.length) % tabs.length]); }
  });
});

// ---- check ----
const lines = (s) => s.split("\n").map((l) => l.trim()).filter(Boolean);

function checkRequest() {
  return {
    url: $("c-url").value.trim(),
    origin: $("c-origin").value.trim(),
    method: $("c-method").value.trim() || "GET",
    headers: lines($("c-headers").value),
    data: $("c-data").value || null,
    credentials: $("c-credentials").checked,
    api: $("c-api").value,
    crossorigin: $("c-crossorigin").value,
    page_space: $("c-page-space").value,
    target_space: $("c-target-space").value,
    lna_permission: $("c-lna-permission").value,
    target_address_space: $("c-tas").value,
    browser: $("c-browser").value,
    preflight_only: $("c-preflight-only").checked,
  };
}

// Header values (tokens, cookies) and the body stay out of the URL unless the user opts in:
// the link names the headers only.
function shareLink(withValues = $("c-share-values").checked) {
  const q = checkRequest();
  if (!withValues) {
    q.headers = q.headers.map((h) => h.split(":")[0].trim());
    q.data = null;
  }
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else if (v !== null && v !== false && v !== "") p.set(k, String(v));
  }
  p.set("stack", $("c-stack").value);
  return `${location.origin}${location.pathname}${token ? `?token=${encodeURIComponent(token)}` : ""}#check?${p}`;
}

// A shared link fills the form; it never sends anything by itself.
function fillFromHash() {
  const [name, query] = location.hash.slice(1).split("?");
  const tab = tabs.find((t) => t.id === `tab-${name}`);
  if (tab) select(tab, false);
  if (name !== "check" || !query) return;
  const p = new URLSearchParams(query);
  const set = (id, v) => { if (v !== null) $(id).value = v; };
  set("c-url", p.get("url")); set("c-origin", p.get("origin")); set("c-method", p.get("method"));
  set("c-data", p.get("data")); set("c-api", p.get("api")); set("c-browser", p.get("browser"));
  set("c-stack", p.get("stack")); set("c-crossorigin", p.get("crossorigin"));
  set("c-page-space", p.get("page_space")); set("c-target-space", p.get("target_space"));
  set("c-lna-permission", p.get("lna_permission")); set("c-tas", p.get("target_address_space"));
  // A name alone (the default link) becomes "Name: " for the user to fill in.
  if (p.getAll("headers").length) $("c-headers").value = p.getAll("headers").map((h) => (h.includes(":") ? h : `${h}: `)).join("\n");
  $("c-credentials").checked = p.get("credentials") === "true";
}

function headerList(pairs) {
  return el("pre", {}, (pairs || []).map(([n, v]) =>
    el("span", { class: /^access-control-|^origin$|^vary$/i.test(n) ? "hdr cors" : "hdr" }, `${n}: ${v}`)));
}

function renderFix(fix, stack) {
  if (!fix) return null;
  const snippet = (fix.snippets || []).find((s) => s.stack === stack);
  return el("div", { class: "box", id: "fix" },
    el("h3", {}, "Fix"),
    el("p", {}, md(fix.summary)),
    fix.headers && fix.headers.length ? el("div", {}, el("p", {}, "The server should send:"), headerList(fix.headers)) : null,
    (fix.notes || []).map((n) => el("p", { class: "note" }, md(n))),
    fix.policy ? el("div", {}, el("p", {}, "As a corsair policy (corsair serve, corsair gen):"), el("pre", { class: "snippet", id: "fix-policy" }, fix.policy)) : null,
    snippet ? el("div", {}, el("p", {}, `For ${stack}:`), el("pre", { class: "snippet" }, snippet.code), copyButton(snippet.code, "Copy snippet")) : null);
}

// Local Network Access: the spaces, what was needed, and the fixes when it refused.
function renderLna(l) {
  const target = l.target_space || "not reached";
  const what = l.blocked ? "refused" : l.permission ? `needed ${l.permission}: granted` : "no permission needed";
  return el("div", { class: "box", id: "lna-check" },
    el("h3", {}, "Local Network Access"),
    el("p", {}, `Page ${l.page_space} (${l.secure_context ? "secure context" : "not a secure context"}) → target ${target}${l.target_address_space ? `, targetAddressSpace ${l.target_address_space}` : ""}: ${what}.`),
    l.blocked && l.blocked.undecided ? el("p", { class: "note" }, "The permission is undecided: a desktop Chromium asks the user and waits. Allow: the request is sent and CORS decides (choose permission granted to see). Block: this error. Headless Chromium blocks at once.") : null,
    l.fixes ? el("ul", { id: "lna-fixes" }, l.fixes.map((f) => el("li", {}, md(f)))) : null);
}

// Browser "every engine": one row per engine (its verdict, where it failed, its console), then
// the report of the engine that fails first (or the first one when all pass).
function renderAll(v, stack) {
  const rows = v.verdicts.map((x) => el("tr", { class: x.allowed ? "allowed" : "blocked", "data-browser": x.browser },
    el("th", { scope: "row" }, x.browser),
    el("td", {}, x.kind ? `${x.verdict.toLowerCase()} (${x.kind})` : x.verdict.toLowerCase()),
    el("td", {}, x.failed_at || ""),
    el("td", {}, x.console ? el("div", { class: "console" }, x.console) : "")));
  const lead = (v.fails_first && v.fails_first[0]) || v.verdicts[0].browser;
  const summary = v.fails_first.length
    ? `Fails first: ${v.fails_first.join(", ")}.${v.agree ? " Every engine reaches the same verdict." : " The engines disagree: a fix must satisfy each."}`
    : "Every engine allows it.";
  return [
    el("div", { class: `verdict ${v.allowed ? "allowed" : "blocked"}`, id: "verdict", role: "status" },
      v.allowed ? "Allowed in every engine" : `Blocked in ${v.verdicts.filter((x) => !x.allowed).map((x) => x.browser).join(", ")}`),
    el("p", { id: "engines-summary" }, summary),
    el("table", { class: "engines", id: "engines" },
      el("thead", {}, el("tr", {}, ["Engine", "Verdict", "Where", "Console"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)),
    el("h3", {}, `The ${lead} report`),
    ...renderCheck(v.reports[lead], stack),
  ];
}

function renderCheck(v, stack) {
  if (v.browser === "all") return renderAll(v, stack);
  let verdict, cls;
  if (v.net_error) {
    const code = v.net_error.code.startsWith("net::") ? v.net_error.code : `net::${v.net_error.code}`;
    verdict = `Unreachable: ${code} (${v.net_error.detail})`;
    cls = "unreachable";
  } else if (v.allowed === null) {
    verdict = v.next ? `Preflight passed: the browser would now send ${v.next.method} ${v.next.url} (not sent)` : "Nothing left to send";
    cls = "pending";
  } else if (v.lna && v.lna.blocked) {
    verdict = "Blocked by Local Network Access: the request was not sent, and no response header can change that";
    cls = "blocked";
  } else if (v.allowed && v.request && v.request.mode === "no-cors" && v.cross_origin) {
    verdict = "Loaded (no-cors): the element loads, but JavaScript cannot read it";
    cls = "allowed";
  } else {
    verdict = v.allowed ? "Allowed: JavaScript can read the response" : "Blocked";
    cls = v.allowed ? "allowed" : "blocked";
  }
  const out = [el("div", { class: `verdict ${cls}`, id: "verdict", role: "status" }, verdict)];
  const sent = (v.exchanges || []).find((e) => e.kind === "actual" && !SAFE_METHODS.includes(e.request.method));
  if (sent) out.push(el("p", { class: "sent-note", id: "sent-note" }, `This sent a real ${sent.request.method} to ${sent.request.url}: the server may have acted on it.`));
  if (v.net_error) out.push(el("p", { class: "hint" }, "The server could not be reached, so CORS never came into play: the browser shows this as a network error (net::ERR_…), not a CORS error."));
  if (v.console) out.push(el("h3", {}, "Console"), el("div", { class: "console", id: "console" }, v.console));
  if (v.cause) out.push(el("div", { class: "box" }, el("h3", {}, "Cause"), el("p", { id: "cause" }, md(v.cause))));
  out.push(renderFix(v.fix, stack));
  if (v.lna) out.push(renderLna(v.lna));
  const reasons = v.preflight_reason_texts || [];
  if (v.request) {
    out.push(reasons.length
      ? el("div", { class: "box", id: "preflight-reasons" }, el("h3", {}, "Why a preflight"), el("ul", {}, reasons.map((r) => el("li", {}, md(r)))))
      : el("p", { class: "hint", id: "preflight-reasons" }, "Preflight: no (a simple request: safelisted method and headers)."));
  }
  out.push(el("h3", {}, "Trace"));
  for (const [i, ex] of (v.exchanges || []).entries()) {
    const r = ex.request;
    out.push(el("div", { class: "box exchange" },
      el("h3", {}, `${i + 1}. ${ex.kind}: ${r.method} ${r.url}`),
      headerList(r.headers),
      ex.response ? el("div", {}, el("p", {}, `→ ${ex.response.status}`), headerList(ex.response.headers)) : el("p", {}, "→ no response"),
      el("pre", { class: "curl" }, ex.curl), copyButton(ex.curl, "Copy curl")));
  }
  // The other engines, replayed on the same responses, where they differ from this one; an
  // engine that would send other requests needs its own run (Browser: every engine).
  const others = Object.entries(v.other_browsers || {}).filter(([, o]) => !o || o.allowed !== v.allowed);
  if (others.length && v.allowed !== null) {
    out.push(el("div", { class: "box", id: "other-browsers" }, el("h3", {}, "Other browsers differ"),
      el("ul", {}, others.map(([b, o]) => el("li", {}, o
        ? `${b} would ${o.allowed ? "allow it" : "block it"}${o.console ? `: ${o.console.split("\n")[0]}` : ""}`
        : `${b} would send different requests: choose Browser "every engine" to run it`)))));
  }
  for (const w of v.warnings || []) out.push(el("p", { class: "hint" }, "Note: ", md(w)));
  // replaceChildren(null) would print "null": what is absent is left out.
  return out.filter(Boolean);
}

async function runCheck(e) {
  if (e) e.preventDefault();
  const res = $("check-result");
  const q = checkRequest();
  if (!q.url || !q.origin) { res.replaceChildren(el("p", { role: "alert" }, "Give a URL and the page's origin.")); return; }
  const method = q.method.toUpperCase();
  if (!SAFE_METHODS.includes(method) && !q.preflight_only &&
      !window.confirm(`This sends a real ${method} to ${q.url} once the preflight passes, as the browser would: the server may act on it. Send it? (Cancel, then tick "send the preflight only" to check the preflight alone.)`)) {
    res.replaceChildren(el("p", { role: "status" }, `Nothing sent: the ${method} was cancelled.`));
    return;
  }
  const go = $("c-go");
  go.disabled = true;
  res.setAttribute("aria-busy", "true");
  res.replaceChildren(el("p", { class: "verdict pending", id: "progress", role: "status" }, `Checking ${method} ${q.url}…`));
  history.replaceState(null, "", shareLink(false).replace(location.origin, ""));
  try {
    res.replaceChildren(...renderCheck(await api("/api/check", q), $("c-stack").value));
  } catch (err) {
    res.replaceChildren(el("p", { role: "alert", class: "console" }, `Error: ${err.message}`));
  } finally {
    go.disabled = false;
    res.removeAttribute("aria-busy");
  }
}

// A request pasted from DevTools fills the form (nothing is sent).
async function runImport(e) {
  e.preventDefault();
  const status = $("c-import-status");
  try {
    const r = await api("/api/import", { text: $("c-import").value });
    $("c-url").value = r.url;
    $("c-method").value = r.method;
    $("c-headers").value = (r.headers || []).join("\n");
    $("c-data").value = r.data || "";
    $("c-credentials").checked = !!r.credentials;
    if (r.origin) $("c-origin").value = r.origin;
    const dropped = (r.dropped || []).map((d) => d.name);
    status.className = "hint";
    status.textContent = `Filled from "Copy as ${r.from}"` +
      (r.origin ? `; page origin from its ${r.origin_from} header` : "; no Origin or Referer in it: fill in the page origin") +
      (dropped.length ? `; dropped (set by the browser, not the page): ${dropped.join(", ")}` : "") + ".";
  } catch (err) {
    status.className = "";
    status.setAttribute("role", "alert");
    status.textContent = `Cannot read it: ${err.message}`;
  }
}

// ---- live ----
const frames = {};
let nextId = 1;
const pending = new Map();
window.addEventListener("message", (ev) => {
  const live = [config.live_origin, location.origin, config.app_origin].filter(Boolean);
  if (!live.includes(ev.origin)) return;
  const d = ev.data || {};
  if (d.ready && frames[d.ready]) frames[d.ready].ready();
  if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); }
});

function frameFor(origin) {
  if (!frames[origin]) {
    let ready;
    const p = new Promise((r) => (ready = r));
    const f = el("iframe", { src: `${origin}/live`, title: `live page at ${origin}` });
    $("live-frames").append(f);
    frames[origin] = { frame: f, ready, loaded: p };
  }
  return frames[origin];
}

// The origin the live fetch runs from, as chosen.
function liveOrigin() {
  return { own: location.origin, app: config.app_origin }[$("l-from").value] || config.live_origin;
}

function showLiveOrigin() {
  $("l-origin-note").textContent = `The fetch runs in your browser from ${liveOrigin()}, and corsair predicts the outcome for that origin.`;
}

async function runLive(e) {
  e.preventDefault();
  const res = $("live-result");
  const origin = liveOrigin();
  const req = { url: $("l-url").value.trim(), method: $("l-method").value.trim() || "GET", headers: lines($("l-headers").value), credentials: $("l-credentials").checked };
  // A relative or non-http URL would fetch the live page's own origin (the ui): refused.
  let parsed = null;
  try { parsed = new URL(req.url); } catch { /* not absolute */ }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    res.replaceChildren(el("p", { role: "alert", id: "live-error" }, `Give an absolute http:// or https:// URL, e.g. https://api.example.com/items ("${req.url}" is not one).`));
    return;
  }
  res.replaceChildren(el("p", {}, `Running from ${origin}…`));
  const f = frameFor(origin);
  await Promise.race([f.loaded, new Promise((r) => setTimeout(r, 5000))]);
  const id = nextId++;
  const did = new Promise((r) => pending.set(id, r));
  f.frame.contentWindow.postMessage({ ...req, id }, origin);
  const [browser, predicted] = await Promise.all([
    Promise.race([did, new Promise((r) => setTimeout(() => r({ allowed: false, error: "no answer from the live page in 15 s" }), 15000))]),
    api("/api/check", { ...req, origin }).catch((err) => ({ error: err.message })),
  ]);
  const agree = !predicted.error && browser.allowed === predicted.allowed;
  res.replaceChildren(
    el("p", { class: "match", id: "live-agree", role: "status" }, predicted.error ? `corsair could not predict: ${predicted.error}` : agree ? "✓ Your browser and corsair agree." : "✗ Your browser and corsair disagree."),
    el("div", { class: "side" },
      el("div", { class: "box", id: "live-browser" }, el("h3", {}, "Your browser did"),
        el("p", { class: `verdict ${browser.allowed ? "allowed" : "blocked"}` }, browser.allowed ? `Allowed (status ${browser.status})` : "Blocked"),
        browser.error ? el("p", {}, `fetch rejected: ${browser.error} (the reason is only in the DevTools console)`) : null,
        browser.headers ? el("div", {}, el("p", {}, "Headers JavaScript could read:"), headerList(browser.headers)) : null),
      el("div", { class: "box", id: "live-predicted" }, el("h3", {}, "corsair predicted"),
        predicted.error ? el("p", {}, predicted.error) : el("div", {},
          el("p", { class: `verdict ${predicted.allowed ? "allowed" : "blocked"}` }, predicted.allowed ? "Allowed" : "Blocked"),
          predicted.console ? el("div", { class: "console" }, predicted.console) : null,
          predicted.cause ? el("p", {}, predicted.cause) : null))));
}

// ---- explain ----
async function runExplain(e) {
  e.preventDefault();
  const res = $("explain-result");
  try {
    const v = await api("/api/explain", { text: $("e-text").value });
    if (!v.errors.length) {
      if (v.lna) {
        res.replaceChildren(el("div", { class: "box explained", id: "lna" },
          el("h3", {}, `Local Network Access: the ${v.lna.space} address space`),
          v.lna.url ? el("p", {}, `URL: ${v.lna.url}`) : null,
          v.lna.origin ? el("p", {}, `Origin: ${v.lna.origin}`) : null,
          el("p", { class: "cause" }, md(v.lna.cause)),
          el("h3", {}, "Fix"), el("ul", {}, v.lna.fixes.map((f) => el("li", {}, md(f))))));
        return;
      }
      if (v.bare_error) {
        res.replaceChildren(el("div", { class: "box explained", id: "bare" },
          el("h3", {}, `"${v.bare_error.message}" is what the page's JavaScript sees, not the reason`),
          el("p", {}, "The page gets this same error for every CORS failure and every network failure: the browser keeps the reason from the page on purpose."),
          el("p", {}, `The reason is in ${v.bare_error.reason_in}.`),
          el("p", {}, "Paste that line here, or copy the request in the Network panel (Copy as cURL) into the Check tab's paste box.")));
        return;
      }
      res.replaceChildren(el("p", { role: "alert" }, v.network_failure
        ? "Not a CORS header problem: the browser got no usable response (server down, DNS, TLS, timeout, an extension)."
        : "Not recognised as a CORS error. The messages corsair knows:"),
        v.network_failure ? null : el("ul", {}, v.known.map((k) => el("li", {}, k))));
      return;
    }
    res.replaceChildren(...v.errors.map((x) => {
      const run = x.reproduce && x.reproduce.url && x.reproduce.origin
        ? el("button", { type: "button", class: "run-check" }, "Check this request")
        : null;
      if (run) run.addEventListener("click", () => checkFromExplain(x.reproduce));
      return el("div", { class: "box explained" },
        el("h3", {}, `${x.kind}`),
        x.url ? el("p", {}, `URL: ${x.url}`) : null,
        x.origin ? el("p", {}, `Origin: ${x.origin}`) : null,
        el("p", { class: "cause" }, md(x.cause)),
        el("h3", {}, "Checklist"), el("ul", {}, (x.checklist || []).map((c) => el("li", {}, md(c)))),
        renderFix(x.fix, $("e-stack").value),
        run ? el("div", { class: "row" }, run, el("span", { class: "hint" }, "fills the Check tab with this request and runs it")) : null);
    }));
  } catch (err) {
    res.replaceChildren(el("p", { role: "alert" }, `Error: ${err.message}`));
  }
}

// The request an explained error was about, checked in the Check tab.
function checkFromExplain(r) {
  $("c-url").value = r.url;
  $("c-origin").value = r.origin;
  $("c-method").value = r.method || "GET";
  $("c-headers").value = (r.headers || []).join("\n");
  $("c-credentials").checked = !!r.credentials;
  $("c-stack").value = $("e-stack").value;
  select($("tab-check"));
  runCheck();
}

// ---- policy ----
const SAMPLE = `listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:9000"
[policy]
origins = ["https://app.example.com", "https://*.example.com"]
methods = ["GET", "POST", "PUT", "DELETE"]
request_headers = ["Content-Type", "Authorization"]
expose_headers = ["X-Total-Count"]
credentials = true
max_age = 7200
`;
let lastPolicy = null;
let timer = null;

function showGenerated() {
  const g = lastPolicy && lastPolicy.generated[$("p-target").value];
  $("p-output").textContent = !g ? "" : g.error ? `# cannot generate: ${g.error}` : g.text;
}

async function validatePolicy() {
  const status = $("policy-status");
  try {
    lastPolicy = await api("/api/policy", { toml: $("p-text").value });
  } catch (err) {
    status.replaceChildren(el("p", { role: "alert" }, `Error: ${err.message}`));
    return;
  }
  const d = lastPolicy.diagnostics || [];
  status.replaceChildren(
    el("p", { id: "policy-verdict", class: `verdict ${lastPolicy.valid ? "allowed" : "blocked"}` },
      lastPolicy.valid ? `Valid${d.length ? ` (${d.length} warning${d.length > 1 ? "s" : ""})` : ""}` : "Refused"),
    ...d.map((x) => el("p", { class: `diag ${x.severity}` }, `line ${x.line}, column ${x.column}: ${x.severity}: ${x.message}${x.fix ? ` — fix: ${x.fix}` : ""}`)));
  showGenerated();
}

// ---- start ----
window.addEventListener("DOMContentLoaded", async () => {
  try { config = await api("/api/config", {}); } catch (err) {
    $("check-result").replaceChildren(el("p", { role: "alert" }, `The ui's API refused this page: ${err.message}`));
  }
  $("version").textContent = `corsair ${config.version || ""}`;
  for (const s of config.stacks || []) {
    $("c-stack").append(el("option", {}, s));
    $("e-stack").append(el("option", {}, s));
  }
  $("import-form").addEventListener("submit", runImport);
  for (const t of config.targets || []) $("p-target").append(el("option", {}, t));
  $("check-form").addEventListener("submit", runCheck);
  $("c-share").addEventListener("click", async () => {
    const link = shareLink();
    history.replaceState(null, "", link.replace(location.origin, ""));
    try { await navigator.clipboard.writeText(link); confirmIn("c-share-status", "Link copied"); }
    catch { confirmIn("c-share-status", "The link is in the address bar"); }
  });
  $("live-form").addEventListener("submit", runLive);
  const from = $("l-from");
  from.options[0].textContent = `the second origin, ${config.live_origin} (cross-origin)`;
  from.options[1].textContent = `this page's origin, ${location.origin}`;
  if (config.app_origin) from.append(el("option", { value: "app" }, `your app's origin, ${config.app_origin}`));
  from.addEventListener("change", showLiveOrigin);
  showLiveOrigin();
  $("explain-form").addEventListener("submit", runExplain);
  $("p-text").value = SAMPLE;
  $("p-text").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validatePolicy, 250); });
  $("p-target").addEventListener("change", showGenerated);
  $("p-copy").addEventListener("click", () => navigator.clipboard.writeText($("p-output").textContent)
    .then(() => confirmIn("p-copy-status", "Copied"), () => confirmIn("p-copy-status", "Select the text and copy it")));
  fillFromHash();
  validatePolicy();
  document.body.dataset.ready = "true";
});
