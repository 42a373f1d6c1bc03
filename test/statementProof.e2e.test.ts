/** End to end: a message sent through a relay and anchored, `log proof` and `log export`, then `verify --on-chain` on each. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, getAddress, type Hex, hexToBytes } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type CliContext, createContext } from '../src/cli/context.js'
import { logCommand } from '../src/cli/log.js'
import type { Output } from '../src/cli/output.js'
import { verifyCommand } from '../src/cli/verify.js'
import type { Client } from '../src/client/Client.js'
import { writeDeployment } from '../src/client/deployment.js'
import { loggedStatements, type StatementProof } from '../src/client/statementProof.js'
import type { RelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testNetwork, testPassphrase } from './utils/clients.js'
import { connectTestClient, startTestRelayNode } from './utils/stack.js'

const PASSPHRASE_ENV = 'SEALPOST_TEST_PROOF_PASSPHRASE'
/** Offset of `bodyHash` in a v2 message statement (protocol §4.1). */
const BODY_HASH_OFFSET = 210

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
const dirs: string[] = []
let aliceHome: string
let bobHome: string
let sentId: Hex
let sentEntry: number

const until = async (what: string, ok: () => boolean, timeoutMs = 45_000) => {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

/** A CLI context on `home` whose output lines are collected (the commands run in-process: no module loading). */
function cli(home: string): { ctx: CliContext; lines: string[] } {
  const lines: string[] = []
  const out: Output = {
    json: false,
    debug: false,
    info: (l) => lines.push(l),
    step: () => () => {},
    result: () => {},
  }
  return { ctx: createContext({ home, rpc: ctx.anvil.rpcUrl, passphraseEnv: PASSPHRASE_ENV, out }), lines }
}

beforeAll(async () => {
  process.env[PASSPHRASE_ENV] = testPassphrase
  ctx = await setupChain()
  net = testNetwork(ctx)
  node = await startTestRelayNode(ctx, net, tempDir('sealpost-proof-relay-'))
  aliceHome = tempDir('sealpost-proof-alice-')
  bobHome = tempDir('sealpost-proof-bob-')
  const clients: Client[] = []
  try {
    const alice = await connectTestClient(ctx, net, node, { index: 1, home: aliceHome })
    clients.push(alice)
    const bob = await connectTestClient(ctx, net, node, { index: 2, home: bobHome })
    clients.push(bob)
    const joined = new Promise<void>((resolve) => bob.events.once('joined', () => resolve()))
    const chat = await alice.conversations.open(bob.account)
    await joined
    const sent = await chat.send('release the escrow to carol')
    sentId = sent.id
    await alice.waitForState(sent.id, 'anchored', { timeoutMs: 45_000 })
    // Bob's log: the message received, and the signed delivery receipt his client sends back (logged a moment
    // later, so waiting on the received entry alone can close Bob before his own statement is anchored); every
    // one anchored before export.
    await until('Bob to hold the receipt of every message entry', () => {
      const logged = loggedStatements(bob.log.entries())
      return (
        logged.some((m) => m.messageId === sent.id) &&
        logged.some((m) => m.kind === 'sent') &&
        logged.every((m) => m.proof !== undefined)
      )
    })
    sentEntry = alice.log.entries({ kind: 'sent' })[0]!.index
  } finally {
    // The CLI opens the same homes: the live clients close first.
    for (const c of clients) await c.close()
  }
  // StatementVerifier reads the hash of the block after a statement's referenced block only once a later block
  // exists; on anvil nothing is mined after the last anchor, so one more block makes every statement judgeable.
  await ctx.mine(1)
  for (const home of [aliceHome, bobHome])
    writeDeployment(home, { ...net.deployment, statementVerifier: ctx.contracts.statementVerifier })
}, 120_000)

afterAll(async () => {
  await node?.stop()
  await net?.cleanup()
  await ctx?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  delete process.env[PASSPHRASE_ENV]
})

describe('log proof → verify --on-chain', () => {
  test('the proof of an anchored message (by id or entry index) passes both verifiers; a tampered one fails both', async () => {
    const dir = tempDir('sealpost-proof-files-')
    const byId = join(dir, 'proof.json')
    const byEntry = join(dir, 'proof-entry.json')
    const alice = cli(aliceHome)
    await logCommand(alice.ctx, ['proof', sentId, '--out', byId])
    await logCommand(alice.ctx, ['proof', String(sentEntry), '--out', byEntry])
    expect(alice.lines[0]).toMatch(
      new RegExp(
        `^Wrote the statement proof of sent message ${sentId} \\(entry ${sentEntry}, anchored in block \\d+\\) to `,
      ),
    )
    const proof = JSON.parse(readFileSync(byId, 'utf8')) as StatementProof
    expect(readFileSync(byEntry, 'utf8')).toBe(readFileSync(byId, 'utf8'))
    expect(Object.keys(proof).sort()).toEqual(['receipt', 'signature', 'statement'])
    expect(proof.receipt.version).toBe(2)

    // What was said, changed after signing: the body hash.
    const statement = hexToBytes(proof.statement)
    statement[BODY_HASH_OFFSET] = (statement[BODY_HASH_OFFSET] ?? 0) ^ 0x01
    const tampered = join(dir, 'tampered.json')
    writeFileSync(tampered, JSON.stringify({ ...proof, statement: bytesToHex(statement) }))

    const good = cli(aliceHome)
    const bad = cli(aliceHome)
    const [ok, refused] = await Promise.all([
      verifyCommand(good.ctx, ['--on-chain', byId]),
      verifyCommand(bad.ctx, ['--on-chain', tampered]),
    ])
    const goodOut = good.lines.join('\n')
    expect(ok, goodOut).toBe(true)
    expect(goodOut).toContain(`✓ signed by ${net.account(1).address}`)
    expect(goodOut).toContain('✓ off chain: verified')
    expect(goodOut).toContain('✓ on chain: verified')
    const badOut = bad.lines.join('\n')
    expect(refused, badOut).toBe(false)
    expect(badOut).toContain('✗ off chain: refused (step signature')
    expect(badOut).toContain('✗ on chain: refused (step signature)')
    expect(badOut).not.toContain('differ')
  }, 60_000)

  test('an unknown message or a non-message entry is a typed error', async () => {
    const alice = cli(aliceHome)
    await expect(logCommand(alice.ctx, ['proof', `0x${'ab'.repeat(32)}`])).rejects.toMatchObject({
      code: 'SEALPOST_PROOF_UNKNOWN_MESSAGE',
    })
    await expect(logCommand(alice.ctx, ['proof', '100000'])).rejects.toMatchObject({
      code: 'SEALPOST_PROOF_UNKNOWN_MESSAGE',
    })
  }, 30_000)
})

describe('log export → verify --on-chain', () => {
  test("every anchored message of Bob's transcript is checked by both verifiers", async () => {
    const file = join(tempDir('sealpost-proof-transcript-'), 'bob.json')
    const bob = cli(bobHome)
    await logCommand(bob.ctx, ['export', '--out', file])
    const run = cli(bobHome)
    const ok = await verifyCommand(run.ctx, ['--on-chain', file])
    const out = run.lines.join('\n')
    const n = loggedStatements(JSON.parse(readFileSync(file, 'utf8')).entries).length
    expect(ok, out).toBe(true)
    expect(out).toContain(
      `On chain (StatementVerifier ${getAddress(ctx.contracts.statementVerifier)}): ${n} message entr`,
    )
    expect(out).toMatch(new RegExp(`entry \\d+ received ${sentId.slice(0, 10)}…:`))
    expect(out).toContain(`✓ on chain: signed by ${net.account(1).address}`)
    expect(out).toContain(`✓ on chain: ${n} of ${n} checked accepted by both verifiers, 0 skipped`)
  }, 60_000)
})
