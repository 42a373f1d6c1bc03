/** Starts and always stops a local anvil node (Foundry) for development, demos and tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Chain, defineChain, type Hex } from 'viem'
import { AnvilStartError } from './errors.js'

/**
 * The ten private keys anvil derives from its default mnemonic ("test test ... junk").
 *
 * @example
 * privateKeyToAccount(anvilPrivateKeys[0])
 */
export const anvilPrivateKeys = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const satisfies readonly Hex[]

/**
 * Options for {@link startAnvil}.
 *
 * @example
 * const options: StartAnvilOptions = { chainId: 1337 }
 */
export type StartAnvilOptions = {
  /** Chain id to serve (default 31337). */
  chainId?: number | undefined
  /** Port to listen on; default: a free port picked at random. */
  port?: number | undefined
  /** Hardfork (default 'osaka', which has the EIP-7951 P-256 precompile). */
  hardfork?: string | undefined
  /** Block time in seconds; default: automine. */
  blockTime?: number | undefined
  /** Extra command-line arguments. */
  args?: readonly string[] | undefined
  /** How long to wait for `eth_chainId` to answer (default 15 s). */
  timeoutMs?: number | undefined
  /** Explicit path of the anvil binary; default: the `@foundry-rs/anvil-<platform>-<arch>` package. */
  binary?: string | undefined
}

/**
 * A running anvil node. Always `stop()` it (or `await using anvil = await startAnvil()`).
 *
 * @example
 * const anvil: Anvil = await startAnvil(); await anvil.stop()
 */
export type Anvil = {
  rpcUrl: string
  port: number
  chainId: number
  pid: number
  /** A viem chain definition for this node. */
  chain: Chain
  /** The default anvil private keys (each funded with 10000 ETH). */
  accounts: readonly Hex[]
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process exited. Idempotent. */
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

const live = new Set<ChildProcess>()
const signals = ['SIGINT', 'SIGTERM'] as const
let handlersInstalled = false

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
  live.clear()
}

function onExit(): void {
  killAll()
}

function onSignal(signal: NodeJS.Signals): void {
  // An application that handles the signal itself stops its anvil in order, after what still talks to it (killing
  // it first left receipt waits polling a dead node); the exit handler still kills it if the application exits.
  if (process.listenerCount(signal) > 1) return
  killAll()
  removeHandlers()
  // Keep the default behaviour (terminate).
  process.kill(process.pid, signal)
}

function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', onExit)
  for (const s of signals) process.on(s, onSignal)
}

function removeHandlers(): void {
  if (!handlersInstalled) return
  handlersInstalled = false
  process.off('exit', onExit)
  for (const s of signals) process.off(s, onSignal)
}

function track(child: ChildProcess): void {
  live.add(child)
  installHandlers()
  child.once('exit', () => {
    live.delete(child)
    if (live.size === 0) removeHandlers()
  })
}

/**
 * Path of the anvil binary: the platform package's `bin/anvil`, else `node_modules/.bin/anvil`.
 *
 * @example
 * spawnSync(resolveAnvilBinary(), ['--version'])
 */
export function resolveAnvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`
  const require = createRequire(import.meta.url)
  try {
    const manifest = require.resolve(`${pkg}/package.json`)
    const bin = join(dirname(manifest), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
    if (existsSync(bin)) return bin
  } catch {}
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'node_modules', '.bin', 'anvil')
    if (existsSync(candidate)) return candidate
    const parent = resolve(dir, '..')
    if (parent === dir) break
    dir = parent
  }
  throw new AnvilStartError({ reason: `binary not found (install ${pkg})`, stderr: [] })
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer()
    server.unref()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => ok(port))
    })
  })
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms))

async function answersChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    })
    const body = (await res.json()) as { result?: string }
    return body.result ? Number(body.result) : undefined
  } catch {
    return undefined
  }
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok()
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      ok()
    })
    child.kill('SIGTERM')
  })
}

async function startOnce(
  binary: string,
  port: number,
  options: StartAnvilOptions,
): Promise<{ child: ChildProcess } | { retry: true; stderr: string[] }> {
  const chainId = options.chainId ?? 31337
  const args = [
    '--hardfork',
    options.hardfork ?? 'osaka',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--chain-id',
    String(chainId),
    '--silent',
    ...(options.blockTime ? ['--block-time', String(options.blockTime)] : []),
    ...(options.args ?? []),
  ]
  const stderr: string[] = []
  // Its own process group: a terminal's Ctrl-C reaches this process, which stops anvil last, not anvil directly.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  track(child)
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr.push(...chunk.split('\n').filter((l) => l.trim() !== ''))
    if (stderr.length > 20) stderr.splice(0, stderr.length - 20)
  })
  let spawnError: Error | undefined
  child.once('error', (e) => {
    spawnError = e
  })
  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.timeoutMs ?? 15_000)
  while (Date.now() < deadline) {
    if (spawnError) {
      live.delete(child)
      throw new AnvilStartError({ reason: spawnError.message, stderr, cause: spawnError })
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      if (stderr.some((l) => /address already in use|EADDRINUSE/i.test(l))) return { retry: true, stderr }
      throw new AnvilStartError({ reason: `exited with code ${child.exitCode ?? child.signalCode}`, stderr })
    }
    const answered = await answersChainId(rpcUrl)
    if (answered !== undefined) {
      if (answered !== chainId) {
        await stopChild(child, 500)
        // Someone else answered on this port (race): try another one.
        return { retry: true, stderr }
      }
      return { child }
    }
    await sleep(40)
  }
  await stopChild(child, 500)
  throw new AnvilStartError({ reason: 'timed out waiting for eth_chainId', stderr })
}

/**
 * Spawns anvil (`--hardfork osaka`, a free port on 127.0.0.1) and waits until it answers `eth_chainId`.
 * The process is killed when the returned handle is stopped, and also when this Node process exits
 * or receives SIGINT/SIGTERM.
 *
 * @example
 * await using anvil = await startAnvil()
 * const client = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const binary = options.binary ?? resolveAnvilBinary()
  const chainId = options.chainId ?? 31337
  let lastStderr: string[] = []
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort())
    const result = await startOnce(binary, port, options)
    if ('retry' in result) {
      lastStderr = result.stderr
      if (options.port !== undefined) break
      continue
    }
    const { child } = result
    const rpcUrl = `http://127.0.0.1:${port}`
    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= stopChild(child, 2000)
      return stopping
    }
    return {
      rpcUrl,
      port,
      chainId,
      pid: child.pid!,
      chain: defineChain({
        id: chainId,
        name: 'Anvil',
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [rpcUrl] } },
      }),
      accounts: anvilPrivateKeys,
      stop,
      [Symbol.asyncDispose]: stop,
    }
  }
  throw new AnvilStartError({ reason: 'port already in use', stderr: lastStderr })
}
