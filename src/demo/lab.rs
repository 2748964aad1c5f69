//! Lab pages under `/lab/` (on any demo host): small pages that make the browser do one
//! tricky thing each, for capture's real-browser tests and for recording DevTools
//! transcripts (`CONSENTRY_CDP_TRANSCRIPT`, see `src/capture/mod.rs`). They are not part of
//! the shop and no scenario of `scenarios/demo-shop.toml` visits them.
//!
//! - `/lab/abort`: `#release` starts three tag scripts and a pixel on slow vendor
//!   endpoints (`/lab/slow.js?delay=MS`, answered after MS milliseconds); navigating right
//!   after the click cuts them off.
//! - `/lab/redirect`: a third-party image behind two redirects, the middle hop setting a
//!   cookie (`lab_hop`).
//! - `/lab/beacon`: sends a beacon when the page is hidden (left).
//! - `/lab/error`: a script throws an uncaught error.
//! - `/lab/loop`: redirects to itself (the browser gives up: too many redirects).
//! - `/lab/next`: a plain page to navigate to.
//! - `/lab/flood`: 400 third-party requests at once, 150 cookies with 3 KB names, and one
//!   cookie asking for `Max-Age=9223372036854775807` (a bounded flood, all on loopback).
//! - `/lab/long-urls`: 200 third-party requests whose URLs are 1.9 MB long (bounded, all on
//!   loopback; the server refuses such request lines, the browser still reports them).
//! - `/lab/fail500`: answers HTTP 500.
//! - `/lab/timer`: a tag loaded 400 ms after load by `setTimeout` (no request in flight
//!   meanwhile), then a pixel 50 ms after that tag ran: a settle must wait for both.
//! - `/lab/iso`: reports (to `/lab/iso-report?...`) what state it finds (cookie, local
//!   and session storage, IndexedDB, Cache Storage, service workers), then writes all of
//!   them, loads `/lab/iso-cached.js` (cacheable for an hour) and answers with
//!   `Strict-Transport-Security`; `#done` appears when it is finished. `/lab/iso-cache`
//!   only loads the cacheable script (over plain http: Chromium caches nothing, and
//!   ignores HSTS, from a connection with certificate errors). For the browser-context
//!   isolation test.
//! - `/lab/raf`: an endless `requestAnimationFrame` loop (a settle ends on its quiet window).
//! - `/lab/forge`: calls a fresh iframe's capture binding with invented reports.
//! - `/lab/forge-autoconsent`: a page with no CMP that forges autoconsent's messages
//!   (`popupFound`, `optInResult` / `optOutResult`, `autoconsentDone` for a `FakeCMP`)
//!   through every door it can find in the main world.
//! - `/lab/silence`: replaces the capture hook's binding (`__consentryReport`) with a
//!   no-op before any write, in its own window and in a fresh iframe, then writes a
//!   cookie and a storage item in each.
//! - `/lab/storage`: writes Web Storage every way but `setItem` (property and bracket
//!   assignment, `Object.assign`, a fresh iframe's `Storage.prototype.setItem` called on
//!   this window's `localStorage`, `sessionStorage`; one item written again with the same
//!   value, one updated), loads `/lab/storage-frame` from a
//!   same-site and a cross-site host (each writes `frame_<its host>`), then fills
//!   `localStorage` with 1 MiB items until the browser refuses one (at most
//!   [`STORAGE_MAX_FILL`]) and tries one more (`refused_key`); it reports how many fill items
//!   were stored and whether `refused_key` was refused to
//!   `/lab/iso-report?filled=N&refused=1`.
//! - `/lab/cookie-store`: writes cookies through the Cookie Store API only: `_fbp` for 400
//!   days on the site's domain (a consent vendor's cookie, declared for 90 days), a
//!   session cookie, one whose `expires` getter answers 1 day at the first read and 800
//!   days after, one through a fresh iframe's `CookieStore.prototype.set` called on this
//!   window's `cookieStore`, one the browser refuses (another site's domain), and a
//!   deletion; loads `/lab/cookie-store-frame` from `www.facebook.com` (writes `fr` for 400
//!   days); reports each outcome to `/lab/iso-report?fbp=ok&...&refused=refused`, then
//!   shows `#done`.
//! - `/lab/websocket`: opens WebSockets before any consent: to `www.facebook.com` (sends
//!   three frames, receives the greeting and three echoes, then closes), from a dedicated
//!   worker to `static.hotjar.com`, and a first-party one to `www.demo-shop.test`; shows
//!   `#done` when the page's own have closed and the worker said it did. `/lab/ws` is the
//!   WebSocket endpoint (`lab_ws.rs`).
//! - `/lab/chain`: who loaded whom. The page's parser loads a tag manager's container
//!   (`www.googletagmanager.com/lab/chain-tag.js`, a declared vendor of the demo shop),
//!   which injects an undeclared pixel script (`analytics.tiktok.com/lab/chain-pixel.js`,
//!   which sends its pixel), sends an image that redirects (`/lab/chain-hop`) to an
//!   undeclared host (`bat.bing.com/lab/r3`), fetches, sends an XMLHttpRequest from a
//!   timer, a POST that needs a CORS preflight, and adds a declared vendor's iframe
//!   (`www.facebook.com/lab/chain-frame`) whose parser loads an undeclared image
//!   (`www.gstatic.com/lab/slow.gif`).
//! - `/lab/login`, `/lab/welcome`, `/lab/account`: a login form, and an account page
//!   whose tag only a logged-in visitor gets (`lab_login.rs`, for `[login]`).

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Response, StatusCode};

