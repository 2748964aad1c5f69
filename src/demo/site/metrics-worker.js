// PLANTED: audience-measurement worker. It pings Scorecard Research when it starts and on every
// consent change the page reports, and never checks whether the visitor objected.
'use strict';
var ENDPOINT = 'https://sb.scorecardresearch.com/p?c1=2&c2=demo';
function ping(ev) {
  fetch(ENDPOINT + '&ev=' + ev, { mode: 'no-cors' }).catch(function () {});
}
ping('start');
self.onmessage = function () {
  ping('consent');
};
