/** The device store's delivery receipts: which member device confirmed, with a signed receipt, which message. */
import type Database from 'better-sqlite3'

/**
 * One device's signed confirmation that it received a message: the message's statement leaf, the receiving account
 * and device, the receipt message's envelope id, and when this device processed the receipt.
 *
 * @example const d: StoredDelivery = { messageLeaf, conversation, account, device, receiptId, receivedAt: Date.now() }
 */
export type StoredDelivery = {
  messageLeaf: string
  conversation: string
  account: string
  device: string
  receiptId: string
  receivedAt: number
}

type DeliveryRow = {
  message_leaf: string
  conversation: string
  account: string
  device: string
  receipt_id: string
  received_at: number
}

/**
 * Records deliveries (the first receipt per message and device is kept; a later one changes nothing).
 *
 * @example putDeliveries(store.db, [{ messageLeaf, conversation, account, device, receiptId, receivedAt }])
 */
export function putDeliveries(db: Database.Database, deliveries: readonly StoredDelivery[]): void {
  const insert = db.prepare(
    `insert or ignore into delivery_receipts (message_leaf, conversation, account, device, receipt_id, received_at)
     values (?, ?, ?, ?, ?, ?)`,
  )
  for (const d of deliveries)
    insert.run(
      d.messageLeaf.toLowerCase(),
      d.conversation,
      d.account.toLowerCase(),
      d.device.toLowerCase(),
      d.receiptId,
      d.receivedAt,
    )
}

/**
 * The deliveries recorded for the message whose statement leaf is `messageLeaf`, oldest first.
 *
 * @example deliveriesOf(store.db, sent.leaf).map((d) => d.account)
 */
export function deliveriesOf(db: Database.Database, messageLeaf: string): StoredDelivery[] {
  const rows = db
    .prepare('select * from delivery_receipts where message_leaf = ? order by received_at, rowid')
    .all(messageLeaf.toLowerCase()) as DeliveryRow[]
  return rows.map((r) => ({
    messageLeaf: r.message_leaf,
    conversation: r.conversation,
    account: r.account,
    device: r.device,
    receiptId: r.receipt_id,
    receivedAt: r.received_at,
  }))
}

/**
 * The messages among `leaves` stored in `conversation` (sent or received by this device): leaf → message id.
 *
 * @example const known = knownMessages(store.db, groupId, leaves)
 */
export function knownMessages(
  db: Database.Database,
  conversation: string,
  leaves: readonly string[],
): Map<string, string> {
  const query = db.prepare(
    "select id from messages where conversation = ? and leaf = ? and content_type = 'text' limit 1",
  )
  const known = new Map<string, string>()
  for (const leaf of leaves) {
    const row = query.get(conversation, leaf.toLowerCase()) as { id: string } | undefined
    if (row) known.set(leaf.toLowerCase(), row.id)
  }
  return known
}
