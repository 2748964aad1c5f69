// consentry's banner collector (docs/heuristic.md): the facts about every visible fixed,
// sticky or dialog element of the page (the top document, same-origin frames, open
// shadow roots) and the buttons, links and toggles inside it, as JSON. It reads only;
// the decision is made in Rust. Run as a WebDriver script (a function body).
const MAX_CANDIDATES = 80, MAX_CONTROLS = 120, MAX_TEXT = 6000;
const CONTROL = 'button, a, [role=button], [role=link], [role=switch], [role=checkbox], [role=menuitem], input[type=button], input[type=submit], input[type=checkbox]';
const top = document;
function describe(el) {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  else if (typeof el.className === 'string' && el.className.trim()) {
    s += '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.');
  }
  return s;
}
function hop(el) {
  const out = [];
  let n = el;
  const root = el.getRootNode();
  while (n && n !== root) {
    const p = n.parentNode;
    if (!p || !p.children) return null;
    out.unshift(Array.prototype.indexOf.call(p.children, n));
    n = p;
  }
  return out;
}
// The element's host chain: [[element of each hop], description of each hop].
function pathOf(el) {
  const hops = [], within = [];
  let n = el;
  while (n) {
    const h = hop(n);
    if (!h) return null;
    hops.unshift(h);
    const root = n.getRootNode();
    if (root instanceof ShadowRoot) {
      within.unshift('shadow root of ' + describe(root.host));
      n = root.host;
    } else if (root !== top) {
      let fe = null;
      try { fe = root.defaultView && root.defaultView.frameElement; } catch (e) { fe = null; }
      if (!fe) return null;
      within.unshift(describe(fe));
      n = fe;
    } else {
      n = null;
    }
  }
  return { hops, within };
}
function parentAcross(el) {
  if (el.parentElement) return el.parentElement;
  const root = el.getRootNode();
  if (root instanceof ShadowRoot) return root.host;
  try { return (root.defaultView && root.defaultView.frameElement) || null; } catch (e) { return null; }
}
function styleOf(el) {
  const w = el.ownerDocument.defaultView;
  return w ? w.getComputedStyle(el) : null;
}
function visible(el) {
  const cs = styleOf(el);
  if (!cs || cs.display === 'none' || cs.visibility === 'hidden' || cs.visibility === 'collapse') return false;
  if (el.checkVisibility && !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
  const w = el.ownerDocument.defaultView;
  return r.bottom > 0 && r.right > 0 && r.top < w.innerHeight && r.left < w.innerWidth;
}
// Visible across frames and shadow hosts: every frame it is in is visible too.
function shown(el) {
  if (!visible(el)) return false;
  let d = el.ownerDocument;
  while (d !== top) {
    let fe = null;
    try { fe = d.defaultView.frameElement; } catch (e) { return false; }
    if (!fe || !visible(fe)) return false;
    d = fe.ownerDocument;
  }
  return true;
}
function positioned(el) {
  let pos = 'static', z = 0;
  for (let n = el; n; n = parentAcross(n)) {
    const cs = styleOf(n);
    if (!cs) continue;
    if (pos === 'static' && (cs.position === 'fixed' || cs.position === 'sticky')) pos = cs.position;
    const zi = parseInt(cs.zIndex, 10);
    if (!Number.isNaN(zi) && zi > z) z = zi;
  }
  return { pos, z };
}
function textOf(el) {
  let out = '';
  const walk = (n) => {
    if (out.length > MAX_TEXT) return;
    if (n.nodeType === 3) { out += n.nodeValue + ' '; return; }
    if (n.nodeType === 1) {
      const t = n.tagName;
      if (t === 'SCRIPT' || t === 'STYLE' || t === 'NOSCRIPT' || t === 'TEMPLATE') return;
      if (n.shadowRoot) walk(n.shadowRoot);
      if (t === 'IFRAME' || t === 'FRAME') {
        let d = null;
        try { d = n.contentDocument; } catch (e) { d = null; }
        if (d && d.body) walk(d.body);
        return;
      }
    } else if (n.nodeType !== 11) return;
    for (const c of n.childNodes) walk(c);
  };
  walk(el);
  return out.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);
}
function labelOf(el) {
  let t = '';
  if (el.tagName === 'INPUT' && el.type === 'checkbox') {
    if (el.labels && el.labels.length) t = textOf(el.labels[0]);
  } else if (el.tagName === 'INPUT') {
    t = el.value || '';
  } else {
    t = (el.innerText || '').trim() || textOf(el);
  }
  t = t || el.getAttribute('aria-label') || el.getAttribute('title') || '';
  return t.replace(/\s+/g, ' ').trim().slice(0, 200);
}
// Every root (document or open shadow root) inside `el`'s subtree, frames included.
function controlsIn(el) {
  const out = [];
  const seen = new Set();
  const walk = (root) => {
    for (const c of root.querySelectorAll(CONTROL)) {
      if (out.length >= MAX_CONTROLS || seen.has(c)) continue;
      seen.add(c);
      const checkbox = (c.tagName === 'INPUT' && c.type === 'checkbox');
      const role = (c.getAttribute('role') || '').toLowerCase();
      // A checkbox styled as a switch is often hidden behind its label: judge the label.
      const vis = checkbox ? (shown(c) || (c.labels && c.labels.length && shown(c.labels[0]))) : shown(c);
      if (!vis) continue;
      const p = pathOf(c);
      if (!p) continue;
      let checked = null;
      if (checkbox) checked = !!c.checked;
      else if (role === 'switch' || role === 'checkbox') checked = c.getAttribute('aria-checked') === 'true';
      out.push({
        path: p.hops, element: describe(c), tag: c.tagName.toLowerCase(), role,
        type: c.tagName === 'INPUT' ? (c.type || '') : '',
        text: labelOf(c), checked,
        disabled: !!c.disabled || c.getAttribute('aria-disabled') === 'true',
      });
    }
    for (const h of root.querySelectorAll('*')) {
      if (h.shadowRoot) walk(h.shadowRoot);
      if (h.tagName === 'IFRAME' || h.tagName === 'FRAME') {
        let d = null;
        try { d = h.contentDocument; } catch (e) { d = null; }
        if (d && d.documentElement) walk(d);
      }
    }
  };
  if (el.shadowRoot) walk(el.shadowRoot);
  walk(el);
  return out;
}
const candidates = [];
function consider(el, frameBody) {
  if (candidates.length >= MAX_CANDIDATES) return;
  const role = (el.getAttribute('role') || '').toLowerCase();
  const modal = el.getAttribute('aria-modal') === 'true' || (el.tagName === 'DIALOG' && el.open);
  const cs = styleOf(el);
  if (!cs) return;
  const own = cs.position === 'fixed' || cs.position === 'sticky';
  if (!frameBody && !own && !modal && role !== 'dialog' && role !== 'alertdialog') return;
  if (!shown(el)) return;
  const p = pathOf(el);
  if (!p) return;
  const text = textOf(el);
  if (!text) return;
  const { pos, z } = positioned(el);
  const r = el.getBoundingClientRect();
  candidates.push({
    path: p.hops, element: describe(el), within: p.within, role, modal, position: pos, z,
    rect: { x: r.x, y: r.y, w: r.width, h: r.height }, text, controls: controlsIn(el),
  });
}
function scan(root) {
  for (const el of root.querySelectorAll('*')) {
    consider(el, false);
    if (el.shadowRoot) scan(el.shadowRoot);
    if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
      let d = null;
      try { d = el.contentDocument; } catch (e) { d = null; }
      if (d && d.body && shown(el)) {
        // A frame's document is a dialog when the frame is on screen as one.
        const { pos } = positioned(el);
        if (pos !== 'static') consider(d.body, true);
        scan(d);
      }
    }
  }
}
scan(top);
return { viewport: { w: window.innerWidth, h: window.innerHeight }, candidates };
