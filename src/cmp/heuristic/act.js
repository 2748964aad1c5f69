// consentry's heuristic click (docs/heuristic.md): find the element the decision chose
// by its path (one hop per document or open shadow root, child indices from each root),
// check its label is still the one judged, and click it. arguments[0]: the path,
// arguments[1]: the label expected. Returns {ok: true} or {error: "..."}.
const path = arguments[0], expected = arguments[1];
let root = document, el = null;
for (let i = 0; i < path.length; i++) {
  if (i > 0) {
    if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
      try { root = el.contentDocument; } catch (e) { root = null; }
    } else {
      root = el.shadowRoot;
    }
    if (!root) return { error: 'the frame or shadow root on the way to the element is gone' };
  }
  el = root;
  for (const k of path[i]) {
    el = el.children[k];
    if (!el) return { error: 'the element is no longer in the page' };
  }
}
const label = (el.tagName === 'INPUT' && el.type !== 'checkbox')
  ? (el.value || '')
  : ((el.innerText || el.textContent || '').trim() || el.getAttribute('aria-label') || el.getAttribute('title') || '');
const norm = (s) => s.replace(/\s+/g, ' ').trim().toLowerCase();
if (expected && el.tagName !== 'INPUT' && norm(label).slice(0, 200) !== norm(expected)) {
  return { error: 'the element changed: its label is now ' + JSON.stringify(label.slice(0, 80)) };
}
el.scrollIntoView({ block: 'center', inline: 'center' });
el.click();
return { ok: true };
