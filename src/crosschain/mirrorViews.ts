/** Destination-side reads of a SealpostMirror: what a verifier that trusts only chain B uses. */
import type { Address, Client, Hex } from 'viem'
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
 * Reads `deviceRecord(deviceId)` of the mirror.
 *
 * @example
 * const device = await readMirroredDevice(clientB, { mirror, deviceId })
 */
export async function readMirroredDevice(
  client: Client,
  { mirror, deviceId }: { mirror: Address; deviceId: Hex },
): Promise<MirroredDevice> {
  const [account, addedAt, revokedAt, mlsKeyHash, syncedAt] = await withChainErrors(() =>
    readContract(client, {
      address: mirror,
      abi: sealpostMirrorAbi,
      functionName: 'deviceRecord',
      args: [deviceId],
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
 * Reads the mirrored anchor of (`submitter`, `root`): origin block, timestamp, leaf count; `undefined` when not
 * (yet) mirrored.
 *
 * @example
 * const anchor = await readMirroredAnchor(clientB, { mirror, submitter, root })
 */
export async function readMirroredAnchor(
  client: Client,
  { mirror, submitter, root }: { mirror: Address; submitter: Address; root: Hex },
): Promise<{ blockNumber: number; timestamp: number; leafCount: number } | undefined> {
  const [blockNumber, timestamp, leafCount] = await withChainErrors(() =>
    readContract(client, {
      address: mirror,
      abi: sealpostMirrorAbi,
      functionName: 'anchorOf',
      args: [submitter, root],
    }),
  )
  return leafCount === 0 ? undefined : { blockNumber, timestamp, leafCount }
}
