// `npm run test:unit` passes the spec glob; `npx mocha test/quant` runs one folder.
// Mocha runs the TypeScript tests through tsx (no type check here: `npm run typecheck` does that).
module.exports = {
  'node-option': ['import=tsx'],
  require: ['test/helpers/setup.ts'],
  reporter: 'test/helpers/summary_reporter.cjs',
  timeout: 120000,
  recursive: true,
  extension: ['ts'],
};
