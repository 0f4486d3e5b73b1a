// /verify (views/pages/verify.hbs): checks a receipt, and that a later list extends an earlier one, in
// this browser. The receipt (pasted, read from a file, or from a `#receipt=` link, whose fragment never
// reaches the server) is never sent: the only requests are for public data, the published roots, sizes
// and consistency proofs of the public API. The algorithm is public/verify-check.js, as
// docs/verification.md writes it. Without this script the page says the check needs JavaScript.
import {
  MAX_RECEIPT_CHARS,
  canHash,
  checkConsistency,
  checkReceipt,
  parseReceipt,
  receiptFromFragment,
} from './verify-check.js';

const tool = document.getElementById('verify-tool');
const HASH = /^[0-9a-f]{64}$/;

/** A text of the page's language, carried by the page as data-t-<name>, with {placeholders} filled. */
function text(name, values = {}) {
  const template = tool.dataset[`t${name[0].toUpperCase()}${name.slice(1)}`] ?? '';
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

/** Writes a verdict: the word first (never colour alone), then what it means. */
function say(region, verdict, sentence) {
  region.replaceChildren();
  region.classList.remove('verify-result--valid', 'verify-result--invalid', 'verify-result--note');
  if (verdict === 'valid' || verdict === 'invalid') {
    region.classList.add(`verify-result--${verdict}`);
    const word = document.createElement('p');
    word.className = 'verify-result__verdict';
    const strong = document.createElement('strong');
    strong.textContent = text(verdict === 'valid' ? 'validHeading' : 'invalidHeading');
    word.append(strong);
    region.append(word);
  } else {
    region.classList.add('verify-result--note');
  }
  const p = document.createElement('p');
  p.textContent = sentence;
  region.append(p);
}

/** The public API's account of a letter's published lists: { title, commitments } or a failure word. */
async function publishedLists(slug) {
  try {
    // In the page's language (the title the sentence quotes), not the browser's Accept-Language.
    const lang = encodeURIComponent(document.documentElement.lang || 'en');
    const response = await fetch(`/api/v1/letters/${encodeURIComponent(slug)}?lang=${lang}`, {
      headers: { Accept: 'application/json' },
      credentials: 'omit',
      // Revalidated each time (a 304 when nothing moved): a list published a second ago is found.
      cache: 'no-cache',
    });
    if (response.status === 404) return { missing: true };
    if (!response.ok) return { failed: true };
    const letter = await response.json();
    return {
      title: String(letter.title ?? slug),
      commitments: Array.isArray(letter.commitments) ? letter.commitments : [],
    };
  } catch {
    return { failed: true };
  }
}

/** One published list of a letter: { round, treeSize, root } from the API's commitments. */
function listOf(lists, round) {
  const found = lists.commitments.find((c) => c && Number(c.round) === round);
  if (!found || !HASH.test(String(found.root)) || !Number.isSafeInteger(Number(found.treeSize)))
    return undefined;
  return { round, treeSize: Number(found.treeSize), root: String(found.root) };
}

if (tool) {
  document.getElementById('verify-needs-js')?.setAttribute('hidden', '');
  tool.removeAttribute('hidden');

  const form = document.getElementById('receipt-form');
  const field = document.getElementById('receipt');
  const fieldError = document.getElementById('receipt-error');
  const file = document.getElementById('receipt-file');
  const rootField = document.getElementById('published-root');
  const sizeField = document.getElementById('published-size');
  const source = document.getElementById('published-source');
  const result = document.getElementById('receipt-result');
  const steps = document.getElementById('receipt-steps');
  const stepList = document.getElementById('receipt-step-list');
  const params = new URLSearchParams(location.search);

  // Where the root and size in the fields came from: 'record' (this site's API), 'typed', or none yet.
  let publishedFrom = '';
  // The last look-up, by letter and round: asked again (a receipt read while the page's own look-up is
  // under way), it is the same answer, awaited.
  let lookup = { key: '', done: Promise.resolve() };

  /** Fills the published root and size for a letter's round from the public record, unless typed. */
  function lookUp(slug, round) {
    const key = `${slug}|${round}`;
    if (publishedFrom === 'typed' || lookup.key === key) return lookup.done;
    source.textContent = text('looking');
    const done = publishedLists(slug).then((lists) => {
      if (publishedFrom === 'typed' || lookup.key !== key) return;
      const list = lists.commitments ? listOf(lists, round) : undefined;
      if (list) {
        rootField.value = list.root;
        sizeField.value = String(list.treeSize);
        publishedFrom = 'record';
        source.textContent = text('fromRecord', { round, letter: lists.title });
      } else {
        rootField.value = '';
        sizeField.value = '';
        publishedFrom = '';
        source.textContent = text(lists.failed ? 'unavailable' : 'notFound', { round, letter: slug });
      }
    });
    lookup = { key, done };
    return done;
  }

  function showFieldError(message) {
    fieldError.textContent = message;
    fieldError.hidden = message === '';
    if (message === '') field.removeAttribute('aria-invalid');
    else field.setAttribute('aria-invalid', 'true');
  }

  /** The receipt in the field, or undefined after saying what is wrong with it. */
  function currentReceipt() {
    const parsed = parseReceipt(field.value.trim());
    if (parsed.receipt) {
      showFieldError('');
      return parsed.receipt;
    }
    const problem = text(`problem${parsed.problem[0].toUpperCase()}${parsed.problem.slice(1)}`, {
      field: parsed.field ?? '',
    });
    showFieldError(text('malformed', { problem }));
    return undefined;
  }

  function showSteps(outcome) {
    stepList.replaceChildren();
    const row = (label, value) => {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      const code = document.createElement('code');
      code.textContent = value;
      dd.append(code);
      stepList.append(dt, dd);
    };
    row(text('stepLeafData'), outcome.leafData);
    row(text('stepLeafHash'), outcome.leafHash);
    outcome.steps.forEach((step, i) =>
      row(
        text(step.side === 'left' ? 'stepLeft' : 'stepRight', { n: i + 1, sibling: step.sibling }),
        step.hash,
      ),
    );
    row(text('stepReached'), outcome.reached);
    row(text('stepPublished'), rootField.value.trim());
    steps.hidden = false;
  }

  async function check() {
    // Cleared at once: a verdict on the screen is always the one for what is in the fields now.
    result.replaceChildren();
    steps.hidden = true;
    if (!canHash()) return say(result, 'invalid', text('noCrypto'));
    const receipt = currentReceipt();
    if (!receipt) {
      say(result, 'note', field.value.trim() === '' ? text('needReceipt') : fieldError.textContent);
      return;
    }
    await lookUp(receipt.letter, receipt.round);
    const root = rootField.value.trim().toLowerCase();
    const size = Number(sizeField.value.trim());
    if (!HASH.test(root) || !Number.isSafeInteger(size) || size < 1)
      return say(result, 'note', text('needPublished'));
    const outcome = await checkReceipt(receipt, { root, treeSize: size });
    const values = {
      round: receipt.round,
      letter: receipt.letter,
      total: numbers.format(size),
      receiptTotal: numbers.format(receipt.treeSize),
      root,
    };
    if (outcome.valid) say(result, 'valid', text('valid', values));
    else
      say(
        result,
        'invalid',
        text(`invalid${outcome.reason[0].toUpperCase()}${outcome.reason.slice(1)}`, values),
      );
    showSteps(outcome);
  }

  for (const input of [rootField, sizeField])
    input.addEventListener('input', () => {
      publishedFrom = 'typed';
      source.textContent = text('typed');
    });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void check();
  });

  // A receipt pasted or read names its letter and round: its published list is looked up at once.
  field.addEventListener('change', () => {
    const receipt = currentReceipt();
    if (receipt) void lookUp(receipt.letter, receipt.round);
  });

  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > MAX_RECEIPT_CHARS * 4)
      return showFieldError(text('malformed', { problem: text('problemTooLarge') }));
    try {
      field.value = await chosen.text();
    } catch {
      return showFieldError(text('fileUnreadable'));
    }
    const receipt = currentReceipt();
    if (receipt) {
      await lookUp(receipt.letter, receipt.round);
      await check();
    }
  });

  // ?letter=&round= (from the letter's record): that round's published list before any receipt is given.
  const round = Number(params.get('round') ?? '');
  if (params.get('letter') && params.get('round') && Number.isSafeInteger(round) && round >= 0)
    void lookUp(params.get('letter'), round);

  // A `#receipt=` link: read here only; a fragment is never part of a request.
  const fromLink = receiptFromFragment(location.hash);
  if (fromLink !== undefined) {
    // Out of the address bar and the history once read: a receipt (its salt, the supporter's name) must
    // not travel on when the page's address is copied to share it, or stay in a synced history.
    history.replaceState(history.state, '', location.pathname + location.search);
    try {
      field.value = JSON.stringify(JSON.parse(fromLink), null, 2);
    } catch {
      field.value = fromLink;
    }
    document.getElementById('receipt-from-link').hidden = false;
    void check();
  }

  // The second section: a later list begins with an earlier one (RFC 9162 consistency), from the API.
  const consistency = document.getElementById('consistency-form');
  const consistencyResult = document.getElementById('consistency-result');
  if (params.get('letter')) document.getElementById('consistency-letter').value = params.get('letter');
  consistency.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!canHash()) return say(consistencyResult, 'invalid', text('noCrypto'));
    const slug = document.getElementById('consistency-letter').value.trim();
    const from = Number(document.getElementById('consistency-from').value);
    const to = Number(document.getElementById('consistency-to').value);
    const typedRoot = document.getElementById('consistency-earlier-root').value.trim().toLowerCase();
    if (slug === '' || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < 0)
      return say(consistencyResult, 'note', text('consistencyNeedInput'));
    const values = { from, to, letter: slug };
    say(consistencyResult, 'note', text('looking'));
    const lists = await publishedLists(slug);
    if (!lists.commitments)
      return say(
        consistencyResult,
        'note',
        text(lists.failed ? 'unavailable' : 'consistencyNotFound', values),
      );
    const earlier = listOf(lists, from);
    const later = listOf(lists, to);
    if (!earlier || !later) return say(consistencyResult, 'note', text('consistencyNotFound', values));
    Object.assign(values, {
      letter: lists.title,
      fromTotal: numbers.format(earlier.treeSize),
      toTotal: numbers.format(later.treeSize),
    });
    if (typedRoot !== '' && typedRoot !== earlier.root)
      return say(consistencyResult, 'invalid', text('consistencyRootDiffers', values));
    let proof;
    try {
      const response = await fetch(
        `/api/v1/letters/${encodeURIComponent(slug)}/commitments/${to}/consistency?from=${from}`,
        { headers: { Accept: 'application/json' }, credentials: 'omit', cache: 'no-cache' },
      );
      if (response.status === 404) return say(consistencyResult, 'note', text('consistencyNotFound', values));
      // The platform itself says the later list is no extension of the earlier: no proof can exist.
      if (response.status === 409)
        return say(consistencyResult, 'invalid', text('consistencyNotExtension', values));
      if (!response.ok) return say(consistencyResult, 'note', text('unavailable', values));
      proof = (await response.json()).proof;
    } catch {
      return say(consistencyResult, 'note', text('unavailable', values));
    }
    const outcome = Array.isArray(proof)
      ? await checkConsistency(earlier, later, proof.map(String))
      : { valid: false };
    say(
      consistencyResult,
      outcome.valid ? 'valid' : 'invalid',
      text(outcome.valid ? 'consistencyValid' : 'consistencyInvalid', values),
    );
  });
}
