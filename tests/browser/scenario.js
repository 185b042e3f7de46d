// One scenario of the browser differentials, run in the page: the request (fetch, XHR, or an
// element) and what the page could tell of it, {ok, status, error, protocol}, within 10 s. Shared by the
// three runners: runner.mjs (Chromium) adds it to every page, firefox.py runs it through
// Marionette, and the WebKit runner page includes it.
// s: {id, url, method, headers, credentials, body, api, crossorigin, targetAddressSpace, allow,
// timeoutMs (10 s unless given)};
// api is fetch, xhr, font, image, script, module, stylesheet, or iframe (url: a page that
// reports its own fetch with postMessage; allow: the iframe's allow attribute).
function corsairRun(s) {
  const timeout = new Promise((resolve) => setTimeout(() => resolve({ ok: false, error: 'timeout' }), s.timeoutMs || 10000));
  const element = (tag, setup) => new Promise((resolve) => {
    const e = document.createElement(tag);
    if (s.crossorigin) e.crossOrigin = s.crossorigin;
    setup(e);
    e.onload = () => resolve({ ok: true });
    e.onerror = () => resolve({ ok: false, error: `${tag} error` });
    (tag === 'img' ? document.body : document.head).appendChild(e);
  });
  let run;
  switch (s.api) {
    case 'xhr':
      run = new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.open(s.method, s.url);
        x.withCredentials = s.credentials;
        for (const [n, v] of s.headers) {
          try { x.setRequestHeader(n, v); } catch (e) { /* forbidden: refused, like fetch drops it */ }
        }
        x.onload = () => resolve({ ok: true, status: x.status });
        x.onerror = () => resolve({ ok: false, error: 'xhr error' });
        x.send(s.body);
      });
      break;
    case 'font':
      run = new FontFace(`f${s.id}`, `url(${s.url})`).load().then(() => ({ ok: true }), (e) => ({ ok: false, error: String(e) }));
      break;
    case 'image':
      run = element('img', (e) => { e.src = s.url; });
      break;
    case 'script':
      run = element('script', (e) => { e.src = s.url; });
      break;
    case 'module':
      run = element('script', (e) => { e.type = 'module'; e.src = s.url; });
      break;
    case 'stylesheet':
      run = element('link', (e) => { e.rel = 'stylesheet'; e.href = s.url; });
      break;
    case 'iframe':
      // s.url is a page that fetches and posts 'ok' or 'err' to its parent; s.allow is the
      // iframe's allow attribute.
      run = new Promise((resolve) => {
        const f = document.createElement('iframe');
        if (s.allow) f.allow = s.allow;
        const done = (e) => { if (e.source === f.contentWindow) { window.removeEventListener('message', done); resolve({ ok: e.data === 'ok' }); } };
        window.addEventListener('message', done);
        f.src = s.url;
        document.body.appendChild(f);
      });
      break;
    default: {
      const init = { method: s.method, headers: s.headers, credentials: s.credentials ? 'include' : 'same-origin' };
      if (s.body !== null && s.body !== undefined) init.body = s.body;
      if (s.targetAddressSpace) init.targetAddressSpace = s.targetAddressSpace;
      run = fetch(s.url, init).then(
        // The protocol it went over (h2, http/1.1), where Resource Timing may say it: its entry
        // is there once the body has been read.
        (resp) => resp.arrayBuffer().then(() => 0, () => 0).then(() => ({ ok: true, status: resp.status, protocol: (performance.getEntriesByName(resp.url).pop() || {}).nextHopProtocol })),
        (e) => ({ ok: false, error: String(e) }));
    }
  }
  return Promise.race([timeout, run]);
}
