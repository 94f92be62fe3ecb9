// Lint: typescript-eslint's recommended rules, and the layer rules of docs/architecture.md as
// import boundaries (eslint-plugin-boundaries). A layer may import only the layers listed for it.
import js from '@eslint/js';
import globals from 'globals';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

const layers = {
  shared: ['shared', 'nostr'], // log, config, progress, ranges: leaves (config reads nostr's limits)
  nostr: ['nostr', 'shared'], // the pure rules of the protocol
  db: ['db', 'shared'],
  store: ['store', 'db', 'nostr', 'shared'],
  control: ['control', 'db', 'nostr', 'shared'],
  metrics: ['metrics', 'shared'],
  ingest: ['ingest', 'store', 'db', 'nostr', 'shared', 'app'], // app: the Runtime type (service.ts)
  api: ['api', 'store', 'control', 'db', 'nostr', 'metrics', 'shared'],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/.data/', 'migrations/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
  // Tests read JSON response bodies as `any`.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': [
        ...Object.keys(layers)
          .filter((type) => type !== 'shared')
          .map((type) => ({ type, pattern: `src/${type}/**`, partialMatch: false })),
        { type: 'shared', pattern: 'src/{log,config,progress,ranges}.*', partialMatch: false },
        { type: 'app', pattern: 'src/{cli,runtime}.*', partialMatch: false },
        { type: 'app', pattern: 'src/commands/**', partialMatch: false },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            { from: { element: { type: 'app' } }, allow: { to: { element: { type: '*' } } } },
            ...Object.entries(layers).map(([type, allowed]) => ({
              from: { element: { type } },
              allow: { to: { element: { types: { anyOf: allowed } } } },
            })),
            // External packages are not layers.
            { allow: { to: { module: { origin: 'external' } } } },
          ],
        },
      ],
    },
  },
  {
    // SQL stays in store/, control/ and db/.
    files: ['src/ingest/**/*.ts', 'src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'drizzle-orm', importNames: ['sql'], message: 'SQL lives in src/store (or src/control, src/db).' }] },
      ],
    },
  },
);
