import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createPublicClient, createWalletClient, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { setupChain } from '../../test/utils/anvil.js'
import { startAnvil } from './anvil.js'
import { assertChainId, RpcUnreachableError, WrongChainError } from './errors.js'
import { getDevices } from './keyRegistry.js'

/** True while `pid` exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

async function waitDead(pid: number, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (!isAlive(pid)) return true
    await new Promise((ok) => setTimeout(ok, 50))
  }
  return !isAlive(pid)
}

const anvilModule = fileURLToPath(new URL('./anvil.ts', import.meta.url))
const tsx = createRequire(import.meta.url).resolve('tsx')

/** Runs a Node child that starts anvil, prints its pid, then does `then`. */
function childWithAnvil(then: string) {
  const code = `
    const { startAnvil } = await import(${JSON.stringify(anvilModule)})
    const anvil = await startAnvil()
    console.log(JSON.stringify({ pid: anvil.pid }))
    ${then}
  `
  const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (c) => {
    stderr += c
  })
  const pid = new Promise<number>((ok, fail) => {
    let out = ''
    child.stdout.on('data', (c) => {
      out += c
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) ok((JSON.parse(line) as { pid: number }).pid)
    })
    child.once('exit', (code) => fail(new Error(`child exited early (${code}): ${stderr}`)))
  })
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
  return { child, pid, exited }
}

describe('startAnvil', () => {
  it('starts on a free port, answers, and stops idempotently', async () => {
    const anvil = await startAnvil({ chainId: 1337 })
    expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`)
    expect(anvil.accounts).toHaveLength(10)
    const client = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    expect(await client.getChainId()).toBe(1337)
    // The first key is funded and sends.
    const wallet = createWalletClient({
      account: privateKeyToAccount(anvil.accounts[0]!),
      chain: anvil.chain,
      transport: http(anvil.rpcUrl),
    })
    const hash = await wallet.sendTransaction({
      to: privateKeyToAccount(anvil.accounts[1]!).address,
      value: parseEther('1'),
    })
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success')
    expect(isAlive(anvil.pid)).toBe(true)
    await Promise.all([anvil.stop(), anvil.stop()])
    await anvil.stop()
    expect(isAlive(anvil.pid)).toBe(false)
  })

  it('supports await using', async () => {
    let pid = 0
    {
      await using anvil = await startAnvil()
      pid = anvil.pid
      expect(isAlive(pid)).toBe(true)
    }
    expect(isAlive(pid)).toBe(false)
  })

  it('starts several in parallel on distinct ports', async () => {
    const nodes = await Promise.all([startAnvil(), startAnvil(), startAnvil()])
    try {
      expect(new Set(nodes.map((n) => n.port)).size).toBe(3)
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  })

  it('leaves no anvil behind when the parent gets SIGINT', async () => {
    const { child, pid, exited } = childWithAnvil('setInterval(() => {}, 1000)')
    const anvilPid = await pid
    expect(isAlive(anvilPid)).toBe(true)
    child.kill('SIGINT')
    await exited
    expect(await waitDead(anvilPid)).toBe(true)
  })

  it('leaves no anvil behind when the parent gets SIGTERM', async () => {
    const { child, pid, exited } = childWithAnvil('setInterval(() => {}, 1000)')
    const anvilPid = await pid
    child.kill('SIGTERM')
    await exited
    expect(await waitDead(anvilPid)).toBe(true)
  })

  it('leaves no anvil behind when the parent throws an uncaught error', async () => {
    const { pid, exited } = childWithAnvil("setTimeout(() => { throw new Error('boom') }, 50)")
    const anvilPid = await pid
    expect(await exited).toBe(1)
    expect(await waitDead(anvilPid)).toBe(true)
  })
})

describe('chain errors', () => {
  it('maps an unreachable RPC to RpcUnreachableError', async () => {
    const anvil = await startAnvil()
    const url = anvil.rpcUrl
    await anvil.stop()
    const client = createPublicClient({ transport: http(url, { retryCount: 0 }) })
    const err = await getDevices(client, {
      registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcUnreachableError)
    expect((err as RpcUnreachableError).code).toBe('SEALPOST_RPC_UNREACHABLE')
    const err2 = await assertChainId(client, 31337).catch((e: unknown) => e)
    expect(err2).toBeInstanceOf(RpcUnreachableError)
  })

  it('maps a wrong chain id to WrongChainError (assertChainId and writes)', async () => {
    const ctx = await setupChain({ chainId: 4242 })
    try {
      await expect(assertChainId(ctx.publicClient, 4242)).resolves.toBeUndefined()
      const err = await assertChainId(ctx.publicClient, 1).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(WrongChainError)
      expect(err).toMatchObject({ code: 'SEALPOST_WRONG_CHAIN', expected: 1, actual: 4242 })
      // A wallet client configured for another chain: viem's ChainMismatchError maps too.
      const { anchorRoot } = await import('./messageAnchor.js')
      const wrong = createWalletClient({
        account: privateKeyToAccount(ctx.anvil.accounts[0]!),
        chain: { ...ctx.anvil.chain, id: 1 },
        transport: http(ctx.anvil.rpcUrl),
      })
      const err2 = await anchorRoot(wrong, {
        contract: ctx.contracts.messageAnchor,
        root: `0x${'11'.repeat(32)}`,
        leafCount: 1,
      }).catch((e: unknown) => e)
      expect(err2).toBeInstanceOf(WrongChainError)
      expect(err2).toMatchObject({ expected: 1, actual: 4242 })
    } finally {
      await ctx.stop()
    }
  })
})
