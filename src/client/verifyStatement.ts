/** Verifies a received statement against the chain: sender binding, epoch, recipients, registry, block, signature, body, clock, freshness, sequence. */
import { type Address, type Hex, isAddressEqual } from 'viem'
import { verifyStatementSignature } from '../crypto/statementSignature.js'
import type { BaseError } from '../errors.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { type DeliveryReceiptCodecError, decodeDeliveryReceiptBody } from '../protocol/deliveryReceipt.js'
import { recipientsRoot } from '../protocol/recipients.js'
import { expectedBodyHash, type SignedStatement } from '../protocol/statement.js'
import { p256PublicKey } from './identity.js'
import { defaultTimeWindows, judgeLive } from './timeBounds.js'
import {
  BlockReferenceError,
  BodyHashMismatchError,
  BodyNotUtf8Error,
  ClockSkewError,
  KeyNotYetValidError,
  KeyRevokedError,
  RecipientsMismatchError,
  SenderBindingError,
  StaleSequenceError,
  StatementChainError,
  StatementEpochError,
  StatementRegistryError,
  StatementSignatureError,
  StatementV1RefusedError,
  UnknownSenderError,
} from './verificationErrors.js'

/** Names of the checks, in the order they run. */
export type VerificationStepName =
  | 'mls'
  | 'chain'
  | 'sender-binding'
  | 'epoch'
  | 'recipients'
  | 'device-registered'
  | 'block-reference'
  | 'signature'
  | 'key-valid-at-block'
  | 'body-hash'
  | 'body-text'
  | 'body-receipt'
  | 'clock'
  | 'freshness'
  | 'sequence'

/** One check with its verdict and the data behind it. */
export type VerificationStep = { name: VerificationStepName; ok: boolean; detail: string }

/** Everything a recipient checked about one message, passed or not. */
export type VerificationReport = {
  ok: boolean
  steps: VerificationStep[]
  /** The first failing check, if any. */
  failedStep?: VerificationStepName | undefined
  error?: { name: string; code: string; message: string } | undefined
  mls?: { epoch: bigint; ciphersuite: string; senderLeaf: number } | undefined
  key?: { deviceId: Hex; p256X: Hex; p256Y: Hex; addedAt: bigint; revokedAt?: bigint | undefined } | undefined
  block?: { number: bigint; hash: Hex; timestamp: bigint } | undefined
}

/**
 * A registered device as the verifier needs it (a `RegistryWatcher` record or a `KeyRegistry` read).
 *
 * @example const device: ChainDevice | undefined = await chain.device(deviceId, block)
 */
export type ChainDevice = {
  deviceId: Hex
  account: Address
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
  addedAt: bigint
  revokedAt?: bigint | undefined
  addedTx?: Hex | undefined
}

/**
 * What the verifier reads from the chain. `chainView.ts` builds one from the registry watcher or from contract reads.
 *
 * @example const chain: ChainView = contractChainView({ publicClient, chainId, keyRegistry })
 */
export type ChainView = {
  chainId: number
  /** The KeyRegistry this view reads; a v2 statement naming another one fails the `chain` step. */
  registry?: Address | undefined
  /** Device record by id, syncing first if the cache is behind `atLeastBlock`. */
  device(deviceId: Hex, atLeastBlock: bigint): Promise<ChainDevice | undefined>
  /** Block hash and timestamp (seconds) at `number`, or undefined if the chain has no such block yet. */
  block(number: bigint): Promise<{ hash: Hex; timestamp: bigint } | undefined>
  /** A recent head of the chain, if the view follows it (the `freshness` step reads its timestamp). */
  recentBlock?(): Promise<{ number: bigint; hash: Hex }>
}

/** Clock bounds and time windows (protocol §11.1), in milliseconds. */
export type ClockPolicy = {
  /** How far `sentAt` may be ahead of the verifier's clock. Default 2 minutes. */
  maxFutureSkewMs: number
  /** How far `sentAt` may be before the referenced block's timestamp. Default 2 minutes. */
  maxBeforeBlockMs: number
  /** How old the referenced block may be when the statement is made. Default 1 hour. */
  maxBlockAgeMs: number
  /** A received statement counts only if anchored at most this long after the block after its referenced one. Default 1 hour. */
  anchorWindowMs?: number | undefined
  /** A live delivery is refused if the block after its referenced one is older than this at arrival. Default 10 minutes. */
  liveWindowMs?: number | undefined
}

/** Default clock bounds. */
export const defaultClockPolicy: ClockPolicy = {
  maxFutureSkewMs: 2 * 60_000,
  maxBeforeBlockMs: 2 * 60_000,
  maxBlockAgeMs: 60 * 60_000,
  ...defaultTimeWindows,
}

/**
 * Inputs of {@link verifyStatement}.
 *
 * @example const p: VerifyStatementParameters = { signed, body, sender, groupId, lastSeq: 0n, chain }
 */
