import { type Address, getAddress, type Hex } from 'viem'
import { describe, expect, test, vi } from 'vitest'
import { deviceIdOf } from '../chain/registryAuthorizations.js'
import type { DeviceRecord } from '../chain/registryWatcher.js'
import { DeviceSigningKey, P256_N } from '../crypto/p256.js'
import { signStatement } from '../crypto/statementSignature.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { recipientsRoot } from '../protocol/recipients.js'
import { hashBody, hashBodyV2, type SignedStatement, type Statement } from '../protocol/statement.js'
import {
  BlockReferenceError,
  BodyHashMismatchError,
  BodyNotUtf8Error,
  ClockSkewError,
  KeyNotYetValidError,
  KeyRevokedError,
  RecipientsMismatchError,
  SenderBindingError,
  StaleBlockReferenceError,
  StaleSequenceError,
  StatementChainError,
  StatementEpochError,
  StatementRegistryError,
  StatementSignatureError,
  StatementV1RefusedError,
  UnknownSenderError,
} from './verificationErrors.js'
import {
  type ChainView,
  defaultClockPolicy,
  type VerificationStepName,
  type VerifyStatementParameters,
  verifyStatement,
} from './verifyStatement.js'

const b32 = (byte: string): Hex => `0x${byte.repeat(32)}`
const CHAIN_ID = 31337
const ALICE: Address = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const BOB: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const GROUP = b32('c0')
const BLOCK = 100n
const BLOCK_HASH = b32('b7')
const BLOCK_TS = 1_700_000_000n // seconds
const BLOCK_MS = Number(BLOCK_TS) * 1000
const SENT_AT = BLOCK_MS + 5_000
const NOW = SENT_AT + 1_000
const MESSAGE_ID = b32('ee')
const body = new TextEncoder().encode('hello bob')

const key = DeviceSigningKey.generate()
const otherKey = DeviceSigningKey.generate()
const deviceId = deviceIdOf(key.p256X, key.p256Y)

const REGISTRY: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const EPOCH = 3n
const MEMBERS: Address[] = [BOB, ALICE]

const ALL_STEPS: VerificationStepName[] = [
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
  'sequence',
]

const baseStatement: Statement = {
  chainId: CHAIN_ID,
  from: ALICE,
  device: deviceId,
  conversation: GROUP,
  seq: 5n,
  sentAt: SENT_AT,
  block: { number: BLOCK, hash: BLOCK_HASH },
  bodyHash: hashBodyV2(1, body),
  salt: b32('5a'),
  version: 2,
  registry: REGISTRY,
  epoch: EPOCH,
  recipientsRoot: recipientsRoot(CHAIN_ID, MEMBERS),
}

const baseRecord: DeviceRecord = {
  deviceId,
  account: ALICE,
  p256X: key.p256X,
  p256Y: key.p256Y,
  mlsKey: b32('77'),
  addedAt: 10n,
  addedTx: b32('a0'),
}

/** An in-memory ChainView: a device map and a block map. */
function memoryChain({
  chainId = CHAIN_ID,
  devices = [baseRecord],
  blocks = [[BLOCK, { hash: BLOCK_HASH, timestamp: BLOCK_TS }]],
}: {
  chainId?: number
  devices?: DeviceRecord[]
  blocks?: [bigint, { hash: Hex; timestamp: bigint }][]
} = {}): ChainView {
  const deviceMap = new Map(devices.map((d) => [d.deviceId.toLowerCase(), d]))
  const blockMap = new Map(blocks)
  return {
    chainId,
    device: async (id) => deviceMap.get(id.toLowerCase()),
    block: async (n) => blockMap.get(n),
  }
}

type Setup = Partial<Omit<VerifyStatementParameters, 'signed'>> & {
  statement?: Record<string, unknown>
  signingKey?: DeviceSigningKey
  signed?: SignedStatement
}

