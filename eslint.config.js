// Lint rules are errors or off, never warnings: one gate (npm run check).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Slices depend one way (docs/architecture.md, "Slices and their direction"). The kernel serves every
// slice and never imports one; domain slices are ordered, and each may import only the kernel and the
// slices before it. Type-only imports count too: a type is a dependency a reader has to follow.
const KERNEL = ['lib', 'db', 'policy', 'audit', 'accounts', 'settings', 'mail', 'outbox', 'http', 'metrics'];
const DOMAIN = [
  'recipients',
  'letters',
  'signatures',
  'limits',
  'abuse',
  'commitments',
  'deliveries',
  'exports',
  'sharing',
  'pages',
  'api',
];
// The composition root and entry points may import anything; nothing imports them.
const TOP = ['cli'];
const TOP_FILES = ['app', 'wiring', 'main', 'main-support', 'worker-main', 'config'];

function mayImport(slice) {
  if (slice === 'lib') return [];
  if (slice === 'db') return ['lib'];
  if (KERNEL.includes(slice)) return KERNEL.filter((s) => s !== slice);
  return [...KERNEL, ...DOMAIN.slice(0, DOMAIN.indexOf(slice))];
}

/** One flat-config block per slice forbidding imports against the direction. */
function sliceDirection() {
  const slices = [...KERNEL, ...DOMAIN].map((slice) => {
    const allowed = new Set([slice, ...mayImport(slice)]);
    const forbidden = [...KERNEL, ...DOMAIN, ...TOP].filter((s) => !allowed.has(s));
    const kind = KERNEL.includes(slice) ? 'the kernel' : 'a domain slice';
    return {
      files: [`server/${slice}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...forbidden.map((other) => ({
                group: [`../${other}/*`],
                message: `${slice}/ is ${kind} and may not import ${other}/: slices depend one way (docs/architecture.md). Move the code, or define a port in ${slice}/ that wiring.ts satisfies.`,
              })),
              {
                group: TOP_FILES.filter((file) => file !== 'config').map((file) => `../${file}.js`),
                message:
                  'Slices never import the composition root or entry points; take what you need as an argument.',
              },
            ],
          },
        ],
      },
    };
  });
  // Migrations are frozen history: they import nothing from the app, whose code moves on (DESIGN 10).
  const migrations = {
    files: ['server/db/migrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./*', '../*', '../../*'],
              message:
                'Migrations are frozen: they import only kysely, never the app (DESIGN convention 10).',
            },
          ],
        },
      ],
    },
  };
  return [...slices, migrations];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Only config.ts reads the environment.
    files: ['server/**/*.ts'],
    ignores: ['server/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through server/config.ts.' },
      ],
    },
  },
  {
    // Access is a policy, not a habit: who may do what is decided in server/policy/policy.ts (can,
    // authorize), never by comparing roles where the work is done.
    files: ['server/**/*.ts'],
    ignores: ['server/policy/**', 'server/accounts/**', 'server/http/auth.ts', 'server/cli/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "BinaryExpression > MemberExpression.left[property.name='role'], BinaryExpression > MemberExpression.right[property.name='role']",
          message: 'Ask the policy (can / authorize in server/policy/policy.ts) instead of comparing roles.',
        },
        {
          selector: "BinaryExpression > ChainExpression > MemberExpression[property.name='role']",
          message: 'Ask the policy (can / authorize in server/policy/policy.ts) instead of comparing roles.',
        },
        {
          selector: "TSAsExpression > MemberExpression.expression[object.property.name='locals']",
          message:
            'res.locals is typed in server/http/locals.ts: declare the local there instead of casting it.',
        },
      ],
    },
  },
  {
    files: [
      'server/main.ts',
      'server/main-support.ts',
      'server/worker-main.ts',
      'server/cli/**/*.ts',
      'tests/**/*.ts',
      'bench/**/*.ts',
      'seeds/**/*.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  ...sliceDirection(),
);
