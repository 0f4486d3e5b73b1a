// Lint rules are errors or off, never warnings: one gate (npm run check).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
