import { describe, expect, it } from 'vitest';
import { parseTokenForm } from '../../../server/api/token.js';

describe('the API token form', () => {
  it('takes a name in any script', () => {
    for (const name of ['Campaign site', '캠페인 사이트', 'Сайт кампанії', 'موقع الحملة'])
      expect(parseTokenForm({ name, lifetime: '90' })).toMatchObject({ ok: true, name });
  });

  it('refuses a name with control characters or a bidirectional override, which lists it as something else', () => {
    for (const name of ['live\u0007', 'مرحبا \u202Eevil', 'x\u2066y', 'tab\there'])
      expect(parseTokenForm({ name, lifetime: '90' })).toMatchObject({
        ok: false,
        errors: { name: 'webhooks.tokens.errors.nameInvalid' },
      });
  });
});
