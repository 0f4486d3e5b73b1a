import { createHash } from 'node:crypto';
import { UntilWrite } from '../db/until-write.js';
import { deliverySettingsOf } from '../deliveries/delivery.js';
import type { DeliveryRepository } from '../deliveries/delivery-repository.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { LetterService, SentLetters } from '../letters/letter-service.js';
import type { Clock } from '../lib/clock.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { privacyNotice, type PrivacyNotice, type PrivacyNoticeFacts } from './privacy-notice.js';

export interface PrivacyNoticeServiceDeps {
  /** Public letters: only a published letter has a notice (a draft's is a 404, like its page). */
  letters: LetterService;
  letterRows: Pick<LetterRepository, 'recipientsOfLetters' | 'closedAt'>;
  deliveries: Pick<DeliveryRepository, 'settingsOf'>;
  sent: SentLetters;
  /** The platform settings: the data controller an admin names. */
  settings: Pick<SettingsRepository, 'read'>;
  /**
   * Port: the hosts of the letter's enabled webhook endpoints that are told of confirmed or withdrawn
   * signatures (the webhooks slice answers it; wiring.ts passes it in).
   */
  signatureListeners: (letterId: number) => Promise<string[]>;
  /** The days an escalation waits for a reply before the next tier gets the letter; null without a schedule. */
  escalationDays: (letterId: number) => Promise<number | null>;
  /** Changes whenever the database may have changed: the notices' stamps are kept until it does. */
  writeMark: () => string;
  clock: Clock;
  retentionMonths: number;
  mailCaptured: boolean;
}

/** How many letters' notice stamps are remembered between writes. */
const MAX_STAMPS = 2_000;

/** Reads a public letter's privacy notice from its settings and the platform's. */
export class PrivacyNoticeService {
  private readonly stamps: UntilWrite<string, string>;

  constructor(private readonly deps: PrivacyNoticeServiceDeps) {
    this.stamps = new UntilWrite(deps.writeMark, MAX_STAMPS);
  }

  /** The notice of a published letter, its title in the text language asked for where it has it; else 404. */
  async notice(slug: string, textLanguage: string): Promise<PrivacyNotice> {
    return privacyNotice(await this.facts(slug, textLanguage), this.deps.clock.now());
  }

  /**
   * Everything the notice says that the database holds, as one string (the page cache's key changes with
   * it): the letter, its recipients, delivery settings and sendings, the controller, the webhooks. Kept
   * until the database changes; undefined when the letter is not public.
   */
  async stamp(slug: string): Promise<string | undefined> {
    const stamps = this.stamps.current();
    const known = stamps.get(slug);
    if (known !== undefined) return known;
    if ((await this.deps.letters.pageStamp(slug)) === undefined) return undefined;
    const facts = await this.facts(slug, '');
    // The count moves with every signature and the notice does not show it.
    const stated = { ...facts, letter: { ...facts.letter, signatureCount: 0 } };
    const stamp = createHash('sha1').update(JSON.stringify(stated)).digest('base64url');
    stamps.set(slug, stamp);
    return stamp;
  }

  private async facts(slug: string, textLanguage: string): Promise<PrivacyNoticeFacts> {
    const { letter, text } = await this.deps.letters.heading(slug, textLanguage);
    const [recipients, closedAt, stored, sent, settings, signatureListeners, escalationDays] =
      await Promise.all([
        this.deps.letterRows.recipientsOfLetters([letter.id]),
        this.deps.letterRows.closedAt(letter.id),
        this.deps.deliveries.settingsOf(letter.id),
        this.deps.sent.sentTo(letter.id),
        this.deps.settings.read(),
        this.deps.signatureListeners(letter.id),
        this.deps.escalationDays(letter.id),
      ]);
    return {
      letter,
      title: text.title,
      titleLanguage: text.language,
      recipients: recipients.get(letter.id) ?? [],
      closedAt,
      delivery: deliverySettingsOf(stored, letter),
      sent,
      controller: {
        controllerName: settings.controllerName,
        controllerAddress: settings.controllerAddress,
        controllerEmail: settings.controllerEmail,
        controllerDpo: settings.controllerDpo,
        controllerAuthority: settings.controllerAuthority,
      },
      signatureListeners,
      escalationDays,
      retentionMonths: this.deps.retentionMonths,
      mailCaptured: this.deps.mailCaptured,
    };
  }
}
