// The letter editor's live preview: with JavaScript, the preview follows the text as the organizer
// types (after a short pause); without it, the Preview button renders the same thing on the server.
(function () {
  'use strict';
  var form = document.getElementById('editor-form');
  if (!form || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  var url = form.getAttribute('data-preview-url');
  var frame = document.getElementById('preview-email');
  var text = document.getElementById('preview-text');
  var subject = document.getElementById('preview-subject');
  var from = document.getElementById('preview-from');
  var notes = document.getElementById('preview-notes');
  var problems = document.getElementById('preview-problems');
  var status = document.getElementById('preview-status');
  var stopped = document.getElementById('preview-stopped');
  var live = form.getAttribute('data-live-label');
  var showing = status.getAttribute('data-showing');
  var recipientChoice = document.getElementById('field-preview_recipient');
  var languageChoice = document.getElementById('field-preview_language');
  var timer = null;
  var controller = null;
  // After another recipient is chosen, the server says which text they get (the delivery's rule,
  // textLanguageFor), and the list of languages follows it.
  var followLanguage = false;

  function chosenText(select) {
    var option = select && select.options[select.selectedIndex];
    return option && option.value ? option.text : '';
  }

  // Says whom and which language the preview is for, as the Preview button's page does.
  function describe() {
    var recipient = chosenText(recipientChoice);
    var language = chosenText(languageChoice);
    if (!showing || !recipient || !language) return live || '';
    var text = showing
      .replace('{recipient}', function () {
        return recipient;
      })
      .replace('{language}', function () {
        return language;
      });
    return live ? text + ' ' + live : text;
  }

  // The recipients to preview for are the ones ticked above, as soon as they are ticked.
  function syncRecipients() {
    if (!recipientChoice) return;
    var boxes = form.querySelectorAll('input[name="recipients"]');
    var current = recipientChoice.value;
    var options = [];
    for (var i = 0; i < boxes.length; i += 1) {
      if (boxes[i].checked)
        options.push(new Option(boxes[i].getAttribute('data-name') || boxes[i].value, boxes[i].value));
    }
    if (options.length === 0)
      options.push(new Option(recipientChoice.getAttribute('data-none-label') || '', ''));
    while (recipientChoice.firstChild) recipientChoice.removeChild(recipientChoice.firstChild);
    options.forEach(function (option) {
      recipientChoice.appendChild(option);
      if (option.value === current) option.selected = true;
    });
  }

  function refresh() {
    var data = new URLSearchParams(new FormData(form));
    var following = followLanguage;
    if (following) data.delete('preview_language');
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
        if (response.ok) return response.json();
        // A refusal (the session ended, the letter was unshared) says why in its JSON error: shown where
        // the preview's problems are, so the organizer knows the preview stopped, and why.
        return response.json().then(
          function (body) {
            var message = body && body.error && body.error.message;
            return message
              ? { ok: false, problems: [message], stopped: message }
              : Promise.reject(new Error(String(response.status)));
          },
          function () {
            return Promise.reject(new Error(String(response.status)));
          },
        );
      })
      .then(function (result) {
        while (problems.firstChild) problems.removeChild(problems.firstChild);
        if (result.ok) {
          if (following && languageChoice) {
            languageChoice.value = result.language;
            followLanguage = false;
          }
          // The e-mail is a whole document: shown in the sandboxed frame, never in this page.
          frame.srcdoc = result.html;
          text.textContent = result.text;
          subject.textContent = result.subject;
          from.textContent = result.fromName;
          while (notes.firstChild) notes.removeChild(notes.firstChild);
          result.notes.forEach(function (note) {
            var item = document.createElement('li');
            item.textContent = note;
            notes.appendChild(item);
          });
          // In the letter's language, so a screen reader reads Korean as Korean.
          if (result.language) {
            text.setAttribute('lang', result.language);
            subject.setAttribute('lang', result.language);
          }
          // Only a real change is written, so a screen reader is not told the same thing at each key.
          var description = describe();
          if (status.textContent !== description) status.textContent = description;
        } else {
          if (result.stopped) {
            // The preview no longer follows: the line above it must not say it does, and on a phone,
            // where the preview is screens below the text being typed, the top of the page says so too.
            status.textContent = result.stopped;
            if (stopped) {
              stopped.textContent = result.stopped;
              stopped.hidden = false;
            }
          }
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
  form.addEventListener('change', function (event) {
    if (event.target && event.target.name === 'recipients') syncRecipients();
    // The letter as the chosen recipient gets it: the server picks the text (see followLanguage).
    if (event.target === recipientChoice) followLanguage = true;
    if (event.target === languageChoice) followLanguage = false;
    schedule();
  });
  refresh();
})();

// Choosing a main language the letter has no text in yet adds that language's section at once: the form
// goes to the server as the "Add" button of the translations sends it (nothing is saved), where without
// this the section appeared only after a save refused for the missing text.
(function () {
  'use strict';
  var primary = document.getElementById('field-primary_language');
  var adder = document.getElementById('field-new_language');
  var add = document.querySelector('button[name="action"][value="add-language"]');
  if (!primary || !adder || !add || !primary.form || !primary.form.requestSubmit) return;
  primary.addEventListener('change', function () {
    var code = primary.value;
    if (document.getElementById('translation-' + code)) return;
    for (var i = 0; i < adder.options.length; i++) {
      if (adder.options[i].value === code) {
        adder.value = code;
        primary.form.requestSubmit(add);
        return;
      }
    }
  });
})();
