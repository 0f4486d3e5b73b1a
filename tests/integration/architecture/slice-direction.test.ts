import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The lint rule in eslint.config.js is what keeps docs/architecture.md's picture true; these cases make
// sure it refuses the imports the picture forbids and lets the allowed ones through.
const eslint = new ESLint();

async function importErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('slices depend one way', () => {
  it('refuses a lower slice importing a higher one, type-only imports included', async () => {
    const errors = await importErrors(
      'server/letters/example.ts',
      "import type { SignatureRepository } from '../signatures/signature-repository.js';\nexport type X = SignatureRepository;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('letters/ is a domain slice and may not import signatures/');
  });

  it('refuses the kernel importing any domain slice', async () => {
    const errors = await importErrors(
      'server/http/example.ts',
      "import { DatabaseLimitStore } from '../limits/limit-store.js';\nexport const x = DatabaseLimitStore;\n",
    );
    expect(errors[0]).toContain('http/ is the kernel and may not import limits/');
  });

  it('refuses a slice importing the composition root', async () => {
    const errors = await importErrors(
      'server/deliveries/example.ts',
      "import { wire } from '../wiring.js';\nexport const x = wire;\n",
    );
    expect(errors[0]).toContain('composition root');
  });

  it('refuses a migration importing app code', async () => {
    const errors = await importErrors(
      'server/db/migrations/2099-01-01-example.ts',
      "import { LETTER_LANGUAGES } from '../../lib/languages.js';\nexport const x = LETTER_LANGUAGES;\n",
    );
    expect(errors[0]).toContain('Migrations are frozen');
  });

  it('lets a slice import the kernel and the slices below it', async () => {
    const errors = await importErrors(
      'server/deliveries/example.ts',
      [
        "import { textIn } from '../letters/letter.js';",
        "import { publicName } from '../signatures/signature.js';",
        "import { AppError } from '../lib/errors.js';",
        "import { authorize } from '../policy/policy.js';",
        'export const x = [textIn, publicName, AppError, authorize];',
      ].join('\n') + '\n',
    );
    expect(errors).toEqual([]);
  });
});
