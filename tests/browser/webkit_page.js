// The page the WebKit runner (webkit.py) opens: it runs every scenario of INPUT (defined before
// this script) one after the other and reports through console.log, the one channel MiniBrowser
// writes out:
//   CORSAIR-BEGIN <id>        before a scenario (WebKit's CORS lines do not name the page, so
//                             the lines up to the next marker are that scenario's);
//   CORSAIR-RESULT <json>     {id, ok, status, error} after it;
//   CORSAIR-DONE              after the last one.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function runOne(s) {
  const timeout = new Promise((resolve) => setTimeout(() => resolve({ ok: false, error: 'timeout' }), 10000));
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
    default: {
      const init = { method: s.method, headers: s.headers, credentials: s.credentials ? 'include' : 'same-origin' };
      if (s.body !== null && s.body !== undefined) init.body = s.body;
      run = fetch(s.url, init).then(
        (resp) => ({ ok: true, status: resp.status }),
        (e) => ({ ok: false, error: String(e) }));
    }
  }
  return Promise.race([timeout, run]);
}

(async () => {
  for (const s of INPUT.scenarios) {
    console.log(`CORSAIR-BEGIN ${s.id}`);
    let r = await runOne(s);
    if (s.repeat) {
      // The second run shows the preflight cache at work.
      await sleep(300);
      r = await runOne(s);
    }
    // Let WebKit write this scenario's console lines before the next marker.
    await sleep(20);
    console.log(`CORSAIR-RESULT ${JSON.stringify({ id: s.id, ...r })}`);
  }
  console.log('CORSAIR-DONE');
})();