function run(setup: Setup = {}) {
  const { statement, signingKey = key, signed: presigned, ...rest } = setup
  const signed =
    presigned ??
    signStatement({ statement: { ...baseStatement, ...statement } as Statement, key: signingKey })
  const sender: DeviceIdentity = { chainId: CHAIN_ID, account: ALICE, deviceId }
  return verifyStatement({
    signed,
    body,
    sender,
    groupId: GROUP,
    lastSeq: 4n,
    chain: memoryChain(),
    now: NOW,
    messageId: MESSAGE_ID,
    registry: REGISTRY,
    epoch: EPOCH,
    recipients: MEMBERS,
    ...rest,
  })
}

/** Asserts that the run stopped at `step` with `ErrorClass` and `code`, after passing every earlier step. */
async function expectFailure(
  result: ReturnType<typeof run>,
  step: VerificationStepName,
  ErrorClass: abstract new (...args: never[]) => Error,
  code: string,
) {
  const { report, error } = await result
  expect(error).toBeInstanceOf(ErrorClass)
  expect(error?.code).toBe(code)
  expect(report.ok).toBe(false)
  expect(report.failedStep).toBe(step)
  expect(report.error).toEqual({ name: error?.name, code, message: error?.shortMessage })
  const index = ALL_STEPS.indexOf(step)
  expect(report.steps.map((s) => s.name)).toEqual(ALL_STEPS.slice(0, index + 1))
  expect(report.steps.map((s) => s.ok)).toEqual([...Array(index).fill(true), false])
  expect(error?.message).toContain(`Message: ${MESSAGE_ID}`)
  return { report, error }
}

describe('verifyStatement: success', () => {
  test('every step passes, in order, and the report carries key and block', async () => {
    const { report, error } = await run()
    expect(error).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.failedStep).toBeUndefined()
    expect(report.error).toBeUndefined()
    expect(report.steps.map((s) => s.name)).toEqual(ALL_STEPS)
    expect(report.steps.every((s) => s.ok)).toBe(true)
    expect(report.key).toEqual({
      deviceId,
      p256X: key.p256X,
      p256Y: key.p256Y,
      addedAt: 10n,
      revokedAt: undefined,
    })
    expect(report.block).toEqual({ number: BLOCK, hash: BLOCK_HASH, timestamp: BLOCK_TS })
    expect(report.steps.find((s) => s.name === 'sequence')?.detail).toBe('seq 5 > 4')
    expect(report.steps.find((s) => s.name === 'chain')?.detail).toBe(`eip155:31337, registry ${REGISTRY}`)
  })

  test('asks the chain for the device at least at the referenced block', async () => {
    const chain = memoryChain()
    const device = vi.spyOn(chain, 'device')
    const block = vi.spyOn(chain, 'block')
    const { report } = await run({ chain })
    expect(report.ok).toBe(true)
    expect(device).toHaveBeenCalledWith(deviceId, BLOCK)
    expect(block).toHaveBeenCalledWith(BLOCK)
  })

  test('hex case does not matter for device, conversation, block hash', async () => {
    const upper = (h: Hex) => `0x${h.slice(2).toUpperCase()}` as Hex
    const { report } = await run({
      groupId: upper(GROUP),
      sender: { chainId: CHAIN_ID, account: getAddress(ALICE), deviceId: upper(deviceId) },
      chain: memoryChain({ blocks: [[BLOCK, { hash: upper(BLOCK_HASH), timestamp: BLOCK_TS }]] }),
    })
    expect(report.ok).toBe(true)
  })

  test('a device revoked AFTER the referenced block is still valid for it', async () => {
    const { report } = await run({
      chain: memoryChain({ devices: [{ ...baseRecord, revokedAt: BLOCK + 1n }] }),
    })
    expect(report.ok).toBe(true)
    expect(report.key?.revokedAt).toBe(BLOCK + 1n)
    expect(report.steps.find((s) => s.name === 'key-valid-at-block')?.detail).toBe(
      'valid at block 100 (added 10, revoked 101)',
    )
  })

  test('a device added exactly at the referenced block is valid', async () => {
    const { report } = await run({ chain: memoryChain({ devices: [{ ...baseRecord, addedAt: BLOCK }] }) })
    expect(report.ok).toBe(true)
  })

  test('clock bounds are inclusive at the defaults', async () => {
    const atFutureLimit = await run({ now: SENT_AT - defaultClockPolicy.maxFutureSkewMs })
    expect(atFutureLimit.report.ok).toBe(true)
    const atBeforeBlockLimit = await run({
      statement: { sentAt: BLOCK_MS - defaultClockPolicy.maxBeforeBlockMs },
    })
    expect(atBeforeBlockLimit.report.ok).toBe(true)
    const atAgeLimit = await run({
      statement: { sentAt: BLOCK_MS + defaultClockPolicy.maxBlockAgeMs },
      now: BLOCK_MS + defaultClockPolicy.maxBlockAgeMs,
    })
    expect(atAgeLimit.report.ok).toBe(true)
  })
})

