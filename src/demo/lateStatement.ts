/** The demo's attack 2 at the statement layer: a revoked phone's statement, signed before the revocation and anchored after it, fails `verifyTranscript`. */
import { createWalletClient, getAddress, type Hex, hexToBytes, http, type PublicClient } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { anchorRoot } from '../chain/messageAnchor.js'
import type { Client } from '../client/Client.js'
import type { Deployment } from '../client/deployment.js'
import type { DeviceKeys } from '../client/identity.js'
import { exportTranscript, formatVerification, verifyTranscript } from '../client/transcript.js'
import { RevokedBeforeAnchorError } from '../client/verificationErrors.js'
import { createEnvelope } from '../protocol/envelope.js'
import { buildMerkleTree, inclusionProof } from '../protocol/merkle.js'
import { encodeReceipt, type Receipt } from '../protocol/receipt.js'
import { decodeStatement } from '../protocol/statement.js'
import { inboxTopic } from '../protocol/topics.js'
import { DemoAttackError } from './errors.js'

/**
 * What the thief's device signed while its key was still valid: the message's leaf and the block it references.
 *
 * @example const early: EarlyStatement = { leaf: record.leaf, block: 41n }
 */
export type EarlyStatement = { leaf: Hex; block: bigint }

/**
 * The thief's copy of a device seals and signs `text` while the device is still registered, and keeps the envelope
 * (the copy has no relay). Returns the statement's leaf and referenced block, for {@link lateStatementTranscript}.
 *
 * @example const early = await signBeforeRevocation(stolenPhone, chat.id, 'Please wire the deposit today.')
 */
export async function signBeforeRevocation(
  stolen: Client,
  conversation: Hex,
  text: string,
): Promise<EarlyStatement> {
  await stolen.conversations
    .get(conversation)
    ?.send(text, { unsafeSkipRegistrationCheck: true })
    .catch(() => undefined) // no transport: the sealed envelope stays in the outbox
  const logged = stolen.log.entries({ kind: 'sent' }).at(-1)?.data
  if (typeof logged?.statement !== 'string' || typeof logged.leaf !== 'string')
    throw new DemoAttackError({ attack: 'sign before the revocation', reason: 'nothing was signed' })
  const statement = decodeStatement(hexToBytes(logged.statement as Hex))
  return { leaf: logged.leaf as Hex, block: statement.block.number }
}

/**
 * After the revocation: `anchorer` (anyone with gas: MessageAnchor is open) anchors the thief's leaf, the stolen
 * device logs the receipt, and the thief exports the device's log, the export signed with its key at block
 * `revokedAt − 1`. Then `verifyTranscript` against the pinned deployment. Returns the transcript's verification and
 * the anchor's block.
 *
 * @example const { result, anchoredIn } = await lateStatementTranscript({ stolen, keys, early, anchorer, rpc, publicClient, deployment, revokedAt })
 */
export async function lateStatementTranscript({
  stolen,
  keys,
  early,
  anchorer,
  rpc,
  publicClient,
  deployment,
  revokedAt,
}: {
  stolen: Client
  /** The stolen device's keys (the thief has them). */
  keys: DeviceKeys
  early: EarlyStatement
  /** A funded account that anchors the leaf. */
  anchorer: LocalAccount
  rpc: string
  publicClient: PublicClient
  deployment: Deployment
  revokedAt: bigint
}): Promise<{ result: Awaited<ReturnType<typeof verifyTranscript>>; anchoredIn: bigint }> {
  const wallet = createWalletClient({ account: anchorer, transport: http(rpc) })
  const filler = `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}` as Hex
  const tree = buildMerkleTree([early.leaf, filler])
  const { hash, blockNumber } = await anchorRoot(wallet, {
    contract: deployment.messageAnchor,
    root: tree.root,
    leafCount: 2,
  })
  const block = await publicClient.getBlock({ blockNumber })
  const receipt: Receipt = {
    chainId: deployment.chainId,
    contract: getAddress(deployment.messageAnchor),
    submitter: anchorer.address,
    root: tree.root,
    leaf: early.leaf,
    index: 0,
    treeSize: 2,
    path: inclusionProof(tree, 0),
    txHash: hash,
    blockNumber,
    blockTimestamp: block.timestamp,
  }
  await stolen.receive(
    createEnvelope({ kind: 'receipt', topic: inboxTopic(stolen.deviceId), payload: encodeReceipt(receipt) }),
  )
  const named = await publicClient.getBlock({ blockNumber: revokedAt - 1n })
  const transcript = exportTranscript({
    log: stolen.log,
    chainId: deployment.chainId,
    keyRegistry: deployment.keyRegistry,
    messageAnchor: deployment.messageAnchor,
    account: stolen.account,
    deviceId: stolen.deviceId,
    signingKey: keys.signingKey,
    block: { number: named.number, hash: named.hash },
  })
  return { result: await verifyTranscript({ transcript, publicClient, deployment }), anchoredIn: blockNumber }
}

/**
 * Whether a late statement's verification is the refusal attack 2 needs: it fails, its error is
 * `RevokedBeforeAnchorError`, and every failing check is a `time-bounds` one. Also the lines to show (the failing
 * checks and the verdict).
 *
 * @example const { ok, lines } = judgeLateStatement(result)
 */
export function judgeLateStatement(result: Awaited<ReturnType<typeof verifyTranscript>>): {
  ok: boolean
  lines: string[]
} {
  const failed = result.checks.filter((c) => !c.ok)
  const ok =
    !result.ok &&
    result.error instanceof RevokedBeforeAnchorError &&
    failed.length > 0 &&
    failed.every((c) => c.check === 'time-bounds')
  return { ok, lines: formatVerification(result).filter((l) => l.startsWith('✗')) }
}
