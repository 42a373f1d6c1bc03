/** Test helper: the `sealpost` CLI as a user runs it: real processes, temp homes, `sealpost up` and its join line. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, vi } from 'vitest'
import { main } from '../../src/cli/main.js'
import { freePort } from './net.js'

const run = promisify(execFile)

/** The CLI entry point, as `npm install -g` would put it on the PATH. */
export const sealpostBin = join(import.meta.dirname, '..', '..', 'bin', 'sealpost.js')

/** What a finished `sealpost` process left: exit code, stdout, stderr. */
export type CliResult = { code: number; stdout: string; stderr: string }

/** The environment a test process gets: this process's, without SEALPOST_* settings leaking in, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SEALPOST_')))
  return { ...base, ...env }
}

/**
 * Runs `sealpost ARGS…` in this process (`main()`, no module loading: for tests that run many commands), capturing
 * what it writes to stdout and stderr.
 *
 * @example const r = await sealpostInProcess(['--home', home, 'ids', 'verify', '--log', log])
 */
export async function sealpostInProcess(args: string[]): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  try {
    return { code: await main(args), stdout, stderr }
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
}

/**
 * Runs `sealpost ARGS…` to completion (exit code, never a throw).
 *
 * @example const r = await sealpost(['--home', home, 'id', 'new'], { SEALPOST_PASSPHRASE: 'x' })
 */
export async function sealpost(
  args: string[],
  env: Record<string, string> = {},
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [sealpostBin, ...args], {
      env: cliEnv(env),
      timeout: timeoutMs,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** A `sealpost` process left running (up, inbox --follow): its output so far, its exit, and a signal to stop it. */
export type CliProcess = {
  child: ChildProcess
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string
  exited: Promise<number | null>
  /** Sends `signal` (default SIGINT, as Ctrl-C does) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts `sealpost ARGS…` in the background and resolves once its output matches `ready` (rejects if it exits
 * first or takes longer than `timeoutMs`).
 *
 * @example const follow = await startSealpost(['--home', bob, 'inbox', '--follow'], /Following/, env)
 */
export function startSealpost(
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
  { timeoutMs = 90_000 }: { timeoutMs?: number } = {},
): Promise<CliProcess> {
  const child = spawn(process.execPath, [sealpostBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cliEnv(env),
  })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const handle: CliProcess = {
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sealpost ${args.join(' ')} did not get ready:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (ready.test(output)) {
        clearTimeout(timer)
        resolve(handle)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`sealpost ${args.join(' ')} exited with ${code}:\n${output}`))
    })
  })
}

/**
 * Resolves once `output()` contains `text` (polling every 100 ms), or rejects after `timeoutMs` with the output.
 *
 * @example await waitForOutput(follow.output, 'live hello')
 */
export async function waitForOutput(output: () => string, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" did not appear:\n${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The three variables of the line `sealpost up` prints for another user to type. */
export type JoinEnv = { SEALPOST_RPC: string; SEALPOST_RELAY: string; SEALPOST_DEPLOYMENT: string }

/**
 * Parses the `export SEALPOST_RPC=… SEALPOST_RELAY=… SEALPOST_DEPLOYMENT=…` line `sealpost up` printed (values as a
 * shell would read them, single quotes included).
 *
 * @example const join = parseJoinLine(up.output()); await sealpost(['id', 'add-device'], { ...join })
 */
export function parseJoinLine(output: string): JoinEnv {
  const line = output.split('\n').find((l) => l.trim().startsWith('export SEALPOST_RPC='))
  if (!line) throw new Error(`no join line in:\n${output}`)
  const env: Record<string, string> = {}
  for (const m of line
    .trim()
    .slice('export '.length)
    .matchAll(/(\w+)=('(?:[^']|'\\'')*'|\S+)/g)) {
    const raw = m[2] as string
    env[m[1] as string] = raw.startsWith("'") ? raw.slice(1, -1).replaceAll("'\\''", "'") : raw
  }
  const { SEALPOST_RPC, SEALPOST_RELAY, SEALPOST_DEPLOYMENT } = env
  if (!SEALPOST_RPC || !SEALPOST_RELAY || !SEALPOST_DEPLOYMENT)
    throw new Error(`incomplete join line: ${line}`)
  return { SEALPOST_RPC, SEALPOST_RELAY, SEALPOST_DEPLOYMENT }
}

/**
 * `sealpost --home HOME up` on free ports (so tests and a developer's own stack do not collide), started and ready.
 *
 * @example const up = await startUp(home, { SEALPOST_PASSPHRASE: 'x' }); const join = parseJoinLine(up.output())
 */
export async function startUp(
  home: string,
  env: Record<string, string> = {},
  extra: string[] = [],
): Promise<CliProcess & { ports: { chain: number; relay: number; dashboard: number } }> {
  const ports = { chain: await freePort(), relay: await freePort(), dashboard: await freePort() }
  const up = await startSealpost(
    [
      '--home',
      home,
      'up',
      '--chain-port',
      String(ports.chain),
      '--port',
      String(ports.relay),
      '--dashboard-port',
      String(ports.dashboard),
      ...extra,
    ],
    /Ctrl-C stops everything/,
    env,
  )
  return Object.assign(up, { ports })
}

/**
 * Temp directories for homes, removed together at the end.
 *
 * @example const homes = tempHomes(); const alice = homes.make('alice'); afterAll(homes.remove)
 */
export function tempHomes(): { make(name: string): string; remove(): void } {
  const dirs: string[] = []
  return {
    make(name) {
      const dir = mkdtempSync(join(tmpdir(), `sealpost-${name}-`))
      dirs.push(dir)
      return dir
    },
    remove() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * One `sealpost up` for a whole test file: started before its tests (free ports, `extra` options), stopped after
 * them with every home made through `homes`. `joined` is what another user's shell holds after typing the line `up`
 * printed, plus the passphrase; it is filled in before the first test.
 *
 * @example const { homes, joined } = sharedUp('cli passphrase'); test('…', () => sealpost(['id', 'new'], joined))
 */
export function sharedUp(
  passphrase: string,
  extra: string[] = [],
): { homes: ReturnType<typeof tempHomes>; joined: JoinEnv & { SEALPOST_PASSPHRASE: string } } {
  const homes = tempHomes()
  const joined = { SEALPOST_PASSPHRASE: passphrase } as JoinEnv & { SEALPOST_PASSPHRASE: string }
  let up: CliProcess | undefined
  beforeAll(async () => {
    up = await startUp(homes.make('up'), { SEALPOST_PASSPHRASE: passphrase }, extra)
    Object.assign(joined, parseJoinLine(up.output()))
  }, 120_000)
  afterAll(async () => {
    await up?.stop()
    homes.remove()
  })
  return { homes, joined }
}

/**
 * The lines of `text`, trimmed at both ends (a one-line error is one element).
 *
 * @example expect(lines(r.stderr)).toHaveLength(1)
 */
export const lines = (text: string): string[] => text.trim().split('\n')
