/** Issue 12, history for a new device: an archive of past conversations, sealed to the new device, verified entry by entry. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Client } from '../src/client/Client.js'
import type { HistoryImported, Rejection } from '../src/client/types.js'
import { createEnvelope, type Envelope } from '../src/protocol/envelope.js'
import { decodeHistoryChunk } from '../src/protocol/historyArchive.js'
import { isAtLeast } from '../src/protocol/messageState.js'
import { inboxTopic } from '../src/protocol/topics.js'
import type { RelayNode } from '../src/relay/node.js'
import { hashLogEntry, type LogEntry } from '../src/store/auditLog.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork } from './utils/clients.js'
import { connectTestClient, startTestRelayNode } from './utils/stack.js'

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
const dirs: string[] = []
const clients: Client[] = []
let phone: Client
let laptop: Client
let bob: Client
let carol: Client
let withBobId: Hex
const imported: HistoryImported[] = []
const rejected: Rejection[] = []

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-history-'))
  dirs.push(dir)
  return dir
}

async function live(index: number, beforeStart?: (c: Client) => void): Promise<Client> {
  const client = await connectTestClient(ctx, net, node, { index, home: home(), beforeStart })
  clients.push(client)
  return client
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Captures what `client` publishes to `topic` instead of sending it (until `release`). */
function intercept(client: Client, topic: Hex): { captured: Envelope[]; release(): void } {
  const transport = client.transport
  const publish = transport.publish.bind(transport)
  const captured: Envelope[] = []
  transport.publish = async (envelope) => {
    if (envelope.topic.toLowerCase() !== topic.toLowerCase()) return publish(envelope)
    captured.push(envelope)
    return { cursor: 0n }
  }
  const release = () => {
    transport.publish = publish
  }
  return { captured, release }
}

