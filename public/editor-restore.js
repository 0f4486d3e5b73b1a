// What the organizer typed in the letter editor, kept in this tab (sessionStorage) when they press
// Save, until an editor page says it saved (a notice in its address). A save sent after the session
// ended comes back through the login page with nothing saved: the editor then offers it back. Leaving
// the page with changes not saved asks first.
(function () {
  'use strict';
  var form = document.getElementById('editor-form');
  var offer = document.getElementById('editor-restore');
  if (!form || !offer || !window.sessionStorage || !window.JSON) return;
  var PREFIX = 'undersigned:editor:';
  var key = PREFIX + form.getAttribute('action');

  function fields() {
    return Array.prototype.filter.call(form.elements, function (field) {
      return (
        field.name &&
        field.name !== '_csrf' &&
        ['hidden', 'submit', 'button', 'file'].indexOf(field.type) === -1
      );
    });
  }

  // Each field as [name, value of a box, whether it is ticked] or [name, null, its value].
  function snapshot() {
    return fields().map(function (field) {
      return field.type === 'checkbox' || field.type === 'radio'
        ? [field.name, field.value, field.checked]
        : [field.name, null, field.value];
    });
  }

  function restore(entries) {
    entries.forEach(function (entry) {
      fields().forEach(function (field) {
        if (field.name !== entry[0]) return;
        if (entry[1] === null) field.value = entry[2];
        else if (field.value === entry[1]) field.checked = entry[2];
      });
    });
    // The live preview and the recipient choices follow the restored values.
    form.dispatchEvent(new Event('input', { bubbles: true }));
    form.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function forget() {
    try {
      window.sessionStorage.removeItem(key);
    } catch (e) {
      // Storage refused (private mode): nothing was kept.
    }
  }

  var kept = null;
  try {
    kept = JSON.parse(window.sessionStorage.getItem(key) || 'null');
  } catch (e) {
    kept = null;
  }

  if (/[?&]done=/.test(window.location.search)) {
    // A page that says it saved: nothing typed in this tab is waiting any more, for any letter.
    Object.keys(window.sessionStorage)
      .filter(function (name) {
        return name.indexOf(PREFIX) === 0;
      })
      .forEach(function (name) {
        window.sessionStorage.removeItem(name);
      });
  } else if (kept && JSON.stringify(kept) !== JSON.stringify(snapshot())) {
    offer.hidden = false;
    offer.querySelector('[data-restore]').addEventListener('click', function () {
      restore(kept);
      offer.hidden = true;
      forget();
      form.querySelector('input, textarea').focus();
    });
    offer.querySelector('[data-dismiss]').addEventListener('click', function () {
      offer.hidden = true;
      forget();
    });
  } else {
    // Refused with the form kept as typed, or nothing kept: nothing to offer.
    forget();
  }

  form.addEventListener('submit', function (event) {
    // Only a save: adding or removing a translation, or previewing, changes the form on purpose.
    var submitter = event.submitter;
    if (!submitter || submitter.value !== 'save') return;
    try {
      window.sessionStorage.setItem(key, JSON.stringify(snapshot()));
    } catch (e) {
      // Storage full or refused: the save goes on without it.
    }
  });

  // Leaving with changes not saved (the sharing form below, a link, closing the tab) asks first: an
  // organizer's edited title was lost to "Share" without a word. The editor's own buttons send the form.
  var shown = JSON.stringify(snapshot());
  var sending = false;
  form.addEventListener('submit', function (event) {
    sending = true;
    // A button the page handles itself (the preview) sends nothing: the changes are still unsaved.
    setTimeout(function () {
      if (event.defaultPrevented) sending = false;
    }, 0);
  });
  window.addEventListener('beforeunload', function (event) {
    if (sending || JSON.stringify(snapshot()) === shown) return;
    event.preventDefault();
    event.returnValue = '';
  });
})();
