/** Every verified incoming message as an async iterator, fed by the client's events until it closes. */
import type { EventEmitter } from 'node:events'
import { AsyncQueue } from './asyncQueue.js'
import type { ClientEvents, ReceivedMessage } from './types.js'

/**
 * An iterator over the `message` events of `events`, ending on `closed`; `return()` (a `break` in `for await`)
 * stops listening.
 *
 * @example for await (const msg of streamMessages(client.events)) console.log(msg.text)
 */
export function streamMessages(
  events: EventEmitter<ClientEvents>,
  only: (message: ReceivedMessage) => boolean = () => true,
): AsyncIterableIterator<ReceivedMessage> {
  const queue = new AsyncQueue<ReceivedMessage>()
  const onMessage = (m: ReceivedMessage) => {
    if (only(m)) queue.push(m)
  }
  const onClose = () => queue.close()
  events.on('message', onMessage)
  events.once('closed', onClose)
  const original = queue.return.bind(queue)
  queue.return = () => {
    events.off('message', onMessage)
    events.off('closed', onClose)
    return original()
  }
  return queue
}
