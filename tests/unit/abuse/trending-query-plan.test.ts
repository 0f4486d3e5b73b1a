import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrendingRepository } from '../../../server/abuse/trending-repository.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';

/**
 * The trending view and the dashboard alert read the last hour of signatures on every admin page view
 * of the dashboard: they must read that hour through the created_at index, never the whole table.
 */
describe('trending sources read only the last hour through an index', () => {
  let database: TempDatabase;
  const plans: string[][] = [];

  beforeAll(async () => {
    database = await createTempDatabase();
    const prepare = database.sqlite.prepare.bind(database.sqlite);
    // Every statement the repository runs is also explained, with the same parameters.
    database.sqlite.prepare = ((text: string) => {
      const statement = prepare(text);
      if (text.includes('from "signatures"')) {
        const explain = prepare(`explain query plan ${text}`);
        const run = statement.all.bind(statement);
        statement.all = ((...params: unknown[]) => {
          plans.push(explain.all(...params).map((row) => (row as { detail: string }).detail));
          return run(...params);
        }) as typeof statement.all;
      }
      return statement;
    }) as typeof database.sqlite.prepare;
  });
  afterAll(async () => {
    await database.close();
  });

  it('per client address hash and per e-mail domain', async () => {
    const repository = new TrendingRepository(database.db);
    const since = new Date('2026-11-23T09:00:00Z');
    await repository.byAddressHash(since, 25);
    await repository.byEmailDomain(since, 25);
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan.join('\n')).toMatch(
        /SEARCH signatures USING (COVERING )?INDEX signatures_created \(created_at>\?\)/,
      );
      expect(plan.join('\n')).not.toMatch(/SCAN signatures/);
    }
  });
});
