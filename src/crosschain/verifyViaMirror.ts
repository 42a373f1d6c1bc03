/** A statement proof whose sender lives on chain A, verified by reading only chain B's SealpostMirror (protocol §15.1). */
import { type Address, type Client, type Hex, hexToBytes, isAddressEqual, isHex } from 'viem'
import { getBlockNumber, getChainId } from 'viem/actions'
import { WrongChainError, withChainErrors } from '../chain/errors.js'
import { toCaip10 } from '../protocol/caip10.js'
import { verifyInclusion } from '../protocol/merkle.js'
import type { Receipt } from '../protocol/receipt.js'
import {
  decodeStatement,
  type MessageStatementV2,
  STATEMENT_V2_BYTES,
  statementLeaf,
} from '../protocol/statement.js'
import {
  type MirroredDevice,
  mirroredValidity,
  readMirroredAnchor,
  readMirroredDevice,
  readMirrorOrigin,
} from './mirrorViews.js'
import { MirrorOriginMismatchError } from './verifyErrors.js'
import { recoverStatementKey } from './verifyStatementKey.js'

/**
 * What a verifier that follows only chain B pins: the mirror on B (and B's chain id), and the origin deployment on A
 * whose records it mirrors (chain id, KeyRegistry, MessageAnchor; optionally the SealpostMirrorSender). Never the
 * addresses the evidence names.
 *
 * @example const trust: MirrorTrust = { chainId: 31338, mirror, origin: { chainId: 31337, keyRegistry, messageAnchor } }
 */
export type MirrorTrust = {
  /** Chain B's id (checked against the client's chain). */
  chainId: number
  mirror: Address
  origin: { chainId: number; keyRegistry: Address; messageAnchor: Address }
  /** The SealpostMirrorSender on A the mirror must accept (checked against the mirror's fixed `originSender`). */
  sender?: Address | undefined
}

/**
 * The checks of {@link verifyViaMirror}, in order. `block-reference` is never checked: B holds no block hashes of A.
 *
 * @example const step: MirrorStepName = 'key-valid-at-block'
 */
export type MirrorStepName =
  | 'statement'
  | 'chain'
  | 'device-registered'
  | 'signature'
  | 'key-valid-at-block'
  | 'block-reference'
  | 'inclusion'
  | 'anchored'
  | 'time-bounds'

/**
 * One check: `pending` when what it needs is not yet mirrored, `not-checked` when B cannot tell.
 *
 * @example const s: MirrorStep = { name: 'anchored', status: 'pending', detail: 'not yet mirrored', code: 'SEALPOST_CROSSCHAIN_NOT_MIRRORED' }
 */
export type MirrorStep = {
  name: MirrorStepName
  status: 'ok' | 'failed' | 'pending' | 'not-checked'
  detail: string
  code?: string | undefined
}

/**
 * The verdict: `verified` (every check passed), `refused` (one failed: `failedStep`, `code`), or `pending` (none
 * failed, but at least one waits for mirroring: not a failure, verify again later).
 *
 * @example const { status, steps, sender }: MirrorVerification = await verifyViaMirror(clientB, params)
 */
export type MirrorVerification = {
  status: 'verified' | 'pending' | 'refused'
  ok: boolean
  steps: MirrorStep[]
  failedStep?: MirrorStepName | undefined
  code?: string | undefined
  /** The sender as a CAIP-10 account of its home chain. */
  sender?: string | undefined
  deviceId?: Hex | undefined
  referencedBlock?: bigint | undefined
  anchorBlock?: bigint | undefined
  /** Chain B's block every mirror read was made at. */
  mirrorBlock: bigint
}

/**
 * Inputs of {@link verifyViaMirror}.
 *
 * @example const p: VerifyViaMirrorParameters = { trust, statement: proof.statement, signature: proof.signature, receipt }
 */
export type VerifyViaMirrorParameters = {
  trust: MirrorTrust
  statement: Uint8Array | Hex
  signature: Hex
  receipt: Receipt
}

