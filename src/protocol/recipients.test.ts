import { readFileSync } from 'node:fs'
import type { Address } from 'viem'
import { describe, expect, test } from 'vitest'
import { ValidationError } from '../errors.js'
import {
  InvalidRecipientsError,
  recipientLeaf,
  recipientProof,
  recipientsRoot,
  sortedRecipients,
  verifyRecipientProof,
} from './recipients.js'

const file = JSON.parse(
  readFileSync(new URL('../../test/vectors/statement-v2.json', import.meta.url), 'utf8'),
)
const [BOB, ALICE, CAROL] = file.recipients.accounts as Address[]
const MALLORY: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'

describe('recipients', () => {
  test('frozen vectors: leaves, order and root', () => {
    expect(sortedRecipients(file.recipients.accounts)).toEqual(file.recipients.sorted)
    expect(file.recipients.sorted.map((a: Address) => recipientLeaf(31337, a))).toEqual(
      file.recipients.leaves,
    )
    expect(recipientsRoot(31337, file.recipients.accounts)).toBe(file.recipients.root)
    expect(recipientProof(31337, file.recipients.accounts, BOB!)).toEqual(file.recipients.proofOfBob)
  })

  test('the root is of a set: order, case and duplicates do not change it; the chain does', () => {
    const root = recipientsRoot(31337, [ALICE!, BOB!])
    expect(recipientsRoot(31337, [BOB!, ALICE!, BOB!.toLowerCase() as Address])).toBe(root)
    expect(recipientsRoot(1, [ALICE!, BOB!])).not.toBe(root)
    expect(recipientsRoot(31337, [ALICE!, BOB!, CAROL!])).not.toBe(root)
  })

  test('a member proves membership with one proof; a non-member has none and cannot reuse one', () => {
    const members = [ALICE!, BOB!, CAROL!]
    const root = recipientsRoot(31337, members)
    for (const account of members) {
      const proof = recipientProof(31337, members, account)
      expect(verifyRecipientProof({ chainId: 31337, account, proof, root })).toBe(true)
    }
    expect(recipientProof(31337, members, MALLORY)).toBeUndefined()
    const bobs = recipientProof(31337, members, BOB!)
    expect(verifyRecipientProof({ chainId: 31337, account: MALLORY, proof: bobs, root })).toBe(false)
    expect(verifyRecipientProof({ chainId: 31337, account: BOB!, proof: null, root })).toBe(false)
    expect(verifyRecipientProof({ chainId: 31337, account: BOB!, proof: { index: 'x' }, root })).toBe(false)
  })

  test('something that is not an address -> InvalidRecipientsError', () => {
    expect(() => recipientsRoot(31337, ['0x12' as Address])).toThrow(InvalidRecipientsError)
    expect(() => recipientLeaf(0, ALICE!)).toThrow(InvalidRecipientsError)
    expect(new InvalidRecipientsError({ reason: 'x' })).toBeInstanceOf(ValidationError)
  })
})
