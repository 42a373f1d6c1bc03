/** The body SealpostMirrorSender dispatches and SealpostMirror decodes: abi.encode(uint8 kind, uint256 originBlock, items). */
import { type Address, decodeAbiParameters, encodeAbiParameters, type Hex, parseAbiParameters } from 'viem'
import { MirrorPayloadMalformedError } from './errors.js'

/**
 * A device record of the origin KeyRegistry as of the payload's origin block.
 *
 * @example
 * const d: DeviceSnapshot = { account, deviceId, addedAt: 12, revokedAt: 0, mlsKeyHash: '0x…(18 bytes)' }
 */
export type DeviceSnapshot = {
  account: Address
  deviceId: Hex
  addedAt: number
  revokedAt: number
  mlsKeyHash: Hex
}

/**
 * An anchor of the origin MessageAnchor.
 *
 * @example
 * const a: AnchorSnapshot = { submitter, root, blockNumber: 40, timestamp: 1_700_000_000, leafCount: 16 }
 */
export type AnchorSnapshot = {
  submitter: Address
  root: Hex
  blockNumber: number
  timestamp: number
  leafCount: number
}

/**
 * A decoded mirror payload.
 *
 * @example
 * const p: MirrorPayload = decodeMirrorPayload(body)
 */
export type MirrorPayload =
  | { kind: 'devices'; originBlock: bigint; items: DeviceSnapshot[] }
  | { kind: 'anchors'; originBlock: bigint; items: AnchorSnapshot[] }

const deviceParams = parseAbiParameters(
  'uint8 kind, uint256 originBlock, (address account, bytes32 deviceId, uint40 addedAt, uint40 revokedAt, bytes18 mlsKeyHash)[] items',
)
const anchorParams = parseAbiParameters(
  'uint8 kind, uint256 originBlock, (address submitter, bytes32 root, uint40 blockNumber, uint32 timestamp, uint24 leafCount)[] items',
)

/**
 * Encodes a payload as the sender does (kind 1 = devices, 2 = anchors).
 *
 * @example
 * const body = encodeMirrorPayload({ kind: 'anchors', originBlock: 41n, items: [anchor] })
 */
export function encodeMirrorPayload(payload: MirrorPayload): Hex {
  return payload.kind === 'devices'
    ? encodeAbiParameters(deviceParams, [1, payload.originBlock, payload.items])
    : encodeAbiParameters(anchorParams, [2, payload.originBlock, payload.items])
}

/**
 * Decodes a mirror payload; throws {@link MirrorPayloadMalformedError} for anything else.
 *
 * @example
 * const { kind, originBlock, items } = decodeMirrorPayload(decodeHyperlaneMessage(message).body)
 */
export function decodeMirrorPayload(body: Hex): MirrorPayload {
  const kind = body.length >= 66 ? Number(BigInt(body.slice(0, 66))) : -1
  try {
    if (kind === 1) {
      const [, originBlock, items] = decodeAbiParameters(deviceParams, body)
      return { kind: 'devices', originBlock, items: items.map((i) => ({ ...i })) }
    }
    if (kind === 2) {
      const [, originBlock, items] = decodeAbiParameters(anchorParams, body)
      return { kind: 'anchors', originBlock, items: items.map((i) => ({ ...i })) }
    }
  } catch (cause) {
    throw new MirrorPayloadMalformedError({ reason: `kind ${kind} does not decode`, cause })
  }
  throw new MirrorPayloadMalformedError({ reason: `unknown kind ${kind}` })
}
