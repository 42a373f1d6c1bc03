/** Conversations as applications see them: handles on MLS groups, built on an interface rather than on `Client`. */
import { type Address, getAddress, type Hex } from 'viem'
import type { DeviceIdentity } from '../protocol/credential.js'
import type { StoredGroup, StoredMessage } from '../store/deviceStore.js'
import type { SendOptions, SentMessage } from './types.js'

/**
 * What a conversation needs from its client. `Client` provides it; a test can provide another.
 *
 * @example const host: ConversationHost = { open, send, syncMembers, info, groups, group, messages }
 */
export interface ConversationHost {
  /** Opens (or finds) the conversation with `peer`; resolves with its group id. */
  open(peer: Address): Promise<Hex>
  send(groupId: Hex, text: string, options?: SendOptions): Promise<SentMessage>
  syncMembers(groupId: Hex): Promise<{ added: Hex[]; removed: Hex[] }>
  info(groupId: Hex): { epoch: bigint; members: DeviceIdentity[]; active: boolean }
  groups(): StoredGroup[]
  group(groupId: Hex): StoredGroup | undefined
  messages(groupId: Hex): StoredMessage[]
}

/**
 * The conversations of a client.
 *
 * @example const chat = await client.conversations.open(peer)
 */
export class Conversations {
  readonly #host: ConversationHost
  constructor(host: ConversationHost) {
    this.#host = host
  }

  /**
   * Opens the 1:1 conversation with `peer`: an MLS group holding every active device of both accounts. Returns
   * the existing conversation if there is one.
   *
   * @example const chat = await client.conversations.open(bob)
   */
  async open(peer: Address): Promise<Conversation> {
    const id = await this.#host.open(getAddress(peer))
    return new Conversation(this.#host, id, getAddress(peer))
  }

  /**
   * Every conversation this device is part of.
   *
   * @example client.conversations.list().map((c) => c.peer)
   */
  list(): Conversation[] {
    return this.#host
      .groups()
      .filter((g) => g.peer !== '')
      .map((g) => new Conversation(this.#host, g.groupId as Hex, getAddress(g.peer)))
  }

  /**
   * A conversation by id.
   *
   * @example client.conversations.get(id)?.send('hi')
   */
  get(id: Hex): Conversation | undefined {
    const group = this.#host.group(id)
    return group && group.peer !== '' ? new Conversation(this.#host, id, getAddress(group.peer)) : undefined
  }
}

/**
 * A handle on one conversation (an MLS group).
 *
 * @example await conversation.send('hello')
 */
export class Conversation {
  readonly id: Hex
  readonly peer: Address
  readonly #host: ConversationHost
  constructor(host: ConversationHost, id: Hex, peer: Address) {
    this.#host = host
    this.id = id
    this.peer = peer
  }

  /**
   * Seals and sends `text`: signed statement + body inside an MLS application message.
   *
   * @example const sent = await chat.send('hello')
   */
  send(text: string, options?: SendOptions): Promise<SentMessage> {
    return this.#host.send(this.id, text, options)
  }

  /**
   * Removes revoked devices and adds newly registered ones (removals and additions in two separate MLS commits).
   *
   * @example const { added, removed } = await chat.syncMembers()
   */
  syncMembers(): Promise<{ added: Hex[]; removed: Hex[] }> {
    return this.#host.syncMembers(this.id)
  }

  /**
   * Current epoch, members and whether this device is still in the group.
   *
   * @example chat.info().epoch
   */
  info(): { epoch: bigint; members: DeviceIdentity[]; active: boolean } {
    return this.#host.info(this.id)
  }

  /**
   * Stored messages of this conversation, oldest first.
   *
   * @example chat.messages().map((m) => m.body)
   */
  messages(): StoredMessage[] {
    return this.#host.messages(this.id)
  }
}
