/** A timer that runs one asynchronous pass after another (the validator's, the relayer's and the keeper's loops). */

/**
 * Runs `pass` now and then `intervalMs` after each pass ends, until {@link PollLoop.stop}; a failed pass goes to
 * `onError` and the loop goes on (an RPC that is down for a while stalls the role, it does not end it).
 *
 * @example
 * const loop = new PollLoop(() => relayer.poll(), 500, (e) => console.error(e)); loop.start(); await loop.stop()
 */
export class PollLoop<T> {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onError?: (err: unknown) => void,
    private readonly onResult?: (result: T) => void,
  ) {}

  /** Whether the loop runs. @example loop.active */
  get active(): boolean {
    return this.timer !== undefined
  }

  /** Starts the loop (a no-op while it runs). @example loop.start() */
  start(): void {
    if (this.timer) return
    const tick = () => {
      this.running = this.pass()
        .then((r) => this.onResult?.(r))
        .catch((e) => this.onError?.(e))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.intervalMs)
        })
    }
    this.timer = setTimeout(tick, 0)
  }

  /** Stops the loop and waits for a pass in progress. @example await loop.stop() */
  async stop(): Promise<void> {
    const t = this.timer
    this.timer = undefined
    if (t) clearTimeout(t)
    await this.running
  }
}
