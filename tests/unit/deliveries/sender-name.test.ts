import { describe, expect, it } from 'vitest';
import { senderName } from '../../../server/deliveries/delivery.js';

const t = (key: string, params?: Record<string, unknown>) =>
  key === 'site.name' ? 'Undersigned' : `${String(params?.sponsor)} via ${String(params?.site)}`;

describe('senderName: the name a letter is sent under', () => {
  it("is the organisation's, by way of the platform", () => {
    expect(senderName(t, 'Amnesty Korea')).toBe('Amnesty Korea via Undersigned');
  });

  it('is none without an organisation: the platform sends under its own name', () => {
    expect(senderName(t, '')).toBeNull();
    expect(senderName(t, ' \n ')).toBeNull();
  });

  it('keeps no line break, quote or angle bracket that could bend the From header', () => {
    expect(senderName(t, 'Evil\r\nBcc: x@y.example "quoted" <a@b.example>')).toBe(
      'Evil Bcc: x@y.example quoted a@b.example via Undersigned',
    );
  });
});
