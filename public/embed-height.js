// The embed tells the page that frames it how tall it is, so the organisation's snippet can size its
// <iframe> to the form instead of a fixed guess (a walkthrough measured 1,460–1,880 px against 928).
// Only a height is sent: nothing a framing page could learn from it about the supporter.
(function () {
  if (window.parent === window) return;
  var last = 0;
  function tell() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: 'undersigned:embed-height', height: height }, '*');
  }
  if (typeof ResizeObserver === 'function') new ResizeObserver(tell).observe(document.body);
  window.addEventListener('load', tell);
  tell();
})();
