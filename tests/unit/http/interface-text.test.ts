import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../../server/audit/audit.js';
import { readLanguage } from '../../../server/lib/i18n.js';
import { ACTIONS } from '../../../server/policy/policy.js';

// A key with no text shows itself to the reader ("audit.actions.letter-created"); these checks find such
// keys before a person does.
const messages = readLanguage('en');

function hasText(key: string): boolean {
  const find = (k: string): unknown =>
    k
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], messages);
  const found = find(key);
  // Plural keys are written as key_one / key_other; a list read with returnObjects is
  // a set of texts (the merged tree keeps it as an object of numbered texts).
  return (
    typeof found === 'string' ||
    (typeof found === 'object' &&
      found !== null &&
      Object.values(found).every((item) => typeof item === 'string')) ||
    typeof find(`${key}_other`) === 'string'
  );
}

function viewFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? viewFiles(path.join(dir, entry.name))
      : entry.name.endsWith('.hbs')
        ? [path.join(dir, entry.name)]
        : [],
  );
}

describe('interface text', () => {
  it('has an English label for every audit action the log can hold', () => {
    const missing = AUDIT_ACTIONS.filter((action) => !hasText(`audit.actions.${action}`));
    expect(missing).toEqual([]);
  });

  it('has words for every policy action a refusal on the audit log can name', () => {
    const missing = ACTIONS.filter((action) => !hasText(`audit.values.policyActions.${action}`));
    expect(missing).toEqual([]);
  });

  it('has English text for every key a view names literally', () => {
    const missing: string[] = [];
    for (const file of viewFiles(path.resolve('views'))) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/[{(]t "([^"]+)"/g)) {
        const key = match[1]!;
        if (!hasText(key)) missing.push(`${path.relative('views', file)}: ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
