import { describe, expect, it } from 'vitest';
import { withoutAddresses } from '../../../server/outbox/outbox.js';

describe('withoutAddresses', () => {
  it('keeps only the domain of an address a server quotes in its reply', () => {
    expect(withoutAddresses('550 5.1.1 <olena.k@supporters.example>: Recipient address rejected')).toBe(
      '550 5.1.1 <…@supporters.example>: Recipient address rejected',
    );
  });

  it('hides every address, quoted or bare, whatever its local part', () => {
    expect(
      withoutAddresses(
        '451 4.7.1 ji-hoon.park+letters@greylist.example, "x"@a.example and o\'brien@b.example, try again',
      ),
    ).toBe('451 4.7.1 …@greylist.example, …@a.example and …@b.example, try again');
  });

  it('hides addresses written in other scripts too', () => {
    expect(withoutAddresses('550 <ólena@пошта.укр> and <김지훈@메일.kr> unknown')).toBe(
      '550 <…@пошта.укр> and <…@메일.kr> unknown',
    );
  });

  it('leaves a reply without addresses as it is', () => {
    for (const reply of [
      '250 2.0.0 Ok: queued as 4XyZ',
      'ETIMEDOUT: Greeting never received',
      '421 at @ noon',
      '',
    ]) {
      expect(withoutAddresses(reply)).toBe(reply);
    }
  });
});
