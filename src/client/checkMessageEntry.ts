/** The checks of one `sent`/`received` transcript entry: `verifyStatement`'s steps under the transcript's check names. */
import { type Hex, isAddressEqual } from 'viem'
import { verifyRecipientProof } from '../protocol/recipients.js'
import { decodeStatement, type Statement, statementLeaf } from '../protocol/statement.js'
import type { LogEntry } from '../store/auditLog.js'
import type { Transcript } from './transcriptFormat.js'
import { type AddCheck, short } from './transcriptReport.js'
import {
  type ChainView,
  type ClockPolicy,
  type VerificationStepName,
  verifyStatement,
} from './verifyStatement.js'

/** A transcript is checked long after the fact: the clock bounds of live verification do not apply. */
const UNBOUNDED_CLOCK: ClockPolicy = {
  maxFutureSkewMs: Number.POSITIVE_INFINITY,
  maxBeforeBlockMs: Number.POSITIVE_INFINITY,
  maxBlockAgeMs: Number.POSITIVE_INFINITY,
}

/**
 * Inputs to {@link checkMessageEntry}.
 *
 * @example const p: CheckMessageEntryParameters = { index: 3, entry, transcript, chain, now: Date.now(), add }
 */
export type CheckMessageEntryParameters = {
  index: number
  entry: LogEntry
  transcript: Transcript
  chain: ChainView
  now: number
  add: AddCheck
}

/**
 * Checks one sent/received entry with `verifyStatement` (the recipient's own checks, against a chain view of
 * contract reads) and reports its steps as `statement` (also: a v2 statement names the transcript's KeyRegistry),
 * `sender`, `signature`, `key-valid`, `block`, `body`, `recipients` (the entry's proof shows the transcript's account
 * is one of a v2 statement's recipients; a `received` v1 statement names none and fails) and `leaf`. Returns the
 * statement when it decoded, and its recomputed leaf.
 *
 * @example
 * const checked = await checkMessageEntry({ index: i, entry, transcript, chain, now, add })
 * if (checked?.leaf) statementLeaves.set(checked.leaf, { entry: i, statement: checked.statement })
 */
