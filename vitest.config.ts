import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'contracts/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // On CI a failed test runs once more: the end-to-end tests drive real processes on two shared cores, and a rare
    // interleaving can miss a wait (the ones seen are listed in the README's Tests section). Locally a failure is final.
    retry: process.env.CI ? 1 : 0,
    pool: 'forks',
    // Two cores here: keep anvil-backed files from starving each other.
    maxWorkers: 2,
  },
})
