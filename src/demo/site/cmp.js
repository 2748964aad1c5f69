// Demo Shop consent banner (CMP). The visitor's choice lives in the first-party cookie
// demo_consent = "c=1|0&li=1|0" (c: consent given/refused, li=0: objected to legitimate interest).
// No cookie means no decision yet.
(function () {
  'use strict';

  var COOKIE = 'demo_consent';
  var MAX_AGE = 180 * 24 * 3600;

  var banner = document.getElementById('consent-banner');
  var layer2 = document.getElementById('cb-layer2');
  var objectButton = document.getElementById('cb-object-li');
  var objecting = false;
  var loaded = {};

  function readConsent() {
    var m = new RegExp('(?:^|; )' + COOKIE + '=([^;]*)').exec(document.cookie);
    if (!m) {
      return null;
    }
    var state = { c: null, li: null };
    m[1].split('&').forEach(function (pair) {
      var kv = pair.split('=');
      if ((kv[0] === 'c' || kv[0] === 'li') && (kv[1] === '0' || kv[1] === '1')) {
        state[kv[0]] = kv[1];
      }
    });
    return state;
  }

  function writeConsent(state) {
    var parts = [];
    if (state.c !== null) {
      parts.push('c=' + state.c);
    }
    parts.push('li=' + (state.li === '0' ? '0' : '1'));
    var value = parts.join('&');
    document.cookie = COOKIE + '=' + value + '; max-age=' + MAX_AGE + '; path=/; SameSite=Lax';
    return value;
  }

  function loadOnce(url) {
    if (!loaded[url]) {
      loaded[url] = true;
      window.demoSite.loadScript(url);
    }
  }

  // Consent vendor (analytics): Google tag.
  function loadAnalytics() {
    loadOnce('https://www.googletagmanager.com/gtag/js?id=G-DEMO');
  }

  // Consent vendor (analytics): Hotjar.
  function loadHotjar() {
    loadOnce('https://static.hotjar.com/c/hotjar-demo.js');
  }

  // Legitimate-interest vendor that honours the objection: Chartbeat.
  function loadMeasurement() {
    loadOnce('https://static.chartbeat.com/js/chartbeat.js');
  }

  // Loads what the given state allows (never unloads: a script that ran cannot be taken back).
  function applyConsent(state) {
    if (state.li !== '0') {
      loadMeasurement();
    }
    if (state.c === '1') {
      loadAnalytics();
    }
  }

  function renderObjection() {
    objectButton.setAttribute('aria-pressed', objecting ? 'true' : 'false');
    objectButton.textContent = 'Object to legitimate interest: ' + (objecting ? 'on' : 'off');
  }

  function showBanner() {
    layer2.hidden = true;
    banner.hidden = false;
  }

  function decide(state) {
    var value = writeConsent(state);
    banner.hidden = true;
    applyConsent(state);
    window.demoSite.notifyConsent(value);
  }

  document.getElementById('cb-accept').addEventListener('click', function () {
    decide({ c: '1', li: '1' });
  });

  document.getElementById('cb-reject').addEventListener('click', function () {
    var current = readConsent();
    decide({ c: '0', li: current && current.li === '0' ? '0' : '1' });
    // PLANTED CMP BUG: the reject handler also starts Hotjar, as if consent had been given.
    loadHotjar();
  });

  document.getElementById('cb-settings').addEventListener('click', function () {
    var current = readConsent();
    objecting = !!current && current.li === '0';
    renderObjection();
    layer2.hidden = false;
  });

  objectButton.addEventListener('click', function () {
    objecting = !objecting;
    renderObjection();
  });

  document.getElementById('cb-save').addEventListener('click', function () {
    var current = readConsent();
    // Consent stays as it was (undecided when there was no earlier choice); only li changes.
    decide({ c: current ? current.c : null, li: objecting ? '0' : '1' });
  });

  document.getElementById('cb-reopen').addEventListener('click', showBanner);

  var state = readConsent();
  if (state === null) {
    showBanner();
    applyConsent({ c: null, li: null });
  } else {
    applyConsent(state);
  }
})();
