import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { registerTestDevice, testDeviceKeys } from '../../test/utils/devices.js'
import { getRegistryNonce, revokeDevice } from '../chain/keyRegistry.js'
import { anchorRoot } from '../chain/messageAnchor.js'
import { signRevokeDevice } from '../chain/registryAuthorizations.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { signStatement } from '../crypto/statementSignature.js'
import { contentTypes } from '../protocol/content.js'
import { logHeadLeaf } from '../protocol/logHeadStatement.js'
import { buildMerkleTree, inclusionProof } from '../protocol/merkle.js'
import { type Receipt, receiptFromJson, receiptToJson } from '../protocol/receipt.js'
import { recipientProof, recipientsRoot } from '../protocol/recipients.js'
import { decodeStatement, hashBodyV2, type SignedStatement } from '../protocol/statement.js'
import { AuditLog, hashLogEntry, LOG_GENESIS_HASH, type LogEntry, messageLogData } from '../store/auditLog.js'
import { type SignedLogHeadHex, signLogExport, signLogHead } from './auditTrail.js'
import {
  exportTranscript,
  formatVerification,
  parseTranscript,
  type Transcript,
  TranscriptFormatError,
  type TranscriptVerification,
  verifyTranscript,
} from './transcript.js'
import { DeploymentMismatchError } from './verificationErrors.js'

let ctx: ChainContext
let alice: Party
let bob: Party
let transcript: Transcript
/** The block Alice's export names (after every anchor of the fixture). */
let exportBlock: { number: bigint; hash: Hex }
/** The log head Alice's device signed and anchored (entry 5). */
let anchoredHead: SignedLogHeadHex
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

type Party = { account: LocalAccount; key: DeviceSigningKey; deviceId: Hex }

/** A v2 statement of `who` in the Alice–Bob conversation (epoch 1, both accounts its recipients). */
async function sign(who: Party, seq: bigint, body: string, blockNumber?: bigint): Promise<SignedStatement> {
  const block = await ctx.publicClient.getBlock(
    blockNumber === undefined ? { blockTag: 'latest' } : { blockNumber },
  )
  return signStatement({
    key: who.key,
    statement: {
      version: 2,
      chainId: ctx.anvil.chainId,
      registry: ctx.contracts.keyRegistry,
      from: who.account.address,
      device: who.deviceId,
      conversation,
      epoch: 1n,
      recipientsRoot: recipientsRoot(ctx.anvil.chainId, members()),
      seq,
      sentAt: Date.now(),
      block: { number: block.number, hash: block.hash },
      bodyHash: hashBodyV2(contentTypes.text, new TextEncoder().encode(body)),
      salt: rand32(),
    },
  })
}

const members = () => [alice.account.address, bob.account.address]
/** A message entry's data as Alice's log keeps it: with the proof that her account is among the recipients. */
const logged = (signed: SignedStatement, body?: string) =>
  messageLogData({
    envelopeId: rand32(),
    signed,
    body,
    recipients: recipientProof(ctx.anvil.chainId, members(), alice.account.address),
  })
/** Alice's device as the signer of her log's heads and exports. */
const aliceSigner = () => ({
  chainId: ctx.anvil.chainId,
  registry: ctx.contracts.keyRegistry,
  account: alice.account.address,
  deviceId: alice.deviceId,
  key: alice.key,
})

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

/**
 * What the holder of the log file and of the device key can do after an edit: recompute every hash and sign a new
 * export over the new last entry (so each test shows the check that still catches the edit).
 */
