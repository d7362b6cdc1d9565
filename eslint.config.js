// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'koa',
  '@koa/*',
  '@aws-sdk/*',
  'csv-parse',
  'csv-parse/*',
  'winston',
  'fs',
  'node:fs',
  'fs/*',
  'node:fs/*',
];

// The layers of src/: each folder may import only the folders listed (and errors.ts);
// service.ts and main.ts wire them all.
const LAYERS = {
  pipeline: [],
  csv: ['pipeline'],
  storage: ['config'],
  workers: ['config', 'logging'],
  logging: [],
  config: [],
  jobs: ['config', 'logging', 'pipeline', 'csv', 'storage', 'workers'],
  metrics: ['config', 'logging', 'pipeline', 'jobs'],
  http: ['config', 'logging', 'pipeline', 'jobs', 'metrics', 'csv'],
};
const FOLDERS = Object.keys(LAYERS);

/** no-restricted-imports patterns that keep `folder` to the layers it may use. */
function layerPatterns(folder, allowed) {
  const forbidden = FOLDERS.filter((other) => other !== folder && !allowed.includes(other));
  return [
    ...forbidden.map((other) => ({
      group: [`../${other}/*`, `../../${other}/*`, `../../../${other}/*`],
      message: `src/${folder} may import only ${['errors', ...allowed].join(', ')}: dependencies point one way (docs/architecture.md, "Layers").`,
    })),
    { group: ['**/service.ts', '**/main.ts'], message: 'Only the composition root imports service.ts and main.ts.' },
    { group: ['rxjs/internal/*'], message: 'Import from the public rxjs entry points.' },
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.bench/', '.scratch/', 'artifacts/', 'public/vendor/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Prettier wraps code at 120; comments are wrapped by hand. Long strings and URLs may run on.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['rxjs/internal/*'], message: 'Import from the public rxjs entry points.' }] },
      ],
    },
  },
  {
    // chai's property assertions (`.to.be.true`) are expressions by design.
    files: ['spec/**/*.ts', 'examples/**/*.spec.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  ...Object.entries(LAYERS).map(([folder, allowed]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(folder, allowed) }] },
  })),
  {
    files: ['src/pipeline/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ioModules, message: 'src/pipeline is pure: no koa, AWS, csv-parse, winston or fs.' },
            ...layerPatterns('pipeline', LAYERS.pipeline),
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Time only through RxJS schedulers.' },
        { name: 'setInterval', message: 'Time only through RxJS schedulers.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time only through RxJS schedulers.' },
      ],
    },
  },
);
