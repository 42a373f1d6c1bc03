/** Time bounds of a statement from chain data only: the live window at arrival, the anchor window, and revocation. */
import type { Hex } from 'viem'
import {
  AnchorWindowError,
  RevokedBeforeAnchorError,
  StaleBlockReferenceError,
} from './verificationErrors.js'
import type { ChainView } from './verifyStatement.js'

/**
 * The two windows (protocol §11.1), in milliseconds. Both are measured from the timestamp of the block *after* the
 * statement's referenced block (`succ`): the first moment the sender's "recent block" was no longer the newest.
 *
 * @example const windows: TimeWindows = { anchorWindowMs: 3_600_000, liveWindowMs: 600_000 }
 */
export type TimeWindows = {
  /** A statement counts only if anchored at most this long after `succ`. Default 1 hour. */
  anchorWindowMs: number
  /** A live delivery is refused if `succ` is older than this at arrival. Default 10 minutes. */
  liveWindowMs: number
}

/**
 * Default windows: W_anchor = 1 h, W_live = 10 min.
 *
 * @example defaultTimeWindows.anchorWindowMs // 3_600_000
 */
export const defaultTimeWindows: TimeWindows = { anchorWindowMs: 60 * 60_000, liveWindowMs: 10 * 60_000 }

/**
 * Windows as callers pass them: any left out (or undefined) takes its default.
 *
 * @example const w: WindowOptions = { liveWindowMs: 60_000 }
 */
export type WindowOptions = { anchorWindowMs?: number | undefined; liveWindowMs?: number | undefined }

/**
 * A block as the judgements read it: its number and its timestamp in seconds.
 *
 * @example const anchor: BlockTime = { number: 812n, timestamp: 1_700_000_000n }
 */
export type BlockTime = { number: bigint; timestamp: bigint }

/**
 * What a judgement decided: passed with a detail line, or failed with its typed error.
 *
 * @example const j: TimeJudgement = judgeLive({ statement, referencedSuccessor, now: Date.now() })
 */
export type TimeJudgement =
  | { ok: true; detail: string }
  | {
      ok: false
      detail: string
      error: AnchorWindowError | RevokedBeforeAnchorError | StaleBlockReferenceError
    }

/** The statement fields the judgements read. */
type StatementTime = { device: Hex; block: { number: bigint } }

/**
 * Judges an anchored statement (protocol §11.1): final only if its anchor block `A` comes after its referenced block,
 * `ts(A) − ts(succ) ≤ W_anchor`, and, for a revoked device, `A` is before the revocation block. Pure: every input is
 * chain data, so any verifier (a recipient, `sealpost verify`) computes the same verdict.
 *
 * @example
 * const j = judgeAnchored({ statement, referencedSuccessor: succ, anchorBlock, device: { revokedAt: 120n } })
 * if (!j.ok) throw j.error
 */
export function judgeAnchored({
  statement,
  referencedSuccessor,
  anchorBlock,
  device,
  windows,
  messageId,
}: {
  statement: StatementTime
  /** Block `ref + 1`; it exists whenever the anchor is after `ref`. Undefined if the chain has no such block. */
  referencedSuccessor: { timestamp: bigint } | undefined
  /** The block of the verified receipt's anchor transaction. */
  anchorBlock: BlockTime
  /** The sender device's registry record, read with the registry synced at least to the anchor block. */
  device: { revokedAt?: bigint | undefined }
  windows?: WindowOptions | undefined
  messageId?: Hex | undefined
}): TimeJudgement {
  const anchorWindowMs = windows?.anchorWindowMs ?? defaultTimeWindows.anchorWindowMs
  const ref = statement.block.number
  const refuse = (error: AnchorWindowError | RevokedBeforeAnchorError): TimeJudgement => ({
    ok: false,
    detail: error.shortMessage,
    error,
  })
  if (anchorBlock.number <= ref || referencedSuccessor === undefined)
    return refuse(
      new AnchorWindowError({
        messageId,
        block: ref,
        reason: `anchored in block ${anchorBlock.number}, not after the referenced block`,
      }),
    )
  const lagMs = Number(anchorBlock.timestamp - referencedSuccessor.timestamp) * 1000
  if (lagMs > anchorWindowMs)
    return refuse(
      new AnchorWindowError({
        messageId,
        block: ref,
        reason: `anchored ${lagMs / 1000} s after block ${ref + 1n}, window ${anchorWindowMs / 1000} s`,
      }),
    )
  if (device.revokedAt !== undefined && device.revokedAt <= anchorBlock.number)
    return refuse(
      new RevokedBeforeAnchorError({
        messageId,
        deviceId: statement.device,
        revokedAt: device.revokedAt,
        anchorBlock: anchorBlock.number,
      }),
    )
  return {
    ok: true,
    detail: `anchored in block ${anchorBlock.number}, ${lagMs / 1000} s after block ${ref + 1n}${
      device.revokedAt !== undefined ? `, before the revocation at block ${device.revokedAt}` : ''
    }`,
  }
}

