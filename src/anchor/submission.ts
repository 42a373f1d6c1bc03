/** A leaf handed to the anchorer, and its check: 32-byte leaf and topic, hex submitter, all lower-cased. */
import type { Hex } from 'viem'
import { AnchorerInputError } from './errors.js'

/**
 * A leaf handed to `Anchorer.submit`.
 *
 * @example anchorer.submit({ leaf, topic, submitter: deviceId })
 */
export type AnchorerSubmission = {
  /** The 32-byte statement leaf. */
  leaf: Hex
  /** Topic the receipt is published on. */
  topic: Hex
  /** Who submitted it (a device id); stored for accounting only. */
  submitter: Hex
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const HEX = /^0x[0-9a-fA-F]*$/

/**
 * Checks a submission and returns it lower-cased; throws {@link AnchorerInputError} naming the bad field.
 *
 * @example const { leaf } = normalizeSubmission({ leaf: '0xAB…', topic, submitter })
 */
export function normalizeSubmission({ leaf, topic, submitter }: AnchorerSubmission): AnchorerSubmission {
  if (typeof leaf !== 'string' || !BYTES32.test(leaf)) throw new AnchorerInputError({ field: 'leaf' })
  if (typeof topic !== 'string' || !BYTES32.test(topic)) throw new AnchorerInputError({ field: 'topic' })
  if (typeof submitter !== 'string' || !HEX.test(submitter))
    throw new AnchorerInputError({ field: 'submitter' })
  return {
    leaf: leaf.toLowerCase() as Hex,
    topic: topic.toLowerCase() as Hex,
    submitter: submitter.toLowerCase() as Hex,
  }
}
