/** One real Temporal dev server for the whole run (test/setup/globalSetup.ts); files run in band. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/setup/globalSetup.ts',
  setupFiles: ['<rootDir>/test/setup/quietRuntime.ts'],
  globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
  testTimeout: 60000,
  maxWorkers: 1,
};
