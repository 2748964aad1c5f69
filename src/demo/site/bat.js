// Demo stand-in for the Microsoft Advertising UET tag (next variant only).
(function () {
  'use strict';
  var vid = /(?:^|; )_uetvid=([^;]*)/.exec(document.cookie);
  var value = vid ? vid[1] : Math.floor(Math.random() * 1e10).toString(16) + Date.now().toString(16);
  document.cookie = '_uetvid=' + value + '; max-age=' + 390 * 24 * 3600 + '; path=/; SameSite=Lax';
  var img = new Image(1, 1);
  img.src = 'https://bat.bing.com/action/0?ti=demo&evt=pageLoad';
})();