/** The code of a pending step: what it needs has not reached the mirror yet (a verdict, never thrown). */
const NOT_MIRRORED = 'SEALPOST_CROSSCHAIN_NOT_MIRRORED'

/**
 * Verifies a v2 message statement and its receipt, both of chain A, from chain B alone (protocol §15.1): the
 * statement names A and the pinned registry, the mirror follows A; the mirror holds the device for the sender; the
 * signature recovers to the device's key; the device was valid at the referenced A block; the receipt's leaf is the
 * statement's and its path leads to the root; the root is mirrored as anchored on A by the receipt's submitter in the
 * receipt's block, with its leaf count and timestamp; the anchor block comes after the referenced block and the
 * device was not revoked at or before it. What is not mirrored yet makes the verdict `pending`, never `refused`.
 * Every read is made at one block of B. Throws only chain errors, `WrongChainError` if the client is not on B, and
 * `MirrorOriginMismatchError` if the mirror follows another origin than the pinned one (a wrong pin, not evidence).
 *
 * @example
 * const v = await verifyViaMirror(clientB, { trust, statement: proof.statement, signature: proof.signature, receipt })
 * if (v.status === 'pending') console.log('not yet mirrored')
 */
export async function verifyViaMirror(
  client: Client,
  { trust, statement: statementInput, signature, receipt }: VerifyViaMirrorParameters,
): Promise<MirrorVerification> {
  const chainId = await withChainErrors(() => getChainId(client))
  if (chainId !== trust.chainId) throw new WrongChainError({ expected: trust.chainId, actual: chainId })
  const mirrorBlock = await withChainErrors(() => getBlockNumber(client, { cacheTime: 0 }))
  const v: MirrorVerification = { status: 'pending', ok: false, steps: [], mirrorBlock }
  const { origin, mirror } = trust
  const step = (name: MirrorStepName, status: MirrorStep['status'], detail: string, code?: string) => {
    v.steps.push({ name, status, detail, ...(code !== undefined && { code }) })
  }
  const fail = (name: MirrorStepName, detail: string, code: string): MirrorVerification => {
    step(name, 'failed', detail, code)
    return { ...v, status: 'refused', ok: false, failedStep: name, code }
  }

  const bytes = typeof statementInput === 'string' ? safeBytes(statementInput) : statementInput
  let s: MessageStatementV2
  try {
    if (bytes?.length !== STATEMENT_V2_BYTES) throw new Error(`not ${STATEMENT_V2_BYTES} bytes`)
    const decoded = decodeStatement(bytes)
    if (decoded.version !== 2) throw new Error('a v1 statement names no registry')
    s = decoded
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'SEALPOST_STATEMENT_BAD_LENGTH'
    return fail('statement', `not a v2 message statement (${(err as Error).message.split('\n')[0]})`, code)
  }
  if (!isHex(signature) || signature.length !== 130)
    return fail('statement', 'the signature is not 64 bytes', 'SEALPOST_VERIFIER_MALFORMED_SIGNATURE')
  v.sender = toCaip10({ chainId: s.chainId, address: s.from })
  v.deviceId = s.device
  v.referencedBlock = s.block.number
  step('statement', 'ok', `v2 message statement of ${v.sender}, device ${short(s.device)}`)

  if (s.chainId !== origin.chainId)
    return fail(
      'chain',
      `the statement names chain ${s.chainId}, the pinned origin is ${origin.chainId}`,
      'SEALPOST_STATEMENT_WRONG_CHAIN',
    )
  if (!isAddressEqual(s.registry, origin.keyRegistry))
    return fail(
      'chain',
      `the statement names registry ${s.registry}, the pinned one is ${origin.keyRegistry}`,
      'SEALPOST_STATEMENT_WRONG_REGISTRY',
    )
  const follows = await readMirrorOrigin(client, { mirror })
  if (follows.originDomain !== origin.chainId)
    throw new MirrorOriginMismatchError({
      mirror,
      expected: `domain ${origin.chainId}`,
      actual: `domain ${follows.originDomain}`,
    })
  if (trust.sender !== undefined && !isAddressEqual(follows.originSender, trust.sender))
    throw new MirrorOriginMismatchError({
      mirror,
      expected: `sender ${trust.sender}`,
      actual: `sender ${follows.originSender}`,
    })
  step(
    'chain',
    'ok',
    `eip155:${s.chainId}, registry ${s.registry}, mirrored to eip155:${chainId} by ${mirror}`,
  )

  const device = await readMirroredDevice(client, { mirror, deviceId: s.device, blockNumber: mirrorBlock })
  const known = !/^0x0{40}$/.test(device.account)
  if (!known)
    step(
      'device-registered',
      'pending',
      `the mirror holds no device ${short(s.device)} (not yet mirrored, or unknown on A)`,
      NOT_MIRRORED,
    )
  else if (!isAddressEqual(device.account, s.from))
    return fail(
      'device-registered',
      `device ${short(s.device)} is ${device.account}'s on A, not ${s.from}'s`,
      'SEALPOST_UNKNOWN_SENDER',
    )
  else
    step(
      'device-registered',
      'ok',
      `added at A block ${device.addedAt}, mirrored as of A block ${device.syncedAt}`,
    )

  if (!recoverStatementKey({ statement: s, bytes, signature }))
    return fail(
      'signature',
      `no P-256 key of device ${short(s.device)} signed this statement`,
      'SEALPOST_BAD_SIGNATURE',
    )
  step(
    'signature',
    'ok',
    `ECDSA P-256 by the key of device ${short(s.device)} (recovered, keccak256(x ‖ y) = device id)`,
  )

  if (known) {
    const atRef = judgeDevice(device, s, s.block.number, 'key-valid-at-block')
    if (atRef.status === 'failed') return fail('key-valid-at-block', atRef.detail, atRef.code!)
    step('key-valid-at-block', atRef.status, atRef.detail, atRef.code)
  } else step('key-valid-at-block', 'pending', 'waits for the device record', NOT_MIRRORED)
  step(
    'block-reference',
    'not-checked',
    `B holds no block hashes of A: block ${s.block.number}'s hash is not checked`,
  )

  const leaf = statementLeaf(bytes, signature)
  if (receipt.leaf.toLowerCase() !== leaf.toLowerCase())
    return fail(
      'inclusion',
      `the receipt is for leaf ${receipt.leaf}, the statement's is ${leaf}`,
      'SEALPOST_RECEIPT_INVALID',
    )
  const included = verifyInclusion({
    leaf: receipt.leaf,
    index: receipt.index,
    treeSize: receipt.treeSize,
    path: receipt.path,
    root: receipt.root,
  })
  if (!included)
    return fail(
      'inclusion',
      `the path does not lead from leaf ${receipt.index} of ${receipt.treeSize} to root ${short(receipt.root)}`,
      'SEALPOST_RECEIPT_INVALID',
    )
  step('inclusion', 'ok', `leaf ${receipt.index} of ${receipt.treeSize} under root ${short(receipt.root)}`)

  if (receipt.chainId !== origin.chainId || !isAddressEqual(receipt.contract, origin.messageAnchor))
    return fail(
      'anchored',
      `the receipt names MessageAnchor ${receipt.contract} on chain ${receipt.chainId}, not the pinned ${origin.messageAnchor} on ${origin.chainId}`,
      'SEALPOST_RECEIPT_INVALID',
    )
  if (receipt.submitter === undefined)
    return fail(
      'anchored',
      'a v1 receipt names no submitter; the mirror keys anchors by submitter',
      'SEALPOST_RECEIPT_INVALID',
    )
  const anchor = await readMirroredAnchor(client, {
    mirror,
    submitter: receipt.submitter,
    root: receipt.root,
    blockNumber: mirrorBlock,
  })
  if (anchor === undefined) {
    step(
      'anchored',
      'pending',
      `root ${short(receipt.root)} of ${receipt.submitter} is not mirrored yet`,
      NOT_MIRRORED,
    )
    step('time-bounds', 'pending', 'waits for the anchor', NOT_MIRRORED)
    return conclude(v)
  }
  if (
    BigInt(anchor.blockNumber) !== receipt.blockNumber ||
    anchor.leafCount !== receipt.treeSize ||
    BigInt(anchor.timestamp) !== receipt.blockTimestamp
  )
    return fail(
      'anchored',
      `the mirror records root ${short(receipt.root)} in A block ${anchor.blockNumber} (${anchor.leafCount} leaves, time ${anchor.timestamp}); the receipt says block ${receipt.blockNumber} (${receipt.treeSize} leaves, time ${receipt.blockTimestamp})`,
      'SEALPOST_RECEIPT_INVALID',
    )
  v.anchorBlock = receipt.blockNumber
  step(
    'anchored',
    'ok',
    `anchored on A in block ${anchor.blockNumber} at ${new Date(anchor.timestamp * 1000).toISOString()} by ${receipt.submitter} (mirrored)`,
  )

  if (receipt.blockNumber <= s.block.number)
    return fail(
      'time-bounds',
      `anchored in A block ${receipt.blockNumber}, not after the referenced block ${s.block.number}`,
      'SEALPOST_ANCHOR_WINDOW',
    )
  if (!known) step('time-bounds', 'pending', 'waits for the device record', NOT_MIRRORED)
  else {
    const atAnchor = judgeDevice(device, s, receipt.blockNumber, 'time-bounds')
    if (atAnchor.status === 'failed') return fail('time-bounds', atAnchor.detail, atAnchor.code!)
    step(
      'time-bounds',
      atAnchor.status,
      atAnchor.status === 'ok'
        ? `anchored after block ${s.block.number}, device not revoked by the anchor block (the anchor window is not checked: B holds no timestamps of A's other blocks)`
        : atAnchor.detail,
      atAnchor.code,
    )
  }
  return conclude(v)
}