export type VerifyStatementParameters = {
  signed: SignedStatement
  /** The message body; `undefined` when it is not known (a transcript entry without it): `body-hash` then does not run. */
  body: Uint8Array | undefined
  /** The MLS-authenticated identity of the sending leaf. */
  sender: DeviceIdentity
  /** The MLS group the message arrived in. */
  groupId: Hex
  /** Highest sequence number accepted so far from this (conversation, account, device). */
  lastSeq: bigint
  chain: ChainView
  messageId?: Hex | undefined
  now?: number | undefined
  clock?: Partial<ClockPolicy> | undefined
  /** The deployment's KeyRegistry (default `chain.registry`): a v2 statement naming another one fails `chain`. */
  registry?: Address | undefined
  /** The MLS epoch the message was sealed in: a v2 statement must name it (`epoch` step). */
  epoch?: bigint | undefined
  /**
   * The conversation's member accounts at that epoch. When given, the statement must be v2 and its
   * `recipientsRoot` must be their root (`recipients` step); a v1 statement is refused.
   */
  recipients?: readonly Address[] | undefined
  /** The body's content type (1 = UTF-8 text, the default): bound by the v2 body hash; text must be valid UTF-8. */
  contentType?: number | undefined
  /**
   * Whether this is a live delivery (not a catch-up): then the `freshness` step runs and refuses a statement whose
   * referenced block's successor is older than `clock.liveWindowMs` at `now` (`StaleBlockReferenceError`).
   */
  live?: boolean | undefined
}

/**
 * Runs every statement check and returns a report; the first failure stops the run and is recorded with its
 * typed error (`report.error`) so callers can throw it and show the step that failed.
 *
 * @example
 * const { report, error } = await verifyStatement({ signed, body, sender, groupId, lastSeq, chain })
 * if (error) throw error
 */
