// What a staff member typed into a form marked data-keep, kept in this tab (sessionStorage) when they
// send it, with the account that sent it. A form sent after the session ended comes back through the
// login page with nothing saved (its address says done=sessionEnded): that page marks the form sent last
// as lost, and once the same account is logged in again, the form's page offers it back. Any other
// page forgets what was kept unmarked: the form sent got its answer (saved, or shown again as typed).
// data-keep="save" keeps only what a button with value="save" sends (the letter editor's other buttons
// add a translation or preview, which change the form on purpose).
(function () {
  'use strict';
  if (!window.sessionStorage || !window.JSON) return;
  var PREFIX = 'undersigned:kept:';
  // The key of the form sent last, which is the one a session that ended lost.
  var LAST = 'undersigned:kept-last';

  function read(key) {
    try {
      return JSON.parse(window.sessionStorage.getItem(key) || 'null');
    } catch (e) {
      return null;
    }
  }

  function write(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      // Storage full or refused (private mode): nothing is kept, and the form is sent all the same.
    }
  }

  function keptKeys() {
    return Object.keys(window.sessionStorage).filter(function (name) {
      return name.indexOf(PREFIX) === 0;
    });
  }

  if (/[?&]done=sessionEnded(&|#|$)/.test(window.location.search + window.location.hash)) {
    // The login page after a form came too late: the form sent last is what was lost.
    var last = read(LAST);
    var lost = typeof last === 'string' ? read(last) : null;
    if (lost) write(last, { lost: true, account: lost.account, fields: lost.fields });
    return;
  }
  // Any other page: what was sent and not lost has had its answer.
  keptKeys().forEach(function (key) {
    var kept = read(key);
    if (!kept || !kept.lost) write(key, null);
  });

  Array.prototype.forEach.call(document.querySelectorAll('form[data-keep]'), function (form) {
    var key = PREFIX + form.getAttribute('action');
    var only = form.getAttribute('data-keep');
    var offer = form.id ? document.querySelector('[data-kept-offer="' + form.id + '"]') : null;
    // The account this page is for: text kept for another (a shared computer) is never offered.
    var account = offer ? offer.getAttribute('data-account') : null;

    function fields() {
      return Array.prototype.filter.call(form.elements, function (field) {
        return (
          field.name &&
          field.name !== '_csrf' &&
          ['hidden', 'submit', 'button', 'file', 'password'].indexOf(field.type) === -1
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
      // Scripts that follow the form (the editor's live preview) see the restored values.
      form.dispatchEvent(new Event('input', { bubbles: true }));
      form.dispatchEvent(new Event('change', { bubbles: true }));
    }

    var kept = read(key);
    if (kept && kept.account !== account) {
      write(key, null);
      kept = null;
    }
    if (offer && kept && JSON.stringify(kept.fields) !== JSON.stringify(snapshot())) {
      offer.hidden = false;
      offer.querySelector('[data-restore]').addEventListener('click', function () {
        restore(kept.fields);
        offer.hidden = true;
        write(key, null);
        var first = form.querySelector('input:not([type="hidden"]), textarea, select');
        if (first) first.focus();
      });
      offer.querySelector('[data-dismiss]').addEventListener('click', function () {
        offer.hidden = true;
        write(key, null);
      });
    } else write(key, null);

    form.addEventListener('submit', function (event) {
      var submitter = event.submitter;
      if (only && (!submitter || submitter.value !== only)) return;
      write(key, { lost: false, account: account, fields: snapshot() });
      write(LAST, key);
    });
  });
})();
