/** The `group_invitations` table: Welcomes to groups held for this account's consent (security E4), sealed at rest. */
import type { Hex } from 'viem'
import type { DeviceStore } from './deviceStore.js'

const SCHEMA = `create table if not exists group_invitations (
  id text primary key, conversation text not null, received_at integer not null, sealed blob not null)`

/**
 * One held invitation: the Welcome envelope's id, its group, when it arrived, and the client's record of it (the
 * envelope and what it names), sealed with the device's storage key.
 *
 * @example const row: InvitationRow = { id, conversation, receivedAt: Date.now(), data }
 */
export type InvitationRow = { id: Hex; conversation: Hex; receivedAt: number; data: Uint8Array }

/**
 * Invitations this device holds until its account accepts or declines them.
 *
 * @example
 * const invitations = new GroupInvitations(store)
 * invitations.put({ id, conversation, receivedAt: Date.now(), data })
 * invitations.list().length // 1
 */
export class GroupInvitations {
  readonly #store: DeviceStore

  constructor(store: DeviceStore) {
    this.#store = store
    store.db.exec(SCHEMA)
  }

  /** Stores an invitation (a second copy of the same Welcome is ignored). @example invitations.put(row) */
  put({ id, conversation, receivedAt, data }: InvitationRow): void {
    const key = id.toLowerCase()
    this.#store.db
      .prepare(
        'insert or ignore into group_invitations (id, conversation, received_at, sealed) values (?, ?, ?, ?)',
      )
      .run(key, conversation.toLowerCase(), receivedAt, this.#store.seal('group_invitations', key, data))
  }

  /** Every held invitation, oldest first. @example invitations.list().map((r) => r.conversation) */
  list(): InvitationRow[] {
    const rows = this.#store.db
      .prepare('select id, conversation, received_at, sealed from group_invitations order by received_at, id')
      .all() as { id: Hex; conversation: Hex; received_at: number; sealed: Buffer }[]
    return rows.map((r) => ({
      id: r.id,
      conversation: r.conversation,
      receivedAt: r.received_at,
      data: this.#store.open('group_invitations', r.id, new Uint8Array(r.sealed)),
    }))
  }

  /** Forgets an invitation; true when there was one. @example invitations.delete(id) */
  delete(id: Hex): boolean {
    return (
      this.#store.db.prepare('delete from group_invitations where id = ?').run(id.toLowerCase()).changes > 0
    )
  }
}
