// One flat config. The pure core's boundary is enforced here: no `vscode`, no LSP server library,
// no Node built-ins (all I/O is injected through the host interfaces in engine/src/core/host.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'samples/**', 'test-artifacts/**', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['engine/src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'The core must not depend on the editor.' },
            ...nodeBuiltins.map((name) => ({ name, message: 'The core does no I/O of its own: inject it.' })),
          ],
          patterns: [
            {
              group: ['vscode-languageserver', 'vscode-languageserver/*'],
              message: 'The core must not depend on the LSP server library.',
            },
            {
              group: ['vscode-languageclient', 'vscode-languageclient/*'],
              message: 'The core must not depend on the LSP client.',
            },
            {
              group: ['**/node/**', '**/cli/**', '**/server', '**/handlers/**'],
              message: 'The core imports only from the core.',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    // The client (extension host UI) reaches the engine only through its public module, and the
    // language server only through the requests in server/src/protocol.ts.
    files: ['client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/src/*', '**/engine/src/**', '!**/engine/src/index.js'],
              message: "The client imports the engine only through its public module ('../../engine/src').",
            },
            {
              group: ['**/server/src/*', '**/server/src/**', '!**/server/src/protocol'],
              message: 'The client talks to the language server only through server/src/protocol.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/src/**/*.ts', 'engine/src/**/*.ts'],
    ignores: ['engine/src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // node:test's test()/describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after'],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
