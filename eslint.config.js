// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['koa', '@koa/*', '@aws-sdk/*', 'csv-parse', 'csv-parse/*', 'winston', 'fs', 'node:fs', 'fs/*', 'node:fs/*'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.bench/', '.scratch/', 'artifacts/', 'public/vendor/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['rxjs/internal/*'], message: 'Import from the public rxjs entry points.' }] }],
    },
  },
  {
    // chai's property assertions (`.to.be.true`) are expressions by design.
    files: ['spec/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['src/pipeline/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ioModules, message: 'src/pipeline is pure: no koa, AWS, csv-parse, winston or fs.' },
          { group: ['rxjs/internal/*'], message: 'Import from the public rxjs entry points.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Time only through RxJS schedulers.' },
        { name: 'setInterval', message: 'Time only through RxJS schedulers.' },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Time only through RxJS schedulers.' }],
    },
  },
);
