// The delivery page's record while letters are compiled and sent (data-refresh, in seconds): fetched
// again and put in place until nothing is on its way, so the organizer sees the progress without
// reloading the page, which would clear what they typed in the forms above it.
const record = document.getElementById('delivery-record');
const every = Number(record?.dataset.refresh ?? 0) * 1000;

async function refresh() {
  let fresh = null;
  try {
    const response = await fetch(window.location.pathname, { headers: { Accept: 'text/html' } });
    if (response.ok) {
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      fresh = page.getElementById('delivery-record');
    }
  } catch {
    // Offline for a moment: try again at the next turn.
  }
  // Never under the reader's focus: a link they are on stays where it is until they leave it.
  if (fresh && !record.contains(document.activeElement)) {
    record.replaceChildren(...fresh.childNodes);
    if (!fresh.dataset.refresh) {
      delete record.dataset.refresh;
      // The record changed silently under a screen reader: say once that nothing is on its way any more.
      const status = document.getElementById('delivery-progress-status');
      if (status) status.textContent = status.dataset.done ?? '';
      return;
    }
  }
  window.setTimeout(refresh, every);
}

if (record && every > 0) window.setTimeout(refresh, every);
