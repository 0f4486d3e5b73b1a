import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  renderLetter,
  textToHtml,
  type LetterMergeFields,
} from '../../../server/letters/letter-text.js';

function fields(overrides: Partial<LetterMergeFields> = {}): LetterMergeFields {
  return {
    recipient: {
      name: 'Ms Park',
      title: 'Ambassador',
      organisation: 'Embassy of Testland',
      salutation: 'Dear Ambassador',
    },
    letter: { title: 'Protect the captured soldiers' },
    date: '23 November 2026',
    signatureCount: '1,234',
    countries: [],
    signatories: [
      { name: 'Kim Ji-hoon', country: 'South Korea' },
      { name: 'O. K.', country: 'Ukraine' },
    ],
    organisations: [],
    ...overrides,
  };
}

const HOSTILE = `<script>alert("x")</script> & 'co' <img src=x onerror=alert(1)>`;

describe('renderLetter', () => {
  it('fills in the merge fields', () => {
    const { text } = renderLetter(
      '{{date}}\n\n{{recipient.salutation}},\n\n{{recipient.name}}, {{recipient.title}}, {{recipient.organisation}}: "{{letter.title}}" has {{signatureCount}} signatures.',
      fields(),
    );
    expect(text).toBe(
      '23 November 2026\n\nDear Ambassador,\n\nMs Park, Ambassador, Embassy of Testland: "Protect the captured soldiers" has 1,234 signatures.',
    );
  });

  it('puts a hostile merge value verbatim in the text and escaped in the HTML', () => {
    const { text, html } = renderLetter(
      '{{recipient.salutation}},\n\nFrom {{recipient.name}}',
      fields({ recipient: { ...fields().recipient, name: HOSTILE } }),
    );
    expect(text).toContain(HOSTILE);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39; &lt;img src=x onerror=alert(1)&gt;',
    );
    expect(html).not.toMatch(/<script|<img/i);
  });

  it('escapes a hostile value even when the template uses triple braces', () => {
    const { text, html } = renderLetter(
      '{{{recipient.name}}}',
      fields({ recipient: { ...fields().recipient, name: HOSTILE } }),
    );
    expect(text).toBe(HOSTILE);
    expect(html).not.toMatch(/<script|<img/i);
  });

  it('treats markup written in the template itself as text: verbatim in the text, escaped in the HTML', () => {
    const source = `Dear <b>friend</b> & "colleague", it's <a href="https://evil.example">here</a>.`;
    const { text, html } = renderLetter(source, fields());
    expect(text).toBe(source);
    expect(html).toBe(`<p>${escapeHtml(source)}</p>`);
    expect(html).not.toMatch(/<(b|a)[\s>]/);
  });

  it('escapes ampersands exactly once', () => {
    const { html } = renderLetter(
      'Tom &amp; Jerry & {{recipient.name}}',
      fields({ recipient: { ...fields().recipient, name: 'A & B' } }),
    );
    expect(html).toBe('<p>Tom &amp;amp; Jerry &amp; A &amp; B</p>');
  });

  it('makes a paragraph of each block separated by a blank line, and a <br> of each single newline', () => {
    const { text, html } = renderLetter(
      'First line\nsecond line\n\nNext paragraph\n\n\n\nLast one',
      fields(),
    );
    expect(text).toBe('First line\nsecond line\n\nNext paragraph\n\nLast one');
    expect(html).toBe('<p>First line<br>\nsecond line</p>\n<p>Next paragraph</p>\n<p>Last one</p>');
  });

  it('reads Windows line endings as newlines', () => {
    const { html } = renderLetter('One\r\ntwo\r\n\r\nThree', fields());
    expect(html).toBe('<p>One<br>\ntwo</p>\n<p>Three</p>');
  });

  it('trims the letter and leaves out empty paragraphs', () => {
    const { text, html } = renderLetter('\n\n  Hello  \n\n   \n\n', fields());
    expect(text).toBe('Hello');
    expect(html).toBe('<p>Hello</p>');
  });

  it('lists the signatories with an {{#each signatories}} block', () => {
    const source =
      'Signed by:\n{{#each signatories}}\n{{name}}{{#if country}}, {{country}}{{/if}}\n{{/each}}';
    const { text, html } = renderLetter(
      source,
      fields({
        signatories: [
          { name: 'Kim Ji-hoon', country: 'South Korea' },
          { name: 'Anonymous', country: '' },
          { name: 'Олена', country: 'Україна' },
        ],
      }),
    );
    expect(text).toBe('Signed by:\nKim Ji-hoon, South Korea\nAnonymous\nОлена, Україна');
    expect(html).toBe('<p>Signed by:<br>\nKim Ji-hoon, South Korea<br>\nAnonymous<br>\nОлена, Україна</p>');
  });

  it('renders the {{else}} of an {{#each}} when nobody has signed yet', () => {
    const { text } = renderLetter(
      '{{#each signatories}}{{name}}{{else}}No signatures yet.{{/each}}',
      fields({ signatories: [] }),
    );
    expect(text).toBe('No signatures yet.');
  });

  it('escapes hostile signatory names in the HTML', () => {
    const { html } = renderLetter(
      '{{#each signatories}}{{name}}\n{{/each}}',
      fields({ signatories: [{ name: HOSTILE, country: '' }] }),
    );
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;');
  });

  it('throws on a merge field that does not exist, rather than leaving a hole in the letter', () => {
    expect(() => renderLetter('Dear {{recipient.nickname}}', fields())).toThrow(/nickname/);
    expect(() => renderLetter('{{unknown}}', fields())).toThrow(/unknown/);
    expect(() => renderLetter('{{#each signatories}}{{email}}{{/each}}', fields())).toThrow(/email/);
  });

  it('throws on a helper that is not allowed', () => {
    expect(() => renderLetter('{{uppercase recipient.name}}', fields())).toThrow();
    expect(() => renderLetter('{{> header}}', fields())).toThrow();
  });

  it('never lets a template reach the prototype chain: it throws or renders nothing, never a function', () => {
    const probes = [
      '{{constructor}}',
      '{{__proto__}}',
      '{{constructor.name}}',
      '{{constructor.constructor}}',
      '{{recipient.constructor}}',
      '{{recipient.__proto__.constructor}}',
      '{{@root.constructor}}',
      '{{lookup this "constructor"}}',
      '{{lookup (lookup this "constructor") "name"}}',
      '{{lookup recipient "__proto__"}}',
      '{{#with constructor}}{{name}}{{/with}}',
      '{{#each signatories}}{{constructor}}{{/each}}',
      '{{#with "s" as |string|}}{{string.sub.constructor}}{{/with}}',
      '{{toString}}',
      '{{valueOf}}',
      '{{hasOwnProperty}}',
    ];
    for (const probe of probes) {
      let rendered: { text: string; html: string } | undefined;
      try {
        rendered = renderLetter(`before ${probe} after`, fields());
      } catch {
        continue; // Refusing the template is a safe outcome.
      }
      for (const output of [rendered.text, rendered.html]) {
        expect(output, probe).not.toMatch(/function|native code|=>|\[object/);
        expect(output, probe).toBe(output.startsWith('<p>') ? '<p>before  after</p>' : 'before  after');
      }
    }
  });
});

describe('helpers a letter text cannot use', () => {
  it.each(['{{log recipient.name}}', '{{lookup recipient "name"}}', '{{#with recipient}}{{name}}{{/with}}'])(
    'refuses %s',
    (source) => {
      expect(() => renderLetter(source, FIELDS_FOR_HELPER_TESTS)).toThrow();
    },
  );
});

const FIELDS_FOR_HELPER_TESTS = {
  recipient: { name: 'Embassy', title: '', organisation: '', salutation: 'Dear Ambassador' },
  letter: { title: 'Title' },
  date: '23 November 2026',
  signatureCount: '1',
  countries: [],
  signatories: [],
  organisations: [],
};

describe('textToHtml', () => {
  it('escapes every HTML special character', () => {
    expect(textToHtml(`<>&"'`)).toBe('<p>&lt;&gt;&amp;&quot;&#39;</p>');
  });
});
