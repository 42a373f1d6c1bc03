/** Sending history to a new device of this account: archive, seal to its checked key package (HPKE), chunk, publish to its inbox. */
import { randomBytes } from 'node:crypto'
import type { KeyPackage } from 'ts-mls'
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js'
import { bytesToHex, type Hex, isAddressEqual } from 'viem'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import { createEnvelope } from '../protocol/envelope.js'
import {
  encodeArchivePlaintext,
  encodeHistoryChunks,
  encodeSealedHistory,
  historyArchiveInfo,
} from '../protocol/historyArchive.js'
import { inboxTopic } from '../protocol/topics.js'
import type { LogEntry } from '../store/auditLog.js'
import type { ClientContext } from './context.js'
import { buildHistoryBody } from './historyArchive.js'
import { HistoryRecipientError } from './historyErrors.js'
import { decodeMls, identityOf } from './mls.js'

/**
 * Options of `client.history.send()`. The `unsafe*` switches simulate a misbehaving sender in tests (a device of
 * another account, a log rewritten before export); recipients must refuse the result.
 *
 * @example await client.history.send({ toDevice: laptop.deviceId, conversations: [chat.id] })
 */
export type SendHistoryOptions = {
  /** The new device (another active device of this account). */
  toDevice: Hex
  /** Only these conversations (default: every conversation in this device's log). */
  conversations?: readonly Hex[] | undefined
  /** Wait up to this long for the new device to publish a key package (a device just approved publishes its first
   * ones when it connects). Default 0: fail at once without one. */
  waitForKeyPackageMs?: number | undefined
  /** Seal to `toDevice` even if it is not a device of this account, naming its account as the archive's (as a device
   * of another account forging history would). */
  unsafeSkipRecipientCheck?: boolean | undefined
  /** Rewrite the log's entries before they are archived and the export is signed. */
  unsafeRewriteLog?: ((entries: LogEntry[]) => LogEntry[]) | undefined
}

/**
 * What was sent: the archive id, how many messages it carries in full, how many log entries, and the sealed size in
 * bytes and chunks (0 chunks when the log is empty: nothing is sent).
 *
 * @example const { archiveId, messages, chunks } = await client.history.send({ toDevice })
 */
export type SendHistoryResult = {
  archiveId: Hex
  messages: number
  entries: number
  bytes: number
  chunks: number
}

/**
 * Sends this device's history to another device of its account (protocol §12.8):
 * 1. checks `toDevice` in the registry (synced now): registered to this account, not revoked, not this device;
 * 2. takes one of its key packages from the relay (as adding it to a group would) and checks it names that device,
 *    account and chain, carries its registered MLS key and ciphersuite, and that its signature verifies;
 * 3. builds the archive (the log export of the chosen conversations with their plaintexts, signed);
 * 4. seals it with the ciphersuite's HPKE (base mode) to the key package's `init_key`, the `info` binding chain,
 *    registry, account, both devices, the archive id and the key package reference;
 * 5. publishes it in 512 KiB chunks, as `application` envelopes on the new device's inbox topic.
 *
 * @example const sent = await sendHistory(ctx, { toDevice: laptop.deviceId })
 */
