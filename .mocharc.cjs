// Mocha runs the TypeScript tests through tsx (no type check here: `npm run typecheck` does that).
module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/**/*.test.ts'],
  require: ['test/helpers/setup.ts'],
  reporter: 'test/helpers/summary_reporter.cjs',
  timeout: 120000,
  recursive: true,
};