function rehash(t: Transcript): Transcript {
  let prevHash = LOG_GENESIS_HASH
  t.entries = t.entries.map((e, index) => {
    const hash = hashLogEntry({ index, at: e.at, kind: e.kind, data: e.data, prevHash })
    const out: LogEntry = { ...e, index, prevHash, hash }
    prevHash = hash
    return out
  })
  const signed = signLogExport({ last: t.entries.at(-1), signer: aliceSigner(), block: exportBlock })
  if (signed) t.export = signed
  else delete t.export
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
  const e0 = log.append({ kind: 'sent', data: logged(s0, 'hello bob') })
  const s1 = await sign(bob, 1n, 'hi alice ✓')
  const e1 = log.append({ kind: 'received', data: logged(s1, 'hi alice ✓') })
  log.append({ kind: 'rejected', data: { envelopeId: rand32(), code: 'SEALPOST_REPLAY', step: 'seq' } })
  const [r0, r1] = await anchor([e0.data.leaf as Hex, e1.data.leaf as Hex])
  log.append({ kind: 'receipt', data: { leaf: r0!.leaf, receipt: receiptToJson(r0!) } })
  log.append({ kind: 'receipt', data: { leaf: r1!.leaf, receipt: receiptToJson(r1!) } })
  // Alice's device signs its head (entry 4) and the signed statement's leaf is anchored.
  const head = log.head()!
  const latest = await ctx.publicClient.getBlock({ blockTag: 'latest' })
  const signedHead = signLogHead({
    kind: 'head',
    head,
    prev: undefined,
    signer: aliceSigner(),
    block: { number: latest.number, hash: latest.hash },
  })
  anchoredHead = { statement: bytesToHex(signedHead.bytes), signature: signedHead.signature }
  const [rh] = await anchor([logHeadLeaf(signedHead.bytes, signedHead.signature)])
  log.append({
    kind: 'log-anchor',
    data: { index: head.index, head: head.hash, ...anchoredHead, receipt: receiptToJson(rh!) },
  })
  const s6 = await sign(alice, 2n, 'unlogged body')
  log.append({ kind: 'sent', data: logged(s6) })
  expect(log.verifyChain()).toEqual({ ok: true })

  const block = await ctx.publicClient.getBlock({ blockTag: 'latest' })
  exportBlock = { number: block.number, hash: block.hash }
  transcript = exportTranscript({
    log,
    chainId: ctx.anvil.chainId,
    keyRegistry: ctx.contracts.keyRegistry,
    messageAnchor: ctx.contracts.messageAnchor,
    account: alice.account.address,
    deviceId: alice.deviceId,
    signingKey: alice.key,
    block: exportBlock,
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
    expect(transcript.export?.statement).toMatch(/^0x[0-9a-f]{404}$/)
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
      '- export',
      '- statement-set',
      '- log-chain',
      '- equivocation',
      ...['statement', 'sender', 'signature', 'key-valid', 'block', 'body', 'recipients', 'leaf'].map(
        (c) => `0 ${c}`,
      ),
      '0 time-bounds',
      ...['statement', 'sender', 'signature', 'key-valid', 'block', 'body', 'recipients', 'leaf'].map(
        (c) => `1 ${c}`,
      ),
      '1 time-bounds',
      '2 rejected',
      '3 receipt-leaf',
      '3 receipt',
      '4 receipt-leaf',
      '4 receipt',
      '5 log-anchor',
      '5 receipt',
      '5 time-bounds',
      ...['statement', 'sender', 'signature', 'key-valid', 'block', 'recipients', 'leaf'].map(
        (c) => `6 ${c}`,
      ),
      '6 time-bounds',
      '- anchored-prefix',
    ])
    // Anchored statements (and the anchored log head) are verified by the anchor's time bounds; entry 6 has no
    // receipt: pending, shown with `…`, never as verified.
    expect(result.checks.filter((c) => c.check === 'time-bounds').map((c) => [c.entry, c.verdict])).toEqual([
      [0, 'verified'],
      [1, 'verified'],
      [5, 'verified'],
      [6, 'pending'],
    ])
    const lines = formatVerification(result)
    expect(lines.at(-1)).toBe(
      `✓ transcript verified (${result.checks.length} checks; 1 statement pending, not verified)`,
    )
    expect(lines).toContain('✓ entry 0 body: body matches the signed bodyHash')
    expect(lines.find((l) => l.startsWith('✓ entry 0 time-bounds'))).toMatch(
      /^✓ entry 0 time-bounds: verified: anchored in block \d+, \d+ s after block \d+$/,
    )
    expect(lines).toContain(
      '… entry 6 time-bounds: pending: no receipt in this transcript, so it is not shown to be final',
    )
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
    // A forger who recomputes the whole chain (and even re-signs the export) still fails the signed bodyHash, and
    // the anchored head, which the device signed for the original entry 4.
    const forged = await verify(rehash(t))
    expect(failures(forged)).toEqual([
      [1, 'body'],
      [5, 'log-anchor'],
      [5, 'equivocation'],
    ])
    expect(forged.checks.find((c) => c.entry === 5 && c.check === 'log-anchor')?.detail).toMatch(
      /^anchored head 0x[0-9a-f]{64} is not the hash of entry 4/,
    )
  })

  test('an edited statement fails its signature and leaf', async () => {
    const t = copy()
    const hex = t.entries[0]!.data.statement as string
    // Byte 161 is the last byte of seq (offset 154..161 in v2): a different seq, same length.
    const at = 2 + 2 * 161
    t.entries[0]!.data.statement =
      `${hex.slice(0, at)}${hex.slice(at, at + 2) === 'ff' ? '00' : 'ff'}${hex.slice(at + 2)}`
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([
      [0, 'signature'],
      [0, 'leaf'],
      [3, 'receipt-leaf'],
      [5, 'log-anchor'],
      [5, 'equivocation'],
      // The edited seq is now above the next statement's (seq 2 at entry 6).
      [6, 'statement-set'],
    ])
    const lines = formatVerification(result)
    expect(lines).toContain(
      '✗ entry 0 signature: signature does not verify under the key registered on chain',
    )
    // Entry 0's receipt no longer binds to it, so it is pending, like entry 6.
    expect(lines.at(-1)).toMatch(
      /^✗ transcript does not verify \(6 of \d+ checks failed; 2 statements pending, not verified\)$/,
    )
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
      data: logged(forged, 'I owe you 100 ETH'),
    })
    const result = await verify(rehash(t))
    expect(failures(result)).toEqual([[7, 'signature']])
  })

  test('a statement dated before its key was registered fails key-valid', async () => {
    const early = await sign(bob, 9n, 'backdated', ctx.deployBlock)
    const t = copy()
    t.entries.push({
      ...t.entries[1]!,
      data: logged(early, 'backdated'),
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
      [5, 'equivocation'],
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
      data: logged(again, 'hello again'),
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
    // Alice's device signed the export and the anchored head, not this one.
    expect(failures(result)).toEqual([
      [null, 'device'],
      [null, 'export'],
      [0, 'sender'],
      [5, 'log-anchor'],
      [6, 'sender'],
    ])
  })

  test('a device revoked after its statement was anchored: still valid at its block, judged by the earliest anchor', async () => {
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
      const referenced = decodeStatement(hexToBytes(t.entries[1]!.data.statement as Hex)).block.number
      expect(detail(1, 'key-valid')).toBe(
        `key valid at block ${referenced} (revoked later, in block ${revoked.blockNumber})`,
      )
      // A second receipt anchored after the revocation changes nothing: the statement was anchored before it.
      expect(detail(1, 'time-bounds')).toMatch(
        new RegExp(
          `^verified: anchored in block ${receiptFromJson(t.entries[4]!.data.receipt).blockNumber}, \\d+ s after block \\d+, before the revocation at block ${revoked.blockNumber}$`,
        ),
      )
    } finally {
      await ctx.revert(snapshot)
    }
  })
})

