/** Safety numbers (protocol §2.5): 60 digits that commit to an account and the key commitments of its active devices. */
import { createHash } from 'node:crypto'
import { type Address, type Hex, hexToBytes, keccak256 } from 'viem'

/** Domain-separation label of safety numbers (protocol §2.5, §13). @example LABEL_SAFETY_NUMBER // 'sealpost/v2/safety-number' */
export const LABEL_SAFETY_NUMBER = 'sealpost/v2/safety-number'

/** SHA-512 rounds of a safety number (Signal's 5200, so a second-preimage search costs as much per guess). @example SAFETY_NUMBER_ITERATIONS // 5200 */
export const SAFETY_NUMBER_ITERATIONS = 5200

/**
 * One active device as a safety number commits to it: its id (keccak256 of its P-256 key) and its MLS key.
 *
 * @example const d: SafetyNumberDevice = { deviceId, mlsKey } // a DeviceRecord fits
 */
export type SafetyNumberDevice = { deviceId: Hex; mlsKey: Hex }

/**
 * Parameters of {@link safetyNumber}: the deployment (chain and registry), the account, and its active devices.
 *
 * @example const p: SafetyNumberParameters = { chainId: 31337, registry, account, devices: watcher.activeDevicesOf(account) }
 */
export type SafetyNumberParameters = {
  chainId: number
  registry: Address
  account: Address
  devices: readonly SafetyNumberDevice[]
}

/**
 * The key commitment of one device: `deviceId (32) ‖ keccak256(mlsKey) (32)`, 64 bytes.
 *
 * @example deviceKeyCommitment({ deviceId, mlsKey }).length // 64
 */
export function deviceKeyCommitment({ deviceId, mlsKey }: SafetyNumberDevice): Uint8Array {
  const out = new Uint8Array(64)
  out.set(hexToBytes(deviceId, { size: 32 }), 0)
  out.set(hexToBytes(keccak256(mlsKey)), 32)
  return out
}

/**
 * The safety number of `account`'s device set (protocol §2.5): 12 groups of 5 digits, separated by spaces. Equal
 * for equal sets in any order; any added, revoked or rotated device changes it.
 *
 * @example safetyNumber({ chainId, registry, account, devices: watcher.activeDevicesOf(account) }) // '01234 56789 …'
 */
export function safetyNumber(parameters: SafetyNumberParameters): string {
  const hash = safetyNumberHash(parameters)
  const groups: string[] = []
  for (let i = 0; i < 12; i++) {
    let v = 0
    for (let j = 0; j < 5; j++) v = v * 256 + (hash[i * 5 + j] as number)
    groups.push(String(v % 100_000).padStart(5, '0'))
  }
  return groups.join(' ')
}

/**
 * The 64-byte iterated SHA-512 under a safety number: `h = SHA-512(input)`, then 5199 times `h = SHA-512(h ‖ input)`.
 *
 * @example safetyNumberHash({ chainId, registry, account, devices }).length // 64
 */
export function safetyNumberHash({
  chainId,
  registry,
  account,
  devices,
}: SafetyNumberParameters): Uint8Array {
  const commitments = devices.map(deviceKeyCommitment).sort(compareBytes)
  const unique = commitments.filter(
    (c, i) => i === 0 || compareBytes(c, commitments[i - 1] as Uint8Array) !== 0,
  )
  const head = new Uint8Array(LABEL_SAFETY_NUMBER.length + 1 + 8 + 20 + 20 + 4)
  const view = new DataView(head.buffer)
  head.set(Buffer.from(LABEL_SAFETY_NUMBER, 'latin1'), 0)
  let offset = LABEL_SAFETY_NUMBER.length + 1
  view.setBigUint64(offset, BigInt(chainId))
  offset += 8
  head.set(hexToBytes(registry, { size: 20 }), offset)
  offset += 20
  head.set(hexToBytes(account, { size: 20 }), offset)
  offset += 20
  view.setUint32(offset, unique.length)
  const input = Buffer.concat([head, ...unique])
  let hash = createHash('sha512').update(input).digest()
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++)
    hash = createHash('sha512').update(hash).update(input).digest()
  return new Uint8Array(hash)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}