use super::site::{gif, ok, with_cookie, HTML, JS};

/// Longest delay `/lab/slow*` honours.
const MAX_DELAY: Duration = Duration::from_secs(10);

pub(super) const ABORT_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: abort</title></head>
<body>
<button id="release">Release tags</button>
<script>
document.getElementById('release').addEventListener('click', function () {
  for (var i = 1; i <= 3; i++) {
    var s = document.createElement('script');
    s.src = 'https://static.hotjar.com/lab/slow.js?delay=6000&n=' + i;
    document.head.appendChild(s);
  }
  var img = new Image();
  img.src = 'https://www.facebook.com/lab/slow.gif?delay=6000';
});
</script>
</body></html>
"#;

/// How many requests and cookies `/lab/flood` makes (tests compare against these).
pub const FLOOD_REQUESTS: usize = 400;
pub const FLOOD_COOKIES: usize = 150;

pub(super) const FLOOD_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: flood</title></head>
<body>
<script>
for (var i = 0; i < 400; i++) {
  fetch('https://analytics.tiktok.com/lab/next?flood=' + i, { mode: 'no-cors' }).catch(function () {});
}
var pad = new Array(3001).join('n');
for (var j = 0; j < 150; j++) {
  document.cookie = 'flood_' + j + '_' + pad + '=v' + j + '; Max-Age=3600; Path=/';
}
document.cookie = 'forever=1; Max-Age=9223372036854775807; Path=/';
</script>
</body></html>
"#;

/// How many requests `/lab/long-urls` makes, and how long each URL is (bytes, about).
pub const LONG_URL_REQUESTS: usize = 200;
pub const LONG_URL_BYTES: usize = 1_900_000;

pub(super) const LONG_URLS_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: long URLs</title></head>
<body>
<script>
// After load (the page itself loads at once), one request per task.
window.addEventListener('load', function () {
  var pad = new Array(1900001).join('u');
  var i = 0;
  (function next() {
    if (i >= 200) return;
    fetch('https://analytics.tiktok.com/lab/next?long=' + i + '&pad=' + pad, { mode: 'no-cors' }).catch(function () {});
    i++;
    setTimeout(next, 0);
  })();
});
</script>
</body></html>
"#;

pub(super) const TIMER_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: timer</title></head>
<body>
<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    var s = document.createElement('script');
    s.src = 'https://static.hotjar.com/lab/slow.js?delay=0&n=timer';
    s.onload = function () {
      setTimeout(function () {
        var img = new Image();
        img.src = 'https://www.facebook.com/lab/slow.gif?delay=0&n=timer';
      }, 50);
    };
    document.head.appendChild(s);
  }, 400);
});
</script>
</body></html>
"#;

