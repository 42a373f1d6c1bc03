/** Off-chain authorship verdict of one anchored statement: the checks StatementVerifier makes on chain, step for step. */
import { type Address, type Client, type Hex, hexToBytes, isHex } from 'viem'
import { getBlockHeaderRlp } from '../chain/blockHeader.js'
import type { OnChainStepName } from '../chain/statementVerifier.js'
import type { Receipt } from '../protocol/receipt.js'
import {
  decodeStatement,
  STATEMENT_SIGNATURE_BYTES,
  STATEMENT_V2_BYTES,
  type Statement,
  statementLeaf,
} from '../protocol/statement.js'
import { contractChainView } from './chainView.js'
import { judgeAnchor, type WindowOptions } from './timeBounds.js'
import { verifyReceipt } from './verifyReceipt.js'
import { type ClockPolicy, verifyStatement } from './verifyStatement.js'

/**
 * A step of {@link verifyAuthorship}: the contract's step names, plus `receipt` (the receipt's own chain, block,
 * event and confirmation checks, which the contract reads from its storage instead) and `clock` (`sentAt`, which the
 * contract does not judge).
 *
 * @example const step: AuthorshipStepName = 'time-bounds'
 */
export type AuthorshipStepName = OnChainStepName | 'receipt' | 'clock'

/**
 * The off-chain verdict: every step run, and the first failure.
 *
 * @example const { ok, failedStep, steps }: AuthorshipReport = await verifyAuthorship(publicClient, params)
 */
export type AuthorshipReport = {
  ok: boolean
  steps: { name: AuthorshipStepName; ok: boolean; detail: string }[]
  failedStep?: AuthorshipStepName | undefined
  /** The first failure's error code. */
  code?: string | undefined
  statement?: Statement | undefined
  anchorBlock?: bigint | undefined
}

/**
 * Inputs of {@link verifyAuthorship}: the trusted deployment, the statement, its signature and receipt, and what a
 * contract caller would pass besides (device id, key, successor header), each checked when given.
 *
 * @example const p: VerifyAuthorshipParameters = { deployment, statement: signed.bytes, signature: signed.signature, receipt }
 */
export type VerifyAuthorshipParameters = {
  deployment: { chainId: number; keyRegistry: Address; messageAnchor: Address }
  statement: Uint8Array | Hex
  signature: Hex
  receipt: Receipt
  /** The device id a caller claims (default: the statement's). */
  deviceId?: Hex | undefined
  /** The key a caller claims; must be the registry's key of the device. */
  key?: { p256X: Hex; p256Y: Hex } | undefined
  /** The header a caller claims for the block after the referenced one; must be the chain's. */
  successorHeader?: Hex | undefined
  now?: number | undefined
  clock?: Partial<ClockPolicy> | undefined
  windows?: WindowOptions | undefined
}

/**
 * Verifies off chain what `StatementVerifier.verify` verifies on chain, in the same order and with the same step
 * names: the statement's shape (v2 message, 64-byte signature), `verifyStatement` (chain and registry, device id,
 * registration, referenced block, signature, key valid at that block, clock), the claimed key and header, the
 * receipt (`verifyReceipt`, its leaf being the statement's) and the anchor's time bounds (`judgeAnchor`). Never
 * throws for bad evidence; throws chain errors only.
 *
 * @example
 * const report = await verifyAuthorship(publicClient, { deployment, statement: signed.bytes, signature: signed.signature, receipt })
 * if (!report.ok) console.log(report.failedStep, report.code)
 */
