import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDraft, organizerPlatform, postForm } from '../support/admin-forms.js';
import { byId, innerHtml, mainOf, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import type { TestPlatform } from '../support/test-platform.js';

/**
 * A letter whose delivery goes "when it closes" (the default for a letter with a closing date) is sent
 * by closing it, and a sent letter cannot be reopened: the close page says so before it is pressed.
 */
describe('the close page says when closing sends the letter', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  let supporter: Visitor;
  let recipient: number;

  beforeEach(async () => {
    ({ t, visitor, supporter, recipient } = await organizerPlatform());
  });
  afterEach(async () => {
    await t.close();
  });

  const closePage = async (id: number, lang = 'en') =>
    mainOf((await visitor.get(`/admin/letters/${id}/close?lang=${lang}`)).text);
  const warningOf = (main: string) => {
    const warning = byId(main, 'closing-sends');
    return warning ? textOf(innerHtml(main, warning)) : undefined;
  };
  const press = (id: number, action: 'test' | 'deliver') =>
    postForm(visitor, `/admin/letters/${id}/delivery`, `/admin/letters/${id}/delivery/${action}`, [
      ['request_key', randomBytes(12).toString('base64url')],
    ]);

  it('warns that closing sends it to its recipients, waits for a test, and cannot be undone; and says nothing once it went', async () => {
    const id = await createDraft(visitor, [recipient]);
    expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
      303,
    );
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;
    await signAndConfirm(t, supporter, slug, { email: 'one@example.org' });

    const untested = await closePage(id);
    expect(warningOf(untested)).toBe(
      'Its delivery is set to go when it closes: closing sends the letter to its 1 recipient. It goes once you have sent a test. ' +
        'A delivered letter cannot be reopened. Change when the letter goes',
    );
    // It no longer promises a reopening that the delivery would make impossible.
    expect(textOf(untested)).not.toContain('You can reopen it later');

    expect((await press(id, 'test')).status).toBe(303);
    const tested = warningOf(await closePage(id));
    expect(tested).toContain('closing sends the letter to its 1 recipient.');
    expect(tested).not.toContain('once you have sent a test');
    expect(warningOf(await closePage(id, 'ko'))).toContain('마감하면 수신처 1곳에 편지를 보냅니다.');

    // Delivered by hand: closing sends nothing more, and the page says only what closing does.
    expect((await press(id, 'deliver')).status).toBe(303);
    const delivered = await closePage(id);
    expect(warningOf(delivered)).toBeUndefined();
    expect(textOf(delivered)).toContain('You can reopen it later if its closing date has not passed.');
  });

  it('says nothing of sending for a letter delivered only by hand', async () => {
    const id = await createDraft(visitor, [recipient], { closes_at: '' });
    expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
      303,
    );
    const page = await closePage(id);
    expect(warningOf(page)).toBeUndefined();
    expect(textOf(page)).toContain('You can reopen it later');
  });
});
