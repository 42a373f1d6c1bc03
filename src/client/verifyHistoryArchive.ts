/** Verifying an opened history archive entry by entry, with the transcript verifier's own checks; any failure refuses it. */
import { type Address, type Hex, isAddressEqual } from 'viem'
import { verifyP256 } from '../crypto/p256.js'
import { historyArchiveSigningInput } from '../protocol/historyArchive.js'
import { type Receipt, receiptFromJson } from '../protocol/receipt.js'
import type { Statement } from '../protocol/statement.js'
import { checkLogEntry, type LogEntry } from '../store/auditLog.js'
import { verifyLogExport } from './checkLogExport.js'
import { checkMessageEntry } from './checkMessageEntry.js'
import { type HistoryArchiveBody, isElided } from './historyArchive.js'
import { HistoryArchiveSenderError, HistoryArchiveTamperedError } from './historyErrors.js'
import { p256PublicKey } from './identity.js'
import type { TranscriptCheck } from './transcriptReport.js'
import type { ChainDevice, ChainView } from './verifyStatement.js'

/**
 * One message of a verified archive: its log entry, its statement and leaf, and its verified anchoring receipt if
 * the archive carries one.
 *
 * @example for (const m of verified.messages) console.log(m.statement.from, m.entry.data.body)
 */
export type VerifiedHistoryMessage = {
  entry: LogEntry
  statement: Statement
  leaf: Hex
  receipt?: Receipt | undefined
  /** The entry's passed checks (`statement`, `sender`, `signature`, …), kept as the message's report. */
  checks: TranscriptCheck[]
}

/**
 * What the recipient expects of an archive: its deployment, account and own device, and the archive id it was
 * opened under.
 *
 * @example const expected: HistoryExpectation = { chainId, registry, messageAnchor, account, toDevice: deviceId, archiveId }
 */
export type HistoryExpectation = {
  chainId: number
  registry: Address
  messageAnchor: Address
  account: Address
  toDevice: Hex
  archiveId: Hex
  fromDevice: Hex
}

/**
 * Verifies an archive body the recipient opened, in this order, and throws at the first failure (nothing is imported
 * from a refused archive):
 * 1. binding: the body names the expected chain, registry, account, archive id, sending and receiving device
 *    (`HistoryArchiveSenderError`);
 * 2. sender: `fromDevice` is registered to the same account, not revoked, and is not this device, and this device
 *    is active too (`HistoryArchiveSenderError`);
 * 3. `signature`: the sender's P-256 signature over the body verifies under its registered key;
 * 4. `hash-chain`: every entry from index 0 links to the one before (`prevHash`), and every full entry's hash is
 *    recomputed from its contents (`checkLogEntry`);
 * 5. `export`: the log-export statement the sender signed names its last entry (`verifyLogExport`);
 * 6. per message entry: the transcript checks (`checkMessageEntry`: statement, sender, signature, key-valid, block,
 *    body, recipients, leaf) and, with `conversations`, that it is in one of them;
 * 7. per receipt entry: it is for one of the archive's messages and verifies against the MessageAnchor.
 * Failures of 3 to 7 throw `HistoryArchiveTamperedError` naming the entry and the check.
 *
 * @example const messages = await verifyHistoryArchive({ body, bytes, signature, expected, chain, sender, recipient, verifyReceipt })
 */
