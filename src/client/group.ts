/** Groups as applications see them: handles on group conversations, built on an interface rather than on `Client`. */
import type { Address, Hex } from 'viem'
import type { StoredGroup, StoredMessage } from '../store/deviceStore.js'
import type { GroupChange, GroupMember } from './groups.js'
import type { GroupInvitation, ReceivedMessage, SendOptions, SentMessage } from './types.js'

/**
 * A group's state as this device holds it.
 *
 * @example const { name, epoch, admins, active } = group.info()
 */
export type GroupInfo = {
  id: Hex
  name: string
  epoch: bigint
  members: Address[]
  admins: Address[]
  /** False once this device left or was removed. */
  active: boolean
}

/**
 * What a group handle needs from its client. `Client` provides it; a test can provide another.
 *
 * @example const host: GroupHost = { create, change, leave, members, info, send, groups, messages, stream, invitations, accept, decline }
 */
export interface GroupHost {
  create(p: {
    name: string
    members: readonly Address[]
    admins?: readonly Address[] | undefined
  }): Promise<Hex>
  change(groupId: Hex, change: GroupChange): Promise<bigint>
  leave(groupId: Hex): Promise<void>
  members(groupId: Hex): { block: bigint; members: GroupMember[] }
  info(groupId: Hex): GroupInfo
  send(groupId: Hex, text: string, options?: SendOptions): Promise<SentMessage>
  groups(): StoredGroup[]
  messages(groupId: Hex): StoredMessage[]
  stream(groupId: Hex): AsyncIterableIterator<ReceivedMessage>
  delivery(groupId: Hex, messageId: Hex): GroupDelivery
  invitations(): GroupInvitation[]
  accept(invitationId: Hex): Promise<Hex>
  decline(invitationId: Hex): Promise<void>
}

/**
 * Who confirmed a message with a signed delivery receipt: the member accounts (other than the sender's) with at
 * least one device that did, out of the group's current other member accounts.
 *
 * @example const { delivered, members } = group.delivery(sent.id) // "delivered to 7 of 9 members"
 */
export type GroupDelivery = {
  delivered: Address[]
  members: Address[]
  devices: { account: Address; device: Hex; receipt: Hex }[]
}

/**
 * The group conversations of a client.
 *
 * @example const team = await client.groups.create({ name: 'ops', members: [bob, carol], admins: [bob] })
 */
export class Groups {
  readonly #host: GroupHost
  constructor(host: GroupHost) {
    this.#host = host
  }

