// Bare-Chromium baseline for bench/run.sh: the same demo page and consent states as
// consentry's three-state audit, with nothing but Chromium and a DevTools connection (no
// consentry, no capture hooks, no WebDriver). One Chromium (started once), one fresh
// browser context per state: load the page, wait for network idle; for accept/reject click
// the banner button, wait for network idle again; leave the page (about:blank), wait again.
// "Network idle": no request of the tab waiting for its response for 500 ms (Chromium's own
// networkIdle lifecycle uses the same 500 ms).
//
// usage: node --experimental-websocket bench/bare.mjs PORT URL ROUNDS
// prints one JSON line per state and round: {"round","state","ms"} and a total.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [port, url, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 3);
const IDLE_MS = 500;
const profile = mkdtempSync(join(tmpdir(), 'bench-bare-'));
const t0 = performance.now();
const chrome = spawn('/usr/lib/chromium/chromium', [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--ignore-certificate-errors', '--disable-features=HttpsUpgrades',
  `--host-resolver-rules=MAP * 127.0.0.1:${port}, EXCLUDE localhost`,
  `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
], { stdio: 'ignore' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let wsUrl = null;
for (let i = 0; i < 200 && !wsUrl; i++) {
  const f = join(profile, 'DevToolsActivePort');
  if (existsSync(f)) {
    const [p, path] = readFileSync(f, 'utf8').split('\n');
    if (path) wsUrl = `ws://127.0.0.1:${p}${path}`;
  }
  if (!wsUrl) await sleep(25);
}
if (!wsUrl) { console.error('no DevTools port'); process.exit(1); }
const ws = new WebSocket(wsUrl);
await new Promise((ok, no) => { ws.onopen = ok; ws.onerror = no; });
let nextId = 1;
const waiting = new Map();
const listeners = new Set();
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && waiting.has(msg.id)) {
    waiting.get(msg.id)(msg);
    waiting.delete(msg.id);
  } else if (msg.method) {
    for (const l of listeners) l(msg);
  }
};
const send = (method, params = {}, sessionId) => new Promise((ok, no) => {
  const id = nextId++;
  waiting.set(id, (msg) => (msg.error ? no(new Error(JSON.stringify(msg.error))) : ok(msg.result)));
  ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
});
const startMs = performance.now() - t0;

// Requests in flight in one session; idle = none for IDLE_MS.
function tracker(sessionId) {
  const inflight = new Map();
  let last = performance.now();
  const l = (msg) => {
    if (msg.sessionId !== sessionId) return;
    const id = msg.params && msg.params.requestId;
    // The demo's dedicated worker script: its response is reported to the worker's own
    // target only, never to the page's session (bare mode attaches to no worker).
    if (msg.method === 'Network.requestWillBeSent' && /-worker\.js$/.test(msg.params.request.url)) return;
    if (msg.method === 'Network.requestWillBeSent') { inflight.set(id, msg.params.request.url); last = performance.now(); }
    // A response ends the wait (cross-site iframe documents and worker scripts never
    // report loadingFinished to the page's session: ../shared/CAPTURE.md).
    if (['Network.responseReceived', 'Network.loadingFinished', 'Network.loadingFailed'].includes(msg.method)) {
      inflight.delete(id); last = performance.now();
    }
  };
  listeners.add(l);
  return {
    async idle(limit = 15000) {
      const start = performance.now();
      last = Math.max(last, start);
      while (performance.now() - start < limit) {
        if (inflight.size === 0 && performance.now() - last >= IDLE_MS) return;
        await sleep(10);
      }
      if (process.env.BARE_DEBUG) console.error('still in flight:', [...inflight.values()]);
    },
    stop() { listeners.delete(l); },
  };
}

async function state(name) {
  const t = performance.now();
  const { browserContextId } = await send('Target.createBrowserContext', { disposeOnDetach: true });
  const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const net = tracker(sessionId);
  await send('Network.enable', {}, sessionId);
  await send('Page.enable', {}, sessionId);
  const loaded = new Promise((ok) => {
    const l = (msg) => {
      if (msg.sessionId === sessionId && msg.method === 'Page.loadEventFired') { listeners.delete(l); ok(); }
    };
    listeners.add(l);
  });
  await send('Page.navigate', { url }, sessionId);
  await loaded;
  await net.idle();
  if (name !== 'no_action') {
    const button = name === 'accept_all' ? '#cb-accept' : '#cb-reject';
    await send('Runtime.evaluate', {
      expression: `(async () => { for (let i = 0; i < 100; i++) { const b = document.querySelector('${button}'); if (b) { b.click(); return true; } await new Promise(r => setTimeout(r, 20)); } return false; })()`,
      awaitPromise: true,
    }, sessionId);
    await net.idle();
  }
  await send('Page.navigate', { url: 'about:blank' }, sessionId);
  await net.idle();
  net.stop();
  await send('Target.disposeBrowserContext', { browserContextId });
  return performance.now() - t;
}

let total = 0;
for (let r = 1; r <= rounds; r++) {
  for (const name of ['no_action', 'accept_all', 'reject_all']) {
    const ms = await state(name);
    total += ms;
    console.log(JSON.stringify({ round: r, state: name, ms: Math.round(ms) }));
  }
}
console.log(JSON.stringify({ browser_start_ms: Math.round(startMs), rounds, states_ms: Math.round(total) }));
ws.close();
const exited = new Promise((r) => chrome.on('exit', r));
chrome.kill('SIGKILL');
await exited;
rmSync(profile, { recursive: true, force: true });
process.exit(0);
