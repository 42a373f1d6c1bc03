/** The last-resort mark of an MLS KeyPackage (the `last_resort` extension) and how to read it from a payload. */
import { decodeMlsMessage } from 'ts-mls'

/**
 * KeyPackage extension type `last_resort_key_package` (draft-ietf-mls-extensions: value 0x000A, message KP,
 * empty data; RFC 9420 §16.8 describes last-resort key packages). A key package that carries it may be used for
 * several groups: the relay hands it out when the one-time ones are gone and keeps it.
 *
 * @example LAST_RESORT_EXTENSION // 0x000a
 */
export const LAST_RESORT_EXTENSION = 0x000a

/**
 * Whether an envelope payload is an MLS message holding a KeyPackage whose extensions include
 * {@link LAST_RESORT_EXTENSION}. Anything that does not decode as such (or has trailing bytes) is not.
 *
 * @example if (isLastResortKeyPackagePayload(envelope.payload)) keepIt()
 */
export function isLastResortKeyPackagePayload(payload: Uint8Array): boolean {
  let decoded: ReturnType<typeof decodeMlsMessage>
  try {
    decoded = decodeMlsMessage(payload, 0)
  } catch {
    return false
  }
  if (!decoded || decoded[1] !== payload.length) return false
  const message = decoded[0]
  if (message.wireformat !== 'mls_key_package') return false
  return message.keyPackage.extensions.some((e) => e.extensionType === LAST_RESORT_EXTENSION)
}