export async function sendHistory(
  ctx: ClientContext,
  options: SendHistoryOptions,
): Promise<SendHistoryResult> {
  const toDevice = options.toDevice.toLowerCase() as Hex
  await ctx.watcher.sync()
  const record = ctx.watcher.device(toDevice)
  if (!options.unsafeSkipRecipientCheck) checkRecipient(ctx, toDevice, record)
  if (!record) throw new HistoryRecipientError({ deviceId: toDevice, reason: 'not registered' })
  const keyPackage = await takeCheckedKeyPackage(ctx, record, options.waitForKeyPackageMs ?? 0)
  const account = options.unsafeSkipRecipientCheck ? record.account : ctx.account

  const archiveId = bytesToHex(randomBytes(32))
  const log = ctx.audit.log.entries()
  const entries = options.unsafeRewriteLog ? options.unsafeRewriteLog(log) : log
  const built = buildHistoryBody({
    entries,
    conversations: options.conversations,
    signer: {
      chainId: ctx.chainId,
      registry: ctx.deployment.keyRegistry,
      account,
      deviceId: ctx.deviceId,
      key: ctx.device.signingKey,
    },
    toDevice,
    archiveId,
    block: await ctx.chain.recentBlock(),
  })
  if (!built) return { archiveId, messages: 0, entries: 0, bytes: 0, chunks: 0 }

  const keyPackageRef = await makeKeyPackageRef(keyPackage, ctx.impl.hash)
  const info = historyArchiveInfo({
    chainId: ctx.chainId,
    registry: ctx.deployment.keyRegistry,
    account,
    fromDevice: ctx.deviceId,
    toDevice,
    archiveId,
    keyPackageRef,
  })
  const publicKey = await ctx.impl.hpke.importPublicKey(keyPackage.initKey)
  const plaintext = encodeArchivePlaintext({ body: built.bytes, signature: built.signature })
  const { ct, enc } = await ctx.impl.hpke.seal(publicKey, plaintext, info, new Uint8Array(0))
  const sealed = encodeSealedHistory({ fromDevice: ctx.deviceId, keyPackageRef, enc, ct })
  const chunks = encodeHistoryChunks({ archiveId, sealed })
  const topic = inboxTopic(toDevice)
  for (const payload of chunks)
    await ctx.transport.publish(createEnvelope({ kind: 'application', topic, payload }))
  const messages = built.body.entries.filter(
    (e) => 'kind' in e && (e.kind === 'sent' || e.kind === 'received'),
  )
  return {
    archiveId,
    messages: messages.length,
    entries: built.body.entries.length,
    bytes: sealed.length,
    chunks: chunks.length,
  }
}

function checkRecipient(ctx: ClientContext, toDevice: Hex, record: DeviceRecord | undefined): void {
  const refuse = (reason: string) => new HistoryRecipientError({ deviceId: toDevice, reason })
  if (toDevice === ctx.deviceId.toLowerCase()) throw refuse('this is the sending device')
  if (!record) throw refuse('not registered')
  if (!isAddressEqual(record.account, ctx.account))
    throw refuse(`a device of ${record.account}, not of this account`)
  if (record.revokedAt !== undefined) throw refuse(`revoked in block ${record.revokedAt}`)
}

/** How often a sender waiting for the new device's first key package asks the relay again. */
const KEY_PACKAGE_POLL_MS = 500

/** Takes one key package of `device` from the relay and checks it against the registry record before sealing to it. */
async function takeCheckedKeyPackage(
  ctx: ClientContext,
  device: DeviceRecord,
  waitMs: number,
): Promise<KeyPackage> {
  const refuse = (reason: string) => new HistoryRecipientError({ deviceId: device.deviceId, reason })
  const until = Date.now() + waitMs
  let envelope = await ctx.transport.takeKeyPackage({ deviceId: device.deviceId })
  while (!envelope && Date.now() < until && !ctx.closing()) {
    await new Promise((resolve) => setTimeout(resolve, KEY_PACKAGE_POLL_MS))
    envelope = await ctx.transport.takeKeyPackage({ deviceId: device.deviceId })
  }
  if (!envelope)
    throw refuse('it has no key package on the relay (has it connected once since it was added?)')
  const message = decodeMls(envelope.payload, envelope.id)
  if (message.wireformat !== 'mls_key_package')
    throw refuse('the relay handed out something else than a key package')
  const keyPackage = message.keyPackage
  const identity = identityOf(keyPackage.leafNode.credential)
  if (
    !identity ||
    identity.deviceId.toLowerCase() !== device.deviceId.toLowerCase() ||
    identity.chainId !== ctx.chainId ||
    !isAddressEqual(identity.account, device.account)
  )
    throw refuse('its key package names another device, account or chain')
  if (bytesToHex(keyPackage.leafNode.signaturePublicKey).toLowerCase() !== device.mlsKey.toLowerCase())
    throw refuse('its key package is not signed with its registered MLS key')
  if (keyPackage.cipherSuite !== ctx.ciphersuite)
    throw refuse(`its key package is for ciphersuite ${keyPackage.cipherSuite}`)
  if (!(await verifyKeyPackage(keyPackage, ctx.impl.signature)))
    throw refuse("its key package's signature does not verify")
  return keyPackage
}
