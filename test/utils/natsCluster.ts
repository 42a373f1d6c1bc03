/** A real 3-node (or n-node) `nats-server` JetStream cluster on loopback for tests: free ports, temp store dirs. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'

/** Where Debian's `nats-server` package puts the binary (`SEALPOST_NATS_SERVER` overrides it). */
const NATS_SERVER = process.env.SEALPOST_NATS_SERVER ?? '/usr/sbin/nats-server'

/**
 * A running cluster: `urls` of its client ports; `kill(i)` SIGKILLs node i; `restart(i)` starts a stopped node again on
 * its port and store dir (JetStream answers once a quorum runs: `ready()` waits for it); `stop()` ends all and removes the dirs.
 *
 * @example const cluster = await startNatsCluster(3); const store = await JetStreamRelayStore.open({ servers: cluster.urls })
 */
export type NatsCluster = {
  urls: string[]
  kill(index: number): Promise<void>
  restart(index: number): Promise<void>
  ready(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts `size` nats-server processes with JetStream, routed to each other, and waits until JetStream answers.
 *
 * @example const cluster = await startNatsCluster(3) // ...; await cluster.stop()
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  if (spawnSync(NATS_SERVER, ['--version']).error)
    throw new Error(
      `nats-server not found at ${NATS_SERVER}: install it with \`apt-get install -y nats-server\``,
    )
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-nats-'))
  const clientPorts: number[] = []
  const routePorts: number[] = []
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort())
    routePorts.push(await freePort())
  }
  const procs: (ChildProcess | undefined)[] = []
  const confs: string[] = []
  for (let i = 0; i < size; i++) {
    const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')
    const conf = join(dir, `n${i}.conf`)
    writeFileSync(
      conf,
      `server_name: n${i}
listen: 127.0.0.1:${clientPorts[i]}
jetstream { store_dir: "${join(dir, `n${i}`)}", max_memory_store: 64MB, max_file_store: 1GB }
cluster { name: sealpost-test, listen: 127.0.0.1:${routePorts[i]}, routes: [${routes}] }
`,
    )
    confs.push(conf)
    procs.push(spawn(NATS_SERVER, ['-c', conf], { stdio: 'ignore' }))
  }
  const urls = clientPorts.map((p) => `nats://127.0.0.1:${p}`)
  const stop = async () => {
    await Promise.all(
      procs.map((p, i) => (p ? stopProcess(p).then(() => (procs[i] = undefined)) : undefined)),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForJetStream(urls)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    urls,
    async kill(index) {
      const p = procs[index]
      procs[index] = undefined
      if (p) await stopProcess(p, 'SIGKILL')
    },
    ready: () => waitForJetStream(urls),
    async restart(index) {
      if (procs[index]) return
      procs[index] = spawn(NATS_SERVER, ['-c', confs[index]!], { stdio: 'ignore' })
    },
    stop,
  }
}

async function waitForJetStream(urls: string[]): Promise<void> {
  const deadline = Date.now() + 30_000
  let last: unknown
  while (Date.now() < deadline) {
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
  throw new Error(`the NATS cluster did not elect a JetStream leader in 30 s: ${String(last)}`)
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
