// Demo stand-in for the Meta pixel.
(function () {
  'use strict';
  var fbp = /(?:^|; )_fbp=([^;]*)/.exec(document.cookie);
  var value = fbp ? fbp[1] : 'fb.1.' + Date.now() + '.' + Math.floor(Math.random() * 1e10);
  document.cookie = '_fbp=' + value + '; max-age=' + 90 * 24 * 3600 + '; path=/; SameSite=Lax';
  var img = new Image(1, 1);
  img.src = 'https://www.facebook.com/tr?id=123&ev=PageView';
})();
