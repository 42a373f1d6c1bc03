// Issue 9, attacks 5 and 7: rewriting and re-anchoring a log, splicing another log's statement in as "received",
// and a body that is not valid UTF-8, against a real chain, relay, anchorer and clients.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anchorRoot } from '../../src/chain/messageAnchor.js'
import { signLogHead } from '../../src/client/auditTrail.js'
import type { Client } from '../../src/client/Client.js'
import { type DeviceKeys, loadDevice } from '../../src/client/identity.js'
import { exportTranscript, type Transcript, verifyTranscript } from '../../src/client/transcript.js'
import type { TrustedDeployment } from '../../src/client/transcriptReport.js'
import type { Rejection } from '../../src/client/types.js'
import { BodyNotUtf8Error, LogEquivocationError } from '../../src/client/verificationErrors.js'
import { logHeadLeaf } from '../../src/protocol/logHeadStatement.js'
import { buildMerkleTree, inclusionProof } from '../../src/protocol/merkle.js'
import { type Receipt, receiptToJson } from '../../src/protocol/receipt.js'
import type { RelayNode } from '../../src/relay/node.js'
import { hashLogEntry, LOG_GENESIS_HASH, type LogEntry } from '../../src/store/auditLog.js'
import { type ChainContext, setupChain } from '../utils/anvil.js'
import { type TestNetwork, testNetwork, testPassphrase } from '../utils/clients.js'
import { connectTestClient, startTestRelayNode } from '../utils/stack.js'

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
let dir: string
const homes: string[] = []
const clients: Client[] = []
let alice: Client
let bob: Client
let mallory: Client
let bobKeys: DeviceKeys
let malloryKeys: DeviceKeys
let trusted: TrustedDeployment
let chatId: Hex
/** Bob's honest log: received ×2, sent, receipts, a log-anchor. */
let honest: Transcript

