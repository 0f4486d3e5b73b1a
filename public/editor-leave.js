// Leaving the letter editor with changes not saved (the sharing form below, a link, closing the tab)
// asks first: an organizer's edited title was lost to "Share" without a word. The editor's own buttons
// send the form. (What a save sent after the session ended carried is offered back by form-keep.js.)
(function () {
  'use strict';
  var form = document.getElementById('editor-form');
  if (!form || !window.JSON) return;

  // Each field's value, or whether a box is ticked: what the organizer can change.
  function snapshot() {
    return Array.prototype.filter
      .call(form.elements, function (field) {
        return (
          field.name &&
          field.name !== '_csrf' &&
          ['hidden', 'submit', 'button', 'file'].indexOf(field.type) === -1
        );
      })
      .map(function (field) {
        return field.type === 'checkbox' || field.type === 'radio'
          ? [field.name, field.value, field.checked]
          : [field.name, field.value];
      });
  }

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
