/** The last-resort mark of an MLS KeyPackage (the `last_resort` extension) and how to read it from a payload. */
import { decodeMlsMessage, type KeyPackage } from 'ts-mls'

/**
 * KeyPackage extension type `last_resort_key_package` (draft-ietf-mls-extensions: value 0x000A, message KP,
 * empty data; RFC 9420 §16.8 describes last-resort key packages). A key package that carries it may be used for
 * several groups: the relay hands it out when the one-time ones are gone and keeps it.
 *
 * @example LAST_RESORT_EXTENSION // 0x000a
 */
export const LAST_RESORT_EXTENSION = 0x000a

/**
 * The KeyPackage in an envelope payload if it is a last-resort one: an MLS message holding a KeyPackage whose
 * extensions include {@link LAST_RESORT_EXTENSION}. Anything else (other content, trailing bytes) gives undefined.
 *
 * @example const keyPackage = lastResortKeyPackageOf(envelope.payload)
 */
export function lastResortKeyPackageOf(payload: Uint8Array): KeyPackage | undefined {
  let decoded: ReturnType<typeof decodeMlsMessage>
  try {
    decoded = decodeMlsMessage(payload, 0)
  } catch {
    return undefined
  }
  if (!decoded || decoded[1] !== payload.length) return undefined
  const message = decoded[0]
  if (message.wireformat !== 'mls_key_package') return undefined
  const marked = message.keyPackage.extensions.some((e) => e.extensionType === LAST_RESORT_EXTENSION)
  return marked ? message.keyPackage : undefined
}

/**
 * Whether an envelope payload holds a last-resort KeyPackage ({@link lastResortKeyPackageOf}).
 *
 * @example if (isLastResortKeyPackagePayload(envelope.payload)) keepIt()
 */
export function isLastResortKeyPackagePayload(payload: Uint8Array): boolean {
  return lastResortKeyPackageOf(payload) !== undefined
}
