/** A small pool of worker threads for batches of HPKE seals (a Welcome to many new members), with an in-thread fallback. */

import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { CryptoError } from 'ts-mls/mlsError.js'
import type { SealRequest, SealResponse } from './sealWorker.js'
import { hpkeSealWithContext, type SealJob, type XWingHpkeSuite } from './xwingHpke.js'

/** Options of `SealPool`. */
export type SealPoolOptions = {
  /** Worker threads; 0 runs every seal in-thread. Default: the machine's available parallelism, at most 4. */
  size?: number | undefined
  /** Batches smaller than this run in-thread (a worker hop costs more than it saves). Default 8. */
  minBatch?: number | undefined
}

type Sealed = { enc: Uint8Array; ct: Uint8Array }
type Pending = {
  suite: XWingHpkeSuite
  job: SealJob
  resolve: (r: Sealed) => void
  reject: (e: unknown) => void
}
type Chunk = { worker: Worker; items: Pending[] }

/**
 * The worker: the compiled `sealWorker.js` as is, or, when running from the `.ts` sources (tests, `tsx`), a bootstrap
 * that registers tsx's loader inside the worker first (Node 20 does not apply `--import` hooks to a worker's entry).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./sealWorker.js', import.meta.url))
  const tsxApi = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs')
  const entry = new URL('./sealWorker.ts', import.meta.url).href
  const bootstrap = `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { eval: true })
}

/**
 * Seals collected within one turn of the event loop form a batch; a batch of at least `minBatch` seals is split over
 * the workers, a smaller one runs in-thread. Workers start on the first large batch (or `start()`), hold the process
 * open only while they have work, and if one fails its seals run in-thread and the pool stays in-thread from then on.
 *
 * @example
 * const pool = new SealPool({ size: 2 })
 * const { enc, ct } = await pool.seal(suite, { publicKey, plaintext, aad: undefined, context })
 */
export class SealPool {
  readonly size: number
  readonly minBatch: number
  #workers: Worker[] | undefined
  #failed = false
  #batch: Pending[] = []
  #chunks = new Map<number, Chunk>()
  #busy = new Map<Worker, number>()
  #nextId = 0
  #ready: Promise<void>[] = []

  constructor({ size = Math.min(4, availableParallelism()), minBatch = 8 }: SealPoolOptions = {}) {
    this.size = size
    this.minBatch = minBatch
  }

  /** Whether batches currently go to worker threads (false before the first start and after a failure). */
  get usingWorkers(): boolean {
    return this.#workers !== undefined && !this.#failed
  }

  /** Starts the workers ahead of the first batch and waits until they have loaded their code. */
  async start(): Promise<void> {
    this.#ensureWorkers()
    await Promise.all(this.#ready)
  }

  /** Seals one job, batched with the other seals requested in the same turn. */
  seal(suite: XWingHpkeSuite, job: SealJob): Promise<Sealed> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ suite, job, resolve, reject })
      if (this.#batch.length === 1) setImmediate(() => this.#flush())
    })
  }

  /** Stops the workers; later seals run in-thread. */
  async close(): Promise<void> {
    const workers = this.#workers ?? []
    this.#failed = true
    await Promise.all(workers.map((w) => w.terminate()))
  }

  #flush(): void {
    const batch = this.#batch
    this.#batch = []
    const workers =
      batch.length < this.minBatch || this.size <= 0 || this.#failed ? [] : this.#ensureWorkers()
    if (workers.length === 0) {
      runInThread(batch)
      return
    }
    // Several chunks per worker, handed out round robin, so that one slow chunk does not hold the batch.
    const chunkSize = Math.max(1, Math.ceil(batch.length / (workers.length * 4)))
    for (let i = 0, k = 0; i < batch.length; i += chunkSize, k++) {
      const worker = workers[k % workers.length]!
      const items = batch.slice(i, i + chunkSize)
      const id = this.#nextId++
      this.#chunks.set(id, { worker, items })
      this.#busy.set(worker, (this.#busy.get(worker) ?? 0) + 1)
      worker.ref()
      worker.postMessage({ id, jobs: items.map(({ suite, job }) => ({ suite, job })) } satisfies SealRequest)
    }
  }

  #ensureWorkers(): Worker[] {
    if (this.#workers) return this.#failed ? [] : this.#workers
    this.#workers = []
    for (let i = 0; i < this.size; i++) {
      const worker = startWorker()
      worker.unref()
      this.#ready.push(
        new Promise((resolve) => {
          worker.on('message', (m: SealResponse) => ('ready' in m ? resolve() : this.#settle(m.id, m)))
          worker.once('exit', () => resolve())
        }),
      )
      worker.on('error', () => this.#fail())
      worker.on('exit', () => this.#fail())
      this.#workers.push(worker)
    }
    return this.#workers
  }

  #settle(id: number, response: SealResponse): void {
    const chunk = this.#chunks.get(id)
    if (!chunk) return
    this.#chunks.delete(id)
    const left = (this.#busy.get(chunk.worker) ?? 1) - 1
    this.#busy.set(chunk.worker, left)
    if (left === 0) chunk.worker.unref()
    if ('ready' in response) return
    if ('error' in response) {
      // The worker threw on one job: redo the chunk in-thread so each job gets its own result or error.
      runInThread(chunk.items)
      return
    }
    chunk.items.forEach((p, i) => {
      const r = response.results[i]
      if (r) p.resolve({ enc: new Uint8Array(r.enc), ct: new Uint8Array(r.ct) })
      else p.reject(new CryptoError('Seal worker returned too few results'))
    })
  }

  /** A worker failed or exited: its unfinished chunks run in-thread, and so does every later batch. */
  #fail(): void {
    if (this.#failed && this.#chunks.size === 0) return
    this.#failed = true
    const chunks = [...this.#chunks.values()]
    this.#chunks.clear()
    for (const w of this.#workers ?? []) w.unref()
    for (const chunk of chunks) runInThread(chunk.items)
  }
}

function runInThread(batch: Pending[]): void {
  for (const p of batch) {
    try {
      p.resolve(hpkeSealWithContext(p.suite, p.job))
    } catch (e) {
      p.reject(e)
    }
  }
}
