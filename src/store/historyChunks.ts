/** The `history_chunks` table: chunks of history archives received on the inbox, kept until the archive is whole. */
import type Database from 'better-sqlite3'
import type { Hex } from 'viem'

const SCHEMA = `create table if not exists history_chunks (
  archive text not null, idx integer not null, count integer not null, data blob not null,
  received_at integer not null, primary key (archive, idx))`

/** Incomplete archives are dropped after this long (a sender that never finishes cannot fill the store). */
export const HISTORY_CHUNK_TTL_MS = 24 * 60 * 60 * 1000

/**
 * Chunks of history archives addressed to this device, by archive id. The chunks hold HPKE ciphertext only (the
 * archive is opened once whole), so they are stored as received.
 *
 * @example
 * const chunks = new HistoryChunks(store.db)
 * const whole = chunks.add({ archiveId, index: 0, count: 1, data }) // the sealed bytes once every chunk is in
 * if (whole) chunks.forget(archiveId)
 */
export class HistoryChunks {
  readonly #db: Database.Database

  constructor(db: Database.Database) {
    this.#db = db
    db.exec(SCHEMA)
  }

  /**
   * Stores one chunk (a duplicate is ignored) and returns the reassembled bytes when the archive is complete,
   * undefined while chunks are missing (the chunks stay until {@link forget}, so a retry finds them). Throws `RangeError` when the chunk's `count` differs from
   * the count of chunks already stored for that archive. Drops incomplete archives older than
   * {@link HISTORY_CHUNK_TTL_MS}.
   *
   * @example const sealed = chunks.add(decodeHistoryChunk(envelope.payload))
   */
  add(
    { archiveId, index, count, data }: { archiveId: Hex; index: number; count: number; data: Uint8Array },
    now = Date.now(),
  ): Uint8Array | undefined {
    const archive = archiveId.toLowerCase()
    this.#db.prepare('delete from history_chunks where received_at < ?').run(now - HISTORY_CHUNK_TTL_MS)
    const known = this.#db
      .prepare('select count from history_chunks where archive = ? limit 1')
      .get(archive) as { count: number } | undefined
    if (known && known.count !== count)
      throw new RangeError(`chunk count ${count}, earlier chunks say ${known.count}`)
    this.#db
      .prepare(
        'insert or ignore into history_chunks (archive, idx, count, data, received_at) values (?, ?, ?, ?, ?)',
      )
      .run(archive, index, count, data, now)
    const rows = this.#db
      .prepare('select data from history_chunks where archive = ? order by idx')
      .all(archive) as { data: Buffer }[]
    if (rows.length < count) return undefined
    return new Uint8Array(Buffer.concat(rows.map((r) => r.data)))
  }

  /**
   * Deletes the chunks of an archive (imported or refused).
   *
   * @example chunks.forget(archiveId)
   */
  forget(archiveId: Hex): void {
    this.#db.prepare('delete from history_chunks where archive = ?').run(archiveId.toLowerCase())
  }
}