pub(super) const ISO_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: isolation</title>
<script src="/lab/iso-cached.js"></script></head>
<body>
<script>
(async function () {
  var seen = {};
  var safe = async function (k, f) { try { seen[k] = String(await f()); } catch (e) { seen[k] = 'error:' + e; } };
  await safe('cookie', function () { return /(?:^|; )iso=/.test(document.cookie); });
  await safe('local', function () { return localStorage.getItem('iso') !== null; });
  await safe('session', function () { return sessionStorage.getItem('iso') !== null; });
  await safe('idb', async function () { return (await indexedDB.databases()).some(function (d) { return d.name === 'iso'; }); });
  await safe('caches', async function () { return (await caches.keys()).indexOf('iso') >= 0; });
  await safe('sw', async function () { return (await navigator.serviceWorker.getRegistrations()).length > 0; });
  var q = Object.keys(seen).map(function (k) { return k + '=' + encodeURIComponent(seen[k]); }).join('&');
  await fetch('/lab/iso-report?at=' + encodeURIComponent(location.search.slice(1)) + '&' + q);
  var step = 'cookie';
  try {
  document.cookie = 'iso=1; Max-Age=3600; Path=/; Secure; SameSite=Lax';
  localStorage.setItem('iso', '1');
  sessionStorage.setItem('iso', '1');
  await new Promise(function (ok, no) {
    var r = indexedDB.open('iso', 1);
    r.onupgradeneeded = function () { r.result.createObjectStore('s'); };
    r.onsuccess = function () { r.result.close(); ok(); };
    r.onerror = no;
  });
  step = 'caches';
  await (await caches.open('iso')).put('/lab/next', new Response('x'));
  step = 'sw';
  step = 'sw register';
  await navigator.serviceWorker.register('/lab/iso-sw.js');
  step = 'done';
  } catch (e) {
    await fetch('/lab/iso-report?failed=' + step + '&error=' + encodeURIComponent(String(e)));
  }
  var d = document.createElement('p'); d.id = 'done'; d.textContent = step;
  document.body.appendChild(d);
})();
</script>
</body></html>
"#;

const ISO_SW_JS: &str = "self.addEventListener('install', function () { self.skipWaiting(); });\n";

pub(super) const RAF_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: raf</title></head>
<body><p id="t">0</p>
<script>
var n = 0;
(function tick() { n++; document.getElementById('t').textContent = n; requestAnimationFrame(tick); })();
</script>
</body></html>
"#;

pub(super) const REDIRECT_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: redirect</title></head>
<body><img src="https://www.facebook.com/lab/r1" alt=""></body></html>
"#;

pub(super) const BEACON_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: beacon</title></head>
<body>
<script>
window.addEventListener('pagehide', function () {
  navigator.sendBeacon('https://sb.scorecardresearch.com/b?ev=lab-leave', 'x');
});
</script>
</body></html>
"#;

pub(super) const ERROR_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: error</title></head>
<body><script src="/lab/throw.js"></script></body></html>
"#;

const THROW_JS: &str =
    "(function cmpInit() { throw new TypeError('lab: cmp failed to start \\u001b]0;pwned\\u0007 \\u202eexe.txt'); })();\n";

/// The HAR lab (`consentry har`, tests/har.rs): a known first-party cookie (sent back in
/// the `Cookie` header of the next request), a `fetch` with an `Authorization` header to a
/// declared vendor (Meta's host), answered with a known `Set-Cookie`, and the page's own
/// URL (which may carry a declared secret) in every `Referer`.
const HAR_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: HAR</title></head><body><p>HAR.</p>
<script>
document.cookie = 'lab_known=KnownCookieValue42; Max-Age=600; Path=/';
fetch('/lab/har-api?first=1', { credentials: 'include' }).then(function () {
  return fetch('https://www.facebook.com/lab/har-api?vendor=1', {
    headers: { 'Authorization': 'Bearer LabBearer-Xy9Qw', 'X-Lab': 'lab' },
    mode: 'cors', credentials: 'include'
  });
}).catch(function () {});
</script></body></html>
"#;

/// What `/lab/har-api` sets: a known cookie value, which a HAR must only ever hold hashed.
pub(super) const HAR_SET_COOKIE_VALUE: &str = "KnownSetValue77";

const NEXT_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: next</title></head><body><p>Next.</p></body></html>
"#;