describe('verifyStatement: chain and sender binding', () => {
  test('statement for another chain -> StatementChainError', async () => {
    const { error } = await expectFailure(
      run({ chain: memoryChain({ chainId: 1 }) }),
      'chain',
      StatementChainError,
      'SEALPOST_STATEMENT_WRONG_CHAIN',
    )
    expect(error?.message).toMatchInlineSnapshot(`
      "Statement was made for another chain.

      Message: 0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
      Expected chain id 1, got 31337"
    `)
  })

  test('MLS sender names another device -> SenderBindingError', async () => {
    const { error } = await expectFailure(
      run({ sender: { chainId: CHAIN_ID, account: ALICE, deviceId: b32('99') } }),
      'sender-binding',
      SenderBindingError,
      'SEALPOST_SENDER_MISMATCH',
    )
    expect(error?.metaMessages).toContain('Reason: MLS leaf credential names another device')
  })

  test('MLS sender names another account -> SenderBindingError', async () => {
    const { error } = await expectFailure(
      run({ sender: { chainId: CHAIN_ID, account: BOB, deviceId } }),
      'sender-binding',
      SenderBindingError,
      'SEALPOST_SENDER_MISMATCH',
    )
    expect(error?.metaMessages).toContain('Reason: MLS leaf credential names another device')
  })

  test('MLS sender credential is for another chain -> SenderBindingError', async () => {
    await expectFailure(
      run({ sender: { chainId: 1, account: ALICE, deviceId } }),
      'sender-binding',
      SenderBindingError,
      'SEALPOST_SENDER_MISMATCH',
    )
  })

  test('statement conversation differs from the MLS group -> SenderBindingError', async () => {
    const { error } = await expectFailure(
      run({ groupId: b32('c1') }),
      'sender-binding',
      SenderBindingError,
      'SEALPOST_SENDER_MISMATCH',
    )
    expect(error?.message).toMatchInlineSnapshot(`
      "MLS sender does not match the signed statement.

      Message: 0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
      Reason: statement names another conversation"
    `)
  })
})

describe('verifyStatement: registry and block', () => {
  test('unknown device -> UnknownSenderError', async () => {
    const { report } = await expectFailure(
      run({ chain: memoryChain({ devices: [] }) }),
      'device-registered',
      UnknownSenderError,
      'SEALPOST_UNKNOWN_SENDER',
    )
    expect(report.key).toBeUndefined()
  })

  test('device owned by another account -> UnknownSenderError', async () => {
    await expectFailure(
      run({ chain: memoryChain({ devices: [{ ...baseRecord, account: BOB }] }) }),
      'device-registered',
      UnknownSenderError,
      'SEALPOST_UNKNOWN_SENDER',
    )
  })

  test('referenced block not found -> BlockReferenceError', async () => {
    const { error, report } = await expectFailure(
      run({ chain: memoryChain({ blocks: [] }) }),
      'block-reference',
      BlockReferenceError,
      'SEALPOST_BAD_BLOCK_REFERENCE',
    )
    expect(report.block).toBeUndefined()
    expect(error?.message).toMatchInlineSnapshot(`
      "Statement references a block that is not on this chain.

      Message: 0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
      Block: 100
      Reason: block not found"
    `)
  })

  test('referenced block hash differs -> BlockReferenceError', async () => {
    const { error } = await expectFailure(
      run({ chain: memoryChain({ blocks: [[BLOCK, { hash: b32('b8'), timestamp: BLOCK_TS }]] }) }),
      'block-reference',
      BlockReferenceError,
      'SEALPOST_BAD_BLOCK_REFERENCE',
    )
    expect(error?.metaMessages).toContain('Reason: hash differs')
  })
})

