/** A local NATS JetStream cluster of `nats-server` processes on loopback: free ports, one store dir per node. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { NatsClusterStartError, NatsServerMissingError } from './errors.js'

/** Where Debian's `nats-server` package puts the binary. @example spawn(DEFAULT_NATS_SERVER, ['--version']) */
export const DEFAULT_NATS_SERVER = '/usr/sbin/nats-server'

/**
 * One node of a {@link NatsCluster}.
 *
 * @example const { url, monitorUrl } = cluster.nodes[0]
 */
export type NatsNode = {
  /** `server_name` in its configuration: `n0`, `n1`, … */
  name: string
  /** Client URL, `nats://127.0.0.1:PORT`. */
  url: string
  /** HTTP monitoring endpoint (`/varz`, `/jsz`, `/healthz`), `http://127.0.0.1:PORT`. */
  monitorUrl: string
  /** Process id while it runs. */
  pid: number | undefined
}

/**
 * A running cluster: its nodes, `kill(i)` (SIGKILL of node i), `restart(i)` (a killed node again, on its ports and
 * store; JetStream answers once a quorum runs, `ready()` waits for that), `stop()` (SIGTERM to all, then the store
 * dirs go).
 *
 * @example const cluster = await startNatsCluster({ size: 3 }); relay({ nats: cluster.urls }); await cluster.stop()
 */
export type NatsCluster = {
  nodes: NatsNode[]
  /** Client URLs of every node. */
  urls: string[]
  /** The directory holding every node's configuration, log and JetStream store. */
  dir: string
  kill(index: number): Promise<void>
  restart(index: number): Promise<void>
  ready(): Promise<void>
  stop(): Promise<void>
}

/**
 * Options of {@link startNatsCluster}.
 *
 * @example const options: NatsClusterOptions = { size: 3, binary: '/usr/sbin/nats-server' }
 */
export type NatsClusterOptions = {
  /** Number of nodes. Default 3 (the smallest cluster that keeps a JetStream quorum after losing one). */
  size?: number | undefined
  /** `nats-server` binary. Default `SEALPOST_NATS_SERVER`, else {@link DEFAULT_NATS_SERVER}. */
  binary?: string | undefined
  /** Where configurations, logs and stores go. Default a new temp dir; removed by `stop()` either way. */
  dir?: string | undefined
  /** How long JetStream may take to elect its leader. Default 30 s. */
  readyTimeoutMs?: number | undefined
}

/**
 * The `nats-server` binary to run; a `NatsServerMissingError` naming the install command if it does not run.
 *
 * @example const binary = findNatsServer() // '/usr/sbin/nats-server'
 */
export function findNatsServer(binary?: string | undefined, env = process.env): string {
  const path = binary ?? env.SEALPOST_NATS_SERVER ?? DEFAULT_NATS_SERVER
  const probe = spawnSync(path, ['--version'], { stdio: 'ignore' })
  if (probe.error || probe.status !== 0) throw new NatsServerMissingError({ path })
  return path
}

/**
 * The configuration of node `index` of a loopback cluster: client, route and monitoring ports, JetStream with its
 * store under `storeDir`, and routes to every node (its own included, which nats-server ignores).
 *
 * @example writeFileSync('n0.conf', natsNodeConfig({ index: 0, clientPort: 4222, monitorPort: 8222, routePorts: [6222, 6223, 6224], storeDir: '/tmp/n0' }))
 */
export function natsNodeConfig({
  index,
  clientPort,
  monitorPort,
  routePorts,
  storeDir,
}: {
  index: number
  clientPort: number
  monitorPort: number
  routePorts: number[]
  storeDir: string
}): string {
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')
  return `server_name: n${index}
listen: 127.0.0.1:${clientPort}
http: 127.0.0.1:${monitorPort}
jetstream { store_dir: "${storeDir}", max_memory_store: 64MB, max_file_store: 1GB }
cluster { name: sealpost-local, listen: 127.0.0.1:${routePorts[index]}, routes: [${routes}] }
`
}

