/** Bounded shutdown: stop one component, but give up after a deadline with a typed warning. */
import { StopTimeoutError } from './errors.js'

/**
 * Runs `stop` and resolves when it settles or after `deadlineMs`, whichever comes first; on the deadline it calls
 * `onWarning` with a `StopTimeoutError` naming `component`. A failing stop is reported to `onWarning` too. Never
 * rejects: shutdown goes on with the next component.
 *
 * @example await stopWithin('relay', 5000, () => relay.stop(), (w) => console.error(formatError(w)))
 */
export async function stopWithin(
  component: string,
  deadlineMs: number,
  stop: () => Promise<void> | void,
  onWarning: (warning: Error) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs)
    timer.unref()
  })
  try {
    const outcome = await Promise.race([Promise.resolve().then(stop), deadline])
    if (outcome === 'timeout') onWarning(new StopTimeoutError({ component, deadlineMs }))
  } catch (err) {
    onWarning(err instanceof Error ? err : new Error(String(err)))
  } finally {
    clearTimeout(timer)
  }
}