function conclude(v: MirrorVerification): MirrorVerification {
  const pending = v.steps.find((s) => s.status === 'pending')
  return pending
    ? { ...v, status: 'pending', ok: false, code: NOT_MIRRORED }
    : { ...v, status: 'verified', ok: true }
}

// The mirrored device at an origin block: ok, pending (not yet mirrored that far), or failed with the code a direct
// verifier gives (revoked at the referenced block, revoked before the anchor, not yet added).
function judgeDevice(
  device: MirroredDevice,
  s: MessageStatementV2,
  block: bigint,
  name: 'key-valid-at-block' | 'time-bounds',
): { status: 'ok' | 'pending' | 'failed'; detail: string; code?: string } {
  const { reason } = mirroredValidity(device, { account: s.from, originBlock: block })
  switch (reason) {
    case 'valid':
      return {
        status: 'ok',
        detail: `valid at A block ${block} (added ${device.addedAt}${device.revokedAt ? `, revoked ${device.revokedAt}` : ''})`,
      }
    case 'not-mirrored':
    case 'unknown':
      return {
        status: 'pending',
        detail: `the mirror's newest snapshot of the device is of A block ${device.syncedAt}, before block ${block}`,
        code: NOT_MIRRORED,
      }
    case 'revoked':
      return name === 'time-bounds'
        ? {
            status: 'failed',
            detail: `the device was revoked at A block ${device.revokedAt}, at or before the anchor block ${block}`,
            code: 'SEALPOST_REVOKED_BEFORE_ANCHOR',
          }
        : {
            status: 'failed',
            detail: `the device was revoked at A block ${device.revokedAt}, at or before block ${block}`,
            code: 'SEALPOST_KEY_REVOKED',
          }
    case 'not-yet-added':
      return {
        status: 'failed',
        detail: `the device was added at A block ${device.addedAt}, after block ${block}`,
        code: 'SEALPOST_KEY_NOT_YET_VALID',
      }
    case 'other-account':
      return {
        status: 'failed',
        detail: `the device is ${device.account}'s`,
        code: 'SEALPOST_UNKNOWN_SENDER',
      }
  }
}

function safeBytes(hex: Hex): Uint8Array | undefined {
  return isHex(hex) ? hexToBytes(hex) : undefined
}

function short(h: Hex): string {
  return `${h.slice(0, 10)}…`
}
