/** Hyperlane message v3 (libs/Message.sol of @hyperlane-xyz/core): encoder, decoder and message id. */
import { type Address, bytesToHex, concatHex, type Hex, hexToBytes, keccak256, numberToHex, pad } from 'viem'
import { HyperlaneMessageMalformedError } from './errors.js'

/** Version byte of the Mailbox in @hyperlane-xyz/core 12 (`Mailbox.VERSION`). @example HYPERLANE_MESSAGE_VERSION // 3 */
export const HYPERLANE_MESSAGE_VERSION = 3

/**
 * A decoded Hyperlane message: version ‖ nonce ‖ origin ‖ sender ‖ destination ‖ recipient ‖ body
 * (1 + 4 + 4 + 32 + 4 + 32 bytes, then the body).
 *
 * @example
 * const m: HyperlaneMessage = decodeHyperlaneMessage(bytes)
 */
export type HyperlaneMessage = {
  version: number
  nonce: number
  origin: number
  /** The dispatching contract, left-padded to 32 bytes. */
  sender: Hex
  destination: number
  recipient: Hex
  body: Hex
}

/**
 * Encodes `message` as Message.formatMessage does.
 *
 * @example
 * const bytes = encodeHyperlaneMessage({ version: 3, nonce: 0, origin: 31337, sender, destination: 31338, recipient, body: '0x' })
 */
export function encodeHyperlaneMessage(message: HyperlaneMessage): Hex {
  return concatHex([
    numberToHex(message.version, { size: 1 }),
    numberToHex(message.nonce, { size: 4 }),
    numberToHex(message.origin, { size: 4 }),
    pad(message.sender, { size: 32 }),
    numberToHex(message.destination, { size: 4 }),
    pad(message.recipient, { size: 32 }),
    message.body,
  ])
}

/**
 * Decodes a Hyperlane message; throws {@link HyperlaneMessageMalformedError} under 77 bytes.
 *
 * @example
 * const { origin, sender, body } = decodeHyperlaneMessage(log.args.message)
 */
export function decodeHyperlaneMessage(bytes: Hex): HyperlaneMessage {
  const b = hexToBytes(bytes)
  if (b.length < 77) throw new HyperlaneMessageMalformedError({ length: b.length })
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    version: b[0]!,
    nonce: view.getUint32(1),
    origin: view.getUint32(5),
    sender: bytesToHex(b.subarray(9, 41)),
    destination: view.getUint32(41),
    recipient: bytesToHex(b.subarray(45, 77)),
    body: bytesToHex(b.subarray(77)),
  }
}

/**
 * The message id: keccak256 of the encoded message (Message.id).
 *
 * @example
 * hyperlaneMessageId(bytes) === log.args.messageId
 */
export function hyperlaneMessageId(bytes: Hex): Hex {
  return keccak256(bytes)
}

/**
 * An address as Hyperlane's bytes32 (TypeCasts.addressToBytes32: left-padded).
 *
 * @example
 * addressToBytes32('0x5FbDB2315678afecb367f032d93F642f64180aa3')
 */
export function addressToBytes32(address: Address): Hex {
  return pad(address.toLowerCase() as Hex, { size: 32 })
}