export async function verifyAuthorship(
  publicClient: Client,
  params: VerifyAuthorshipParameters,
): Promise<AuthorshipReport> {
  const { deployment, signature, receipt } = params
  const report: AuthorshipReport = { ok: false, steps: [] }
  const pass = (name: AuthorshipStepName, detail: string) => report.steps.push({ name, ok: true, detail })
  const fail = (name: AuthorshipStepName, detail: string, code: string): AuthorshipReport => {
    report.steps.push({ name, ok: false, detail })
    report.failedStep = name
    report.code = code
    return report
  }

  const bytes = typeof params.statement === 'string' ? safeBytes(params.statement) : params.statement
  let statement: Statement
  try {
    if (bytes?.length !== STATEMENT_V2_BYTES) throw new Error(`not ${STATEMENT_V2_BYTES} bytes`)
    statement = decodeStatement(bytes)
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'SEALPOST_STATEMENT_BAD_LENGTH'
    return fail('statement', `not a v2 message statement (${(err as Error).message.split('\n')[0]})`, code)
  }
  if (!isHex(signature) || (signature.length - 2) / 2 !== STATEMENT_SIGNATURE_BYTES)
    return fail('statement', 'the signature is not 64 bytes', 'SEALPOST_VERIFIER_MALFORMED_SIGNATURE')
  report.statement = statement
  pass('statement', `v2 message statement of ${statement.from}, device ${statement.device.slice(0, 10)}…`)

  const chain = contractChainView({
    publicClient,
    chainId: deployment.chainId,
    keyRegistry: deployment.keyRegistry,
  })
  const deviceId = params.deviceId ?? statement.device
  const { report: st } = await verifyStatement({
    signed: { statement, bytes, signature },
    body: undefined,
    sender: { chainId: statement.chainId, account: statement.from, deviceId },
    groupId: statement.conversation,
    lastSeq: -1n,
    chain,
    registry: deployment.keyRegistry,
    now: params.now,
    clock: params.clock,
  })
  for (const step of st.steps) {
    if (step.name === 'sequence') continue
    if (!step.ok) return fail(step.name as AuthorshipStepName, step.detail, st.error?.code ?? '')
    pass(step.name as AuthorshipStepName, step.detail)
  }

  if (
    params.key &&
    st.key &&
    !(sameHex(params.key.p256X, st.key.p256X) && sameHex(params.key.p256Y, st.key.p256Y))
  )
    return fail(
      'device-registered',
      'the key given is not the device key the registry holds',
      'SEALPOST_VERIFIER_KEY_MISMATCH',
    )
  if (params.successorHeader !== undefined) {
    const header = await getBlockHeaderRlp(publicClient, statement.block.number + 1n)
    if (header === undefined || !sameHex(header, params.successorHeader))
      return fail(
        'block-reference',
        `the header given is not block ${statement.block.number + 1n}'s`,
        'SEALPOST_VERIFIER_BLOCK_REFERENCE',
      )
  }

  const leaf = statementLeaf(bytes, signature)
  if (!sameHex(receipt.leaf, leaf))
    return fail(
      'inclusion',
      `the receipt is for leaf ${receipt.leaf}, the statement's is ${leaf}`,
      'SEALPOST_RECEIPT_INVALID',
    )
  const rc = await verifyReceipt(publicClient, {
    receipt,
    messageAnchor: deployment.messageAnchor,
    chainId: deployment.chainId,
  })
  for (const step of rc.steps) {
    const name: AuthorshipStepName =
      step.name === 'inclusion' || step.name === 'anchored' ? step.name : 'receipt'
    if (!step.ok) return fail(name, step.detail, rc.error?.code ?? 'SEALPOST_RECEIPT_INVALID')
    pass(name, step.detail)
  }

  const judged = await judgeAnchor({
    statement,
    anchorBlock: receipt.blockNumber,
    chain,
    windows: params.windows,
  })
  if (judged === undefined) return fail('time-bounds', 'the anchor block or device record cannot be read', '')
  if (!judged.ok) return fail('time-bounds', judged.detail, judged.error.code)
  pass('time-bounds', judged.detail)
  report.anchorBlock = receipt.blockNumber
  report.ok = true
  return report
}

function safeBytes(hex: Hex): Uint8Array | undefined {
  return isHex(hex) ? hexToBytes(hex) : undefined
}

function sameHex(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}
