/** Promise helpers of the relay transport: a deferred whose rejection is never unhandled, and a bounded wait. */

/**
 * A promise with its `resolve` and `reject` (a rejection nobody awaits is not reported as unhandled).
 *
 * @example const ready = deferred<void>(); ready.resolve(); await ready.promise
 */
export function deferred<T>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (err: unknown) => void
} {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}

/**
 * Waits for `promise` to settle, or `ms`, whichever comes first; never rejects.
 *
 * @example await settledWithin(sub.head, 5000)
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  await Promise.race([promise.then(noop, noop), elapsed])
  clearTimeout(timer)
}

function noop(): void {}
