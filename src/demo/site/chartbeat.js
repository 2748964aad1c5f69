// Demo stand-in for Chartbeat: one ping per page view, no timers.
(function () {
  'use strict';
  var img = new Image(1, 1);
  img.src = 'https://static.chartbeat.com/ping?h=demo';
})();
