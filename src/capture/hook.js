// consentry's page hook (src/capture/mod.rs, HOOK): evaluated in every new document
// before its own scripts. Reports through the binding `__consentryReport` (BINDING).
(() => {
  // The capture's secret (replaced when the hook is installed): every report carries it,
  // and a call of the binding without it is forged (src/capture/recorder/page.rs). It
  // lives only in this closure, which no page script can reach.
  const SECRET = '@@CONSENTRY_HOOK_SECRET@@';
  // Intrinsics taken before any page script can replace them (a page that swaps
  // `JSON.stringify` or `String` must not change or silence what is reported).
  const toStr = String, stringify = JSON.stringify;
  // Read before any page script can touch it; reported once the binding exists.
  const gpc = toStr(navigator.globalPrivacyControl);
  // The binding, taken (and removed from the page's view) now, before any page script
  // runs: the binding exists when a new-document script runs (measured on Chromium 156),
  // so a page that replaces `__consentryReport` later cannot silence the reports. Looked
  // up again at a report only if it was not there yet.
  let report = null;
  const take = () => {
    const b = globalThis.__consentryReport;
    if (typeof b !== 'function') return null;
    try { delete globalThis.__consentryReport; } catch (e) {}
    return b;
  };
  report = take();
  const send = (o) => {
    try {
      if (!report) report = take();
      o.s = SECRET;
      if (typeof report === 'function') report(stringify(o));
    } catch (e) {}
  };
  const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (desc && desc.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true, enumerable: desc.enumerable,
      get() { return desc.get.call(this); },
      set(v) { send({ k: 'cookie', v: toStr(v), href: toStr(location.href) }); return desc.set.call(this, v); }
    });
  }
  // Settle tracking: short timers, animation frames, scripts fetched but not run yet and
  // the load event, so a settle can end as soon as nothing more is due (read by
  // `Capture::settle`).
  try {
    const timers = new Map();
    let lastFired = performance.now();
    const st = globalThis.setTimeout, ct = globalThis.clearTimeout;
    const raf = globalThis.requestAnimationFrame, caf = globalThis.cancelAnimationFrame;
    const rafs = new Set();
    globalThis.setTimeout = function (fn, delay) {
      if (typeof fn !== 'function') return st.apply(globalThis, arguments);
      const args = Array.prototype.slice.call(arguments, 2);
      const ms = Math.max(0, Number(delay) || 0);
      let id;
      const run = function () {
        timers.delete(id); lastFired = performance.now();
        return fn.apply(this, args);
      };
      id = st.call(globalThis, run, ms);
      timers.set(id, performance.now() + ms);
      return id;
    };
    globalThis.clearTimeout = function (id) { timers.delete(id); return ct.apply(globalThis, arguments); };
    if (typeof raf === 'function') {
      globalThis.requestAnimationFrame = function (fn) {
        let id;
        id = raf.call(globalThis, function (t) {
          rafs.delete(id); lastFired = performance.now();
          if (typeof fn === 'function') return fn.call(globalThis, t);
        });
        rafs.add(id);
        return id;
      };
      globalThis.cancelAnimationFrame = function (id) { rafs.delete(id); return caf.apply(globalThis, arguments); };
    }
    // A script whose file has arrived (it has a resource-timing entry) but that has not
    // run yet (no load or error event): its response is over on the network, what it
    // will send is not. Only executable types count (a CMP's blocked `text/plain` script
    // never runs), and never-fetched scripts do not (inserted through innerHTML: no entry).
    // (On the document: an element's `load` event never reaches the window.)
    const ran = new WeakSet();
    const over = (e) => { if (e.target instanceof HTMLScriptElement) ran.add(e.target); };
    document.addEventListener('load', over, true);
    document.addEventListener('error', over, true);
    // Fetched URLs also from an observer: the page's resource-timing buffer (250 entries
    // by default) may be full on a heavy page, the observer still sees every entry.
    const fetched = new Set();
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) fetched.add(e.name);
      }).observe({ type: 'resource', buffered: true });
    } catch (e) {}
    const JS = /^(|module|(text|application)\/(x-)?(java|ecma)script|text\/jscript|text\/livescript)$/;
    const scriptsDue = () => {
      let n = 0;
      for (const el of document.querySelectorAll('script[src]')) {
        if (ran.has(el) || el.noModule) continue;
        if (!JS.test((el.getAttribute('type') || '').trim().toLowerCase())) continue;
        if (fetched.has(el.src) || performance.getEntriesByName(el.src, 'resource').length > 0) n++;
      }
      return n;
    };
    Object.defineProperty(globalThis, Symbol.for('consentry.settle'), {
      enumerable: false, configurable: false,
      value: (within) => {
        const now = performance.now();
        let due = 0;
        for (const t of timers.values()) if (t <= now + within) due++;
        let scripts = 0;
        try { scripts = scriptsDue(); } catch (e) {}
        return stringify({ timers: due, frames: rafs.size, scripts,
          loaded: document.readyState === 'complete', since: now - lastFired });
      }
    });
  } catch (e) {}
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    let area = 'local';
    try { area = (this === sessionStorage) ? 'session' : 'local'; } catch (e) {}
    send({ k: 'storage', area, key: toStr(key), v: toStr(value), origin: toStr(location.origin) });
    return setItem.apply(this, arguments);
  };
  setTimeout(() => send({ k: 'gpc', v: gpc, href: toStr(location.href) }), 0);
})();
