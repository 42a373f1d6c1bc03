/** Destination-side reads of a SealpostMirror: what a verifier that trusts only chain B uses. */
import { type Address, type Client, getAddress, type Hex } from 'viem'
import { readContract } from 'viem/actions'
import { sealpostMirrorAbi } from '../../contracts/artifacts/SealpostMirror.js'
import { withChainErrors } from '../chain/errors.js'

/**
 * A mirrored device record (`account` is the zero address when never mirrored).
 *
 * @example
 * const { revokedAt, syncedAt }: MirroredDevice = await readMirroredDevice(clientB, { mirror, deviceId })
 */
export type MirroredDevice = {
  account: Address
  addedAt: number
  revokedAt: number
  mlsKeyHash: Hex
  /** The newest origin block a snapshot of this device was taken at. */
  syncedAt: number
}

/**
 * Reads `deviceRecord(deviceId)` of the mirror (at B's block `blockNumber`, default latest).
 *
 * @example
 * const device = await readMirroredDevice(clientB, { mirror, deviceId })
 */
export async function readMirroredDevice(
  client: Client,
  { mirror, deviceId, blockNumber }: { mirror: Address; deviceId: Hex; blockNumber?: bigint | undefined },
): Promise<MirroredDevice> {
  const [account, addedAt, revokedAt, mlsKeyHash, syncedAt] = await withChainErrors(() =>
    readContract(client, {
      address: mirror,
      abi: sealpostMirrorAbi,
      functionName: 'deviceRecord',
      args: [deviceId],
      ...(blockNumber !== undefined && { blockNumber }),
    }),
  )
  return { account, addedAt, revokedAt, mlsKeyHash, syncedAt }
}

/**
 * The mirror's verdict on "was `deviceId` a device of `account` at origin block `originBlock`": `valid`,
 * `invalid` (unknown, another account's, not yet added, or revoked at or before that block) or `not-mirrored`
 * (known and not revoked, but no snapshot at or after that block reached chain B yet).
 *
 * @example
 * const verdict = await mirroredValidityAt(clientB, { mirror, account, deviceId, originBlock: 120n })
 */
export async function mirroredValidityAt(
  client: Client,
  {
    mirror,
    account,
    deviceId,
    originBlock,
  }: { mirror: Address; account: Address; deviceId: Hex; originBlock: bigint },
): Promise<'valid' | 'invalid' | 'not-mirrored'> {
  const valid = await withChainErrors(() =>
    readContract(client, {
      address: mirror,
      abi: sealpostMirrorAbi,
      functionName: 'isValidAt',
      args: [account, deviceId, originBlock],
    }),
  )
  if (valid) return 'valid'
  const d = await readMirroredDevice(client, { mirror, deviceId })
  const known = d.account.toLowerCase() === account.toLowerCase() && BigInt(d.addedAt) <= originBlock
  return known && d.revokedAt === 0 && BigInt(d.syncedAt) < originBlock ? 'not-mirrored' : 'invalid'
}

/**
 * The verdict of {@link mirroredValidityAt} computed from a record already read (the rule of the mirror's
 * `isValidAt`, step for step), with the reason: `unknown` (never mirrored: unknown on the origin, or not yet
 * mirrored), `other-account`, `not-yet-added`, `revoked` (at or before the block), `not-mirrored` (no snapshot at or
 * after the block yet), `valid`.
 *
 * @example const { verdict, reason } = mirroredValidity(device, { account, originBlock: 120n })
 */
export function mirroredValidity(
  d: MirroredDevice,
  { account, originBlock }: { account: Address; originBlock: bigint },
): {
  verdict: 'valid' | 'invalid' | 'not-mirrored'
  reason: 'valid' | 'unknown' | 'other-account' | 'not-yet-added' | 'revoked' | 'not-mirrored'
} {
  if (/^0x0{40}$/.test(d.account)) return { verdict: 'not-mirrored', reason: 'unknown' }
  if (d.account.toLowerCase() !== account.toLowerCase())
    return { verdict: 'invalid', reason: 'other-account' }
  if (BigInt(d.addedAt) > originBlock) return { verdict: 'invalid', reason: 'not-yet-added' }
  if (d.revokedAt !== 0)
    return BigInt(d.revokedAt) > originBlock
      ? { verdict: 'valid', reason: 'valid' }
      : { verdict: 'invalid', reason: 'revoked' }
  return originBlock <= BigInt(d.syncedAt)
    ? { verdict: 'valid', reason: 'valid' }
    : { verdict: 'not-mirrored', reason: 'not-mirrored' }
}

/**
 * The origin a mirror accepts deliveries from, fixed at its deployment: the origin's Hyperlane domain (= its chain id)
 * and the SealpostMirrorSender there (as an address).
 *
 * @example const { originDomain, originSender } = await readMirrorOrigin(clientB, { mirror })
 */
export async function readMirrorOrigin(
  client: Client,
  { mirror }: { mirror: Address },
): Promise<{ originDomain: number; originSender: Address }> {
  const [originDomain, sender] = await Promise.all([
    withChainErrors(() =>
      readContract(client, { address: mirror, abi: sealpostMirrorAbi, functionName: 'originDomain' }),
    ),
    withChainErrors(() =>
      readContract(client, { address: mirror, abi: sealpostMirrorAbi, functionName: 'originSender' }),
    ),
  ])
  return { originDomain, originSender: getAddress(`0x${sender.slice(26)}`) }
}

/**
 * Reads the mirrored anchor of (`submitter`, `root`): origin block, timestamp, leaf count; `undefined` when not
 * (yet) mirrored (at B's block `blockNumber`, default latest).
 *
 * @example
 * const anchor = await readMirroredAnchor(clientB, { mirror, submitter, root })
 */
export async function readMirroredAnchor(
  client: Client,
  {
    mirror,
    submitter,
    root,
    blockNumber: at,
  }: { mirror: Address; submitter: Address; root: Hex; blockNumber?: bigint | undefined },
): Promise<{ blockNumber: number; timestamp: number; leafCount: number } | undefined> {
  const [blockNumber, timestamp, leafCount] = await withChainErrors(() =>
    readContract(client, {
      address: mirror,
      abi: sealpostMirrorAbi,
      functionName: 'anchorOf',
      args: [submitter, root],
      ...(at !== undefined && { blockNumber: at }),
    }),
  )
  return leafCount === 0 ? undefined : { blockNumber, timestamp, leafCount }
}