/**
 * Reads what {@link judgeAnchored} needs from the chain and judges: the anchor block, block `ref + 1` and the sender
 * device's registry record (synced at least to the anchor block). The one judgement of an anchored statement, used by
 * a recipient on each receipt and by the transcript verifier for every anchored statement of a log. Undefined when
 * the anchor block or the device record cannot be read (the verdict stays open).
 *
 * @example
 * const j = await judgeAnchor({ statement, anchorBlock: receipt.blockNumber, chain })
 * if (j && !j.ok) throw j.error
 */
export async function judgeAnchor({
  statement,
  anchorBlock,
  chain,
  windows,
  messageId,
}: {
  statement: StatementTime
  /** The block number of the verified receipt's anchor. */
  anchorBlock: bigint
  chain: Pick<ChainView, 'block' | 'device'>
  windows?: WindowOptions | undefined
  messageId?: Hex | undefined
}): Promise<TimeJudgement | undefined> {
  const [anchor, succ, device] = await Promise.all([
    chain.block(anchorBlock),
    chain.block(statement.block.number + 1n),
    chain.device(statement.device, anchorBlock),
  ])
  if (!anchor || !device) return undefined
  return judgeAnchored({
    statement,
    referencedSuccessor: succ,
    anchorBlock: { number: anchorBlock, timestamp: anchor.timestamp },
    device,
    windows,
    messageId,
  })
}

/**
 * Judges a live delivery at arrival (protocol §11.1): refused if the block after the referenced one is older than
 * W_live at the arrival time, the later of the verifier's clock and the chain head's timestamp (so a verifier whose
 * clock lags the chain still sees how old the reference is). A referenced block that is still the chain head
 * (`referencedSuccessor` undefined) is fresh.
 *
 * @example const j = judgeLive({ statement, referencedSuccessor: await chain.block(ref + 1n), now: Date.now() })
 */
export function judgeLive({
  statement,
  referencedSuccessor,
  now,
  head,
  windows,
  messageId,
}: {
  statement: StatementTime
  referencedSuccessor: { timestamp: bigint } | undefined
  /** The verifier's clock, in milliseconds. */
  now: number
  /** The chain head at arrival, if known. */
  head?: { timestamp: bigint } | undefined
  windows?: WindowOptions | undefined
  messageId?: Hex | undefined
}): TimeJudgement {
  const liveWindowMs = windows?.liveWindowMs ?? defaultTimeWindows.liveWindowMs
  const ref = statement.block.number
  if (referencedSuccessor === undefined) return { ok: true, detail: `block ${ref} is the chain head` }
  const arrival = Math.max(now, head ? Number(head.timestamp) * 1000 : now)
  const ageMs = arrival - Number(referencedSuccessor.timestamp) * 1000
  if (ageMs > liveWindowMs) {
    const error = new StaleBlockReferenceError({ messageId, block: ref, ageMs, windowMs: liveWindowMs })
    return { ok: false, detail: error.shortMessage, error }
  }
  return { ok: true, detail: `block ${ref + 1n} is ${Math.max(0, Math.round(ageMs / 1000))} s old` }
}

/**
 * Judges a statement still without a receipt against the chain head (the expiry sweep, protocol §11.1): once
 * `ts(head) − ts(succ) > W_anchor`, no later anchor could be within the window, so it is refused.
 *
 * @example const j = judgeExpired({ statement, referencedSuccessor, head: { number, timestamp } })
 */
export function judgeExpired({
  statement,
  referencedSuccessor,
  head,
  windows,
  messageId,
}: {
  statement: StatementTime
  referencedSuccessor: { timestamp: bigint } | undefined
  head: BlockTime
  windows?: WindowOptions | undefined
  messageId?: Hex | undefined
}): TimeJudgement {
  const anchorWindowMs = windows?.anchorWindowMs ?? defaultTimeWindows.anchorWindowMs
  const ref = statement.block.number
  if (referencedSuccessor === undefined) return { ok: true, detail: `block ${ref} is the chain head` }
  const lagMs = Number(head.timestamp - referencedSuccessor.timestamp) * 1000
  if (lagMs > anchorWindowMs) {
    const error = new AnchorWindowError({
      messageId,
      block: ref,
      reason: `no receipt, and the chain head (block ${head.number}) is ${lagMs / 1000} s past block ${ref + 1n}`,
    })
    return { ok: false, detail: error.shortMessage, error }
  }
  return { ok: true, detail: `the anchor window is open for ${(anchorWindowMs - lagMs) / 1000} s more` }
}