/// A hostile page: it tries to take a fresh same-origin iframe's capture binding (the
/// iframe's hook takes it first, since the hook takes it at install) and to call it with
/// invented cookie and storage writes in another site's name, and swaps `JSON.stringify`
/// and `String`; then writes one real cookie and one real storage item.
const FORGE_HTML: &str = r#"<!doctype html><html><head><title>Lab: forged reports</title></head>
<body><p>forge</p><script>
var f = document.createElement('iframe');
document.body.appendChild(f);
var bind = f.contentWindow && f.contentWindow.__consentryReport;
var forged = 0;
if (typeof bind === 'function') {
  for (var i = 0; i < 50; i++) {
    bind(JSON.stringify({ k: 'cookie', v: 'forged_victim=1; Max-Age=99999999', href: 'https://www.facebook.com/' }));
    bind(JSON.stringify({ k: 'storage', area: 'local', key: 'forged_key', v: 'x', origin: 'https://www.facebook.com' }));
    forged += 2;
  }
}
document.title = 'forged ' + forged;
JSON.stringify = function () { return '{}'; };
String = function () { return 'hidden'; };
document.cookie = 'real_after_swap=1; Max-Age=60; path=/';
localStorage.setItem('real_key', 'v');
</script></body></html>"#;

/// A hostile page with no CMP: it forges autoconsent's side of the conversation through
/// whatever the main world offers: `window.autoconsentSendMessage`, autoconsent's binding
/// (`__consentryAutoconsent`) in this document and in a fresh same-origin iframe (where
/// no script has taken it yet), and a replaced `window.autoconsentReceiveMessage` that
/// answers the engine's `optIn` / `optOut` at once; a timer repeats the forged popup and
/// results for 10 s. The title says which doors it found.
const FORGE_AUTOCONSENT_HTML: &str = r#"<!doctype html><html><head><title>Lab: forged autoconsent</title></head>
<body><p>No consent banner here.</p><script>
(function () {
  var seen = { send: typeof window.autoconsentSendMessage === 'function',
               binding: typeof window.__consentryAutoconsent === 'function' };
  var sinks = [];
  var send = window.autoconsentSendMessage;
  if (typeof send === 'function') sinks.push(function (m) { send(m); });
  var bind = window.__consentryAutoconsent;
  if (typeof bind === 'function') sinks.push(function (m) { bind(JSON.stringify(m)); });
  var f = document.createElement('iframe');
  document.body.appendChild(f);
  var frameBind = f.contentWindow && f.contentWindow.__consentryAutoconsent;
  seen.frameBinding = typeof frameBind === 'function';
  if (seen.frameBinding) sinks.push(function (m) { frameBind(JSON.stringify(m)); });
  var forge = function (m) {
    m.url = location.href;
    sinks.forEach(function (s) { try { s(m); } catch (e) {} });
  };
  var cmp = 'FakeCMP';
  var answer = function (verb) {
    forge({ type: verb + 'Result', cmp: cmp, result: true, scheduled: false });
    forge({ type: 'autoconsentDone', cmp: cmp, isCosmetic: false });
  };
  forge({ type: 'cmpDetected', cmp: cmp });
  forge({ type: 'popupFound', cmp: cmp });
  window.autoconsentReceiveMessage = function (m) {
    if (m && (m.type === 'optIn' || m.type === 'optOut')) answer(m.type);
    return Promise.resolve();
  };
  var ticks = 0;
  var t = setInterval(function () {
    forge({ type: 'popupFound', cmp: cmp });
    answer('optIn');
    answer('optOut');
    if (++ticks >= 100) clearInterval(t);
  }, 100);
  document.title = 'forge-autoconsent ' + JSON.stringify(seen);
})();
</script></body></html>"#;

