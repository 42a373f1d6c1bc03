/** The transcript-wide checks against the verifier's pinned deployment: export time, chain, contracts, own device. */
import { type Client, type Hex, isAddressEqual } from 'viem'
import { getChainId, getCode } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { getAnchor } from '../chain/messageAnchor.js'
import { InternalError } from '../errors.js'
import { contractChainView } from './chainView.js'
import type { Transcript } from './transcriptFormat.js'
import { type AddCheck, short, type TrustedDeployment } from './transcriptReport.js'
import { DeploymentMismatchError } from './verificationErrors.js'
import type { ChainDevice, ChainView } from './verifyStatement.js'

/** How far in the future the export time may be. */
const CLOCK_TOLERANCE_MS = 5 * 60_000
const PROBE_ROOT: Hex = `0x${'00'.repeat(31)}01`

/**
 * Inputs to {@link checkTranscriptHeader}.
 *
 * @example const p: CheckTranscriptHeaderParameters = { transcript, publicClient, now: Date.now(), deployment, add }
 */
export type CheckTranscriptHeaderParameters = {
  transcript: Transcript
  publicClient: Client
  now: number
  /** The verifier's pinned deployment: the transcript must name exactly these. */
  deployment: TrustedDeployment
  add: AddCheck
}

/**
 * What the header checks found: a chain view over the pinned KeyRegistry for the entry checks, or the reason nothing
 * else can be checked (`mismatch` when the transcript names another deployment).
 *
 * @example const header: TranscriptHeader = { chain }
 */
export type TranscriptHeader =
  | { chain: ChainView; mismatch?: undefined }
  | { chain?: undefined; mismatch?: DeploymentMismatchError | undefined }

/**
 * Adds the `format` (export time), `chain`, `contracts` and `device` checks against the verifier's pinned deployment:
 * a transcript naming another chain or other contracts fails `chain` or `contracts` with a `DeploymentMismatchError`
 * and nothing else is checked (its keys and anchors would prove nothing about the trusted deployment). Every read
 * goes to the pinned addresses. Throws only when the chain cannot be read.
 *
 * @example
 * const { chain, mismatch } = await checkTranscriptHeader({ transcript, publicClient, now, deployment, add })
 * if (!chain) return done(mismatch)
 */
export async function checkTranscriptHeader({
  transcript,
  publicClient,
  now,
  deployment,
  add,
}: CheckTranscriptHeaderParameters): Promise<TranscriptHeader> {
  const { entries } = transcript
  const last = entries.at(-1)
  const future = transcript.exportedAt > now + CLOCK_TOLERANCE_MS
  const early = last !== undefined && transcript.exportedAt < last.at
  add(
    null,
    'format',
    !future && !early,
    future
      ? `exported at ${new Date(transcript.exportedAt).toISOString()}, which is in the future`
      : early
        ? `exported at ${new Date(transcript.exportedAt).toISOString()}, before its last entry (${new Date(last.at).toISOString()})`
        : `version 1 transcript of ${entries.length} entries for ${transcript.account}`,
  )

  // The trusted deployment, never the transcript's own claim.
  const { chainId, keyRegistry, messageAnchor } = deployment
  if (transcript.chainId !== chainId) {
    const mismatch = new DeploymentMismatchError({
      field: 'chainId',
      claimed: String(transcript.chainId),
      trusted: String(chainId),
    })
    add(
      null,
      'chain',
      false,
      `transcript is for chain ${transcript.chainId}, the trusted deployment is on chain ${chainId}`,
    )
    return { mismatch }
  }
  const rpcChainId = await withChainErrors(() => getChainId(publicClient))
  if (!add(null, 'chain', rpcChainId === chainId, `trusted chain ${chainId}, RPC chain ${rpcChainId}`))
    return {}
  for (const field of ['keyRegistry', 'messageAnchor'] as const) {
    if (isAddressEqual(transcript[field], deployment[field])) continue
    add(
      null,
      'contracts',
      false,
      `transcript names ${field === 'keyRegistry' ? 'KeyRegistry' : 'MessageAnchor'} ${transcript[field]}, the trusted deployment's is ${deployment[field]}`,
    )
    return {
      mismatch: new DeploymentMismatchError({
        field,
        claimed: transcript[field],
        trusted: deployment[field],
      }),
    }
  }
  const codes = await Promise.all(
    [keyRegistry, messageAnchor].map((a) => withChainErrors(() => getCode(publicClient, { address: a }))),
  )
  if (codes.some((c) => c === undefined || c === '0x')) {
    add(
      null,
      'contracts',
      false,
      `no contract code at the trusted KeyRegistry ${keyRegistry} or MessageAnchor ${messageAnchor}`,
    )
    return {}
  }

  // One chain view from contract reads: every device and block is read once, for every check that needs it.
  const chain = contractChainView({ publicClient, chainId, keyRegistry })
  // Probe both contracts once: an address with the wrong code reverts here rather than mid-report.
  let own: ChainDevice | undefined
  try {
    ;[own] = await Promise.all([
      chain.device(transcript.deviceId, 0n),
      getAnchor(publicClient, { contract: messageAnchor, root: PROBE_ROOT }),
    ])
  } catch (err) {
    if (err instanceof InternalError) throw err
    add(
      null,
      'contracts',
      false,
      `the trusted KeyRegistry ${keyRegistry} or MessageAnchor ${messageAnchor} is not a Sealpost contract`,
    )
    return {}
  }
  add(
    null,
    'contracts',
    true,
    `KeyRegistry ${keyRegistry}, MessageAnchor ${messageAnchor} (the trusted deployment)`,
  )
  add(
    null,
    'device',
    own !== undefined && isAddressEqual(own.account, transcript.account),
    own === undefined
      ? `device ${transcript.deviceId} is not registered on chain`
      : isAddressEqual(own.account, transcript.account)
        ? `device ${short(transcript.deviceId)} registered to ${transcript.account} in block ${own.addedAt}${own.revokedAt === undefined ? '' : `, revoked in block ${own.revokedAt}`}`
        : `device ${transcript.deviceId} is registered to ${own.account}, not ${transcript.account}`,
  )
  return { chain }
}
