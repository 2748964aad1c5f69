// Next variant only: appended to site.js. The marketing team added a tag without telling the
// privacy team.
(function () {
  'use strict';
  // PLANTED (next): the Microsoft Advertising UET tag, loaded on every page before any choice.
  window.demoSite.loadScript('https://bat.bing.com/bat.js');
})();
