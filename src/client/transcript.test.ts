import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { bytesToHex, type Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { registerTestDevice, testDeviceKeys } from '../../test/utils/devices.js'
import { getRegistryNonce, revokeDevice } from '../chain/keyRegistry.js'
import { anchorRoot } from '../chain/messageAnchor.js'
import { signRevokeDevice } from '../chain/registryAuthorizations.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { signStatement } from '../crypto/statementSignature.js'
import { buildMerkleTree, inclusionProof } from '../protocol/merkle.js'
import { type Receipt, receiptToJson } from '../protocol/receipt.js'
import { hashBody, type SignedStatement } from '../protocol/statement.js'
import { AuditLog, hashLogEntry, LOG_GENESIS_HASH, type LogEntry, messageLogData } from '../store/auditLog.js'
import { DeploymentMismatchError } from './errors.js'
import {
  exportTranscript,
  formatVerification,
  parseTranscript,
  type Transcript,
  TranscriptFormatError,
  type TranscriptVerification,
  verifyTranscript,
} from './transcript.js'

let ctx: ChainContext
let alice: { account: LocalAccount; key: DeviceSigningKey; deviceId: Hex }
let bob: { account: LocalAccount; key: DeviceSigningKey; deviceId: Hex }
let transcript: Transcript
const conversation = bytesToHex(randomBytes(32))
const rand32 = (): Hex => bytesToHex(randomBytes(32))

async function register(index: number) {
  const account = ctx.walletClients[index]!.account as LocalAccount
  const key = DeviceSigningKey.generate()
  const keys = testDeviceKeys({
    chainId: ctx.anvil.chainId,
    registry: ctx.contracts.keyRegistry,
    account: account.address,
    signingKey: key,
  })
  // Relayed: account 0 pays the gas, the account only signs.
  const { deviceId } = await registerTestDevice(ctx, account, { keys })
  return { account, key, deviceId }
}

async function sign(
  who: { account: LocalAccount; key: DeviceSigningKey; deviceId: Hex },
  seq: bigint,
  body: string,
  blockNumber?: bigint,
): Promise<SignedStatement> {
  const block = await ctx.publicClient.getBlock(
    blockNumber === undefined ? { blockTag: 'latest' } : { blockNumber },
  )
  return signStatement({
    key: who.key,
    statement: {
      chainId: ctx.anvil.chainId,
      from: who.account.address,
      device: who.deviceId,
      conversation,
      seq,
      sentAt: Date.now(),
      block: { number: block.number, hash: block.hash },
      bodyHash: hashBody(new TextEncoder().encode(body)),
      salt: rand32(),
    },
  })
}

/** Anchors `leaves` (plus a random filler) as one batch and returns a real receipt for each. */
async function anchor(leaves: Hex[]): Promise<Receipt[]> {
  const all = [...leaves, rand32()]
  const tree = buildMerkleTree(all)
  const { hash, blockNumber } = await anchorRoot(ctx.walletClient, {
    contract: ctx.contracts.messageAnchor,
    root: tree.root,
    leafCount: all.length,
  })
  const block = await ctx.publicClient.getBlock({ blockNumber })
  return leaves.map((leaf, index) => ({
    chainId: ctx.anvil.chainId,
    contract: ctx.contracts.messageAnchor,
    root: tree.root,
    leaf,
    index,
    treeSize: all.length,
    path: inclusionProof(tree, index),
    txHash: hash,
    blockNumber,
    blockTimestamp: block.timestamp,
  }))
}

const trusted = () => ({ chainId: ctx.anvil.chainId, ...ctx.contracts })
const verify = (t: unknown, extra: Partial<Parameters<typeof verifyTranscript>[0]> = {}) =>
  verifyTranscript({ transcript: t, publicClient: ctx.publicClient, deployment: trusted(), ...extra })

const copy = (): Transcript => structuredClone(transcript)

/** What a forger with the log file can do: recompute every hash after an edit. */
function rehash(t: Transcript): Transcript {
  let prevHash = LOG_GENESIS_HASH
  t.entries = t.entries.map((e, index) => {
    const hash = hashLogEntry({ index, at: e.at, kind: e.kind, data: e.data, prevHash })
    const out: LogEntry = { ...e, index, prevHash, hash }
    prevHash = hash
    return out
  })
  return t
}

const failures = (r: TranscriptVerification) => r.checks.filter((c) => !c.ok).map((c) => [c.entry, c.check])

beforeAll(async () => {
  ctx = await setupChain()
  alice = await register(1)
  bob = await register(2)

  // Alice's device log: 0 sent, 1 received, 2 rejected, 3 receipt(0), 4 receipt(1), 5 log-anchor(4), 6 sent (no body)
  const db = new Database(':memory:')
  let clock = 1_700_000_000_000
  const log = new AuditLog({ db, now: () => clock++ })
  const s0 = await sign(alice, 1n, 'hello bob')
  const e0 = log.append({
    kind: 'sent',
    data: messageLogData({ envelopeId: rand32(), signed: s0, body: 'hello bob' }),
  })
  const s1 = await sign(bob, 1n, 'hi alice ✓')
  const e1 = log.append({
    kind: 'received',
    data: messageLogData({ envelopeId: rand32(), signed: s1, body: 'hi alice ✓' }),
  })
  log.append({ kind: 'rejected', data: { envelopeId: rand32(), code: 'SEALPOST_REPLAY', step: 'seq' } })
  const [r0, r1] = await anchor([e0.data.leaf as Hex, e1.data.leaf as Hex])
  log.append({ kind: 'receipt', data: { leaf: r0!.leaf, receipt: receiptToJson(r0!) } })
  log.append({ kind: 'receipt', data: { leaf: r1!.leaf, receipt: receiptToJson(r1!) } })
  const head = log.head()!
  const [rh] = await anchor([head.hash])
  log.append({
    kind: 'log-anchor',
    data: { index: head.index, head: head.hash, receipt: receiptToJson(rh!) },
  })
  const s6 = await sign(alice, 2n, 'unlogged body')
  log.append({ kind: 'sent', data: messageLogData({ envelopeId: rand32(), signed: s6 }) })
  expect(log.verifyChain()).toEqual({ ok: true })

  transcript = exportTranscript({
    log,
    chainId: ctx.anvil.chainId,
    keyRegistry: ctx.contracts.keyRegistry,
    messageAnchor: ctx.contracts.messageAnchor,
    account: alice.account.address,
    deviceId: alice.deviceId,
  })
  db.close()
})
afterAll(() => ctx?.stop())

describe('exportTranscript / parseTranscript', () => {
  test('exports every entry and survives a JSON round trip', () => {
    expect(transcript).toMatchObject({
      version: 1,
      chainId: ctx.anvil.chainId,
      account: alice.account.address,
    })
    expect(transcript.entries.map((e) => e.kind)).toEqual([
      'sent',
      'received',
      'rejected',
      'receipt',
      'receipt',
      'log-anchor',
      'sent',
    ])
    expect(parseTranscript(JSON.stringify(transcript))).toEqual(transcript)
  })

  test('rejects malformed JSON naming the field', () => {
    const t = copy() as unknown as { entries: { hash: string }[] }
    t.entries[3]!.hash = 'nope'
    expect(() => parseTranscript(t)).toThrow(TranscriptFormatError)
    try {
      parseTranscript(t)
    } catch (e) {
      expect((e as TranscriptFormatError).entry).toBe(3)
      expect((e as TranscriptFormatError).code).toBe('SEALPOST_TRANSCRIPT_MALFORMED')
    }
    expect(() => parseTranscript('{')).toThrow(TranscriptFormatError)
  })
})

describe('verifyTranscript', () => {
  test('an honest transcript verifies, with every check against the chain', async () => {
    const result = await verify(JSON.parse(JSON.stringify(transcript)))
    expect(failures(result)).toEqual([])
    expect(result.ok).toBe(true)
    expect(result.checks.map((c) => `${c.entry ?? '-'} ${c.check}`)).toEqual([
      '- format',
      '- chain',
      '- contracts',
      '- device',
      '- hash-chain',
      '- statement-set',
      ...['statement', 'sender', 'signature', 'key-valid', 'block', 'body', 'leaf'].map((c) => `0 ${c}`),
      ...['statement', 'sender', 'signature', 'key-valid', 'block', 'body', 'leaf'].map((c) => `1 ${c}`),
      '2 rejected',
      '3 receipt-leaf',
      '3 receipt',
      '4 receipt-leaf',
      '4 receipt',
      '5 log-anchor',
      '5 receipt',
      ...['statement', 'sender', 'signature', 'key-valid', 'block', 'leaf'].map((c) => `6 ${c}`),
      '- anchored-prefix',
    ])
    const lines = formatVerification(result)
    expect(lines.at(-1)).toBe(`✓ transcript verified (${result.checks.length} checks)`)
    expect(lines).toContain('✓ entry 0 body: body matches the signed bodyHash')
    expect(lines.find((l) => l.includes('anchored-prefix'))).toMatch(
      /entries 0\.\.4 are pinned by a head anchored in block \d+; entries 5\.\.6 are not anchored yet/,
    )
  })

  test('an edited body fails at that entry (hash chain and, if re-hashed, the signed bodyHash)', async () => {
    const t = copy()
    t.entries[1]!.data.body = 'hi alice, send money'
    expect(failures(await verify(t))).toEqual([
      [1, 'hash-chain'],
      [1, 'body'],
    ])
    // A forger who recomputes the whole chain still fails the signed bodyHash, and the anchored head.
    const forged = await verify(rehash(t))
    expect(failures(forged)).toEqual([
      [1, 'body'],
      [5, 'log-anchor'],
    ])
    expect(forged.checks.find((c) => c.entry === 5 && c.check === 'log-anchor')?.detail).toMatch(
      /^anchored head 0x[0-9a-f]{64} is not the hash of entry 4/,
    )
  })

  test('an edited statement fails its signature and leaf', async () => {
    const t = copy()
    const hex = t.entries[0]!.data.statement as string
    // Byte 100 is inside seq (offset 93..100): a different seq, same length.
    const at = 2 + 2 * 100
    t.entries[0]!.data.statement =
      `${hex.slice(0, at)}${hex.slice(at, at + 2) === 'ff' ? '00' : 'ff'}${hex.slice(at + 2)}`
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([
      [0, 'signature'],
      [0, 'leaf'],
      [3, 'receipt-leaf'],
      [5, 'log-anchor'],
      // The edited seq is now above the next statement's (seq 2 at entry 6).
      [6, 'statement-set'],
    ])
    const lines = formatVerification(result)
    expect(lines).toContain(
      '✗ entry 0 signature: signature does not verify under the key registered on chain',
    )
    expect(lines.at(-1)).toMatch(/^✗ transcript does not verify \(5 of \d+ checks failed\)$/)
  })

  test('swapped entries fail the hash chain at both positions', async () => {
    const t = copy()
    ;[t.entries[3], t.entries[4]] = [t.entries[4]!, t.entries[3]!]
    const result = await verify(t)
    expect(failures(result).filter(([, c]) => c === 'hash-chain')).toEqual([
      [3, 'hash-chain'],
      [4, 'hash-chain'],
      [5, 'hash-chain'],
    ])
    expect(result.checks.find((c) => c.entry === 3 && c.check === 'hash-chain')?.detail).toBe(
      'entry 3 is missing (found index 4 here)',
    )
  })

  test('an edited receipt path fails the receipt at its inclusion step', async () => {
    const t = copy()
    const receipt = t.entries[3]!.data.receipt as { path: Hex[] }
    receipt.path[0] = rand32()
    expect(failures(await verify(t))).toEqual([
      [3, 'hash-chain'],
      [3, 'receipt'],
    ])
    const rehashed = await verify(rehash(t))
    const bad = rehashed.checks.find((c) => !c.ok && c.check === 'receipt')
    expect(bad).toMatchObject({ entry: 3 })
    expect(bad?.detail).toMatch(/^inclusion: path leads to root/)
  })

  test('a broken hash names the entry and the next one', async () => {
    const t = copy()
    t.entries[2]!.hash = rand32()
    const result = await verify(t)
    expect(failures(result)).toEqual([
      [2, 'hash-chain'],
      [3, 'hash-chain'],
    ])
    expect(result.checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual([
      'hash does not match the entry contents',
      "prevHash is not the previous entry's hash",
    ])
  })

  test('a statement from an unregistered key fails even with a self-consistent transcript', async () => {
    const mallory = { account: alice.account, key: DeviceSigningKey.generate(), deviceId: alice.deviceId }
    const forged = await sign(mallory, 3n, 'I owe you 100 ETH')
    const t = copy()
    t.entries.push({
      ...t.entries[0]!,
      kind: 'sent',
      data: messageLogData({ envelopeId: rand32(), signed: forged, body: 'I owe you 100 ETH' }),
    })
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([[7, 'signature']])
  })

  test('a statement dated before its key was registered fails key-valid', async () => {
    const early = await sign(bob, 9n, 'backdated', ctx.deployBlock)
    const t = copy()
    t.entries.push({
      ...t.entries[1]!,
      data: messageLogData({ envelopeId: rand32(), signed: early, body: 'backdated' }),
    })
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([[7, 'key-valid']])
    expect(result.checks.find((c) => c.entry === 7 && c.check === 'key-valid')?.detail).toMatch(
      /^key not valid at block \d+ \(added in \d+\)$/,
    )
  })

  test('a sent entry signed by another device fails sender', async () => {
    const t = copy()
    t.entries[0]!.kind = 'received'
    t.entries[1]!.kind = 'sent'
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([
      [1, 'sender'],
      [5, 'log-anchor'],
    ])
    expect(result.checks.find((c) => c.entry === 1 && c.check === 'sender')?.detail).toMatch(
      /^a sent entry must come from the transcript's device/,
    )
  })

  test('a receipt for a leaf that is not in the transcript', async () => {
    const [other] = await anchor([rand32()])
    const t = copy()
    t.entries.push({ ...t.entries[3]!, data: { leaf: other!.leaf, receipt: receiptToJson(other!) } })
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([[7, 'receipt-leaf']])
  })

  test('wrong chain, contracts other than the pinned ones, garbage', async () => {
    const otherChain = await verify({ ...copy(), chainId: 1 })
    expect(failures(otherChain)).toEqual([[null, 'chain']])
    expect(otherChain.error).toBeInstanceOf(DeploymentMismatchError)
    expect(otherChain.error).toMatchObject({ code: 'SEALPOST_DEPLOYMENT_MISMATCH', field: 'chainId' })
    // Pinned contracts that are not the transcript's: nothing else is checked.
    const pinned = await verify(copy(), {
      deployment: { ...trusted(), keyRegistry: ctx.contracts.messageAnchor },
    })
    expect(failures(pinned)).toEqual([[null, 'contracts']])
    expect(pinned.error).toMatchObject({ code: 'SEALPOST_DEPLOYMENT_MISMATCH', field: 'keyRegistry' })
    const noCode = await verify({ ...copy(), keyRegistry: '0x000000000000000000000000000000000000dEaD' })
    expect(failures(noCode)).toEqual([[null, 'contracts']])
    // A pinned deployment whose contracts are wrong fails too (the transcript agreeing changes nothing).
    const wrongCode = await verify(
      { ...copy(), keyRegistry: ctx.contracts.messageAnchor },
      { deployment: { ...trusted(), keyRegistry: ctx.contracts.messageAnchor } },
    )
    expect(failures(wrongCode)).toEqual([[null, 'contracts']])
    expect(failures(await verify('not json'))).toEqual([[null, 'format']])
    const duplicated = await verify(
      JSON.stringify(copy()).replace('{"version":1,', '{"version":1,"version":1,'),
    )
    expect(failures(duplicated)).toEqual([[null, 'format']])
    expect(duplicated.error).toBeInstanceOf(TranscriptFormatError)
    expect(failures(await verify({ ...copy(), exportedAt: Date.now() + 3_600_000 }))).toEqual([
      [null, 'format'],
    ])
  })

  test('a statement twice, or a sender going back in seq, fails statement-set at the later entry', async () => {
    const twiceSent = copy()
    twiceSent.entries.push({ ...twiceSent.entries[6]! })
    const sent = await verify(rehash(twiceSent))
    expect(failures(sent)).toEqual([[7, 'statement-set']])
    expect(sent.checks.find((c) => c.entry === 7 && c.check === 'statement-set')?.detail).toMatch(
      /^duplicate: the same statement as entry 6/,
    )
    expect(sent.error).toMatchObject({
      code: 'SEALPOST_TRANSCRIPT_INVALID',
      check: 'statement-set',
      entry: 7,
    })

    const spliced = copy()
    spliced.entries.push({ ...spliced.entries[1]! }, { ...spliced.entries[1]! })
    expect(failures(await verify(rehash(spliced)))).toEqual([
      [7, 'statement-set'],
      [8, 'statement-set'],
    ])

    // Alice's seq 1 again, freshly signed (another leaf): out of order.
    const replayed = copy()
    const again = await sign(alice, 1n, 'hello again')
    replayed.entries.push({
      ...replayed.entries[0]!,
      data: messageLogData({ envelopeId: rand32(), signed: again, body: 'hello again' }),
    })
    const seq = await verify(rehash(replayed))
    expect(failures(seq)).toEqual([[7, 'statement-set']])
    expect(seq.checks.find((c) => !c.ok)?.detail).toMatch(
      /^out of order: seq 1 from device .* after seq 2 at entry 6$/,
    )
  })

  test('an export time before the last entry fails format', async () => {
    const t = copy()
    const result = await verify({ ...t, exportedAt: t.entries.at(-1)!.at - 1 })
    expect(failures(result)).toEqual([[null, 'format']])
    expect(result.checks[0]?.detail).toMatch(/before its last entry/)
  })

  test('the transcript device must belong to the transcript account', async () => {
    const result = await verify({ ...copy(), deviceId: bob.deviceId })
    expect(failures(result)).toEqual([
      [null, 'device'],
      [0, 'sender'],
      [6, 'sender'],
    ])
  })

  test('a device revoked after signing: still valid at its block, but a late receipt is flagged', async () => {
    const snapshot = await ctx.snapshot()
    try {
      const registry = ctx.contracts.keyRegistry
      const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: bob.account.address })
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
      const signature = await signRevokeDevice(bob.account, {
        registry,
        chainId: ctx.anvil.chainId,
        deviceId: bob.deviceId,
        nonce,
        deadline,
      })
      const revoked = await revokeDevice(ctx.walletClient, {
        registry,
        account: bob.account.address,
        deviceId: bob.deviceId,
        nonce,
        deadline,
        signature,
      })
      const [late] = await anchor([transcript.entries[1]!.data.leaf as Hex])
      const t = copy()
      t.entries.push({ ...t.entries[4]!, data: { leaf: late!.leaf, receipt: receiptToJson(late!) } })
      const result = await verify(rehash(t))
      expect(failures(result)).toEqual([])
      const detail = (entry: number, check: string) =>
        result.checks.find((c) => c.entry === entry && c.check === check)?.detail
      expect(detail(1, 'key-valid')).toBe(
        `key valid at block 4 (revoked later, in block ${revoked.blockNumber})`,
      )
      expect(detail(7, 'receipt')).toMatch(
        new RegExp(`anchored after the signing device was revoked \\(block ${revoked.blockNumber}\\)`),
      )
      expect(detail(4, 'receipt')).not.toMatch(/revoked/)
    } finally {
      await ctx.revert(snapshot)
    }
  })
})
