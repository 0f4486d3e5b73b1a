// The share panel's progressive enhancement (views/partials/share.hbs). Without it the link is still a
// selectable field and every service a plain link. With it: a copy button beside the field, and the
// links marked data-share-native (KakaoTalk, which has no share address without its SDK) open the
// device's own share sheet where there is one. Nothing here talks to another site.
for (const field of document.querySelectorAll('input.share-url')) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button';
  button.textContent = field.dataset.copyLabel;
  const status = document.createElement('span');
  status.setAttribute('role', 'status');
  status.className = 'hint';
  button.addEventListener('click', async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = field.dataset.copiedLabel;
    } catch {
      // No clipboard (an insecure origin, a refused permission): the field is selected for the reader to copy.
      status.textContent = '';
    }
  });
  field.after(button, status);
  field.addEventListener('focus', () => field.select());

  if (typeof navigator.share === 'function') {
    const panel = field.closest('.share');
    for (const link of panel ? panel.querySelectorAll('a[data-share-native]') : []) {
      link.addEventListener('click', async (event) => {
        event.preventDefault();
        try {
          await navigator.share({ title: field.dataset.shareTitle, url: field.value });
        } catch {
          // Cancelled by the reader, or refused: the field is there to copy.
          field.focus();
        }
      });
    }
  }
}