describe("the export signed by the log's device", () => {
  const exportCheck = (r: TranscriptVerification) => r.checks.filter((c) => c.check === 'export')

  test('covers exactly the entries: one cut short, emptied or without the export fails export', async () => {
    expect(exportCheck(await verify(copy()))[0]?.detail).toMatch(
      /^signed by device 0x[0-9a-f]{8}… at block \d+ over entries 0\.\.6$/,
    )
    const cut = copy()
    cut.entries.pop()
    const r = await verify(cut)
    expect(failures(r)).toEqual([[null, 'export']])
    expect(exportCheck(r)[0]?.detail).toBe('log truncated after index 5: the export was signed over entry 6')
    expect(r.error).toMatchObject({ code: 'SEALPOST_TRANSCRIPT_INVALID', check: 'export', entry: null })

    const emptied = await verify({ ...copy(), entries: [] })
    expect(failures(emptied)).toEqual([[null, 'export']])
    expect(exportCheck(emptied)[0]?.detail).toBe(
      'log truncated to no entries: the export was signed over entry 6',
    )

    const unsigned = copy()
    delete unsigned.export
    const none = await verify(unsigned)
    expect(failures(none)).toEqual([[null, 'export']])
    expect(exportCheck(none)[0]?.detail).toMatch(/^no export statement signed by the log's device/)
  })

  test("an export signed by another device's key, or a log head given as the export, fails export", async () => {
    const forged = copy()
    forged.export = signLogExport({
      last: forged.entries.at(-1),
      signer: { ...aliceSigner(), key: bob.key },
      block: exportBlock,
    })!
    const r = await verify(forged)
    expect(failures(r)).toEqual([[null, 'export']])
    expect(exportCheck(r)[0]?.detail).toBe(
      "export signature: signature does not verify under the device's registered key",
    )
    const head = await verify({ ...copy(), export: anchoredHead })
    expect(failures(head)).toEqual([[null, 'export']])
    expect(exportCheck(head)[0]?.detail).toBe('the signed statement is a log head, not an export')
  })

  test('the device cutting its own log and re-signing the export is caught by a head it signed before', async () => {
    const cut = copy()
    cut.entries = cut.entries.slice(0, 4)
    cut.export = signLogExport({ last: cut.entries.at(-1), signer: aliceSigner(), block: exportBlock })!
    // Alone it verifies: nothing in it pins what came after entry 3.
    expect(failures(await verify(cut))).toEqual([])
    // Held against the head the device signed for entry 4 (before the export's block), it is a truncation.
    const held = await verify(cut, { evidence: [anchoredHead] })
    expect(failures(held)).toEqual([[null, 'export']])
    expect(held.checks.find((c) => !c.ok)?.detail).toMatch(
      /^log truncated after index 3: evidence 1 is a head the device signed for entry 4 in block \d+, before this export \(block \d+\)$/,
    )

    // A head for a later entry naming a later block than the export's: the log went on after it (informational).
    await anchor([rand32()])
    const latest = await ctx.publicClient.getBlock({ blockTag: 'latest' })
    expect(latest.number).toBeGreaterThan(exportBlock.number)
    const later = signLogHead({
      kind: 'head',
      head: { index: 9, hash: rand32() },
      prev: undefined,
      signer: aliceSigner(),
      block: { number: latest.number, hash: latest.hash },
    })
    const went = await verify(copy(), {
      evidence: [{ statement: bytesToHex(later.bytes), signature: later.signature }],
    })
    expect(failures(went)).toEqual([])
    expect(went.checks.find((c) => c.check === 'equivocation')?.detail).toMatch(
      /; the device signed a later head \(entry 9\) after this export \(block \d+\): the log continues after this transcript$/,
    )
  })
})
