// Demo stand-in for Stripe.js.
window.Stripe = function (key) {
  'use strict';
  return { key: key };
};