/**
 * Starts `size` nats-server processes with JetStream on free loopback ports, routed to each other, and waits until
 * JetStream answers through them. A node that exits at once (most often: another process took one of its ports
 * between the probe and its bind) makes it start again on fresh ports, three times at most. On failure every
 * process it started is stopped.
 *
 * @example const cluster = await startNatsCluster({ size: 3 }) // ...; await cluster.stop()
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options)
    } catch (err) {
      if (!(err instanceof NatsClusterStartError && err.nodeExited) || attempt >= 3) throw err
    }
  }
}

async function startOnce(options: NatsClusterOptions): Promise<NatsCluster> {
  const size = options.size ?? 3
  const binary = findNatsServer(options.binary)
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sealpost-nats-'))
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const ports = { client: [] as number[], route: [] as number[], monitor: [] as number[] }
  for (let i = 0; i < size; i++) {
    ports.client.push(await freePort())
    ports.route.push(await freePort())
    ports.monitor.push(await freePort())
  }
  const procs: (ChildProcess | undefined)[] = []
  const nodes: NatsNode[] = []
  let exited: string | undefined
  let ready = false
  /** Starts node `index` from its configuration (again, after a kill: same ports, same store). */
  const launch = (index: number): ChildProcess => {
    const logPath = join(dir, `n${index}.log`)
    const log = openSync(logPath, 'a')
    const proc = spawn(binary, ['-c', join(dir, `n${index}.conf`)], { stdio: ['ignore', log, log] })
    closeSync(log) // the child holds its own copy
    proc.once('exit', (code, signal) => {
      if (!ready) exited ??= `node n${index} exited (${signal ?? `code ${code}`}): ${lastLine(logPath)}`
      const node = nodes[index]
      if (node && node.pid === proc.pid) node.pid = undefined
    })
    procs[index] = proc
    const node = nodes[index]
    if (node) node.pid = proc.pid
    return proc
  }
  for (let i = 0; i < size; i++) {
    const conf = join(dir, `n${i}.conf`)
    writeFileSync(
      conf,
      natsNodeConfig({
        index: i,
        clientPort: ports.client[i] as number,
        monitorPort: ports.monitor[i] as number,
        routePorts: ports.route,
        storeDir: join(dir, `n${i}`),
      }),
    )
    const proc = launch(i)
    nodes.push({
      name: `n${i}`,
      url: `nats://127.0.0.1:${ports.client[i]}`,
      monitorUrl: `http://127.0.0.1:${ports.monitor[i]}`,
      pid: proc.pid,
    })
  }
  const urls = nodes.map((n) => n.url)
  const stop = async () => {
    await Promise.all(
      procs.map((p, i) => (p ? stopProcess(p).then(() => (procs[i] = undefined)) : undefined)),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  const timeoutMs = options.readyTimeoutMs ?? 30_000
  try {
    await waitForJetStream(urls, timeoutMs, () => exited)
    ready = true
  } catch (err) {
    await stop()
    throw err
  }
  return {
    nodes,
    urls,
    dir,
    async kill(index) {
      const p = procs[index]
      procs[index] = undefined
      const node = nodes[index]
      if (node) node.pid = undefined
      if (p) await stopProcess(p, 'SIGKILL')
    },
    async restart(index) {
      if (!procs[index]) launch(index)
    },
    ready: () => waitForJetStream(urls, timeoutMs, () => undefined),
    stop,
  }
}

async function waitForJetStream(
  urls: string[],
  timeoutMs: number,
  exited: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    const reason = exited()
    if (reason) throw new NatsClusterStartError({ reason, nodeExited: true })
    try {
      const nc = await connect({ servers: urls, timeout: 2_000 })
      try {
        await (await jetstreamManager(nc)).getAccountInfo()
        return
      } finally {
        await nc.close()
      }
    } catch (err) {
      last = err
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new NatsClusterStartError({
    reason: `JetStream elected no leader within ${timeoutMs / 1000} s`,
    cause: last,
  })
}

/** The last line of a node's log (why it exited), or '' if there is none. */
function lastLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').at(-1) ?? ''
  } catch {
    return ''
  }
}

function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    p.once('exit', () => resolve())
    p.kill(signal)
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
