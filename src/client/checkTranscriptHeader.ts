/** The transcript-wide checks: export time, chain, contracts and the transcript's own device, read on chain. */
import { type Address, type Client, type Hex, isAddressEqual } from 'viem'
import { getChainId, getCode } from 'viem/actions'
import { withChainErrors } from '../chain/errors.js'
import { getAnchor } from '../chain/messageAnchor.js'
import { InternalError } from '../errors.js'
import { contractChainView } from './chainView.js'
import type { Transcript } from './transcriptFormat.js'
import { type AddCheck, short } from './transcriptReport.js'
import type { ChainDevice, ChainView } from './verifyStatement.js'

/** How far in the future the export time may be. */
const CLOCK_TOLERANCE_MS = 5 * 60_000
const PROBE_ROOT: Hex = `0x${'00'.repeat(31)}01`

/**
 * Inputs to {@link checkTranscriptHeader}.
 *
 * @example const p: CheckTranscriptHeaderParameters = { transcript, publicClient, now: Date.now(), deployment: undefined, add }
 */
export type CheckTranscriptHeaderParameters = {
  transcript: Transcript
  publicClient: Client
  now: number
  deployment: { keyRegistry: Address; messageAnchor: Address } | undefined
  add: AddCheck
}

/**
 * Adds the `format` (export time), `chain`, `contracts` and `device` checks. Returns a chain view of contract
 * reads for the entry checks, or `undefined` when the chain or the contracts are wrong and nothing else can be
 * checked. Throws only when the chain cannot be read.
 *
 * @example
 * const chain = await checkTranscriptHeader({ transcript, publicClient, now, deployment, add })
 * if (!chain) return done()
 */
export async function checkTranscriptHeader({
  transcript,
  publicClient,
  now,
  deployment,
  add,
}: CheckTranscriptHeaderParameters): Promise<ChainView | undefined> {
  const { entries, chainId, keyRegistry, messageAnchor } = transcript
  add(
    null,
    'format',
    transcript.exportedAt <= now + CLOCK_TOLERANCE_MS,
    transcript.exportedAt <= now + CLOCK_TOLERANCE_MS
      ? `version 1 transcript of ${entries.length} entries for ${transcript.account}`
      : `exported at ${new Date(transcript.exportedAt).toISOString()}, which is in the future`,
  )
  const rpcChainId = await withChainErrors(() => getChainId(publicClient))
  if (!add(null, 'chain', rpcChainId === chainId, `transcript chain ${chainId}, RPC chain ${rpcChainId}`))
    return undefined
  const codes = await Promise.all(
    [keyRegistry, messageAnchor].map((a) => withChainErrors(() => getCode(publicClient, { address: a }))),
  )
  if (codes.some((c) => c === undefined || c === '0x')) {
    add(
      null,
      'contracts',
      false,
      `no contract code at KeyRegistry ${keyRegistry} or MessageAnchor ${messageAnchor}`,
    )
    return undefined
  }
  if (deployment) {
    const same =
      isAddressEqual(deployment.keyRegistry, keyRegistry) &&
      isAddressEqual(deployment.messageAnchor, messageAnchor)
    if (
      !add(
        null,
        'contracts',
        same,
        same
          ? `KeyRegistry ${keyRegistry}, MessageAnchor ${messageAnchor} (the trusted deployment)`
          : `transcript names KeyRegistry ${keyRegistry} and MessageAnchor ${messageAnchor}, expected ${deployment.keyRegistry} and ${deployment.messageAnchor}`,
      )
    )
      return undefined
  } else {
    add(
      null,
      'contracts',
      true,
      `KeyRegistry ${keyRegistry}, MessageAnchor ${messageAnchor} (taken from the transcript; pass a deployment to pin them)`,
    )
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
      `KeyRegistry ${keyRegistry} or MessageAnchor ${messageAnchor} is not a Sealpost contract`,
    )
    return undefined
  }
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
  return chain
}