export async function checkMessageEntry({
  index: i,
  entry,
  transcript,
  chain,
  now,
  add,
}: CheckMessageEntryParameters): Promise<{ statement: Statement; leaf: Hex | undefined } | undefined> {
  const { data } = entry
  const bytes = hexToBytes(data.statement)
  const signature = typeof data.signature === 'string' ? (data.signature as Hex) : undefined
  const statement = bytes === undefined ? undefined : decodedStatement(bytes)
  if (bytes === undefined || statement === undefined) {
    add(i, 'statement', false, 'statement is not a message statement (274-byte v2, or 213-byte v1)')
    return undefined
  }
  const leaf = recomputedLeaf(bytes, signature)
  const { report } = await verifyStatement({
    signed: { statement, bytes, signature: signature ?? '0x' },
    body:
      data.body === undefined
        ? undefined
        : typeof data.body === 'string'
          ? new TextEncoder().encode(data.body)
          : new Uint8Array([0xff]),
    // The transcript has no MLS layer: the statement names its own sender, and the entry its conversation.
    sender: { chainId: statement.chainId, account: statement.from, deviceId: statement.device },
    groupId: String(data.conversation) as Hex,
    lastSeq: -1n,
    chain,
    registry: transcript.keyRegistry,
    now,
    clock: UNBOUNDED_CLOCK,
    // The content type is signed in bodyHash: an entry naming another one fails `body`.
    contentType: data.contentType === undefined ? 1 : data.contentType === 'deliveryReceipt' ? 2 : 0,
  })
  const step = (name: VerificationStepName) => report.steps.find((s) => s.name === name)

  const chainOk = step('chain')?.ok === true
  const conversationOk = step('sender-binding')?.ok === true
  add(
    i,
    'statement',
    chainOk && conversationOk,
    !chainOk
      ? statement.chainId !== transcript.chainId
        ? `statement is for chain ${statement.chainId}, transcript is for chain ${transcript.chainId}`
        : `statement is for KeyRegistry ${statement.registry}, transcript is for ${transcript.keyRegistry}`
      : !conversationOk
        ? `entry names conversation ${String(data.conversation)}, statement says ${statement.conversation}`
        : `seq ${statement.seq} in conversation ${short(statement.conversation)} from ${statement.from}, sent ${new Date(statement.sentAt).toISOString()}`,
  )
  if (!chainOk || !conversationOk) return { statement, leaf }

  const registered = await chain.device(statement.device, statement.block.number)
  const ownOk =
    entry.kind !== 'sent' ||
    (isAddressEqual(statement.from, transcript.account) &&
      statement.device === transcript.deviceId.toLowerCase())
  const ownerOk = step('device-registered')?.ok === true
  add(
    i,
    'sender',
    ownOk && ownerOk,
    !ownOk
      ? `a sent entry must come from the transcript's device ${short(transcript.deviceId)} of ${transcript.account}`
      : registered === undefined
        ? `device ${statement.device} is not registered on chain`
        : !ownerOk
          ? `device ${short(statement.device)} is registered to ${registered.account}, statement says ${statement.from}`
          : `device ${short(statement.device)} is registered to ${statement.from}`,
  )
  if (registered === undefined || !ownerOk) return { statement, leaf }

  const signatureStep = step('signature')
  if (signatureStep)
    add(
      i,
      'signature',
      signatureStep.ok,
      signatureStep.ok
        ? `P-256 signature verifies under the key registered on chain for ${short(statement.device)}`
        : 'signature does not verify under the key registered on chain',
    )
  const validStep = step('key-valid-at-block')
  const revoked = registered.revokedAt
  if (validStep)
    add(
      i,
      'key-valid',
      validStep.ok,
      validStep.ok
        ? `key valid at block ${statement.block.number}${revoked === undefined ? '' : ` (revoked later, in block ${revoked})`}`
        : `key not valid at block ${statement.block.number} (added in ${registered.addedAt}${revoked === undefined ? '' : `, revoked in ${revoked}`})`,
    )
  const blockStep = step('block-reference')
  if (blockStep) {
    const chainHash = blockStep.ok ? statement.block.hash : (await chain.block(statement.block.number))?.hash
    add(
      i,
      'block',
      blockStep.ok,
      chainHash === undefined
        ? `block ${statement.block.number} does not exist on chain`
        : blockStep.ok
          ? `block ${statement.block.number} is ${short(statement.block.hash)} on chain`
          : `statement names block hash ${statement.block.hash}, chain has ${chainHash}`,
    )
  }
  const bodyStep = step('body-hash')
  if (bodyStep)
    add(
      i,
      'body',
      bodyStep.ok,
      bodyStep.ok ? 'body matches the signed bodyHash' : 'body does not match the signed bodyHash',
    )

  if (statement.version === 2) {
    const listed = verifyRecipientProof({
      chainId: statement.chainId,
      account: transcript.account,
      proof: data.recipients,
      root: statement.recipientsRoot,
    })
    add(
      i,
      'recipients',
      listed,
      data.recipients === undefined
        ? `the entry carries no proof that ${transcript.account} is a recipient of the statement`
        : listed
          ? `${transcript.account} is one of the statement's recipients (epoch ${statement.epoch})`
          : `the proof does not show ${transcript.account} among the statement's recipients`,
    )
  } else if (entry.kind === 'received')
    add(
      i,
      'recipients',
      false,
      'a version-1 statement names no recipients, so it cannot show it was sent to this account',
    )

  const leafOk = leaf !== undefined && String(data.leaf).toLowerCase() === leaf
  add(
    i,
    'leaf',
    leafOk,
    leafOk ? `leaf ${leaf}` : `entry leaf ${String(data.leaf)} is not statementLeaf(statement, signature)`,
  )
  return { statement, leaf }
}

function decodedStatement(bytes: Uint8Array): Statement | undefined {
  try {
    return decodeStatement(bytes)
  } catch {
    return undefined
  }
}

function recomputedLeaf(bytes: Uint8Array, signature: Hex | undefined): Hex | undefined {
  try {
    return signature === undefined ? undefined : statementLeaf(bytes, signature)
  } catch {
    return undefined
  }
}

function hexToBytes(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) return undefined
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'))
}
