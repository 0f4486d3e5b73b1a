import { describe, expect, it } from 'vitest';
import { LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { formatsFor } from '../../../server/lib/format.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import { updateInput } from '../../support/compile-input.js';

const i18n = createI18n();
const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);
const ROOT = 'ab'.repeat(32);
const VERIFY = 'http://localhost/verify?letter=title&round=7';

describe("the compiled letter's commitment section", () => {
  it('prints the size, root and verify address in the text, the HTML and the print document, in the letter language', () => {
    for (const language of ['en', 'ko', 'uk']) {
      const t = i18n.getFixedT(language);
      const compiled = compiler.compile({
        ...updateInput(language, 12_345, 2),
        commitment: { treeSize: 12_345, root: ROOT, verifyUrl: VERIFY },
      });
      const sentence = t('commitments.letter.committed', {
        count: 12_345,
        formatted: formatsFor(language).number(12_345),
        root: ROOT,
      });
      expect(sentence, language).toContain(ROOT);
      expect(compiled.email.text, language).toContain(sentence);
      expect(compiled.email.text, language).toContain(VERIFY);
      for (const html of [compiled.email.html, compiled.printHtml]) {
        expect(html, language).toContain(t('commitments.letter.heading'));
        expect(html, language).toContain(ROOT);
        expect(html, language).toContain('verify?letter&#x3D;title&amp;round&#x3D;7');
      }
    }
  });

  it("says when a copy's annex leaves out signatures of the committed list, withdrawn or removed since", () => {
    for (const language of ['en', 'ko', 'uk']) {
      const t = i18n.getFixedT(language);
      const leftOut = (count: number) =>
        t('commitments.letter.leftOut', { count, formatted: formatsFor(language).number(count) });
      const commitment = { treeSize: 10, root: ROOT, verifyUrl: VERIFY };
      // The annex as committed: 10 listed (4 named, 6 counted), nothing to say.
      const whole = compiler.compile({ ...updateInput(language, 10, 4), commitment });
      expect(whole.email.text, language).not.toContain(leftOut(1));
      // Compiled after two withdrew: 8 listed of the 10 committed.
      const shorter = compiler.compile({ ...updateInput(language, 8, 4), commitment });
      expect(shorter.email.text, language).toContain(leftOut(2));
      expect(shorter.printHtml, language).toContain(leftOut(2).split(':')[0]!.slice(0, 20));
    }
  });

  it('says a test commits to nothing, and prints nothing where no round is compiled', () => {
    const test = compiler.compile({ ...updateInput('en', 3, 3), kind: 'test', commitment: null });
    expect(test.email.text).toContain('A test commits to nothing.');
    expect(test.printHtml).toContain('A test commits to nothing.');
    const none = compiler.compile(updateInput('en', 3, 3));
    expect(none.email.text).not.toContain('commit');
    expect(none.printHtml).not.toContain('A verifiable list');
  });
});
