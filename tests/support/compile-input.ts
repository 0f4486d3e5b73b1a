import type { AnnexEntry } from '../../server/deliveries/delivery.js';
import type { CompileInput } from '../../server/deliveries/letter-compiler.js';

/**
 * An update of a one-line letter in `language` to one embassy: `signatures` confirmed, all from Korea,
 * the first `named` of them named in the annex and the rest counted without their names.
 */
export function updateInput(
  language: string,
  signatures: number,
  named: number,
  sponsor = 'Sponsor',
): CompileInput {
  const entries: AnnexEntry[] = Array.from({ length: named }, (_, i) => ({
    name: `Signatory ${i + 1}`,
    country: 'KR',
    affiliation: '',
  }));
  return {
    kind: 'update',
    text: {
      language,
      title: 'Title',
      summary: 'Summary.',
      body: 'We ask you to protect the captured soldiers.',
    },
    recipient: { name: 'Embassy of Testland', title: '', organisation: '', salutation: 'Excellency' },
    date: new Date('2026-12-05T10:00:00Z'),
    signatureCount: signatures,
    countries: [{ code: 'KR', count: signatures }],
    annex: { entries, unnamed: signatures - named },
    organisations: [],
    sponsor,
    letterUrl: 'http://localhost/letters/title',
    replyTo: '',
    pdfAttached: false,
  };
}
