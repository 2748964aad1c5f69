// Demo stand-in for Hotjar.
(function () {
  'use strict';
  var img = new Image(1, 1);
  img.src = 'https://static.hotjar.com/ping';
})();
