// The embed tells the page that frames it how tall it is, so the organisation's snippet can size its
// <iframe> to the form instead of a fixed guess (a walkthrough measured 1,460–1,880 px against 928).
// Only a height is sent, and on a page's first report a flag that it is new (the answer to a submit, or
// any page the frame went on to): nothing a framing page could learn from it about the supporter.
// It also focuses what the page would autofocus (the error summary), which Chromium refuses across origins.
(function () {
  if (window.parent === window) return;
  var last = 0;
  var fresh = true;
  function tell() {
    // The body's own height, not the document's scrollHeight: in a frame that is never less than the
    // frame's height, so the frame grew to the form but never shrank to "check your inbox" after it.
    var body = document.body;
    var style = getComputedStyle(body);
    var height = Math.ceil(
      body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom),
    );
    if (height === last) return;
    last = height;
    var message = { type: 'undersigned:embed-height', height: height };
    // The snippet brings the frame's top into view for a new page when it is scrolled above the view: the
    // error summary or "check your inbox" is there, and Chromium will not autofocus it across origins.
    if (fresh) message.fresh = true;
    fresh = false;
    window.parent.postMessage(message, '*');
  }
  if (typeof ResizeObserver === 'function') new ResizeObserver(tell).observe(document.body);
  window.addEventListener('load', tell);
  tell();
  // Chromium will not autofocus an element in a frame of another site (the error summary, after a refused
  // submit); a script may, and the supporter's focus is in the frame they submitted from. No scrolling
  // here: the snippet brings the frame's top, where the summary is, into view.
  var wanted = document.querySelector('[autofocus]');
  if (wanted && document.activeElement === document.body) wanted.focus({ preventScroll: true });
})();