describe('verifyStatement: signature', () => {
  test('signed by a different key -> StatementSignatureError', async () => {
    const { error } = await expectFailure(
      run({ signingKey: otherKey }),
      'signature',
      StatementSignatureError,
      'SEALPOST_BAD_SIGNATURE',
    )
    expect(error?.metaMessages).toContain(`Device: ${deviceId}`)
  })

  test('high-S form of a valid signature -> StatementSignatureError', async () => {
    const signed = signStatement({ statement: baseStatement, key })
    const s = BigInt(`0x${signed.signature.slice(66)}`)
    const highS = (P256_N - s).toString(16).padStart(64, '0')
    const malleated: SignedStatement = {
      ...signed,
      signature: `${signed.signature.slice(0, 66)}${highS}` as Hex,
    }
    expect(malleated.signature).not.toBe(signed.signature)
    await expectFailure(
      run({ signed: malleated }),
      'signature',
      StatementSignatureError,
      'SEALPOST_BAD_SIGNATURE',
    )
  })

  test.each([0, 17, 40, 63])('bit flip in signature byte %i -> StatementSignatureError', async (byte) => {
    const signed = signStatement({ statement: baseStatement, key })
    const raw = Buffer.from(signed.signature.slice(2), 'hex')
    raw[byte] = raw[byte]! ^ 0x01
    const flipped: SignedStatement = { ...signed, signature: `0x${raw.toString('hex')}` }
    await expectFailure(
      run({ signed: flipped }),
      'signature',
      StatementSignatureError,
      'SEALPOST_BAD_SIGNATURE',
    )
  })

  test('statement fields that do not match the signed bytes -> StatementSignatureError', async () => {
    const signed = signStatement({ statement: baseStatement, key })
    const lying: SignedStatement = { ...signed, statement: { ...signed.statement, seq: 99n } }
    await expectFailure(
      run({ signed: lying }),
      'signature',
      StatementSignatureError,
      'SEALPOST_BAD_SIGNATURE',
    )
  })
})

describe('verifyStatement: key validity at the referenced block', () => {
  test('key added after the referenced block -> KeyNotYetValidError', async () => {
    const { error } = await expectFailure(
      run({ chain: memoryChain({ devices: [{ ...baseRecord, addedAt: BLOCK + 1n }] }) }),
      'key-valid-at-block',
      KeyNotYetValidError,
      'SEALPOST_KEY_NOT_YET_VALID',
    )
    expect(error?.metaMessages).toContain('Added at block 101, statement references block 100')
  })

  test.each([
    ['at', BLOCK],
    ['before', BLOCK - 50n],
  ])('key revoked %s the referenced block -> KeyRevokedError', async (_, revokedAt) => {
    const { error, report } = await expectFailure(
      run({ chain: memoryChain({ devices: [{ ...baseRecord, revokedAt }] }) }),
      'key-valid-at-block',
      KeyRevokedError,
      'SEALPOST_KEY_REVOKED',
    )
    expect(report.key?.revokedAt).toBe(revokedAt)
    expect(error?.metaMessages).toContain(`Revoked at block ${revokedAt}, statement references block 100`)
  })
})

