// Demo Shop page script: runs on every page, before the CMP (cmp.js).
(function () {
  'use strict';

  function loadScript(url) {
    var s = document.createElement('script');
    s.src = url;
    s.async = true;
    document.head.appendChild(s);
  }

  // PLANTED: the Meta pixel is loaded unconditionally, before and whatever the consent choice.
  loadScript('https://connect.facebook.net/en_US/fbevents.js');

  // PLANTED: an A/B-test cookie that the declared map does not list.
  var variant = /(?:^|; )ab_test_variant=([^;]*)/.exec(document.cookie);
  document.cookie = 'ab_test_variant=' + (variant ? variant[1] : 'B') +
    '; max-age=' + 30 * 24 * 3600 + '; path=/; SameSite=Lax';

  // PLANTED: audience-measurement worker (legitimate interest). It pings Scorecard Research when it
  // starts and whenever the page reports a consent change, and never looks at the objection.
  var worker = null;
  try {
    worker = new Worker('/metrics-worker.js');
  } catch (e) {
    worker = null;
  }

  // PLANTED: a leave beacon to the same vendor, also ignoring the objection.
  window.addEventListener('pagehide', function () {
    navigator.sendBeacon('https://sb.scorecardresearch.com/b?ev=leave', 'x');
  });

  window.demoSite = {
    loadScript: loadScript,
    // Called by the CMP after every consent change (accept, reject, save).
    notifyConsent: function (value) {
      if (worker) {
        worker.postMessage({ consent: value });
      }
    }
  };
})();
