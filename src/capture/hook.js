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
  // The origin of this document, read before any page script can shadow `origin`: a
  // write made through this realm's setters on another document of the same origin (an
  // about:blank iframe's) names it, where `location.href` says about:blank.
  const myOrigin = toStr(self.origin);
  const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (desc && desc.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true, enumerable: desc.enumerable,
      get() { return desc.get.call(this); },
      set(v) { send({ k: 'cookie', v: toStr(v), href: toStr(location.href), o: myOrigin }); return desc.set.call(this, v); }
    });
  }
  // Cookie Store API writes (`cookieStore.set`, `cookieStore.delete`): the page's
  // arguments are read once, here, into a plain copy that is what the browser is given
  // (a getter cannot show the report one lifetime and the browser another), and a write
  // is reported only once the browser accepted it (its promise resolved; a refused one
  // rejects and is no write). Service workers' `cookieStore` runs no hook (not seen).
  try {
    const CS = globalThis.CookieStore, rapply = Reflect.apply;
    const then = Promise.prototype.then;
    const opt = (v) => (v === undefined || v === null ? v : toStr(v));
    const copy = (a, del) => {
      const first = a[0];
      if (first !== null && typeof first === 'object') {
        const o = { name: opt(first.name) };
        if (!del) o.value = opt(first.value);
        const e = first.expires;
        if (!del && e !== undefined) o.expires = e === null ? null : +e;
        const d = first.domain; if (d !== undefined) o.domain = opt(d);
        const p = first.path; if (p !== undefined) o.path = opt(p);
        const s = first.sameSite; if (!del && s !== undefined) o.sameSite = opt(s);
        const pt = first.partitioned; if (pt !== undefined) o.partitioned = !!pt;
        return o;
      }
      const o = { name: opt(first) };
      if (!del && a.length > 1) o.value = toStr(a[1]);
      return o;
    };
    const wrap = (name, del) => {
      const native = CS && CS.prototype[name];
      if (typeof native !== 'function') return;
      Object.defineProperty(CS.prototype, name, {
        writable: true, configurable: true, enumerable: true,
        value: { [name]: function (...a) {
          let o;
          try { o = copy(a, del); } catch (e) { return rapply(native, this, a); }
          const p = rapply(native, this, [o]);
          try {
            rapply(then, p, [() => send({ k: 'cookiestore', del: del, name: o.name, v: o.value,
              exp: o.expires, domain: o.domain, path: o.path, href: toStr(location.href),
              o: myOrigin }), () => {}]);
          } catch (e) {}
          return p;
        } }[name]
      });
    };
    wrap('set', false);
    wrap('delete', true);
  } catch (e) {}
  // Settle tracking: what is due to run soon (timers, interval ticks, animation frames,
  // idle callbacks, messages posted, scripts fetched but not run yet) and the load event,
  // so a settle can end as soon as nothing more is due (read by `Capture::settle`).
  // Everything it calls is taken here, before any page script can replace it, and its
  // books are objects without a prototype (no method a page could swap is called on
  // them). What a page can still replace are the wrappers it calls: the report says
  // whether each is still in place (`intact`), and a settle that finds one replaced waits
  // its whole quiet window (src/capture/mod.rs, `SettleEnd::Tampered`).
  try {
    const apply = Reflect.apply, ownDesc = Object.getOwnPropertyDescriptor;
    const perf = performance, perfNow = Performance.prototype.now;
    const now = () => apply(perfNow, perf, []);
    const G = globalThis;
    const msOf = (d) => { const n = +d; return n > 0 && n <= 2147483647 ? n : 0; };
    const count = (o) => { let n = 0; for (const k in o) n++; return n; };
    let lastFired = now(), lastTick = -1e9; // (finite: JSON has no Infinity)
    const fired = () => { lastFired = now(); };
    const timers = Object.create(null);     // setTimeout id -> when it is due
    const intervals = Object.create(null);  // setInterval id -> { next, period }
    const companions = Object.create(null); // string timer id -> the timer that follows it
    const st = G.setTimeout, ct = G.clearTimeout, si = G.setInterval, ci = G.clearInterval;
    const forget = (id) => {
      delete timers[id]; delete intervals[id];
      const c = companions[id];
      if (c !== undefined) { delete companions[id]; apply(ct, G, [c]); apply(ci, G, [c]); }
    };
    const setTimeoutW = function setTimeout(handler, delay, ...args) {
      const ms = msOf(delay);
      let id;
      if (typeof handler === 'function') {
        id = apply(st, G, [function () { delete timers[id]; fired(); return apply(handler, this, args); }, ms]);
      } else {
        // A string of code: scheduled as given (the page's CSP judges it as before), and
        // a timer queued right behind it says when it ran.
        id = apply(st, G, [handler, ms]);
        companions[id] = apply(st, G, [() => { delete timers[id]; delete companions[id]; fired(); }, ms]);
      }
      timers[id] = now() + ms;
      return id;
    };
    const setIntervalW = function setInterval(handler, delay, ...args) {
      const ms = msOf(delay), period = ms < 1 ? 1 : ms;
      let id;
      const tick = () => { const i = intervals[id]; if (i) i.next = now() + i.period; lastTick = now(); };
      if (typeof handler === 'function') {
        id = apply(si, G, [function () { tick(); return apply(handler, this, args); }, ms]);
      } else {
        id = apply(si, G, [handler, ms]);
        companions[id] = apply(si, G, [tick, ms]);
      }
      intervals[id] = { next: now() + period, period };
      return id;
    };
    // Timeouts and intervals share their ids: either clear function clears either.
    const clearTimeoutW = function clearTimeout(id) { forget(id); return apply(ct, G, [id]); };
    const clearIntervalW = function clearInterval(id) { forget(id); return apply(ci, G, [id]); };
    const mine = [['setTimeout', setTimeoutW], ['clearTimeout', clearTimeoutW],
      ['setInterval', setIntervalW], ['clearInterval', clearIntervalW]];
    const rafs = Object.create(null), idles = Object.create(null);
    const raf = G.requestAnimationFrame, caf = G.cancelAnimationFrame;
    if (typeof raf === 'function') {
      mine[mine.length] = ['requestAnimationFrame', function requestAnimationFrame(fn) {
        let id;
        id = apply(raf, G, [function (t) {
          delete rafs[id]; fired();
          if (typeof fn === 'function') return apply(fn, G, [t]);
        }]);
        rafs[id] = true;
        return id;
      }];
      mine[mine.length] = ['cancelAnimationFrame', function cancelAnimationFrame(id) {
        delete rafs[id]; return apply(caf, G, [id]);
      }];
    }
    const ric = G.requestIdleCallback, cic = G.cancelIdleCallback;
    if (typeof ric === 'function') {
      mine[mine.length] = ['requestIdleCallback', function requestIdleCallback(fn, options) {
        let id;
        id = apply(ric, G, [function (deadline) {
          delete idles[id]; fired();
          if (typeof fn === 'function') return apply(fn, G, [deadline]);
        }, options]);
        idles[id] = true;
        return id;
      }];
      mine[mine.length] = ['cancelIdleCallback', function cancelIdleCallback(id) {
        delete idles[id]; return apply(cic, G, [id]);
      }];
    }
    // Messages: `postMessage` to this window and through MessageChannel ports is a way to
    // queue work without a timer. One posted and not delivered here yet is due (for at
    // most MESSAGE_WAIT ms: a port handed to a worker or another frame delivers
    // elsewhere); posting and delivering count as activity.
    const MESSAGE_WAIT = 500;
    let inFlight = 0, lastPost = -Infinity;
    const posted = () => { inFlight++; lastPost = now(); fired(); };
    const delivered = () => { if (inFlight > 0) inFlight--; fired(); };
    const listen = EventTarget.prototype.addEventListener;
    apply(listen, G, ['message', delivered, true]);
    const wpm = G.postMessage;
    if (typeof wpm === 'function') {
      mine[mine.length] = ['postMessage', function postMessage() {
        const r = apply(wpm, this === undefined ? G : this, arguments); posted(); return r;
      }];
    }
    const protos = [];
    const MP = G.MessagePort, MC = G.MessageChannel;
    if (typeof MP === 'function' && typeof MC === 'function') {
      const ppm = MP.prototype.postMessage;
      const portPost = function postMessage() { const r = apply(ppm, this, arguments); posted(); return r; };
      protos[protos.length] = [MP.prototype, 'postMessage', portPost];
      const port1 = ownDesc(MC.prototype, 'port1').get, port2 = ownDesc(MC.prototype, 'port2').get;
      const Channel = function MessageChannel() {
        const c = new MC();
        apply(listen, apply(port1, c, []), ['message', delivered]);
        apply(listen, apply(port2, c, []), ['message', delivered]);
        return c;
      };
      Channel.prototype = MC.prototype;
      mine[mine.length] = ['MessageChannel', Channel];
    }
    const define = Object.defineProperty;
    for (let i = 0; i < mine.length; i++) {
      define(G, mine[i][0], { value: mine[i][1], writable: true, configurable: true, enumerable: true });
    }
    for (let i = 0; i < protos.length; i++) {
      define(protos[i][0], protos[i][1], { value: protos[i][2], writable: true, configurable: true, enumerable: true });
    }
    // Is every wrapper still the value of its property (a data property, not a getter)?
    const intact = () => {
      for (let i = 0; i < mine.length; i++) {
        const d = ownDesc(G, mine[i][0]);
        if (!d || d.value !== mine[i][1]) return false;
      }
      for (let i = 0; i < protos.length; i++) {
        const d = ownDesc(protos[i][0], protos[i][1]);
        if (!d || d.value !== protos[i][2]) return false;
      }
      return true;
    };
    // A script whose file has arrived (it has a resource-timing entry) but that has not
    // run yet (no load or error event): its response is over on the network, what it
    // will send is not. Only executable types count (a CMP's blocked `text/plain` script
    // never runs), and never-fetched scripts do not (inserted through innerHTML: no entry).
    // (On the document: an element's `load` event never reaches the window.)
    const WS = WeakSet, wsAdd = WeakSet.prototype.add, wsHas = WeakSet.prototype.has;
    const ran = new WS();
    const isProto = Object.prototype.isPrototypeOf, ScriptProto = HTMLScriptElement.prototype;
    const isScript = (t) => apply(isProto, ScriptProto, [t]);
    const targetOf = ownDesc(Event.prototype, 'target').get;
    const over = (e) => { const t = apply(targetOf, e, []); if (isScript(t)) apply(wsAdd, ran, [t]); };
    apply(listen, document, ['load', over, true]);
    apply(listen, document, ['error', over, true]);
    // Fetched URLs also from an observer: the page's resource-timing buffer (250 entries
    // by default) may be full on a heavy page, the observer still sees every entry.
    const fetched = Object.create(null);
    const entries = PerformanceObserverEntryList.prototype.getEntries;
    const nameOf = ownDesc(PerformanceEntry.prototype, 'name').get;
    try {
      const observe = PerformanceObserver.prototype.observe;
      apply(observe, new PerformanceObserver((list) => {
        const all = apply(entries, list, []);
        for (let i = 0; i < all.length; i++) fetched[apply(nameOf, all[i], [])] = true;
      }), [{ type: 'resource', buffered: true }]);
    } catch (e) {}
    const JS = /^(|module|(text|application)\/(x-)?(java|ecma)script|text\/jscript|text\/livescript)$/;
    const reExec = RegExp.prototype.exec, lower = String.prototype.toLowerCase, trim = String.prototype.trim;
    const qsa = Document.prototype.querySelectorAll, getAttr = Element.prototype.getAttribute;
    const lengthOf = ownDesc(NodeList.prototype, 'length').get;
    const srcOf = ownDesc(HTMLScriptElement.prototype, 'src').get;
    const noModule = ownDesc(HTMLScriptElement.prototype, 'noModule').get;
    const byName = Performance.prototype.getEntriesByName;
    const readyState = ownDesc(Document.prototype, 'readyState').get;
    const scriptsDue = () => {
      let n = 0;
      const els = apply(qsa, document, ['script[src]']);
      const len = apply(lengthOf, els, []);
      for (let i = 0; i < len; i++) {
        const el = els[i];
        if (apply(wsHas, ran, [el]) || apply(noModule, el, [])) continue;
        const type = apply(lower, apply(trim, apply(getAttr, el, ['type']) || '', []), []);
        if (apply(reExec, JS, [type]) === null) continue;
        const src = apply(srcOf, el, []);
        if (fetched[src] || apply(byName, perf, [src, 'resource']).length > 0) n++;
      }
      return n;
    };
    define(G, Symbol.for('consentry.settle'), {
      enumerable: false, configurable: false, writable: false,
      value: (within) => {
        const t = now(), until = t + msOf(within);
        let due = 0, ticks = 0;
        for (const id in timers) if (timers[id] <= until) due++;
        for (const id in intervals) if (intervals[id].next <= until) ticks++;
        let scripts = 0;
        try { scripts = scriptsDue(); } catch (e) {}
        return stringify({ timers: due, intervals: ticks, frames: count(rafs), idle: count(idles),
          messages: inFlight > 0 && t - lastPost < MESSAGE_WAIT ? inFlight : 0, scripts,
          loaded: apply(readyState, document, []) === 'complete', since: t - lastFired,
          since_tick: t - lastTick, intact: intact() });
      }
    });
  } catch (e) {}
  // JavaScript dialogs: each one opened is answered at once from DevTools
  // (src/capture/dialogs.rs), but a script that opens them without end would keep the
  // page busy answering. Beyond MAX_DIALOGS in this document, the dialog functions throw
  // instead (an uncaught page error, recorded like any): the script is stopped, the
  // page's later scripts and events still run.
  try {
    const MAX_DIALOGS = 20, rapply = Reflect.apply, Err = Error;
    let dialogs = 0;
    for (const name of ['alert', 'confirm', 'prompt']) {
      const native = globalThis[name];
      if (typeof native !== 'function') continue;
      Object.defineProperty(globalThis, name, {
        writable: true, configurable: true, enumerable: true,
        value: { [name]: function () {
          if (++dialogs > MAX_DIALOGS) {
            throw new Err('consentry: more than ' + MAX_DIALOGS + ' JavaScript dialogs in this document; the script opening them was stopped');
          }
          return rapply(native, globalThis, arguments);
        } }[name]
      });
    }
  } catch (e) {}
  setTimeout(() => send({ k: 'gpc', v: gpc, href: toStr(location.href) }), 0);
})();