  /**
   * Creates a group of this account and `members` (every active device of each), with this account and `admins` as
   * admins, named `name` (1 to 64 UTF-8 bytes).
   *
   * @example const team = await client.groups.create({ name: 'ops', members: [bob, carol] })
   */
  async create(p: {
    name: string
    members: readonly Address[]
    admins?: readonly Address[] | undefined
  }): Promise<Group> {
    return new Group(this.#host, await this.#host.create(p))
  }

  /**
   * Every group this device holds (active or not), most recently updated last.
   *
   * @example client.groups.list().map((g) => g.info().name)
   */
  list(): Group[] {
    return this.#host
      .groups()
      .filter((g) => g.peer === '')
      .map((g) => new Group(this.#host, g.groupId as Hex))
  }

  /**
   * A group by id, or by exact name among the groups this device holds (undefined when there is none, or when
   * several share the name).
   *
   * @example client.groups.get('ops')?.send('deploy at 5')
   */
  get(idOrName: string): Group | undefined {
    const all = this.list()
    const byId = all.find((g) => g.id.toLowerCase() === idOrName.toLowerCase())
    if (byId) return byId
    const named = all.filter((g) => g.info().name === idOrName)
    return named.length === 1 ? named[0] : undefined
  }

  /**
   * The group invitations held for this account's consent (`groups.accept` option), oldest first: each names the
   * group, its inviter (the member that signed the Welcome), name, members and admins.
   *
   * @example for (const i of client.groups.invitations()) console.log(i.inviter, i.name)
   */
  invitations(): GroupInvitation[] {
    return this.#host.invitations()
  }

  /**
   * Joins the group of a held invitation (its Welcome verified again against the registry now) and follows it.
   * Throws `InvitationNotFoundError` when no such invitation is held.
   *
   * @example const team = await client.groups.accept(invitation.id)
   */
  async accept(invitationId: Hex): Promise<Group> {
    return new Group(this.#host, await this.#host.accept(invitationId))
  }

  /**
   * Declines a held invitation: it is forgotten with the one-time key package it was for; the group is never joined.
   *
   * @example await client.groups.decline(invitation.id)
   */
  async decline(invitationId: Hex): Promise<void> {
    await this.#host.decline(invitationId)
  }
}

/**
 * A handle on one group conversation (an MLS group whose context names its accounts, admins and name).
 *
 * @example await group.send('hello team')
 */
export class Group {
  readonly id: Hex
  readonly #host: GroupHost
  constructor(host: GroupHost, id: Hex) {
    this.#host = host
    this.id = id
  }

  /**
   * Name, epoch, member accounts, admins and whether this device is still in the group.
   *
   * @example group.info().epoch
   */
  info(): GroupInfo {
    return this.#host.info(this.id)
  }

  /**
   * Each member account with its devices and their registry status at the registry view's block.
   *
   * @example const { block, members } = group.members()
   */
  members(): { block: bigint; members: GroupMember[] } {
    return this.#host.members(this.id)
  }

  /**
   * Seals and sends `text` to every member device (one envelope, fanned out by the relay).
   *
   * @example const sent = await group.send('deploy at 5')
   */
  send(text: string, options?: SendOptions): Promise<SentMessage> {
    return this.#host.send(this.id, text, options)
  }

  /**
   * Stored messages of this group, oldest first.
   *
   * @example group.messages().map((m) => `${m.from}: ${m.body}`)
   */
  messages(): StoredMessage[] {
    return this.#host.messages(this.id)
  }

  /**
   * Verified incoming messages of this group, live (the client must be started). Ends on `close()`.
   *
   * @example for await (const m of group.stream()) console.log(m.from, m.text)
   */
  stream(): AsyncIterableIterator<ReceivedMessage> {
    return this.#host.stream(this.id)
  }

  /**
   * Who confirmed message `messageId` with a signed delivery receipt, out of the other member accounts.
   *
   * @example const { delivered, members } = group.delivery(sent.id)
   */
  delivery(messageId: Hex): GroupDelivery {
    return this.#host.delivery(this.id, messageId)
  }

  /**
   * Adds accounts (admins only): every active device of each joins in one commit. Resolves with the new epoch.
   *
   * @example await group.add([dave])
   */
  add(accounts: readonly Address[]): Promise<bigint> {
    return this.#host.change(this.id, { add: accounts })
  }

  /**
   * Removes accounts and all their devices (admins only). Resolves with the new epoch.
   *
   * @example await group.remove([carol])
   */
  remove(accounts: readonly Address[]): Promise<bigint> {
    return this.#host.change(this.id, { remove: accounts })
  }

  /**
   * Replaces the admins (admins only; each must be a member). Resolves with the new epoch.
   *
   * @example await group.setAdmins([alice, bob])
   */
  setAdmins(admins: readonly Address[]): Promise<bigint> {
    return this.#host.change(this.id, { admins })
  }

  /**
   * Renames the group (admins only). Resolves with the new epoch.
   *
   * @example await group.rename('ops-emea')
   */
  rename(name: string): Promise<bigint> {
    return this.#host.change(this.id, { name })
  }

  /**
   * Leaves the group (anyone may): the group's committer removes this account's devices; `info().active` turns
   * false when that commit arrives.
   *
   * @example await group.leave()
   */
  leave(): Promise<void> {
    return this.#host.leave(this.id)
  }
}