export async function verifyHistoryArchive({
  body,
  bytes,
  signature,
  expected,
  chain,
  sender,
  recipient,
  verifyReceipt,
  now = Date.now(),
}: {
  body: HistoryArchiveBody
  /** The body's bytes as signed. */
  bytes: Uint8Array
  signature: Hex
  expected: HistoryExpectation
  chain: ChainView
  /** The sending device's current registry record (undefined when not registered). */
  sender: ChainDevice | undefined
  /** This device's current registry record. */
  recipient: ChainDevice | undefined
  verifyReceipt: (receipt: Receipt) => Promise<{ ok: boolean }>
  now?: number | undefined
}): Promise<VerifiedHistoryMessage[]> {
  const id = expected.archiveId
  const refuse = (reason: string) =>
    new HistoryArchiveSenderError({ archiveId: id, fromDevice: body.fromDevice, reason })
  const tampered = (check: string, detail: string, entry?: number) =>
    new HistoryArchiveTamperedError({ archiveId: id, entry, check, detail })

  // 1–2. Binding and sender.
  if (body.chainId !== expected.chainId || !isAddressEqual(body.keyRegistry, expected.registry))
    throw refuse(`the archive is for chain ${body.chainId} and registry ${body.keyRegistry}`)
  if (
    body.archiveId !== expected.archiveId.toLowerCase() ||
    body.fromDevice !== expected.fromDevice.toLowerCase()
  )
    throw refuse('the body names another archive or sending device than the sealed envelope')
  if (body.toDevice !== expected.toDevice.toLowerCase())
    throw refuse(`the archive is for device ${body.toDevice}`)
  if (!isAddressEqual(body.account, expected.account))
    throw refuse(`the archive is of account ${body.account}`)
  if (body.fromDevice === expected.toDevice.toLowerCase()) throw refuse('the archive comes from this device')
  if (!sender) throw refuse('the sending device is not registered')
  if (!isAddressEqual(sender.account, expected.account))
    throw refuse(`the sending device is registered to ${sender.account}`)
  if (sender.revokedAt !== undefined)
    throw refuse(`the sending device was revoked in block ${sender.revokedAt}`)
  if (!recipient || recipient.revokedAt !== undefined || !isAddressEqual(recipient.account, expected.account))
    throw refuse('this device is not an active device of the account')

  // 3. The sender's signature over the body.
  if (
    !verifyP256({ publicKey: p256PublicKey(sender), message: historyArchiveSigningInput(bytes), signature })
  )
    throw tampered(
      'signature',
      "the archive's signature does not verify under the sending device's registered key",
    )

  // 4. The hash chain, from entry 0.
  const { entries } = body
  let prevHash: Hex = `0x${'00'.repeat(32)}`
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const problem = isElided(e)
      ? e.index !== i
        ? `index ${e.index} is out of order (expected ${i})`
        : e.prevHash.toLowerCase() !== prevHash.toLowerCase()
          ? "prevHash is not the previous entry's hash"
          : undefined
      : checkLogEntry(e, { index: i, prevHash })
    if (problem !== undefined) throw tampered('hash-chain', problem, i)
    prevHash = e.hash
  }

  // 5. The export statement over the last entry.
  const owner = {
    chainId: body.chainId,
    registry: body.keyRegistry,
    account: body.account,
    deviceId: body.fromDevice,
  }
  const exported = await verifyLogExport({
    entries: entries as LogEntry[],
    signed: body.export,
    owner,
    chain,
  })
  if (!exported.ok) throw tampered('export', exported.detail)

  // 6. Every message entry, with the transcript verifier's checks.
  const transcript = {
    version: 1 as const,
    chainId: body.chainId,
    keyRegistry: body.keyRegistry,
    messageAnchor: expected.messageAnchor,
    account: body.account,
    deviceId: body.fromDevice,
    exportedAt: body.createdAt,
    entries: [],
  }
  const wanted = body.conversations && new Set<string>(body.conversations)
  const messages = new Map<string, VerifiedHistoryMessage>()
  for (const entry of entries) {
    if (isElided(entry) || (entry.kind !== 'sent' && entry.kind !== 'received')) continue
    const checks: TranscriptCheck[] = []
    const add = (index: number | null, check: TranscriptCheck['check'], ok: boolean, detail: string) => {
      checks.push({ entry: index, check, ok, detail })
      return ok
    }
    const checked = await checkMessageEntry({ index: entry.index, entry, transcript, chain, now, add })
    const failed = checks.find((c) => !c.ok)
    if (failed) throw tampered(failed.check, failed.detail, entry.index)
    if (!checked?.leaf) throw tampered('statement', 'the entry carries no message statement', entry.index)
    if (typeof entry.data.body !== 'string')
      throw tampered('body', 'the entry carries no plaintext', entry.index)
    if (wanted && !wanted.has(String(entry.data.conversation).toLowerCase()))
      throw tampered('statement', 'the entry is of a conversation the archive does not name', entry.index)
    messages.set(checked.leaf, { entry, statement: checked.statement, leaf: checked.leaf, checks })
  }

  // 7. Receipts of those messages, against the MessageAnchor.
  for (const entry of entries) {
    if (isElided(entry) || entry.kind !== 'receipt') continue
    let receipt: Receipt
    try {
      receipt = receiptFromJson(entry.data.receipt)
    } catch {
      throw tampered('receipt', 'the receipt does not decode', entry.index)
    }
    const message = messages.get(receipt.leaf.toLowerCase())
    if (!message || String(entry.data.leaf).toLowerCase() !== receipt.leaf.toLowerCase())
      throw tampered('receipt-leaf', "the receipt is for none of the archive's messages", entry.index)
    if (!(await verifyReceipt(receipt)).ok)
      throw tampered('receipt', 'the receipt does not verify against the MessageAnchor', entry.index)
    message.receipt ??= receipt
  }
  return [...messages.values()]
}
