// Demo stand-in for reCAPTCHA.
window.grecaptcha = { ready: function (f) { 'use strict'; f(); } };
