/** Test helper: relay nodes of a JetStream cluster as child processes (`relayClusterChild.ts` under tsx). */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Hex } from 'viem'
import type { Deployment } from '../../src/chain/deployment.js'
import type { RelayLimits } from '../../src/relay/limits.js'

const CHILD = join(import.meta.dirname, 'relayClusterChild.ts')

/**
 * A relay process: its URL, everything it printed, and waiting for a line.
 *
 * @example const relay = await startClusterRelay(options); await relay.printed(/lease acquired/)
 */
export type ClusterRelayProcess = {
  url: string
  proc: ChildProcess
  output: () => string
  /** Resolves (with the time, unix ms) once the process printed a line matching `re` (after output offset `since`). */
  printed(re: RegExp, timeoutMs?: number, since?: number): Promise<number>
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts one relay process on the NATS cluster `nats` and resolves once it listens.
 *
 * @example const relay = await startClusterRelay({ rpc, deployment, dir, nats: cluster.urls, anchorKey })
 */
export function startClusterRelay(o: {
  rpc: string
  deployment: Deployment
  dir: string
  nats: string[]
  anchorKey?: Hex | undefined
  lease?: { ttlMs: number; checkMs: number } | undefined
  limits?: Partial<RelayLimits> | undefined
}): Promise<ClusterRelayProcess> {
  const options = { ...o, deployment: { ...o.deployment, deployBlock: o.deployment.deployBlock.toString() } }
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const lines: { re: RegExp; since: number; resolve: (at: number) => void }[] = []
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    if (process.env.CLUSTER_DEBUG) process.stderr.write(chunk)
    const at = Date.now()
    for (const w of [...lines])
      if (w.re.test(output.slice(w.since))) {
        lines.splice(lines.indexOf(w), 1)
        w.resolve(at)
      }
  }
  proc.stdout?.on('data', onData)
  proc.stderr?.on('data', onData)
  const printed = (re: RegExp, timeoutMs = 60_000, since = 0) =>
    new Promise<number>((resolve, reject) => {
      if (re.test(output.slice(since))) return resolve(Date.now())
      const timer = setTimeout(() => reject(new Error(`relay did not print ${re}:\n${output}`)), timeoutMs)
      lines.push({
        re,
        since,
        resolve: (at) => {
          clearTimeout(timer)
          resolve(at)
        },
      })
    })
  const kill = (signal: NodeJS.Signals = 'SIGKILL') =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
      // A relay that does not stop within 5 s of SIGTERM is killed, so a test never leaves one running.
      const hard = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), 5_000)
      proc.once('exit', () => {
        clearTimeout(hard)
        resolve()
      })
      proc.kill(signal)
    })
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${output}`)))
    printed(/relay (ws:\/\/\S+)/).then(() => {
      resolve({ url: /relay (ws:\/\/\S+)/.exec(output)![1]!, proc, output: () => output, printed, kill })
    }, reject)
  })
}
