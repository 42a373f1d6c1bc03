/** The bad actors' recipes, shared by `sealpost demo` and `sealpost up --demo`: tamper, replay, forward a stolen key's message. */
import type { Hex } from 'viem'
import type { Client, Conversation, SentMessage } from '../client/Client.js'
import type { Transcript } from '../client/transcript.js'
import { createEnvelope, decodeEnvelope, type Envelope, encodeEnvelope } from '../protocol/envelope.js'

/** How far from the end of the bytes the tamperer flips a bit (inside the MLS ciphertext). */
const FLIP_FROM_END = 20

const flip = (bytes: Uint8Array): Uint8Array => {
  const i = bytes.length - FLIP_FROM_END
  bytes[i] = (bytes[i] ?? 0) ^ 0x01
  return bytes
}

/**
 * A relay flips one bit of an envelope in transit and leaves its id: the id check catches it.
 *
 * @example await bob.receive(flipEnvelopeBit(sent.envelope)) // EnvelopeIdMismatchError
 */
export function flipEnvelopeBit(envelope: Envelope): Uint8Array {
  return flip(encodeEnvelope(envelope))
}

/**
 * A tamperer flips one ciphertext bit and recomputes the envelope id, so only MLS can tell.
 *
 * @example await bob.receive(tamperCiphertext(sent.envelope)) // MlsRejectedError
 */
export function tamperCiphertext(envelope: Envelope): Envelope {
  return createEnvelope({
    kind: 'application',
    topic: envelope.topic,
    payload: flip(envelope.payload.slice()),
  })
}

/**
 * A replayer sends a fresh message that reuses sequence number 1.
 *
 * @example const stale = await replaySequence(chat, 'this reuses seq 1') // recipients: StaleSequenceError
 */
export function replaySequence(conversation: Conversation, text: string): Promise<SentMessage> {
  return conversation.send(text, { unsafeSeq: 1n })
}

/**
 * A thief uses a revoked device that has no relay connection: it seals and signs `text` anyway, and returns the
 * envelope for someone else to forward (undefined if the device is not in the conversation).
 *
 * @example const envelope = await sealWithRevokedDevice(stolenPhone, chat.id, 'wire the funds')
 */
export async function sealWithRevokedDevice(
  stolen: Client,
  conversation: Hex,
  text: string,
): Promise<Envelope | undefined> {
  await stolen.conversations
    .get(conversation)
    ?.send(text, { unsafeSkipRegistrationCheck: true })
    .catch(() => undefined) // no transport: the sealed envelope stays in the outbox
  const queued = stolen.messages.inState(['queued'], 'out').at(-1)?.envelope
  return queued ? decodeEnvelope(queued) : undefined
}

/**
 * A forger changes the body of the first sent message of a transcript (the JSON stays valid, so only the
 * cryptography can tell).
 *
 * @example const forged = forgeTranscript(transcript) // verifyTranscript(forged).ok === false
 */
export function forgeTranscript(transcript: Transcript): Transcript {
  const copy = structuredClone(transcript)
  const entry = copy.entries.find((e) => e.kind === 'sent')
  if (entry) (entry.data as { body?: string }).body = 'Hi Bob, wire 10 ETH to 0xBAD.'
  return copy
}