/// A page that tries to silence the capture hook: it replaces the hook's binding with a
/// function that drops what it is given (and pins it) before any write: in its own
/// window (its first script), and in a fresh same-origin iframe, whose hook is installed
/// when the iframe is created but has made no report yet. Then it writes one cookie and
/// one storage item in each, which must still be recorded.
const SILENCE_HTML: &str = r#"<!doctype html><html><head><title>Lab: silence the hook</title><script>
var dropped = 0;
var sink = function () { dropped++; };
var silence = function (w) {
  try { w.__consentryReport = sink; } catch (e) {}
  try { Object.defineProperty(w, '__consentryReport', { value: sink, writable: false, configurable: false }); } catch (e) {}
};
silence(window);
document.cookie = 'after_silence=1; Max-Age=60; path=/';
localStorage.setItem('after_silence_key', 'v');
</script></head><body><p>silence</p><script>
var f = document.createElement('iframe');
document.body.appendChild(f);
var w = f.contentWindow;
silence(w);
w.document.cookie = 'after_silence_frame=1; Max-Age=60; path=/';
w.localStorage.setItem('after_silence_frame_key', 'v');
document.title = 'silence: dropped ' + dropped;
</script></body></html>"#;

/// Most 1 MiB items `/lab/storage` writes while filling `localStorage` (Chromium's quota
/// is 10 MiB an origin).
pub const STORAGE_MAX_FILL: usize = 30;

/// Web Storage written without `setItem` (the page hook used to see only that), in every
/// realm and area, and past the quota ([`STORAGE_MAX_FILL`]).
const STORAGE_HTML: &str = r#"<!doctype html><html><head><title>Lab: storage</title><script>
localStorage.prop_key = 'p1';
localStorage['bracket_key'] = 'b1';
Object.assign(localStorage, { assign_key: 'a1' });
sessionStorage.session_key = 's1';
localStorage.prop_key = 'p1';
localStorage.bracket_key = 'b2';
</script></head><body><p>storage</p><script>
var f = document.createElement('iframe');
document.body.appendChild(f);
f.contentWindow.Storage.prototype.setItem.call(localStorage, 'realm_key', 'r1');
</script>
<iframe src="https://static.demo-shop.test/lab/storage-frame"></iframe>
<iframe src="https://www.facebook.com/lab/storage-frame"></iframe>
<script>
var chunk = new Array(1024 * 1024 + 1).join('q');
var filled = 0, refused = 0;
for (var i = 0; i < 30; i++) {
  try { localStorage['fill_' + i] = chunk; filled++; } catch (e) { break; }
}
try { localStorage.setItem('refused_key', chunk); } catch (e) { refused = 1; }
new Image().src = '/lab/iso-report?filled=' + filled + '&refused=' + refused;
</script></body></html>"#;

/// An iframe of `/lab/storage`: writes `frame_<its host>` while it loads.
const STORAGE_FRAME_HTML: &str = r#"<!doctype html><html><head><script>
localStorage['frame_' + location.hostname] = 'f1';
</script></head><body>frame</body></html>"#;

/// Cookies written only through the Cookie Store API (`cookieStore.set` / `delete`), in
/// every way the page hook must see, and one the browser refuses.
const COOKIE_STORE_HTML: &str = r#"<!doctype html><html><head><title>Lab: Cookie Store API</title></head>
<body><p>cookie store</p>
<iframe src="https://www.facebook.com/lab/cookie-store-frame"></iframe>
<script>
(async function () {
  var day = 86400000, seen = [];
  var go = async function (k, f) {
    try { await f(); seen.push(k + '=ok'); } catch (e) { seen.push(k + '=refused'); }
  };
  await go('fbp', function () {
    return cookieStore.set({ name: '_fbp', value: 'fb.1.lab', expires: Date.now() + 400 * day, domain: 'demo-shop.test' });
  });
  await go('session', function () { return cookieStore.set('cs_session', 's1'); });
  var reads = 0;
  var tricky = { name: 'cs_getter', value: 'g1',
    get expires() { reads++; return Date.now() + (reads === 1 ? 1 : 800) * day; } };
  await go('getter', function () { return cookieStore.set(tricky); });
  var f = document.createElement('iframe');
  document.body.appendChild(f);
  await go('realm', function () {
    return f.contentWindow.CookieStore.prototype.set.call(cookieStore,
      { name: 'cs_realm', value: 'r1', expires: Date.now() + 30 * day });
  });
  await go('refused', function () {
    return cookieStore.set({ name: 'cs_refused', value: 'x', domain: 'www.facebook.com' });
  });
  await go('delete', function () { return cookieStore.delete('cs_session'); });
  new Image().src = '/lab/iso-report?' + seen.join('&');
  var d = document.createElement('p'); d.id = 'done'; d.textContent = seen.join(' ');
  document.body.appendChild(d);
})();
</script></body></html>"#;

