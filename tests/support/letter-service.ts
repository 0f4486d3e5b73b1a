import { databaseWriteMark } from '../../server/db/database.js';
import { LetterRepository } from '../../server/letters/letter-repository.js';
import { LetterService } from '../../server/letters/letter-service.js';
import { ManualClock } from '../../server/lib/clock.js';
import type { TempDatabase } from './temp-database.js';

/** A LetterService on a temp database, with no signatories or deliveries, at a fixed time. */
export function letterServiceOn(
  temp: TempDatabase,
  now: Date,
): { repository: LetterRepository; service: LetterService } {
  const repository = new LetterRepository(temp.db);
  const service = new LetterService({
    letters: repository,
    writeMark: databaseWriteMark(temp.sqlite),
    signatories: { recent: async () => [] },
    sent: { sentTo: async () => [] },
    clock: new ManualClock(now),
  });
  return { repository, service };
}
