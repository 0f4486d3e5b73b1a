import { LetterRepository } from '../../server/letters/letter-repository.js';
import { LetterService } from '../../server/letters/letter-service.js';
import { ManualClock } from '../../server/lib/clock.js';
import type { TestDatabase } from './test-database.js';

/** A LetterService on a test database, with no signatories or deliveries, at a fixed time. */
export function letterServiceOn(
  temp: TestDatabase,
  now: Date,
): { repository: LetterRepository; service: LetterService } {
  const repository = new LetterRepository(temp.db);
  const service = new LetterService({
    letters: repository,
    writeMark: temp.handle.writeMark,
    signatories: { recent: async () => [] },
    sent: { sentTo: async () => [] },
    clock: new ManualClock(now),
  });
  return { repository, service };
}
