/** The bad actors' recipes do what they claim: the id check, MLS, or the transcript's hashes are what must catch them. */
import { expect, test } from 'vitest'
import type { Transcript } from '../client/transcript.js'
import {
  createEnvelope,
  decodeEnvelope,
  EnvelopeIdMismatchError,
  encodeEnvelope,
} from '../protocol/envelope.js'
import { flipEnvelopeBit, forgeTranscript, tamperCiphertext } from './attacks.js'

const topic = `0x${'11'.repeat(32)}` as const
const envelope = createEnvelope({ kind: 'application', topic, payload: new Uint8Array(64).fill(7) })

test('flipEnvelopeBit leaves the id, so decoding fails the id check', () => {
  expect(() => decodeEnvelope(flipEnvelopeBit(envelope))).toThrow(EnvelopeIdMismatchError)
})

test('tamperCiphertext changes one payload bit and recomputes the id, so only MLS can tell', () => {
  const tampered = tamperCiphertext(envelope)
  expect(decodeEnvelope(encodeEnvelope(tampered)).id).toBe(tampered.id)
  expect(tampered.id).not.toBe(envelope.id)
  expect(tampered.topic).toBe(topic)
  const differing = [...tampered.payload].filter((b, i) => b !== envelope.payload[i])
  expect(differing).toEqual([7 ^ 0x01])
  expect(envelope.payload.every((b) => b === 7)).toBe(true) // the original is untouched
})

test('forgeTranscript rewrites the first sent body of a copy only', () => {
  const transcript = {
    entries: [
      { kind: 'received', data: { body: 'in' } },
      { kind: 'sent', data: { body: 'Hi Bob' } },
    ],
  } as unknown as Transcript
  const forged = forgeTranscript(transcript)
  expect(forged.entries.map((e) => (e.data as { body: string }).body)).toEqual([
    'in',
    'Hi Bob, wire 10 ETH to 0xBAD.',
  ])
  expect(transcript.entries.map((e) => (e.data as { body: string }).body)).toEqual(['in', 'Hi Bob'])
})
