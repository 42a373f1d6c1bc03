/** Receiving history: chunks on the inbox, reassembled, opened (HPKE), verified entry by entry, imported as history. */
import { bytesToHex, type Hex } from 'viem'
import { CodecError, VerificationError } from '../errors.js'
import type { Envelope } from '../protocol/envelope.js'
import {
  decodeArchivePlaintext,
  decodeHistoryChunk,
  decodeSealedHistory,
  HistoryArchiveFormatError,
  historyArchiveInfo,
} from '../protocol/historyArchive.js'
import { receiptToJson } from '../protocol/receipt.js'
import { HistoryChunks } from '../store/historyChunks.js'
import type { HistoryMark, StoredMessage } from '../store/messageRows.js'
import type { ClientContext } from './context.js'
import { parseHistoryBody } from './historyArchive.js'
import { HistoryArchiveUnreadableError } from './historyErrors.js'
import { decodePrivateKeyPackage } from './mls.js'
import { judgeAnchor } from './timeBounds.js'
import type { HistoryImported, ReceiveResult } from './types.js'
import { type VerifiedHistoryMessage, verifyHistoryArchive } from './verifyHistoryArchive.js'

/**
 * Processes a history chunk that arrived on this device's inbox (an `application` envelope there; call it under the
 * client's lock). Until the archive is whole it only stores the chunk; the last chunk opens the archive with the key
 * package it names, verifies it ({@link verifyHistoryArchive}) and imports its messages as history, all in one
 * transaction with deleting the one-time key package and the chunks. A refused archive imports nothing; its chunks
 * are dropped and the error thrown (`HistoryArchiveUnreadableError`, `HistoryArchiveSenderError`,
 * `HistoryArchiveTamperedError`, `HistoryArchiveFormatError`).
 *
 * @example const result = await receiveHistoryChunk(ctx, envelope) // { type: 'history', imported } once whole
 */
export async function receiveHistoryChunk(ctx: ClientContext, envelope: Envelope): Promise<ReceiveResult> {
  const chunk = decodeHistoryChunk(envelope.payload)
  const chunks = new HistoryChunks(ctx.store.db)
  let sealed: Uint8Array | undefined
  try {
    sealed = ctx.store.transaction(() => {
      const whole = chunks.add(chunk)
      if (!whole) ctx.store.markProcessed(envelope.id, 'history-chunk')
      return whole
    })
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
    throw new HistoryArchiveFormatError({ reason: err.message })
  }
  if (!sealed)
    return { type: 'history-chunk', archive: chunk.archiveId, chunk: chunk.index, count: chunk.count }
  try {
    const opened = await openHistory(ctx, chunk.archiveId, sealed)
    const imported = await importHistory(ctx, opened, () => {
      chunks.forget(chunk.archiveId)
      ctx.store.deleteKeyPackage(opened.keyPackageRef)
      ctx.store.markProcessed(envelope.id, 'history')
    })
    return { type: 'history', imported }
  } catch (err) {
    // Refused for good (not a chain read that failed: that is retried with the chunks kept).
    if (err instanceof VerificationError || err instanceof CodecError) chunks.forget(chunk.archiveId)
    throw err
  }
}

type OpenedHistory = {
  archiveId: Hex
  fromDevice: Hex
  keyPackageRef: string
  conversations: Hex[] | undefined
  messages: VerifiedHistoryMessage[]
}

