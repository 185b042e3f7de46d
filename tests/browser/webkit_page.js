// The page the WebKit runner (webkit.py) opens: it runs every scenario of INPUT (defined before
// this script, as is corsairRun from scenario.js) one after the other and reports through
// console.log, the one channel MiniBrowser writes out:
//   CORSAIR-BEGIN <id>        before a scenario (WebKit's CORS lines do not name the page, so
//                             the lines up to the next marker are that scenario's);
//   CORSAIR-RESULT <json>     {id, ok, status, error} after it;
//   CORSAIR-DONE              after the last one.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  for (const s of INPUT.scenarios) {
    console.log(`CORSAIR-BEGIN ${s.id}`);
    let r = await corsairRun(s);
    if (s.repeat) {
      // The second run shows the preflight cache at work.
      await sleep(300);
      r = await corsairRun(s);
    }
    // Let WebKit write this scenario's console lines before the next marker.
    await sleep(20);
    console.log(`CORSAIR-RESULT ${JSON.stringify({ id: s.id, ...r })}`);
  }
  console.log('CORSAIR-DONE');
})();
