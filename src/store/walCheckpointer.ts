/** WAL checkpoints off the event loop: a worker thread with its own SQLite connection copies the WAL into the database. */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * A running background checkpointer.
 *
 * @example const checkpointer = startWalCheckpointer({ path: 'relay.db' }); await checkpointer.stop()
 */
export type WalCheckpointer = { stop(): Promise<void> }

/**
 * Options of {@link startWalCheckpointer}.
 *
 * @example const options: WalCheckpointerOptions = { path: 'relay.db', intervalMs: 100 }
 */
export type WalCheckpointerOptions = {
  /** The database file (in WAL mode). */
  path: string
  /** Pause between two checkpoints; default 100 ms. */
  intervalMs?: number | undefined
}

// CommonJS, run with `eval`: no file of its own to find next to the compiled or the TypeScript sources.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 0')
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)')
let timer
const tick = () => {
  try { checkpoint.get() } catch {}
  timer = setTimeout(tick, workerData.intervalMs)
}
tick()
parentPort.on('message', () => {
  clearTimeout(timer)
  db.close()
  parentPort.close()
})
`

/**
 * Runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs` on a connection of its own in a worker thread. A passive
 * checkpoint takes no lock that writers wait for, so the copy and its fsync no longer stall the thread that commits
 * (SQLite's automatic checkpoint runs inside the commit that crosses its threshold). It changes no durability:
 * commits are durable when they return, whether their frames are copied yet or not. If the worker fails, the
 * writer's own automatic checkpoint still bounds the WAL.
 *
 * @example const checkpointer = startWalCheckpointer({ path }); db.pragma('wal_autocheckpoint = 10000')
 */
export function startWalCheckpointer({ path, intervalMs = 100 }: WalCheckpointerOptions): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, { eval: true, workerData: { path, driver, intervalMs } })
  worker.unref()
  worker.on('error', () => {}) // the writer's automatic checkpoint remains
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  return {
    async stop() {
      worker.postMessage('stop')
      const timer = setTimeout(() => void worker.terminate(), 2000)
      await exited
      clearTimeout(timer)
    },
  }
}