/// The cross-site iframe of `/lab/cookie-store`: Meta's `fr` for 400 days, through the
/// Cookie Store API.
const COOKIE_STORE_FRAME_HTML: &str = r#"<!doctype html><html><head><script>
cookieStore.set({ name: 'fr', value: 'f1', expires: Date.now() + 400 * 86400000, sameSite: 'none' })
  .then(function () { new Image().src = '/lab/iso-report?frame=ok'; },
        function (e) { new Image().src = '/lab/iso-report?frame=refused&e=' + encodeURIComponent(String(e)); });
</script></head><body>frame</body></html>"#;

/// WebSockets opened before any consent: a consent vendor's from the page (frames both
/// ways), one from a worker, one first party.
const WEBSOCKET_HTML: &str = r#"<!doctype html><html><head><title>Lab: WebSocket</title></head>
<body><p>websocket</p><script>
var pending = 3, log = [];
var finished = function (what) {
  log.push(what);
  if (--pending === 0) {
    var d = document.createElement('p'); d.id = 'done'; d.textContent = log.join(' ');
    document.body.appendChild(d);
  }
};
var meta = new WebSocket('wss://www.facebook.com/lab/ws?via=page');
var got = 0;
meta.onopen = function () { meta.send('one'); meta.send('two'); meta.send('three'); };
meta.onmessage = function () { if (++got === 4) meta.close(); };
meta.onclose = function () { finished('meta:' + got); };
var own = new WebSocket('wss://www.demo-shop.test/lab/ws?via=first-party');
own.onmessage = function () { own.close(); };
own.onclose = function () { finished('own'); };
var worker = new Worker(URL.createObjectURL(new Blob([
  "var s = new WebSocket('wss://static.hotjar.com/lab/ws?via=worker');" +
  "s.onmessage = function () { s.send('w'); s.close(); };" +
  "s.onclose = function () { postMessage('closed'); };"
], { type: 'text/javascript' })));
worker.onmessage = function () { finished('worker'); };
</script></body></html>"#;

/// Loads of `/lab/intermittent` this process has served ([`intermittent_html`]).
static INTERMITTENT_LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `/lab/intermittent` (issue 22, `audit --repeat`): a pixel of an undeclared host on
/// every load (steady), and one of another undeclared host on every other load — the
/// 1st, 3rd, 5th... this process served, whatever the browser context — so three visits
/// see the intermittent vendor exactly twice, in whatever order they run.
fn intermittent_html() -> String {
    let n = INTERMITTENT_LOADS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let flaky = if n.is_multiple_of(2) {
        r#"<img src="https://px.every-other-lab.test/lab/r3?load=1" alt="">"#
    } else {
        ""
    };
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: intermittent vendor</title></head>
<body><img src="https://px.steady-lab.test/lab/r3" alt="">{flaky}</body></html>
"#
    )
}

pub(super) const CHAIN_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Lab: chain</title>
<script src="https://www.googletagmanager.com/lab/chain-tag.js"></script>
</head><body><p>chain</p></body></html>"#;

/// A tag manager's container: every way a tag loads something else.
pub(super) const CHAIN_TAG_JS: &str = r#"// Lab: a tag manager's container.
(function () {
  var s = document.createElement('script');
  s.src = 'https://analytics.tiktok.com/lab/chain-pixel.js';
  document.head.appendChild(s);
  new Image().src = 'https://www.googletagmanager.com/lab/chain-hop';
  fetch('https://sb.scorecardresearch.com/lab/slow.gif?n=fetch', { mode: 'no-cors' }).catch(function () {});
  setTimeout(function () {
    var x = new XMLHttpRequest();
    x.open('GET', 'https://www.googletagmanager.com/lab/slow.gif?n=xhr');
    x.send();
  }, 20);
  fetch('https://static.chartbeat.com/lab/slow.gif?n=preflight', {
    method: 'POST', headers: { 'X-Lab': '1' }, body: 'x'
  }).catch(function () {});
  document.addEventListener('DOMContentLoaded', function () {
    var f = document.createElement('iframe');
    f.src = 'https://www.facebook.com/lab/chain-frame';
    document.body.appendChild(f);
  });
})();
"#;

