/** The relay process is killed with SIGKILL while 1,000 messages are in flight, then restarted on the same store. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Client, ReceivedMessage } from '../src/client/Client.js'
import { connectClient } from '../src/client/connect.js'
import { writeDeployment } from '../src/client/deployment.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './utils/clients.js'
import { freePort } from './utils/net.js'

const bin = join(import.meta.dirname, '..', 'bin', 'sealpost.js')
let ctx: ChainContext
let net: TestNetwork
let relayHome: string
let port: number
let relay: ChildProcess | undefined

/** Starts `sealpost relay` as a child process on the fixed port and resolves once it listens. */
function startRelayProcess(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      bin,
      '--home',
      relayHome,
      '--rpc',
      ctx.anvil.rpcUrl,
      'relay',
      '--port',
      String(port),
      '--anchor-key-env',
      'ANCHOR_KEY',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ANCHOR_KEY: ctx.anvil.accounts[9] } },
  )
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (/relay\s+ws:\/\//.test(output)) {
        clearTimeout(timer)
        resolve(child)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (process.env.CRASH_DEBUG) process.stderr.write(chunk)
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${output}`)))
  })
}

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  relayHome = mkdtempSync(join(tmpdir(), 'sealpost-crash-'))
  writeDeployment(relayHome, { ...net.deployment, rpcUrl: ctx.anvil.rpcUrl })
  port = await freePort()
  relay = await startRelayProcess()
})

afterAll(async () => {
  for (const client of opened) await client.close().catch(() => undefined)
  relay?.kill('SIGKILL')
  await net?.cleanup()
  await ctx?.stop()
  rmSync(relayHome, { recursive: true, force: true })
})

const opened: Client[] = []

async function relayClient(index: number): Promise<Client> {
  const client = await connectClient({
    account: net.account(index),
    home: mkdtempSync(join(tmpdir(), 'sealpost-crash-home-')),
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    relay: `ws://127.0.0.1:${port}`,
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 200,
    backoff: { minMs: 50, maxMs: 1000 },
  })
  opened.push(client)
  return client
}

test('SIGKILL with 1,000 messages in flight: after a restart on the same store, each arrives exactly once, in order', async () => {
  const alice = await relayClient(1)
  const bob = await relayClient(2)
  const received: ReceivedMessage[] = []
  bob.events.on('message', (m) => received.push(m))
  const joined = new Promise<void>((resolve) => bob.events.once('joined', () => resolve()))
  const chat = await alice.conversations.open(bob.account)
  await joined

  const texts = Array.from({ length: 1000 }, (_, i) => `message ${i + 1}`)
  const sends = texts.map((t) => chat.send(t))

  // Kill the relay once part of the traffic went through, while the rest is still being sealed and sent.
  while (received.length < 100) await new Promise((r) => setTimeout(r, 10))
  relay?.kill('SIGKILL')
  await new Promise((resolve) => relay?.once('exit', resolve))
  const atKill = received.length
  relay = await startRelayProcess()

  const sent = await Promise.all(sends)
  expect(new Set(sent.map((s) => s.cursor)).size).toBe(1000) // every message has its own relay seq
  const deadline = Date.now() + 60_000
  while (received.length < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))

  expect(atKill).toBeLessThan(1000)
  expect(received.map((m) => m.text)).toEqual(texts)
  expect(received.every((m) => m.report.ok)).toBe(true)
  expect(bob.messages.list({ conversation: chat.id, limit: 5000 })).toHaveLength(1000)

  // The anchorer's pending leaves survived the crash too: every message ends up anchored, with a verified receipt.
  const anchoredBy = Date.now() + 150_000
  const anchored = () => alice.messages.inState(['anchored', 'final'], 'out').length
  while (anchored() < 1000 && Date.now() < anchoredBy) await new Promise((r) => setTimeout(r, 100))
  if (anchored() < 1000) {
    const outgoing = alice.messages
      .list({ conversation: chat.id, limit: 5000 })
      .filter((m) => m.direction === 'out')
    const count = (values: (string | undefined)[]) => {
      const n: Record<string, number> = {}
      for (const v of values) n[v ?? 'none'] = (n[v ?? 'none'] ?? 0) + 1
      return n
    }
    const verdicts = count(outgoing.map((m) => alice.messages.verdict(m.id as Hex)))
    const states = count(outgoing.map((m) => m.state))
    console.log(
      'DIAG',
      JSON.stringify({ verdicts, states, log: alice.log.entries({ kind: 'rejected' }).slice(0, 3) }),
    )
  }
  expect(anchored()).toBe(1000)
}, 330_000)
