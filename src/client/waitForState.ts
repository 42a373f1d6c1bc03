/** Waiting for a message to reach a state: the one wait the CLI, the demo and the tests share. */
import type { EventEmitter } from 'node:events'
import type { Hex } from 'viem'
import { isAtLeast, type MessageState } from '../protocol/messageState.js'
import { ClientClosedError, MessageStateTimeoutError } from './errors.js'
import type { MessageView } from './messageView.js'
import type { ClientEvents } from './types.js'

/**
 * What `waitForState` watches: the message view, whether the client is closed, and a way to listen to its state
 * changes and its closing (returns the function that stops listening).
 *
 * @example
 * const source: StateSource = { messages, closed: () => closing, listen: (onState, onClosed) => { …; return off } }
 */
export type StateSource = {
  messages: Pick<MessageView, 'get'>
  closed: () => boolean
  listen: (onState: (e: { id: Hex; state: MessageState }) => void, onClosed: () => void) => () => void
}

/**
 * The state source of a client: its message view, its closing flag, and its `state` and `closed` events.
 *
 * @example await waitForState(clientStateSource(events, messages, () => closing), id, 'final', { timeoutMs })
 */
export function clientStateSource(
  events: EventEmitter<ClientEvents>,
  messages: Pick<MessageView, 'get'>,
  closed: () => boolean,
): StateSource {
  return {
    messages,
    closed,
    listen: (onState, onClosed) => {
      events.on('state', onState)
      events.on('closed', onClosed)
      return () => {
        events.off('state', onState)
        events.off('closed', onClosed)
      }
    },
  }
}

/**
 * Resolves with the state message `id` reached once it is at least `state` (at once if it already is). Rejects
 * with `MessageStateTimeoutError` (carrying the last state) after `timeoutMs`, or with `ClientClosedError` if the
 * client closes first.
 *
 * @example const reached = await waitForState(source, sent.id, 'anchored', { timeoutMs: 30_000 })
 */
export function waitForState(
  source: StateSource,
  id: Hex,
  state: MessageState,
  { timeoutMs }: { timeoutMs: number },
): Promise<MessageState> {
  const current = () => (source.closed() ? undefined : source.messages.get(id)?.state)
  return new Promise<MessageState>((resolve, reject) => {
    if (source.closed()) return reject(new ClientClosedError({ operation: 'waitForState' }))
    const now = current()
    if (now !== undefined && isAtLeast(now, state)) return resolve(now)
    let last = now
    const done = () => {
      clearTimeout(timer)
      stop()
    }
    const onState = (e: { id: Hex; state: MessageState }) => {
      if (e.id.toLowerCase() !== id.toLowerCase()) return
      last = current() ?? e.state
      if (isAtLeast(last, state)) {
        done()
        resolve(last)
      }
    }
    const onClosed = () => {
      done()
      reject(new ClientClosedError({ operation: 'waitForState' }))
    }
    const timer = setTimeout(() => {
      done()
      const lastState = current() ?? last
      if (lastState !== undefined && isAtLeast(lastState, state)) resolve(lastState)
      else reject(new MessageStateTimeoutError({ messageId: id, state, lastState, timeoutMs }))
    }, timeoutMs)
    const stop = source.listen(onState, onClosed)
  })
}