/// What a document or worker of the vantage lab sees of its locale and timezone, as one
/// query string (`from=...&langs=de-DE,de&lang=de-DE&tz=Europe/Berlin&locale=de-DE`),
/// reported by `GET /lab/vantage-report?...` (docs/scenarios.md#vantage).
const VANTAGE_PROBE_JS: &str = r#"function vantageProbe(from) {
  var o = Intl.DateTimeFormat().resolvedOptions();
  return 'from=' + from +
    '&langs=' + encodeURIComponent((navigator.languages || []).join(',')) +
    '&lang=' + encodeURIComponent(navigator.language) +
    '&tz=' + encodeURIComponent(o.timeZone) +
    '&locale=' + encodeURIComponent(o.locale);
}
"#;

/// The vantage lab: the page, a cross-site frame (on a `.test` host: no HSTS preload
/// turns it into a `CONNECT`) and a dedicated worker each report
/// their `navigator.languages`, `navigator.language`, `Intl` timezone and locale.
fn vantage_html() -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Lab: vantage</title>\
         <script>{VANTAGE_PROBE_JS}new Image().src = '/lab/vantage-report?' + vantageProbe('page');\
         new Worker('/lab/vantage-worker.js');</script></head>\
         <body><p>vantage</p><iframe src=\"//frames.vantage-lab.test/lab/vantage-frame\"></iframe></body></html>"
    )
}

fn vantage_frame_html() -> String {
    format!(
        "<!doctype html><title>Lab: vantage frame</title>\
         <script>{VANTAGE_PROBE_JS}new Image().src = '/lab/vantage-report?' + vantageProbe('frame');</script>"
    )
}

fn vantage_worker_js() -> String {
    format!("{VANTAGE_PROBE_JS}fetch('/lab/vantage-report?' + vantageProbe('worker'));\n")
}