describe('verifyStatement: statement v2 (deployment, epoch, recipients, text)', () => {
  test('a statement for another KeyRegistry -> StatementRegistryError at chain', async () => {
    await expectFailure(
      run({ registry: BOB }),
      'chain',
      StatementRegistryError,
      'SEALPOST_STATEMENT_WRONG_REGISTRY',
    )
  })

  test('a statement naming another epoch than the one it was sealed in -> StatementEpochError', async () => {
    await expectFailure(run({ epoch: 4n }), 'epoch', StatementEpochError, 'SEALPOST_STATEMENT_EPOCH')
  })

  test('recipients are a set: order and duplicates do not matter', async () => {
    const { report } = await run({ recipients: [ALICE, BOB, ALICE] })
    expect(report.ok).toBe(true)
  })

  test('a statement addressed to other accounts -> RecipientsMismatchError', async () => {
    const MALLORY: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
    await expectFailure(
      run({ recipients: [ALICE, MALLORY] }),
      'recipients',
      RecipientsMismatchError,
      'SEALPOST_RECIPIENTS_MISMATCH',
    )
  })

  test('a v1 statement (no recipients) is refused where recipients are known -> StatementV1RefusedError', async () => {
    const v1 = { ...baseStatement } as Record<string, unknown>
    for (const k of ['version', 'registry', 'epoch', 'recipientsRoot']) delete v1[k]
    const signed = signStatement({ statement: { ...(v1 as Statement), bodyHash: hashBody(body) }, key })
    const { report, error } = await run({ signed })
    expect(error).toBeInstanceOf(StatementV1RefusedError)
    expect(error?.code).toBe('SEALPOST_STATEMENT_V1_REFUSED')
    expect(report.failedStep).toBe('epoch')
    // Without epoch and recipients (old data, read only), v1 still verifies with the v1 body hash.
    const old = await run({ signed, epoch: undefined, recipients: undefined })
    expect(old.report.ok).toBe(true)
  })

  test('a text body that is not valid UTF-8 -> BodyNotUtf8Error (never decoded with replacement characters)', async () => {
    const bad = Uint8Array.of(0x68, 0x69, 0xff, 0xfe)
    await expectFailure(
      run({ body: bad, statement: { bodyHash: hashBodyV2(1, bad) } }),
      'body-text',
      BodyNotUtf8Error,
      'SEALPOST_BODY_NOT_UTF8',
    )
  })

  test('the v2 body hash binds the content type', async () => {
    await expectFailure(
      run({ contentType: 2 }),
      'body-hash',
      BodyHashMismatchError,
      'SEALPOST_BODY_HASH_MISMATCH',
    )
  })
})

describe('verifyStatement: body, clock, sequence', () => {
  test('body that does not hash to bodyHash -> BodyHashMismatchError', async () => {
    await expectFailure(
      run({ body: new TextEncoder().encode('hello eve') }),
      'body-hash',
      BodyHashMismatchError,
      'SEALPOST_BODY_HASH_MISMATCH',
    )
  })

  test('sentAt too far in the future -> ClockSkewError', async () => {
    const { error } = await expectFailure(
      run({ now: SENT_AT - defaultClockPolicy.maxFutureSkewMs - 1 }),
      'clock',
      ClockSkewError,
      'SEALPOST_CLOCK_SKEW',
    )
    expect(error?.message).toMatchInlineSnapshot(`
      "Statement time is outside the allowed clock-skew bounds.

      Message: 0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
      Reason: sentAt is 120001 ms in the future"
    `)
  })

  test('sentAt before the referenced block -> ClockSkewError', async () => {
    const { error } = await expectFailure(
      run({ statement: { sentAt: BLOCK_MS - defaultClockPolicy.maxBeforeBlockMs - 1 } }),
      'clock',
      ClockSkewError,
      'SEALPOST_CLOCK_SKEW',
    )
    expect(error?.metaMessages).toContain('Reason: sentAt is before the referenced block')
  })

  test('referenced block too old for sentAt -> ClockSkewError', async () => {
    const sentAt = BLOCK_MS + defaultClockPolicy.maxBlockAgeMs + 1
    const { error } = await expectFailure(
      run({ statement: { sentAt }, now: sentAt }),
      'clock',
      ClockSkewError,
      'SEALPOST_CLOCK_SKEW',
    )
    expect(error?.metaMessages).toContain('Reason: referenced block is too old for sentAt')
  })

  test('a custom clock policy replaces only the bounds it names', async () => {
    // Tighter future skew: 10 ms ahead now fails.
    await expectFailure(
      run({ now: SENT_AT - 10, clock: { maxFutureSkewMs: 5 } }),
      'clock',
      ClockSkewError,
      'SEALPOST_CLOCK_SKEW',
    )
    expect((await run({ now: SENT_AT - 5, clock: { maxFutureSkewMs: 5 } })).report.ok).toBe(true)
    // Looser block age: a day-old block passes with a 2-day bound, fails with the default.
    const sentAt = BLOCK_MS + 24 * 3_600_000
    const loose = await run({ statement: { sentAt }, now: sentAt, clock: { maxBlockAgeMs: 48 * 3_600_000 } })
    expect(loose.report.ok).toBe(true)
    const strict = await run({ statement: { sentAt }, now: sentAt })
    expect(strict.report.failedStep).toBe('clock')
    // Tighter before-block bound while the other defaults still apply.
    await expectFailure(
      run({ statement: { sentAt: BLOCK_MS - 1 }, clock: { maxBeforeBlockMs: 0 } }),
      'clock',
      ClockSkewError,
      'SEALPOST_CLOCK_SKEW',
    )
    expect(defaultClockPolicy).toEqual({
      maxFutureSkewMs: 120_000,
      maxBeforeBlockMs: 120_000,
      maxBlockAgeMs: 3_600_000,
      anchorWindowMs: 3_600_000,
      liveWindowMs: 600_000,
    })
  })

  test.each([
    ['equal to', 5n],
    ['below', 7n],
  ])('seq %s lastSeq -> StaleSequenceError', async (_, lastSeq) => {
    const { error } = await expectFailure(
      run({ lastSeq }),
      'sequence',
      StaleSequenceError,
      'SEALPOST_STALE_SEQ',
    )
    expect(error?.metaMessages).toContain(`Got seq 5; last accepted from this device is ${lastSeq}`)
  })

  test('seq one above lastSeq passes; no messageId means no Message line', async () => {
    const { report } = await run({ lastSeq: 4n })
    expect(report.ok).toBe(true)
    const { error } = await run({ lastSeq: 5n, messageId: undefined })
    expect(error).toBeInstanceOf(StaleSequenceError)
    expect(error?.message).toMatchInlineSnapshot(`
      "Stale or replayed sequence number.

      Got seq 5; last accepted from this device is 5"
    `)
  })
})

