// Vitest global setup: fails the run when a test leaves an anvil process behind.
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'

const MARKER = 'SEALPOST_TEST_RUN'

/** Pids of live anvil processes whose environment carries this run's marker. */
function anvilsOfRun(runId: string): number[] {
  const pids: number[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return pids // not Linux: nothing to check
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? ''
      if (!/(^|\/)anvil$/.test(argv0)) continue
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue // zombie: already dead
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      if (env.includes(`${MARKER}=${runId}`)) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

/**
 * Tags every process this run spawns (workers inherit the environment, anvil inherits theirs) and returns
 * the teardown that fails the run on orphaned anvil processes.
 *
 * @example
 * // vitest.config.ts: test: { globalSetup: ['test/globalSetup.ts'] }
 */
export function setup(): () => Promise<void> {
  const runId = randomUUID()
  process.env[MARKER] = runId
  return async () => {
    let orphans = anvilsOfRun(runId)
    for (let i = 0; i < 20 && orphans.length > 0; i++) {
      await new Promise((ok) => setTimeout(ok, 100))
      orphans = anvilsOfRun(runId)
    }
    if (orphans.length === 0) return
    for (const pid of orphans) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    // Vitest only logs teardown errors ("error during close"); set the exit code so the run fails.
    process.exitCode = 1
    throw new Error(`Tests left anvil processes running (now killed): ${orphans.join(', ')}`)
  }
}