/// The response for a `/lab/` path, or `None` when there is no such lab path.
pub(super) fn respond(host: &str, path: &str) -> Option<Response<Full<Bytes>>> {
    Some(match path {
        "/lab/forge" => ok(HTML, FORGE_HTML),
        "/lab/forge-autoconsent" => ok(HTML, FORGE_AUTOCONSENT_HTML),
        "/lab/silence" => ok(HTML, SILENCE_HTML),
        "/lab/storage" => ok(HTML, STORAGE_HTML),
        "/lab/storage-frame" => ok(HTML, STORAGE_FRAME_HTML),
        "/lab/cookie-store" => ok(HTML, COOKIE_STORE_HTML),
        "/lab/websocket" => ok(HTML, WEBSOCKET_HTML),
        "/lab/cookie-store-frame" => ok(HTML, COOKIE_STORE_FRAME_HTML),
        "/lab/abort" => ok(HTML, ABORT_HTML),
        "/lab/chain" => ok(HTML, CHAIN_HTML),
        "/lab/vantage" => ok(HTML, vantage_html()),
        "/lab/vantage-frame" => ok(HTML, vantage_frame_html()),
        "/lab/vantage-worker.js" => ok(JS, vantage_worker_js()),
        "/lab/vantage-report" => gif(),
        "/lab/chain-tag.js" => ok(JS, CHAIN_TAG_JS),
        "/lab/chain-pixel.js" => ok(
            JS,
            "// Lab: a pixel script.\nnew Image().src = 'https://analytics.tiktok.com/lab/slow.gif?n=pixel';\n",
        ),
        "/lab/chain-hop" => redirect("https://bat.bing.com/lab/r3"),
        "/lab/chain-frame" => ok(
            HTML,
            "<!doctype html><title>Lab: a vendor's frame</title><img src=\"https://www.gstatic.com/lab/slow.gif?n=frame\">",
        ),
        "/lab/redirect" => ok(HTML, REDIRECT_HTML),
        "/lab/timer" => ok(HTML, TIMER_HTML),
        "/lab/raf" => ok(HTML, RAF_HTML),
        "/lab/iso" => {
            let mut r = ok(HTML, ISO_HTML);
            r.headers_mut().insert(
                "strict-transport-security",
                HeaderValue::from_static("max-age=3600"),
            );
            r
        }
        "/lab/iso-cached.js" => {
            let mut r = ok(JS, "/* cacheable for an hour */\n");
            r.headers_mut().insert(
                hyper::header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        "/lab/iso-sw.js" => ok(JS, ISO_SW_JS),
        "/lab/iso-cache" => ok(
            HTML,
            "<!doctype html><title>Lab: cache</title><script src=\"/lab/iso-cached.js\"></script>",
        ),
        "/lab/iso-report" => gif(),
        "/lab/beacon" => ok(HTML, BEACON_HTML),
        "/lab/error" => ok(HTML, ERROR_HTML),
        "/lab/throw.js" => ok(JS, THROW_JS),
        "/lab/next" => ok(HTML, NEXT_HTML),
        "/lab/har" => ok(HTML, HAR_HTML),
        "/lab/har-api" => {
            let mut resp = with_cookie(
                ok("application/json", "{}"),
                &format!("lab_set={HAR_SET_COOKIE_VALUE}; Max-Age=600; Path=/; Secure; SameSite=None"),
            );
            // The page's fetch to the vendor is cross-origin with credentials and an
            // Authorization header: allowed for the lab shop's origin only.
            let h = resp.headers_mut();
            h.insert(
                "access-control-allow-origin",
                HeaderValue::from_static("https://www.demo-shop.test"),
            );
            h.insert(
                "access-control-allow-credentials",
                HeaderValue::from_static("true"),
            );
            h.insert(
                "access-control-allow-headers",
                HeaderValue::from_static("authorization, x-lab"),
            );
            resp
        }
        "/lab/slow.js" => ok(JS, "/* slow tag */\n"),
        "/lab/slow.gif" => gif(),
        "/lab/r1" => redirect(&format!("https://{host}/lab/r2")),
        "/lab/r2" => with_cookie(
            redirect(&format!("https://{host}/lab/r3")),
            "lab_hop=2; Max-Age=3600; Path=/; Secure; SameSite=None",
        ),
        "/lab/r3" => gif(),
        "/lab/loop" => redirect(&format!("https://{host}/lab/loop")),
        "/lab/flood" => ok(HTML, FLOOD_HTML),
        "/lab/intermittent" => ok(HTML, intermittent_html()),
        "/lab/long-urls" => ok(HTML, LONG_URLS_HTML),
        "/lab/fail500" => {
            let mut r = ok(
                HTML,
                "<!doctype html><title>500</title><p>Internal error</p>",
            );
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
        _ => return None,
    })
}

/// How long to hold back the answer: `delay=MS` on a `/lab/slow*` path, capped.
pub(super) fn delay(path: &str, query: Option<&str>) -> Option<Duration> {
    if !path.starts_with("/lab/slow") {
        return None;
    }
    let ms: u64 = query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("delay="))?
        .parse()
        .ok()?;
    Some(Duration::from_millis(ms).min(MAX_DELAY))
}

fn redirect(location: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::FOUND;
    // `location` is built from a served host name and a fixed path: a valid header value.
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_parsed_and_capped() {
        assert_eq!(
            delay("/lab/slow.js", Some("delay=250&n=1")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            delay("/lab/slow.gif", Some("n=1&delay=999999")),
            Some(MAX_DELAY)
        );
        assert_eq!(delay("/lab/slow.js", Some("delay=x")), None);
        assert_eq!(delay("/lab/slow.js", None), None);
        assert_eq!(delay("/lab/next", Some("delay=5")), None);
    }

    #[test]
    fn redirect_chain_sets_cookie_on_the_middle_hop_only() {
        let r1 = respond("www.facebook.com", "/lab/r1").unwrap();
        assert_eq!(r1.status(), StatusCode::FOUND);
        assert!(r1.headers().get("set-cookie").is_none());
        let r2 = respond("www.facebook.com", "/lab/r2").unwrap();
        assert_eq!(
            r2.headers().get(LOCATION).unwrap(),
            "https://www.facebook.com/lab/r3"
        );
        assert!(r2.headers().get("set-cookie").is_some());
        let r3 = respond("www.facebook.com", "/lab/r3").unwrap();
        assert_eq!(r3.status(), StatusCode::OK);
        assert!(respond("www.facebook.com", "/lab/nope").is_none());
    }
}