const until = async (what: string, ok: () => boolean, timeoutMs = 45_000) => {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function connect(index: number): Promise<{ client: Client; keys: DeviceKeys }> {
  const home = mkdtempSync(join(tmpdir(), 'sealpost-attack5-home-'))
  homes.push(home)
  const client = await connectTestClient(ctx, net, node, { index: index, home })
  clients.push(client)
  return { client, keys: await loadDevice({ home, passphrase: testPassphrase }) }
}

const verify = (transcript: unknown, evidence?: { statement: Hex; signature: Hex }[]) =>
  verifyTranscript({ transcript, publicClient: ctx.publicClient, deployment: trusted, evidence })

const failed = (r: Awaited<ReturnType<typeof verify>>) => r.checks.filter((c) => !c.ok).map((c) => c.check)

/** What a forger holding the log file does after an edit: recompute every hash. */
function rehash(entries: LogEntry[]): LogEntry[] {
  let prevHash = LOG_GENESIS_HASH
  return entries.map((e, index) => {
    const hash = hashLogEntry({ index, at: e.at, kind: e.kind, data: e.data, prevHash })
    const out: LogEntry = { ...e, index, prevHash, hash }
    prevHash = hash
    return out
  })
}

/** Anchors `leaf` on the real MessageAnchor from anvil account `wallet` and returns a real receipt for it. */
async function anchorLeaf(leaf: Hex, wallet = 7): Promise<Receipt> {
  const client = ctx.walletClients[wallet]!
  const leaves = [leaf, `0x${'ab'.repeat(32)}` as Hex]
  const tree = buildMerkleTree(leaves)
  const { hash, blockNumber } = await anchorRoot(client, {
    contract: ctx.contracts.messageAnchor,
    root: tree.root,
    leafCount: leaves.length,
  })
  const block = await ctx.publicClient.getBlock({ blockNumber })
  return {
    chainId: ctx.anvil.chainId,
    contract: getAddress(ctx.contracts.messageAnchor),
    submitter: client.account!.address,
    root: tree.root,
    leaf,
    index: 0,
    treeSize: leaves.length,
    path: inclusionProof(tree, 0),
    txHash: hash,
    blockNumber,
    blockTimestamp: block.timestamp,
  }
}

/**
 * Bob's honest log with its first received entry deleted and every hash recomputed, the old log-anchor dropped, and
 * a new head signed by `keys` (as Bob's device) anchored from another account and appended as a log-anchor entry.
 */
async function rewrittenAndReanchored(keys: DeviceKeys): Promise<Transcript> {
  const deleted = honest.entries.findIndex((e) => e.kind === 'received')
  const kept = rehash(honest.entries.filter((e, i) => i !== deleted && e.kind !== 'log-anchor'))
  const head = kept.at(-1)!
  const latest = await ctx.publicClient.getBlock({ blockTag: 'latest' })
  const signed = signLogHead({
    kind: 'head',
    head: { index: head.index, hash: head.hash },
    prev: undefined,
    signer: {
      chainId: ctx.anvil.chainId,
      registry: trusted.keyRegistry,
      account: bob.account,
      deviceId: bob.deviceId,
      key: keys.signingKey,
    },
    block: { number: latest.number, hash: latest.hash },
  })
  const statement = `0x${Buffer.from(signed.bytes).toString('hex')}` as Hex
  const receipt = await anchorLeaf(logHeadLeaf(signed.bytes, signed.signature))
  const anchorEntry: LogEntry = {
    index: kept.length,
    at: head.at + 1,
    kind: 'log-anchor',
    data: {
      index: head.index,
      head: head.hash,
      statement,
      signature: signed.signature,
      receipt: receiptToJson(receipt),
    } as never,
    prevHash: head.hash,
    hash: head.hash,
  }
  return { ...structuredClone(honest), entries: rehash([...kept, anchorEntry]) }
}

/** The signed head of a transcript's last log-anchor entry (what a verifier holding that transcript has as evidence). */
function anchoredHead(t: Transcript): { statement: Hex; signature: Hex } {
  const entry = t.entries.filter((e) => e.kind === 'log-anchor').at(-1)!
  return { statement: entry.data.statement as Hex, signature: entry.data.signature as Hex }
}

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  dir = mkdtempSync(join(tmpdir(), 'sealpost-attack5-'))
  node = await startTestRelayNode(ctx, net, dir)
  trusted = {
    chainId: ctx.anvil.chainId,
    keyRegistry: getAddress(ctx.contracts.keyRegistry),
    messageAnchor: getAddress(ctx.contracts.messageAnchor),
  }
  ;({ client: alice } = await connect(1))
  ;({ client: bob, keys: bobKeys } = await connect(2))
  ;({ client: mallory, keys: malloryKeys } = await connect(3))
  const joined = new Promise<void>((resolve) => bob.events.once('joined', () => resolve()))
  const chat = await alice.conversations.open(bob.account)
  chatId = chat.id
  await joined
  const received: string[] = []
  bob.events.on('message', (m) => received.push(m.text))
  await chat.send('first: the audit is done')
  await chat.send('second: see you tomorrow')
  await until('Bob to receive two messages', () => received.length >= 2)
  const reply = await bob.conversations.get(chat.id)!.send('reply: thanks')
  await bob.waitForState(reply.id, 'anchored', { timeoutMs: 45_000 })
  await until('receipts for all three messages', () => bob.log.entries({ kind: 'receipt' }).length >= 3)
  const head = await bob.anchorLogHead()
  expect(head).toBeDefined()
  await until('the signed log head to be anchored', () =>
    bob.log.entries({ kind: 'log-anchor' }).some((e) => (e.data as { head: Hex }).head === head),
  )
  honest = exportTranscript({
    log: bob.log,
    ...trusted,
    account: bob.account,
    deviceId: bob.deviceId,
    signingKey: bobKeys.signingKey,
    block: await ctx.publicClient.getBlock(),
  })
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await node?.stop()
  await net?.cleanup()
  await ctx?.stop()
  for (const d of [dir, ...homes]) if (d) rmSync(d, { recursive: true, force: true })
})

