// Issue 9, attack 2 in a transcript: a stolen, revoked device's statement that references a block before the
// revocation, anchored after it (or outside the anchor window), must not verify in `sealpost verify` either. The
// transcript verifier judges every anchored statement with the live receipt's rules (protocol §11.1, §12.4).
import { execFile } from 'node:child_process'
import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { getAddress, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anchorRoot } from '../../src/chain/messageAnchor.js'
import type { Client } from '../../src/client/Client.js'
import { loadDevice } from '../../src/client/identity.js'
import {
  exportTranscript,
  formatVerification,
  type Transcript,
  type TranscriptVerification,
  verifyTranscript,
} from '../../src/client/transcript.js'
import type { TrustedDeployment } from '../../src/client/transcriptReport.js'
import { AnchorWindowError, RevokedBeforeAnchorError } from '../../src/client/verificationErrors.js'
import { createEnvelope } from '../../src/protocol/envelope.js'
import { buildMerkleTree, inclusionProof } from '../../src/protocol/merkle.js'
import { encodeReceipt, type Receipt } from '../../src/protocol/receipt.js'
import { inboxTopic } from '../../src/protocol/topics.js'
import { testPassphrase } from '../utils/clients.js'
import { conversationWorld, syncUntil } from './conversation-setup.js'

const run = promisify(execFile)
const bin = join(import.meta.dirname, '..', '..', 'bin', 'sealpost.js')

let world: Awaited<ReturnType<typeof conversationWorld>>
let trusted: TrustedDeployment

beforeAll(async () => {
  world = await conversationWorld()
  trusted = {
    chainId: world.ctx.anvil.chainId,
    keyRegistry: getAddress(world.ctx.contracts.keyRegistry),
    messageAnchor: getAddress(world.ctx.contracts.messageAnchor),
  }
})

afterAll(async () => {
  await world?.cleanup()
})

