/** Worker-thread entry of the seal pool: runs batches of X-Wing HPKE seals and posts the results back. */
import { parentPort } from 'node:worker_threads'
import { hpkeSealWithContext, type SealJob, type XWingHpkeSuite } from './xwingHpke.js'

/** A batch of seals sent by `SealPool`. */
export type SealRequest = { id: number; jobs: { suite: XWingHpkeSuite; job: SealJob }[] }
/** The answer to a `SealRequest` (every result in order, or the first error's message), or the worker's first word. */
export type SealResponse =
  | { id: number; results: { enc: Uint8Array; ct: Uint8Array }[] }
  | { id: number; error: string }
  | { ready: true }

parentPort?.on('message', ({ id, jobs }: SealRequest) => {
  try {
    const results = jobs.map(({ suite, job }) => hpkeSealWithContext(suite, job))
    const transfer = results.flatMap((r) => [r.enc.buffer, r.ct.buffer]) as ArrayBuffer[]
    parentPort?.postMessage({ id, results } satisfies SealResponse, transfer)
  } catch (e) {
    parentPort?.postMessage({ id, error: (e as Error).message } satisfies SealResponse)
  }
})

parentPort?.postMessage({ ready: true } satisfies SealResponse)