export async function verifyStatement(
  parameters: VerifyStatementParameters,
): Promise<{ report: VerificationReport; error?: BaseError | undefined }> {
  const { signed, body, sender, groupId, lastSeq, chain, messageId } = parameters
  const now = parameters.now ?? Date.now()
  const clock = { ...defaultClockPolicy, ...parameters.clock }
  const s = signed.statement
  const report: VerificationReport = { ok: false, steps: [] }
  const pass = (name: VerificationStepName, detail: string) => report.steps.push({ name, ok: true, detail })
  const fail = (name: VerificationStepName, error: BaseError) => {
    report.steps.push({ name, ok: false, detail: error.shortMessage })
    report.failedStep = name
    report.error = { name: error.name, code: error.code, message: error.shortMessage }
    return { report, error }
  }

  if (s.chainId !== chain.chainId)
    return fail('chain', new StatementChainError({ messageId, expected: chain.chainId, actual: s.chainId }))
  const registry = parameters.registry ?? chain.registry
  if (s.version === 2 && registry !== undefined && !isAddressEqual(registry, s.registry))
    return fail('chain', new StatementRegistryError({ messageId, expected: registry, actual: s.registry }))
  pass('chain', `eip155:${s.chainId}${s.version === 2 ? `, registry ${s.registry}` : ''}`)

  if (
    sender.chainId !== s.chainId ||
    !isAddressEqual(sender.account, s.from) ||
    sender.deviceId.toLowerCase() !== s.device.toLowerCase()
  )
    return fail(
      'sender-binding',
      new SenderBindingError({ messageId, reason: 'MLS leaf credential names another device' }),
    )
  if (s.conversation.toLowerCase() !== groupId.toLowerCase())
    return fail(
      'sender-binding',
      new SenderBindingError({ messageId, reason: 'statement names another conversation' }),
    )
  pass('sender-binding', `MLS leaf is ${short(s.device)} of ${s.from}`)

  if (parameters.epoch !== undefined) {
    if (s.version !== 2) return fail('epoch', new StatementV1RefusedError({ messageId }))
    if (s.epoch !== parameters.epoch)
      return fail(
        'epoch',
        new StatementEpochError({ messageId, expected: parameters.epoch, actual: s.epoch }),
      )
    pass('epoch', `sealed in epoch ${s.epoch}`)
  }
  if (parameters.recipients !== undefined) {
    if (s.version !== 2) return fail('recipients', new StatementV1RefusedError({ messageId }))
    const root = recipientsRoot(s.chainId, parameters.recipients)
    if (root !== s.recipientsRoot.toLowerCase())
      return fail(
        'recipients',
        new RecipientsMismatchError({
          messageId,
          reason: `the ${parameters.recipients.length} member accounts of epoch ${s.epoch} give root ${short(root)}, statement names ${short(s.recipientsRoot)}`,
        }),
      )
    pass('recipients', `addressed to the ${parameters.recipients.length} member accounts of epoch ${s.epoch}`)
  }

  const device = await chain.device(s.device, s.block.number)
  if (!device || !isAddressEqual(device.account as Address, s.from))
    return fail(
      'device-registered',
      new UnknownSenderError({ messageId, account: s.from, deviceId: s.device }),
    )
  report.key = {
    deviceId: device.deviceId,
    p256X: device.p256X,
    p256Y: device.p256Y,
    addedAt: device.addedAt,
    revokedAt: device.revokedAt,
  }
  pass('device-registered', `added at block ${device.addedAt} in tx ${device.addedTx ?? 'unknown'}`)

  const block = await chain.block(s.block.number)
  if (!block)
    return fail(
      'block-reference',
      new BlockReferenceError({ messageId, block: s.block.number, reason: 'block not found' }),
    )
  if (block.hash.toLowerCase() !== s.block.hash.toLowerCase())
    return fail(
      'block-reference',
      new BlockReferenceError({ messageId, block: s.block.number, reason: 'hash differs' }),
    )
  report.block = { number: s.block.number, hash: block.hash, timestamp: block.timestamp }
  pass('block-reference', `block ${s.block.number} ${short(block.hash)}`)

  if (!verifyStatementSignature({ signed, publicKey: p256PublicKey(device) }))
    return fail('signature', new StatementSignatureError({ messageId, deviceId: s.device }))
  pass('signature', `ECDSA P-256 by ${short(device.p256X)}`)

  if (device.addedAt > s.block.number)
    return fail(
      'key-valid-at-block',
      new KeyNotYetValidError({
        messageId,
        deviceId: s.device,
        addedAt: device.addedAt,
        block: s.block.number,
      }),
    )
  if (device.revokedAt !== undefined && device.revokedAt <= s.block.number)
    return fail(
      'key-valid-at-block',
      new KeyRevokedError({
        messageId,
        deviceId: s.device,
        revokedAt: device.revokedAt,
        block: s.block.number,
      }),
    )
  pass(
    'key-valid-at-block',
    `valid at block ${s.block.number} (added ${device.addedAt}${device.revokedAt ? `, revoked ${device.revokedAt}` : ''})`,
  )

  const contentType = parameters.contentType ?? 1
  if (body !== undefined) {
    if (expectedBodyHash(s, contentType, body) !== s.bodyHash.toLowerCase())
      return fail('body-hash', new BodyHashMismatchError({ messageId }))
    pass('body-hash', short(s.bodyHash))
    if (contentType === 1) {
      if (decodeUtf8(body) === undefined) return fail('body-text', new BodyNotUtf8Error({ messageId }))
      pass('body-text', `${body.length} bytes of UTF-8 text`)
    } else if (contentType === 2) {
      let leaves: Hex[]
      try {
        leaves = decodeDeliveryReceiptBody(body)
      } catch (cause) {
        return fail('body-receipt', cause as DeliveryReceiptCodecError)
      }
      pass('body-receipt', `delivery receipt for ${leaves.length} message${leaves.length === 1 ? '' : 's'}`)
    }
  }

  const blockMs = Number(block.timestamp) * 1000
  if (s.sentAt > now + clock.maxFutureSkewMs)
    return fail(
      'clock',
      new ClockSkewError({ messageId, reason: `sentAt is ${s.sentAt - now} ms in the future` }),
    )
  if (s.sentAt < blockMs - clock.maxBeforeBlockMs)
    return fail('clock', new ClockSkewError({ messageId, reason: 'sentAt is before the referenced block' }))
  if (s.sentAt - blockMs > clock.maxBlockAgeMs)
    return fail('clock', new ClockSkewError({ messageId, reason: 'referenced block is too old for sentAt' }))
  pass('clock', `sent ${new Date(s.sentAt).toISOString()}`)

  if (parameters.live) {
    const recent = await chain.recentBlock?.()
    const fresh = judgeLive({
      statement: s,
      referencedSuccessor: await chain.block(s.block.number + 1n),
      now,
      head: recent === undefined ? undefined : await chain.block(recent.number),
      windows: clock,
      messageId,
    })
    if (!fresh.ok) return fail('freshness', fresh.error)
    pass('freshness', fresh.detail)
  }

  if (s.seq <= lastSeq)
    return fail('sequence', new StaleSequenceError({ messageId, seq: s.seq, last: lastSeq }))
  pass('sequence', `seq ${s.seq} > ${lastSeq}`)

  report.ok = true
  return { report }
}

/**
 * The exact text of a UTF-8 body, or undefined if it is not valid UTF-8 (no replacement characters, a leading BOM
 * kept), so `new TextEncoder().encode(text)` gives back the very bytes that were signed.
 *
 * @example decodeUtf8(new Uint8Array([0xff])) // undefined
 */
export function decodeUtf8(body: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body)
  } catch {
    return undefined
  }
}

function short(hex: string): string {
  return `${hex.slice(0, 10)}…`
}
