import { bytesToHex } from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'
import { BLOCK, CHAIN_ID, mlsWorld, type Party, REGISTRY } from '../../test/utils/mlsParties.js'
import { receiveGroupMessage } from './receiveGroupMessage.js'
import { receiveWelcome } from './receiveWelcome.js'
import { sealMessage } from './send.js'
import type { RejectedMessageError } from './types.js'
import { MlsRejectedError, SenderBindingError, StaleSequenceError } from './verificationErrors.js'

let world: Awaited<ReturnType<typeof mlsWorld>>
let alice: Party
let bob: Party

beforeAll(async () => {
  world = await mlsWorld()
  alice = await world.party('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
  bob = await world.party('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')
})

/** Alice opens a group with Bob, Bob joins it, and Alice seals `text` with sequence number `seq`. */
async function exchange(text: string, seq = 1n, sender: Party = alice) {
  const { state, welcome, keyPackage } = await world.group(alice, bob)
  const joined = await receiveWelcome({
    envelope: welcome,
    keyPackages: [keyPackage],
    impl: world.impl,
    config: world.config,
    policy: world.policy(bob),
  })
  const sealed = await sealMessage({
    state,
    impl: world.impl,
    signingKey: sender.signingKey,
    chainId: CHAIN_ID,
    registry: REGISTRY,
    account: sender.account,
    deviceId: sender.deviceId,
    seq,
    block: BLOCK,
    text,
  })
  return { joined, sealed, aliceState: state }
}

describe('receiveWelcome', () => {
  test('joins the group with the matching key package and names the peer', async () => {
    const { state, welcome, keyPackage } = await world.group(alice, bob)
    const joined = await receiveWelcome({
      envelope: welcome,
      keyPackages: [keyPackage],
      impl: world.impl,
      config: world.config,
      policy: world.policy(bob),
    })
    expect(joined.groupId).toBe(bytesToHex(state.groupContext.groupId))
    expect(joined.peer).toBe(alice.account)
    expect(joined.keyPackageRef).toBe(keyPackage.ref)
    expect(joined.state.groupContext.epoch).toBe(state.groupContext.epoch)
  })

  test('a Welcome for none of our key packages is refused', async () => {
    const { welcome } = await world.group(alice, bob)
    const other = await world.group(alice, bob)
    const err = await receiveWelcome({
      envelope: welcome,
      keyPackages: [other.keyPackage],
      impl: world.impl,
      config: world.config,
      policy: world.policy(bob),
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MlsRejectedError)
    expect((err as MlsRejectedError).metaMessages).toContain(
      'Reason: Welcome is for none of our key packages',
    )
  })
})

describe('receiveGroupMessage', () => {
  type Input = Parameters<typeof receiveGroupMessage>[0]
  const receive = (state: Input['state'], envelope: Input['envelope'], lastSeq = 0n) =>
    receiveGroupMessage({
      envelope,
      state,
      impl: world.impl,
      ciphersuite: 'MLS_256_XWING_AES256GCM_SHA512_Ed25519',
      chain: world.chain,
      lastSeq: () => lastSeq,
      policy: world.policy(bob),
      live: true, // delivered live: the freshness step runs too
    })

  test('decrypts and verifies a message, returning the next state and a full report', async () => {
    const { joined, sealed } = await exchange('hello bob', 3n)
    const result = await receive(joined.state, sealed.envelope)
    if (result.kind !== 'message') throw new Error('expected a message')
    expect(result.message).toMatchObject({
      id: sealed.envelope.id,
      conversation: joined.groupId,
      from: alice.account,
      device: alice.deviceId,
      seq: 3n,
      text: 'hello bob',
      leaf: sealed.leaf,
    })
    expect(result.message.report.ok).toBe(true)
    expect(result.message.report.steps.map((s) => s.name)).toEqual([
      'mls',
      'chain',
      'sender-binding',
      'epoch',
      'recipients',
      'device-registered',
      'block-reference',
      'signature',
      'key-valid-at-block',
      'body-hash',
      'body-text',
      'clock',
      'freshness',
      'sequence',
    ])
    expect(result.message.verdict).toBe('pending')
    expect(result.statementBytes).toEqual(sealed.signed.bytes)
    expect(result.state).not.toBe(joined.state)
  })

  test('a stale sequence number is rejected with the report attached, and the state is not advanced', async () => {
    const { joined, sealed } = await exchange('replayed', 2n)
    const err = (await receive(joined.state, sealed.envelope, 5n).catch(
      (e: unknown) => e,
    )) as RejectedMessageError
    expect(err).toBeInstanceOf(StaleSequenceError)
    expect(err.report?.failedStep).toBe('sequence')
    expect(err.report?.mls?.senderLeaf).toBe(0)
  })

  test('a statement naming another device than the MLS sender fails sender-binding', async () => {
    const mallory = { ...alice, deviceId: `0x${'ee'.repeat(32)}` as const }
    const { joined, sealed } = await exchange('who am I', 1n, mallory)
    const err = (await receive(joined.state, sealed.envelope).catch(
      (e: unknown) => e,
    )) as RejectedMessageError
    // The MLS leaf is Alice's device, the statement names another: the binding check catches it.
    expect(err).toBeInstanceOf(SenderBindingError)
    expect(err.report?.failedStep).toBe('sender-binding')
  })

  test('a message of another group is refused by MLS', async () => {
    const { joined } = await exchange('first group')
    const { sealed } = await exchange('second group')
    await expect(receive(joined.state, sealed.envelope)).rejects.toBeInstanceOf(MlsRejectedError)
  })
})
