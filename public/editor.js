// The letter editor's live preview: with JavaScript, the preview follows the text as the organizer
// types (after a short pause); without it, the Preview button renders the same thing on the server.
(function () {
  'use strict';
  var form = document.getElementById('editor-form');
  if (!form || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  var url = form.getAttribute('data-preview-url');
  var html = document.getElementById('preview-html');
  var text = document.getElementById('preview-text');
  var problems = document.getElementById('preview-problems');
  var status = document.getElementById('preview-status');
  var live = form.getAttribute('data-live-label');
  var timer = null;
  var controller = null;

  function refresh() {
    var data = new URLSearchParams(new FormData(form));
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch(url, {
      method: 'POST',
      body: data,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(new Error(String(response.status)));
      })
      .then(function (result) {
        while (problems.firstChild) problems.removeChild(problems.firstChild);
        if (result.ok) {
          // The server escapes every character of the letter before it makes paragraphs of it.
          html.innerHTML = result.html;
          text.textContent = result.text;
          if (live) status.textContent = live;
        } else {
          result.problems.forEach(function (message) {
            var item = document.createElement('li');
            item.textContent = message;
            problems.appendChild(item);
          });
        }
      })
      .catch(function () {
        // A failed or superseded preview leaves the last one on screen; the Preview button still works.
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener('input', schedule);
  form.addEventListener('change', schedule);
  refresh();
})();
