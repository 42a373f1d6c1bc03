/** A user's whole journey on the command line: up, identities, send, inbox, log export, verify (and a forgery). */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createPublicClient, http } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { freePort } from './utils/net.js'

const run = promisify(execFile)
const bin = join(import.meta.dirname, '..', 'bin', 'sealpost.js')
const env = { ...process.env, SEALPOST_PASSPHRASE: 'cli flow passphrase' }

let up: ChildProcess | undefined
let upHome: string
let rpc: string
let relay: string
const homes: string[] = []

async function sealpost(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, '--rpc', rpc, ...args], {
      env,
      timeout: 90_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** A new identity whose home shares `up`'s deployment; its account gets test ether on the local chain. */
async function newUser(): Promise<{ home: string; address: string }> {
  const home = mkdtempSync(join(tmpdir(), 'sealpost-flow-user-'))
  homes.push(home)
  copyFileSync(join(upHome, 'deployment.json'), join(home, 'deployment.json'))
  const created = await sealpost(['--home', home, '--json', 'id', 'new'])
  expect(created.code).toBe(0)
  const { account } = JSON.parse(created.stdout)
  await createPublicClient({ transport: http(rpc) }).request({
    method: 'anvil_setBalance' as never,
    params: [account, '0xde0b6b3a7640000'] as never,
  })
  expect((await sealpost(['--home', home, 'id', 'add-device'])).code).toBe(0)
  return { home, address: account }
}

beforeAll(async () => {
  upHome = mkdtempSync(join(tmpdir(), 'sealpost-flow-up-'))
  const [chainPort, relayPort, dashboardPort] = [await freePort(), await freePort(), await freePort()]
  rpc = `http://127.0.0.1:${chainPort}`
  relay = `ws://127.0.0.1:${relayPort}`
  up = spawn(
    process.execPath,
    [
      bin,
      '--home',
      upHome,
      'up',
      '--chain-port',
      String(chainPort),
      '--port',
      String(relayPort),
      '--batch-ms',
      '300',
      '--dashboard-port',
      String(dashboardPort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sealpost up did not start:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ctrl-C stops everything')) {
        clearTimeout(timer)
        resolve()
      }
    }
    up?.stdout?.on('data', onData)
    up?.stderr?.on('data', onData)
    up?.once('exit', (code) => reject(new Error(`sealpost up exited with ${code}:\n${output}`)))
  })
  expect(output).toContain(`relay          ${relay}`)
})

afterAll(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGINT')
    await new Promise((resolve) => up?.once('exit', resolve))
  }
  for (const home of [upHome, ...homes]) rmSync(home, { recursive: true, force: true })
})

test('send, inbox, log export and verify through `sealpost up`; a forged transcript fails verify', async () => {
  const alice = await newUser()
  const bob = await newUser()
  // Bob connects once: that publishes his key packages so Alice can reach him while he is offline.
  expect((await sealpost(['--home', bob.home, 'inbox', '--relay', relay])).code).toBe(0)

  const sent = await sealpost([
    '--home',
    alice.home,
    '--json',
    'send',
    bob.address,
    'hello',
    'from',
    'the',
    'CLI',
    '--relay',
    relay,
    '--wait',
    'anchored',
  ])
  expect(sent.code).toBe(0)
  expect(sent.stderr).toContain('Waiting until the message is')
  expect(JSON.parse(sent.stdout)).toMatchObject({ ok: true, state: expect.stringMatching(/anchored|final/) })

  const inbox = await sealpost(['--home', bob.home, 'inbox', '--relay', relay])
  expect(inbox.code).toBe(0)
  expect(inbox.stdout).toMatch(new RegExp(`${alice.address}\\s+✓ verified\\s+hello from the CLI`, 'i'))

  const transcript = join(alice.home, 'transcript.json')
  const exported = await sealpost(['--home', alice.home, 'log', 'export', '--out', transcript])
  expect(exported.code, exported.stderr).toBe(0)
  const verified = await sealpost(['--home', alice.home, 'verify', transcript])
  expect(verified.code).toBe(0)
  expect(verified.stdout).toContain('✓')
  expect(verified.stdout).not.toContain('✗')
  // Every line once: the verdict is not repeated.
  const verifyLines = verified.stdout.trim().split('\n')
  expect(
    verifyLines.filter((l) => l === verifyLines.at(-1)),
    verified.stdout,
  ).toHaveLength(1)
  expect(verifyLines.at(-1)).toMatch(/^✓ transcript verified \(\d+ checks\)$/)

  const forged = JSON.parse(readFileSync(transcript, 'utf8'))
  const entry = forged.entries.find((e: { kind: string }) => e.kind === 'sent')
  entry.data.body = 'hello from a forger'
  writeFileSync(transcript, JSON.stringify(forged))
  const refuted = await sealpost(['--home', alice.home, 'verify', transcript])
  expect(refuted.code).toBe(1)
  expect(refuted.stdout).toMatch(new RegExp(`✗.*entry ${entry.index}`))
}, 240_000)

test('Ctrl-C stops everything `sealpost up` started', async () => {
  up?.kill('SIGINT')
  const code = await new Promise((resolve) => up?.once('exit', resolve))
  expect(code).toBe(0)
  const reachable = await createPublicClient({ transport: http(rpc, { retryCount: 0 }) })
    .getChainId()
    .then(
      () => true,
      () => false,
    )
  expect(reachable).toBe(false)
})
