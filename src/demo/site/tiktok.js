// Demo stand-in for the TikTok pixel.
(function () {
  'use strict';
  var img = new Image(1, 1);
  img.src = 'https://analytics.tiktok.com/api/v2/pixel?ev=PageView';
})();