describe('attack 5: rewriting history and splicing statements', () => {
  test('the honest transcript verifies: received statements name Bob among their recipients, its anchored head is signed by his device', async () => {
    const result = await verify(honest)
    expect(failed(result)).toEqual([])
    const checks = result.checks.map((c) => c.check)
    expect(checks).toContain('recipients')
    expect(checks).toContain('log-chain')
    const anchor = honest.entries.find((e) => e.kind === 'log-anchor')!
    expect(anchor.data.statement).toMatch(/^0x[0-9a-f]{404}$/)
  })

  test('5a: deleting a received entry, recomputing the chain and anchoring the new head from another account fails log-anchor', async () => {
    // Mallory signs the rewritten head with her own device key, as if it were Bob's.
    const forged = await rewrittenAndReanchored(malloryKeys)
    const result = await verify(forged)
    expect(result.ok).toBe(false)
    const anchorCheck = result.checks.find((c) => c.check === 'log-anchor')!
    expect(anchorCheck.ok).toBe(false)
    expect(anchorCheck.detail).toContain("not signed by this log's device")
    expect(result.error?.code).toBe('SEALPOST_TRANSCRIPT_INVALID')

    // The old way: anchoring the raw head (no signed statement) from any account proves nothing either.
    const raw = structuredClone(forged)
    const entry = raw.entries.at(-1)!
    const receipt = await anchorLeaf(entry.data.head as Hex, 8)
    entry.data = { index: entry.data.index, head: entry.data.head, receipt: receiptToJson(receipt) } as never
    const rawResult = await verify({ ...raw, entries: rehash(raw.entries) })
    expect(rawResult.checks.find((c) => c.check === 'log-anchor')?.ok).toBe(false)
  })

  test('5b: the device itself re-anchoring a rewritten log is equivocation, with both signed heads as evidence', async () => {
    const rewritten = await rewrittenAndReanchored(bobKeys)
    const honestHead = anchoredHead(honest)
    const rewrittenHead = anchoredHead(rewritten)

    // Held against the head Bob's device signed and anchored before, the rewrite is caught.
    const result = await verify(rewritten, [honestHead])
    expect(result.ok).toBe(false)
    expect(failed(result)).toContain('equivocation')
    expect(result.error).toBeInstanceOf(LogEquivocationError)
    const evidence = (result.error as LogEquivocationError).evidence.map((e) => e.statement)
    expect(evidence).toEqual([honestHead.statement, rewrittenHead.statement])

    // And the other way round: the honest log, held against the rewritten head, shows the same conflict.
    const back = await verify(honest, [rewrittenHead])
    expect(back.error).toBeInstanceOf(LogEquivocationError)
    expect((back.error as LogEquivocationError).evidence.map((e) => e.statement)).toEqual([
      rewrittenHead.statement,
      honestHead.statement,
    ])
  })

  test("5c: Alice's statement copied from Bob's log into Mallory's transcript as 'received' fails recipients", async () => {
    const own = exportTranscript({
      log: mallory.log,
      ...trusted,
      account: mallory.account,
      deviceId: mallory.deviceId,
      signingKey: malloryKeys.signingKey,
      block: await ctx.publicClient.getBlock(),
    })
    const stolen = honest.entries.find((e) => e.kind === 'received')!
    const at = own.entries.at(-1)?.at ?? stolen.at
    const spliced: LogEntry = { ...stolen, index: own.entries.length, at, prevHash: LOG_GENESIS_HASH }
    const forged = { ...own, entries: rehash([...own.entries, spliced]) }
    const result = await verify(forged)
    expect(result.ok).toBe(false)
    const recipients = result.checks.filter((c) => c.check === 'recipients')
    expect(recipients.map((c) => c.ok)).toEqual([false])
    expect(recipients[0]!.detail).toContain(mallory.account)
    // Without Bob's proof it fails the same way: only a recipient can show it was one.
    const bare = structuredClone(forged)
    delete (bare.entries.at(-1)!.data as { recipients?: unknown }).recipients
    const bareResult = await verify({ ...bare, entries: rehash(bare.entries) })
    expect(bareResult.checks.filter((c) => c.check === 'recipients').map((c) => c.ok)).toEqual([false])
  })
})

describe('attack 7: a body that is not valid UTF-8', () => {
  test("is refused at receipt with BodyNotUtf8Error and never enters Bob's log, which keeps verifying", async () => {
    const rejections: Rejection[] = []
    bob.events.on('rejected', (r) => rejections.push(r))
    const before = bob.log.entries().length
    const bad = Uint8Array.of(0x68, 0x69, 0x20, 0xff, 0xfe, 0xc3)
    const sent = await alice.conversations.get(chatId)!.send('ignored', { unsafeBody: bad })
    await until('Bob to refuse the message', () => rejections.some((r) => r.envelopeId === sent.id))
    const rejection = rejections.find((r) => r.envelopeId === sent.id)!
    expect(rejection.error).toBeInstanceOf(BodyNotUtf8Error)
    expect(rejection.error.code).toBe('SEALPOST_BODY_NOT_UTF8')
    expect(rejection.report?.failedStep).toBe('body-text')
    const added = bob.log.entries({ from: before })
    expect(added.map((e) => e.kind)).not.toContain('received')
    expect(added.find((e) => e.kind === 'rejected')?.data).toMatchObject({ code: 'SEALPOST_BODY_NOT_UTF8' })

    // A valid body with a leading BOM and non-ASCII text is kept byte for byte, so Bob's transcript still verifies.
    const received = new Promise<void>((resolve) => bob.events.once('message', () => resolve()))
    await alice.conversations.get(chatId)!.send('\uFEFFgrüße ✓')
    await received
    const transcript = exportTranscript({
      log: bob.log,
      ...trusted,
      account: bob.account,
      deviceId: bob.deviceId,
      signingKey: bobKeys.signingKey,
      block: await ctx.publicClient.getBlock(),
    })
    expect(transcript.entries.at(-1)?.data.body).toBe('\uFEFFgrüße ✓')
    const result = await verify(transcript)
    expect(failed(result)).toEqual([])
  })
})
