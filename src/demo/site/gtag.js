// Demo stand-in for the Google tag.
(function () {
  'use strict';
  var ga = /(?:^|; )_ga=([^;]*)/.exec(document.cookie);
  var value = ga ? ga[1] : 'GA1.1.' + Math.floor(Math.random() * 1e10) + '.' + Math.floor(Date.now() / 1000);
  // Two years: longer than the 390 days the declared map allows.
  var expires = new Date(Date.now() + 730 * 24 * 3600 * 1000).toUTCString();
  document.cookie = '_ga=' + value + '; expires=' + expires + '; path=/; SameSite=Lax';
  fetch('https://www.google-analytics.com/g/collect?v=2&tid=G-DEMO&en=page_view', { mode: 'no-cors' })
    .catch(function () {});
  // A tag configured in the tag manager: the TikTok pixel, which the declared map does not list.
  var s = document.createElement('script');
  s.src = 'https://analytics.tiktok.com/i18n/pixel/events.js';
  s.async = true;
  document.head.appendChild(s);
})();
