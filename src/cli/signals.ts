/** Waiting for Ctrl-C: the one place the CLI listens for SIGINT and SIGTERM. */

/**
 * Resolves on the first SIGINT or SIGTERM, with the signal's name; stops listening afterwards.
 *
 * @example await untilSignal(); await stack.stop()
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}
