import { bytesToHex } from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'
import { BLOCK, CHAIN_ID, mlsWorld, type Party, REGISTRY } from '../../test/utils/mlsParties.js'
import { verifyStatementSignature } from '../crypto/statementSignature.js'
import { decodeEnvelope, encodeEnvelope } from '../protocol/envelope.js'
import { recipientsRoot, verifyRecipientProof } from '../protocol/recipients.js'
import { hashBodyV2, statementLeaf } from '../protocol/statement.js'
import { p256PublicKey } from './identity.js'
import { decodeMls } from './mls.js'
import { sealMessage } from './send.js'

let world: Awaited<ReturnType<typeof mlsWorld>>
let alice: Party
let bob: Party

beforeAll(async () => {
  world = await mlsWorld()
  alice = await world.party('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
  bob = await world.party('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')
})

describe('sealMessage', () => {
  test('signs a statement for the group and wraps it in an MLS application message, without touching the input state', async () => {
    const { state } = await world.group(alice, bob)
    const groupId = bytesToHex(state.groupContext.groupId)
    const before = state.groupContext.epoch
    const sealed = await sealMessage({
      state,
      impl: world.impl,
      signingKey: alice.signingKey,
      chainId: CHAIN_ID,
      registry: REGISTRY,
      account: alice.account,
      deviceId: alice.deviceId,
      seq: 7n,
      block: BLOCK,
      text: 'hello bob',
      sentAt: 1_700_000_000_000,
    })
    expect(sealed.statement).toMatchObject({
      version: 2,
      chainId: CHAIN_ID,
      registry: REGISTRY,
      epoch: before,
      recipientsRoot: recipientsRoot(CHAIN_ID, [alice.account, bob.account]),
      from: alice.account,
      device: alice.deviceId,
      conversation: groupId,
      seq: 7n,
      sentAt: 1_700_000_000_000,
      block: BLOCK,
      bodyHash: hashBodyV2(1, new TextEncoder().encode('hello bob')),
    })
    expect(sealed.signed.bytes.length).toBe(274)
    // The log keeps the proof that the sender's own account is one of the recipients.
    expect(
      verifyRecipientProof({
        chainId: CHAIN_ID,
        account: alice.account,
        proof: sealed.recipients,
        root: recipientsRoot(CHAIN_ID, [bob.account, alice.account]),
      }),
    ).toBe(true)
    expect(
      verifyStatementSignature({ signed: sealed.signed, publicKey: p256PublicKey(alice.signingKey) }),
    ).toBe(true)
    expect(sealed.leaf).toBe(statementLeaf(sealed.signed.bytes, sealed.signed.signature))
    expect(sealed.envelope.kind).toBe('application')
    expect(sealed.envelope.topic).toBe(groupId)
    expect(decodeEnvelope(encodeEnvelope(sealed.envelope))).toEqual(sealed.envelope)
    expect(decodeMls(sealed.envelope.payload).wireformat).toBe('mls_private_message')
    // Application messages do not change the epoch; the sender's ratchet moves on in the returned state.
    expect(sealed.state.groupContext.epoch).toBe(before)
    expect(sealed.state).not.toBe(state)
  })

  test('two messages sealed from successive states are distinct, with fresh salts', async () => {
    const { state } = await world.group(alice, bob)
    const common = {
      impl: world.impl,
      signingKey: alice.signingKey,
      chainId: CHAIN_ID,
      registry: REGISTRY,
      account: alice.account,
      deviceId: alice.deviceId,
      block: BLOCK,
      text: 'same text',
    }
    const first = await sealMessage({ ...common, state, seq: 1n })
    const second = await sealMessage({ ...common, state: first.state, seq: 2n })
    expect(second.envelope.id).not.toBe(first.envelope.id)
    expect(second.statement.salt).not.toBe(first.statement.salt)
    expect(second.leaf).not.toBe(first.leaf)
  })
})
