/** `client.history`: sending this device's past conversations to a new device of the account (protocol §12.8). */
import type { ClientContext } from './context.js'
import { type SendHistoryOptions, type SendHistoryResult, sendHistory } from './sendHistory.js'

export type { SendHistoryOptions, SendHistoryResult } from './sendHistory.js'

/**
 * History transfer between devices of one account. Sending is explicit (`send`); receiving is automatic: an archive
 * arriving on this device's inbox is verified and imported, and the client emits `historyImported`.
 *
 * @example
 * await phone.history.send({ toDevice: laptop.deviceId })
 * laptop.events.on('historyImported', ({ imported }) => console.log(imported, 'messages of history'))
 */
export class History {
  readonly #ctx: ClientContext

  constructor(ctx: ClientContext) {
    this.#ctx = ctx
  }

  /**
   * Seals this device's log export of `conversations` (default: all) with their plaintexts to `toDevice`, another
   * active device of this account, and delivers it through the relay to its inbox.
   *
   * @example const { archiveId, messages } = await client.history.send({ toDevice: laptop.deviceId })
   */
  send(options: SendHistoryOptions): Promise<SendHistoryResult> {
    return sendHistory(this.#ctx, options)
  }
}