const rejectionOf = (envelopeId: Hex) => () => rejected.find((r) => r.envelopeId === envelopeId)

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  node = await startTestRelayNode(ctx, net, home())
  // Alice's phone has two conversations, with Bob and with Carol, and every message anchored.
  ;[phone, bob, carol] = await Promise.all([live(1), live(2), live(3)])
  const withBob = await phone.conversations.open(bob.account)
  const withCarol = await phone.conversations.open(carol.account)
  withBobId = withBob.id
  const sent = [await withBob.send('hello bob'), await withCarol.send('hello carol')]
  await waitFor('Bob and Carol to join', () =>
    bob.conversations.get(withBob.id) && carol.conversations.get(withCarol.id) ? true : undefined,
  )
  sent.push(await bob.conversations.get(withBob.id)!.send('hi alice, bob here'))
  sent.push(await carol.conversations.get(withCarol.id)!.send('hi alice, carol here'))
  await waitFor('the replies on the phone', () => (phone.messages.list().length >= 4 ? true : undefined))
  for (const [i, m] of sent.entries())
    await [phone, phone, bob, carol][i]!.waitForState(m.id, 'anchored', { timeoutMs: 60_000 })
  const anchoredOnPhone = () =>
    new Set(phone.log.entries().flatMap((e) => (e.kind === 'receipt' ? [String(e.data.leaf)] : [])))
  await waitFor('receipts of all four on the phone', () =>
    sent.every((m) => anchoredOnPhone().has(m.leaf)) ? true : undefined,
  )
  // A second device of Alice's, registered with the account key (the SDK's add-device path).
  laptop = await live(1, (c) => {
    c.events.on('historyImported', (h) => imported.push(h))
    c.events.on('rejected', (r) => rejected.push(r))
  })
}, 240_000)

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await net?.cleanup()
  await node?.stop()
  await ctx?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('history for a new device', () => {
  test('the new device imports every message of both conversations, each verified, as history', async () => {
    expect(laptop.deviceId).not.toBe(phone.deviceId)
    expect(laptop.messages.list()).toEqual([])
    const sent = await phone.history.send({ toDevice: laptop.deviceId })
    expect(sent).toMatchObject({ messages: 4, chunks: 1 })
    const done = await waitFor('historyImported', () => imported.find((h) => h.archive === sent.archiveId))
    expect(done).toMatchObject({ fromDevice: phone.deviceId.toLowerCase(), messages: 4, imported: 4 })
    expect(done.conversations).toHaveLength(2)

    const history = laptop.messages.list()
    expect(history.map((m) => m.body).sort()).toEqual([
      'hello bob',
      'hello carol',
      'hi alice, bob here',
      'hi alice, carol here',
    ])
    for (const m of history) {
      const original = phone.messages.get(m.id as Hex)!
      expect(m.history).toMatchObject({ archive: sent.archiveId, fromDevice: phone.deviceId.toLowerCase() })
      expect({ from: m.from, device: m.device, seq: m.seq, leaf: m.leaf }).toEqual({
        from: original.from.toLowerCase(),
        device: original.device,
        seq: original.seq,
        leaf: original.leaf,
      })
      // Anchored with the receipt the archive carried (final once deep enough), judged as a live message is.
      expect({
        direction: m.direction,
        anchored: isAtLeast(m.state, 'anchored'),
        verdict: m.verdict,
      }).toEqual({
        direction: 'in',
        anchored: true,
        verdict: 'verified',
      })
    }
    expect(laptop.messages.list().filter((m) => m.verdict === 'pending')).toEqual([])
    // Imported, not received: nothing of it enters the laptop's own log (its log records what it received live).
    expect(laptop.log.entries().filter((e) => e.kind === 'sent' || e.kind === 'received')).toEqual([])
    expect(rejected.filter((r) => r.error.code.startsWith('SEALPOST_HISTORY'))).toEqual([])
  }, 120_000)

  test('an archive with one entry altered is refused as a whole (hash chain)', async () => {
    const before = laptop.messages.list().length
    const sending = intercept(phone, inboxTopic(laptop.deviceId))
    await phone.history.send({
      toDevice: laptop.deviceId,
      unsafeRewriteLog: (entries) =>
        entries.map((e) => (e.kind === 'received' ? { ...e, data: { ...e.data, body: 'forged' } } : e)),
    })
    sending.release()
    const [chunk] = sending.captured
    await phone.transport.publish(chunk!)
    const refusal = await waitFor('the refusal', rejectionOf(chunk!.id))
    expect(refusal.error.code).toBe('SEALPOST_HISTORY_ARCHIVE_TAMPERED')
    expect(refusal.error.metaMessages).toContain('Check: hash-chain')
    expect(laptop.messages.list()).toHaveLength(before)
  }, 60_000)

  test('an archive with one plaintext altered (hashes and export redone over it) is refused (body)', async () => {
    const sending = intercept(phone, inboxTopic(laptop.deviceId))
    await phone.history.send({ toDevice: laptop.deviceId, unsafeRewriteLog: rewritePlaintext })
    sending.release()
    const [chunk] = sending.captured
    await phone.transport.publish(chunk!)
    const refusal = await waitFor('the refusal', rejectionOf(chunk!.id))
    expect(refusal.error.code).toBe('SEALPOST_HISTORY_ARCHIVE_TAMPERED')
    expect(refusal.error.metaMessages).toContain('Check: body')
    expect(laptop.messages.list().some((m) => m.body === 'forged')).toBe(false)
  }, 60_000)

  test("an archive from another account's device is refused, and the SDK will not send one", async () => {
    await expect(bob.history.send({ toDevice: laptop.deviceId })).rejects.toMatchObject({
      code: 'SEALPOST_HISTORY_RECIPIENT',
    })
    const sending = intercept(bob, inboxTopic(laptop.deviceId))
    await bob.history.send({ toDevice: laptop.deviceId, unsafeSkipRecipientCheck: true })
    sending.release()
    const [chunk] = sending.captured
    await bob.transport.publish(chunk!)
    const refusal = await waitFor('the refusal', rejectionOf(chunk!.id))
    expect(refusal.error.code).toBe('SEALPOST_HISTORY_ARCHIVE_SENDER')
    expect(laptop.messages.list().some((m) => m.history?.fromDevice === bob.deviceId.toLowerCase())).toBe(
      false,
    )
  }, 60_000)

  test('an archive altered by the relay, or sealed to another device, cannot be opened', async () => {
    const sending = intercept(phone, inboxTopic(laptop.deviceId))
    const sent = await phone.history.send({ toDevice: laptop.deviceId })
    sending.release()
    const [chunk] = sending.captured
    const payload = new Uint8Array(chunk!.payload)
    payload[payload.length - 1]! ^= 1
    expect(decodeHistoryChunk(payload).archiveId).toBe(sent.archiveId)
    const altered = createEnvelope({ kind: 'application', topic: chunk!.topic, payload })
    await phone.transport.publish(altered)
    const refusal = await waitFor('the refusal', rejectionOf(altered.id))
    expect(refusal.error.code).toBe('SEALPOST_HISTORY_ARCHIVE_UNREADABLE')

    // The same archive on the inbox of another device of the account: it holds no key it was sealed to.
    const phoneRejected: Rejection[] = []
    phone.events.on('rejected', (r) => phoneRejected.push(r))
    const elsewhere = createEnvelope({
      kind: 'application',
      topic: inboxTopic(phone.deviceId),
      payload: chunk!.payload,
    })
    await bob.transport.publish(elsewhere)
    const misdirected = await waitFor('the refusal', () =>
      phoneRejected.find((r) => r.envelopeId === elsewhere.id),
    )
    expect(misdirected.error.code).toBe('SEALPOST_HISTORY_ARCHIVE_UNREADABLE')
  }, 60_000)
})

describe('a large archive of one conversation', () => {
  test('goes in several 512 KiB chunks through the relay and carries only the conversation chosen', async () => {
    const chat = phone.conversations.get(withBobId)!
    const big = [await chat.send('a'.repeat(300_000)), await chat.send('b'.repeat(300_000))]
    for (const m of big) await phone.waitForState(m.id, 'anchored', { timeoutMs: 60_000 })
    const sent = await phone.history.send({ toDevice: laptop.deviceId, conversations: [withBobId] })
    expect(sent.chunks).toBeGreaterThan(1)
    expect(sent.messages).toBe(4)
    const done = await waitFor('historyImported', () => imported.find((h) => h.archive === sent.archiveId))
    // The laptop may already hold the two new ones live (it joined the conversation when added): they are skipped.
    expect(done).toMatchObject({ conversations: [withBobId.toLowerCase()], messages: 4 })
    expect(laptop.messages.get(big[1]!.id)?.body).toBe('b'.repeat(300_000))
  }, 120_000)
})

/** Changes the plaintext of the first received message and recomputes every hash from there: only the signed
 * statement's bodyHash still disagrees. */
function rewritePlaintext(entries: LogEntry[]): LogEntry[] {
  const target = entries.findIndex((e) => e.kind === 'received')
  const out: LogEntry[] = []
  for (const [i, e] of entries.entries()) {
    const data = i === target ? { ...e.data, body: 'forged' } : e.data
    const prevHash = i === 0 ? e.prevHash : out[i - 1]!.hash
    out.push({
      ...e,
      data,
      prevHash,
      hash: hashLogEntry({ index: e.index, at: e.at, kind: e.kind, data, prevHash }),
    })
  }
  return out
}
