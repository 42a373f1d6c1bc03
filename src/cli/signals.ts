/** Ctrl-C: the one place the CLI listens for SIGINT and SIGTERM; a second one exits at once. */

/**
 * Resolves on the first SIGINT or SIGTERM, with the signal's name. From then on a second SIGINT or SIGTERM calls
 * `onSecond` (default: print a line and exit at once with status 130; the process's exit handlers still kill the
 * child processes it started, anvil included).
 *
 * @example await untilSignal(); await stack.stop()
 */
export function untilSignal({
  onSecond = () => {
    process.stderr.write('\nSecond Ctrl-C: exiting now.\n')
    process.exit(130)
  },
}: {
  onSecond?: ((signal: NodeJS.Signals) => void) | undefined
} = {}): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first)
      process.off('SIGTERM', first)
      process.on('SIGINT', onSecond)
      process.on('SIGTERM', onSecond)
      resolve(signal)
    }
    process.on('SIGINT', first)
    process.on('SIGTERM', first)
  })
}

/**
 * Lets the process exit `graceMs` after shutdown even if a stray handle (an RPC poll of a dead chain, a socket a
 * component did not close) would keep it alive: an unref'd timer, so a clean exit happens as soon as it can.
 *
 * @example await stack.stop(); exitAfter(2000)
 */
export function exitAfter(graceMs: number): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), graceMs).unref()
}