describe('verifyStatement: freshness (live deliveries, protocol §11.1)', () => {
  const withSuccessor = (secondsAfterBlock: number) =>
    memoryChain({
      blocks: [
        [BLOCK, { hash: BLOCK_HASH, timestamp: BLOCK_TS }],
        [BLOCK + 1n, { hash: b32('b8'), timestamp: BLOCK_TS + BigInt(secondsAfterBlock) }],
      ],
    })

  test('a catch-up delivery (live not set) has no freshness step', async () => {
    const { report } = await run({ chain: withSuccessor(2), now: BLOCK_MS + 30 * 24 * 3_600_000 })
    expect(report.steps.map((s) => s.name)).not.toContain('freshness')
  })

  test('live: a referenced block that is still the head is fresh', async () => {
    const { report } = await run({ live: true })
    expect(report.ok).toBe(true)
    expect(report.steps.map((s) => s.name)).toEqual([...ALL_STEPS.slice(0, -1), 'freshness', 'sequence'])
    expect(report.steps.find((s) => s.name === 'freshness')?.detail).toBe(`block ${BLOCK} is the chain head`)
  })

  test('live: the block after the referenced one within the live window passes, at the edge too', async () => {
    const edge = await run({ live: true, chain: withSuccessor(2), now: BLOCK_MS + 2_000 + 600_000 })
    expect(edge.report.ok).toBe(true)
  })

  test('live: the block after the referenced one older than the live window -> StaleBlockReferenceError', async () => {
    const { report, error } = await run({
      live: true,
      chain: withSuccessor(2),
      now: BLOCK_MS + 2_000 + 600_001,
    })
    expect(error).toBeInstanceOf(StaleBlockReferenceError)
    expect(error?.code).toBe('SEALPOST_STALE_BLOCK_REFERENCE')
    expect(report.failedStep).toBe('freshness')
    expect(report.steps.map((s) => s.name)).toEqual([...ALL_STEPS.slice(0, -1), 'freshness'])
  })

  test('live: the clock policy carries the live window', async () => {
    const { report } = await run({
      live: true,
      chain: withSuccessor(2),
      now: BLOCK_MS + 2_000 + 61_000,
      clock: { liveWindowMs: 60_000 },
    })
    expect(report.failedStep).toBe('freshness')
  })
})
