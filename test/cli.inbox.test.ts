/** `sealpost inbox` as a returning user sees it: messages that arrived while away, with their verification, then live. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createPublicClient, http } from 'viem'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { freePort } from './utils/net.js'

const run = promisify(execFile)
const bin = join(import.meta.dirname, '..', 'bin', 'sealpost.js')
const env = { ...process.env, SEALPOST_PASSPHRASE: 'cli inbox passphrase' }

let up: ChildProcess | undefined
let upHome: string
let rpc: string
let relay: string
const homes: string[] = []

async function sealpost(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, '--rpc', rpc, ...args], {
      env: { ...env, SEALPOST_RELAY: relay },
      timeout: 120_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** Starts a process and resolves once its output matches `ready`. */
function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, SEALPOST_RELAY: relay },
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')} did not get ready:\n${output}`)),
      90_000,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (ready.test(output)) {
        clearTimeout(timer)
        resolve({ child, output: () => output })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)))
  })
}

/** A new identity with its own home sharing `up`'s deployment, funded on the local chain and registered. */
async function newUser(): Promise<{ home: string; address: string }> {
  const home = mkdtempSync(join(tmpdir(), 'sealpost-inbox-user-'))
  homes.push(home)
  copyFileSync(join(upHome, 'deployment.json'), join(home, 'deployment.json'))
  const created = await sealpost(['--home', home, '--json', 'id', 'new'])
  expect(created.code).toBe(0)
  const { account } = JSON.parse(created.stdout)
  await createPublicClient({ transport: http(rpc) }).request({
    method: 'anvil_setBalance' as never,
    params: [account, '0xde0b6b3a7640000'] as never,
  })
  const added = await sealpost(['--home', home, 'id', 'add-device'])
  expect(added.code, added.stderr).toBe(0)
  return { home, address: account }
}

beforeAll(async () => {
  upHome = mkdtempSync(join(tmpdir(), 'sealpost-inbox-up-'))
  const [chainPort, relayPort, dashboardPort] = [await freePort(), await freePort(), await freePort()]
  rpc = `http://127.0.0.1:${chainPort}`
  relay = `ws://127.0.0.1:${relayPort}`
  up = (
    await start(
      [
        '--home',
        upHome,
        'up',
        '--chain-port',
        String(chainPort),
        '--port',
        String(relayPort),
        '--dashboard-port',
        String(dashboardPort),
        '--batch-ms',
        '300',
      ],
      /Ctrl-C stops everything/,
    )
  ).child
}, 120_000)

afterAll(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGINT')
    await new Promise((resolve) => up?.once('exit', resolve))
  }
  for (const home of [upHome, ...homes]) rmSync(home, { recursive: true, force: true })
})

test('Bob is offline while Alice sends three messages: his inbox shows all three, verified; --follow shows live ones', async () => {
  const [alice, bob] = [await newUser(), await newUser()]
  // Bob comes online once (publishing his key packages), then goes away.
  const first = await sealpost(['--home', bob.home, 'inbox'])
  expect(first.code).toBe(0)
  expect(first.stderr).toContain('Catching up with the relay: 0 new')

  const texts = ['first while away', 'second while away', 'third while away']
  for (const [i, text] of texts.entries()) {
    const sent = await sealpost([
      '--home',
      alice.home,
      'send',
      bob.address,
      text,
      ...(i === 2 ? ['--wait', 'final'] : []),
    ])
    expect(sent.code, sent.stderr).toBe(0)
    if (i === 2) {
      // Each state after accepted, in order, ending at the target.
      const waits = [...sent.stderr.matchAll(/✓ Waiting until the message is (\w+)/g)].map((m) => m[1])
      expect(waits).toEqual(['delivered', 'anchored', 'final'])
      expect(sent.stdout).toMatch(/state\s+final/)
    }
  }

  const inbox = await sealpost(['--home', bob.home, 'inbox'])
  expect(inbox.code, inbox.stderr).toBe(0)
  const lines = inbox.stdout.split('\n').filter((l) => l.includes('while away'))
  expect(lines).toHaveLength(3)
  for (const [i, text] of texts.entries())
    expect(lines[i]).toMatch(new RegExp(`${alice.address}\\s+✓ verified\\s+${text}$`, 'i'))
  expect(inbox.stderr).toContain('Catching up with the relay: 3 new')

  // Nothing new: a second inbox prints nothing again.
  const again = await sealpost(['--home', bob.home, 'inbox'])
  expect(again.code).toBe(0)
  expect(again.stdout).not.toContain('while away')
  expect(again.stderr).toContain('Catching up with the relay: 0 new')

  // Live: inbox --follow prints what arrives while it runs.
  const follow = await start(
    ['--rpc', rpc, '--home', bob.home, 'inbox', '--follow'],
    /Following; Ctrl-C to stop/,
  )
  try {
    expect((await sealpost(['--home', alice.home, 'send', bob.address, 'live hello'])).code).toBe(0)
    const deadline = Date.now() + 60_000
    while (!follow.output().includes('live hello') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200))
    expect(follow.output()).toMatch(new RegExp(`${alice.address}\\s+✓ verified\\s+live hello`, 'i'))
  } finally {
    follow.child.kill('SIGINT')
    const code = await new Promise((resolve) => follow.child.once('exit', resolve))
    expect(code).toBe(0)
  }
}, 400_000)