/** Anchors `leaf` on the real MessageAnchor from anvil account `wallet` (anyone may) and returns its receipt. */
async function anchorLeaf(leaf: Hex, wallet = 9): Promise<Receipt> {
  const client = world.ctx.walletClients[wallet]!
  const leaves = [leaf, `0x${'cd'.repeat(32)}` as Hex]
  const tree = buildMerkleTree(leaves)
  const { hash, blockNumber } = await anchorRoot(client, {
    contract: world.ctx.contracts.messageAnchor,
    root: tree.root,
    leafCount: leaves.length,
  })
  const block = await world.ctx.publicClient.getBlock({ blockNumber })
  return {
    chainId: world.ctx.anvil.chainId,
    contract: getAddress(world.ctx.contracts.messageAnchor),
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

/** The thief hands a receipt to the stolen device's own client, so its log holds the anchor like any other. */
async function logReceipt(client: Client, receipt: Receipt): Promise<void> {
  await client.receive(
    createEnvelope({ kind: 'receipt', topic: inboxTopic(client.deviceId), payload: encodeReceipt(receipt) }),
  )
}

/** Exports `client`'s log, the export signed with the device key in `home` naming block `block`. */
async function exportLog(client: Client, home: string, block: bigint): Promise<Transcript> {
  const keys = await loadDevice({ home, passphrase: testPassphrase })
  const named = await world.ctx.publicClient.getBlock({ blockNumber: block })
  return exportTranscript({
    log: client.log,
    ...trusted,
    account: client.account,
    deviceId: client.deviceId,
    signingKey: keys.signingKey,
    block: { number: named.number, hash: named.hash },
  })
}

const verify = (transcript: unknown) =>
  verifyTranscript({ transcript, publicClient: world.ctx.publicClient, deployment: trusted })

const failed = (r: TranscriptVerification) =>
  r.checks.filter((c) => !c.ok).map((c) => [c.entry, c.check, c.detail.split(':')[0]])

async function sealpost(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 120_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('attack 2 in a transcript: time bounds from the anchor', () => {
  test("a revoked phone's statement, signed before the revocation and anchored after it, fails verify (SDK and CLI); the recipient's log records its refusal", async () => {
    const alice = await world.manual(1)
    const phone = await world.manual(2)
    const laptop = await world.manual(2)
    const mallory = await world.manual(3, { keyPackages: 0 })
    const chat = await alice.conversations.open(phone.account)
    expect((await phone.sync()).joined).toEqual([chat.id])

    // The thief copies the phone and signs while the phone's key is still valid.
    await phone.close()
    const stolen = world.newHome()
    cpSync(phone.home, stolen, { recursive: true })
    const thief = await world.net.client({ account: world.net.account(2), home: stolen })
    const sent = await thief.conversations
      .get(chat.id)
      ?.send('wire the funds', { unsafeSkipRegistrationCheck: true })
    if (!sent) throw new Error('the thief has no conversation')

    await laptop.revokeDevice(phone.deviceId)
    const revokedAt = await world.ctx.publicClient.getBlockNumber()
    expect(sent.statement.block.number).toBeLessThan(revokedAt)

    // The thief anchors the leaf itself (after the revocation), logs the receipt and exports the phone's log, the
    // export signed with the phone's key at a block before the revocation.
    const receipt = await anchorLeaf(sent.leaf)
    expect(receipt.blockNumber).toBeGreaterThan(revokedAt)
    await logReceipt(thief, receipt)
    const forged = await exportLog(thief, stolen, revokedAt - 1n)
    await thief.close()
    expect(forged.entries.map((e) => e.kind)).toEqual(['sent', 'receipt'])

    const result = await verify(forged)
    expect(result.ok).toBe(false)
    expect(failed(result)).toEqual([[0, 'time-bounds', 'refused']])
    expect(result.error).toBeInstanceOf(RevokedBeforeAnchorError)
    expect(result.error?.code).toBe('SEALPOST_REVOKED_BEFORE_ANCHOR')
    expect(result.checks.find((c) => c.entry === 0 && c.check === 'time-bounds')).toMatchObject({
      verdict: 'refused',
      detail: `refused: SEALPOST_REVOKED_BEFORE_ANCHOR: The sender device was revoked before this message was anchored. (Device: ${phone.deviceId}; Revoked at block ${revokedAt}, anchored in block ${receipt.blockNumber})`,
    })
    const lines = formatVerification(result)
    expect(lines.filter((l) => l.startsWith('✗'))).toEqual([
      expect.stringMatching(/^✗ entry 0 time-bounds: refused: SEALPOST_REVOKED_BEFORE_ANCHOR: /),
      expect.stringMatching(/^✗ transcript does not verify \(1 of \d+ checks failed\)$/),
    ])

    // The real CLI, pinned to the real deployment: exit 1, the refusal on one line.
    const file = join(world.newHome(), 'phone.transcript.json')
    writeFileSync(file, JSON.stringify(forged))
    const cli = await sealpost([
      '--home',
      world.newHome(),
      '--rpc',
      world.ctx.anvil.rpcUrl,
      'verify',
      file,
      '--registry',
      trusted.keyRegistry,
      '--anchor',
      trusted.messageAnchor,
    ])
    expect(cli.code).toBe(1)
    expect(cli.stdout.split('\n').filter((l) => l.includes('SEALPOST_REVOKED_BEFORE_ANCHOR'))).toHaveLength(1)
    const json = await sealpost([
      '--home',
      world.newHome(),
      '--rpc',
      world.ctx.anvil.rpcUrl,
      '--json',
      'verify',
      file,
      '--registry',
      trusted.keyRegistry,
      '--anchor',
      trusted.messageAnchor,
    ])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout).error).toMatchObject({
      name: 'RevokedBeforeAnchorError',
      code: 'SEALPOST_REVOKED_BEFORE_ANCHOR',
    })

    // Mallory publishes the envelope; Alice accepts it as pending, anchors it and refuses it, and her log says so.
    await mallory.transport.publish(sent.envelope)
    const got = await syncUntil(alice, (r) => r.received.length > 0)
    expect(got.received.map((m) => m.verdict)).toEqual(['pending'])
    const end = Date.now() + 20_000
    while (alice.messages.get(sent.id)?.verdict === 'pending' && Date.now() < end) {
      await alice.sync()
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(alice.messages.get(sent.id)?.verdict).toBe('refused')
    const refusals = alice.log.entries({ kind: 'rejected' })
    expect(refusals.map((e) => e.data)).toEqual([
      { envelopeId: sent.id, code: 'SEALPOST_REVOKED_BEFORE_ANCHOR', step: 'time-bounds' },
    ])

    // Alice's honest transcript verifies: the statement is shown refused (as her log records), never as verified.
    const honest = await verify(
      await exportLog(alice, alice.home, await world.ctx.publicClient.getBlockNumber()),
    )
    expect(failed(honest)).toEqual([])
    const received = honest.checks.find(
      (c) =>
        c.check === 'time-bounds' && c.entry === alice.log.entries().findIndex((e) => e.kind === 'received'),
    )
    expect(received?.verdict).toBe('refused')
    expect(received?.detail).toMatch(
      /^refused: SEALPOST_REVOKED_BEFORE_ANCHOR: .*; this log records the refusal at entry \d+$/,
    )
  })

  test('an unanchored statement is pending, never verified', async () => {
    const bob = await world.manual(4)
    const carol = await world.manual(5)
    const chat = await bob.conversations.open(carol.account)
    expect((await carol.sync()).joined).toEqual([chat.id])
    // An offline copy of Bob's device signs a statement nobody anchors.
    await bob.close()
    const copy = world.newHome()
    cpSync(bob.home, copy, { recursive: true })
    const offline = await world.net.client({ account: world.net.account(4), home: copy })
    await offline.conversations.get(chat.id)?.send('not anchored yet')
    const transcript = await exportLog(offline, copy, await world.ctx.publicClient.getBlockNumber())
    await offline.close()
    const result = await verify(transcript)
    expect(result.ok).toBe(true)
    const sentAt = transcript.entries.findIndex((e) => e.kind === 'sent')
    expect(result.checks.find((c) => c.entry === sentAt && c.check === 'time-bounds')).toMatchObject({
      ok: true,
      verdict: 'pending',
    })
    const lines = formatVerification(result)
    expect(lines).toContain(
      `… entry ${sentAt} time-bounds: pending: no receipt in this transcript, so it is not shown to be final`,
    )
    expect(lines.at(-1)).toMatch(/^✓ transcript verified \(\d+ checks; 1 statement pending, not verified\)$/)
  })

  // Last in this file: it moves the chain's clock two hours ahead.
  test('a statement anchored outside the anchor window fails verify (AnchorWindowError)', async () => {
    const dave = await world.manual(6)
    const erin = await world.manual(7)
    const chat = await dave.conversations.open(erin.account)
    expect((await erin.sync()).joined).toEqual([chat.id])
    await dave.close()
    const copy = world.newHome()
    cpSync(dave.home, copy, { recursive: true })
    const late = await world.net.client({ account: world.net.account(6), home: copy })
    const sent = await late.conversations.get(chat.id)?.send('made two hours ago')
    if (!sent) throw new Error('no conversation')
    await world.ctx.mine(1)
    await world.ctx.publicClient.request({ method: 'evm_increaseTime', params: [2 * 3600] } as never)
    const receipt = await anchorLeaf(sent.leaf)
    await logReceipt(late, receipt)
    const transcript = await exportLog(late, copy, await world.ctx.publicClient.getBlockNumber())
    await late.close()
    const result = await verify(transcript)
    const sentAt = transcript.entries.findIndex((e) => e.kind === 'sent')
    expect(failed(result)).toEqual([[sentAt, 'time-bounds', 'refused']])
    expect(result.error).toBeInstanceOf(AnchorWindowError)
    expect(result.error?.code).toBe('SEALPOST_ANCHOR_WINDOW')
  })
})