async function openHistory(ctx: ClientContext, archiveId: Hex, sealed: Uint8Array): Promise<OpenedHistory> {
  const { fromDevice, keyPackageRef, enc, ct } = decodeSealedHistory(sealed)
  const ref = bytesToHex(keyPackageRef).toLowerCase()
  const unreadable = (reason: string) => new HistoryArchiveUnreadableError({ archiveId, reason })
  const stored = ctx.store.listKeyPackages().find((kp) => kp.ref.toLowerCase() === ref)
  if (!stored) throw unreadable("sealed to none of this device's key packages")
  const info = historyArchiveInfo({
    chainId: ctx.chainId,
    registry: ctx.deployment.keyRegistry,
    account: ctx.account,
    fromDevice,
    toDevice: ctx.deviceId,
    archiveId,
    keyPackageRef,
  })
  let plaintext: Uint8Array
  try {
    const key = await ctx.impl.hpke.importPrivateKey(
      decodePrivateKeyPackage(stored.privatePackage).initPrivateKey,
    )
    plaintext = await ctx.impl.hpke.open(key, enc, ct, info, new Uint8Array(0))
  } catch {
    throw unreadable('the ciphertext does not open with this binding: sealed for another device, or altered')
  }
  const { body: bytes, signature } = decodeArchivePlaintext(plaintext)
  const body = parseHistoryBody(bytes)
  await ctx.watcher.sync()
  const messages = await verifyHistoryArchive({
    body,
    bytes,
    signature,
    expected: {
      chainId: ctx.chainId,
      registry: ctx.deployment.keyRegistry,
      messageAnchor: ctx.deployment.messageAnchor,
      account: ctx.account,
      toDevice: ctx.deviceId,
      fromDevice,
      archiveId,
    },
    chain: ctx.chain,
    sender: ctx.watcher.device(fromDevice),
    recipient: ctx.watcher.device(ctx.deviceId),
    verifyReceipt: (receipt) => ctx.receipts.verify(receipt),
  })
  return { archiveId, fromDevice, keyPackageRef: stored.ref, conversations: body.conversations, messages }
}

/**
 * Writes the verified messages as imported history: incoming, with their original sender, device, sequence number
 * and send time, `anchored` with the archive's verified receipt (verdict judged from it as for a live message,
 * protocol §11.1) or `received` and `pending` without one. The `history` mark keeps them out of everything that
 * acts on live messages: no delivery receipt is owed, no leaf is submitted again, no expiry sweep refuses them.
 */
async function importHistory(
  ctx: ClientContext,
  opened: OpenedHistory,
  alongside: () => void,
): Promise<HistoryImported> {
  const importedAt = Date.now()
  const mark: HistoryMark = { archive: opened.archiveId, fromDevice: opened.fromDevice, importedAt }
  const rows: { message: StoredMessage; verdict?: { ok: boolean; code?: string | undefined } }[] = []
  for (const m of opened.messages) {
    const { statement, entry, receipt } = m
    const judged =
      receipt &&
      (await judgeAnchor({
        statement,
        anchorBlock: receipt.blockNumber,
        chain: ctx.chain,
        windows: ctx.clock,
        messageId: String(entry.data.envelopeId) as Hex,
      }))
    const report = {
      ok: true,
      history: mark,
      steps: m.checks.map((c) => ({ name: c.check, ok: c.ok, detail: c.detail })),
      block: { number: statement.block.number.toString(), hash: statement.block.hash },
    }
    rows.push({
      message: {
        id: String(entry.data.envelopeId).toLowerCase(),
        conversation: statement.conversation.toLowerCase(),
        direction: 'in',
        from: statement.from,
        device: statement.device,
        seq: statement.seq,
        sentAt: statement.sentAt,
        body: String(entry.data.body),
        report: JSON.stringify(report),
        receivedAt: importedAt,
        leaf: m.leaf,
        state: receipt ? 'anchored' : 'received',
        ...(receipt ? { receipt: JSON.stringify(receiptToJson(receipt)) } : {}),
        verdict: 'pending',
        contentType: entry.data.contentType === 'deliveryReceipt' ? 'deliveryReceipt' : 'text',
        history: mark,
      },
      ...(judged ? { verdict: { ok: judged.ok, code: judged.ok ? undefined : judged.error.code } } : {}),
    })
  }
  let imported = 0
  ctx.store.transaction(() => {
    for (const { message, verdict } of rows) {
      if (ctx.store.getMessage(message.id)) continue
      ctx.store.putMessage(message)
      if (verdict) ctx.store.settleVerdict(message.id, verdict.ok ? 'verified' : 'refused', verdict.code)
      imported++
    }
    alongside()
  })
  return {
    archive: opened.archiveId,
    fromDevice: opened.fromDevice,
    conversations: [...new Set(rows.map((r) => r.message.conversation as Hex))],
    messages: rows.length,
    imported,
  }
}
