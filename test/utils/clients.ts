/** Test helper: Sealpost clients in temp homes against a real anvil and one in-process hub. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { Client } from '../../src/client/Client.js'
import type { Deployment } from '../../src/client/deployment.js'
import { MemoryHub, type Transport } from '../../src/client/transport.js'
import type { ChainContext } from './anvil.js'

/** Cheap scrypt for tests only (the default is N = 2^17). */
export const testKdf = { N: 2 ** 10, r: 8, p: 1 }
export const testPassphrase = 'correct horse battery staple'

export type TestNetwork = {
  hub: MemoryHub
  deployment: Deployment
  account(index: number): LocalAccount
  client(options: {
    account: LocalAccount
    device?: string
    home?: string
    transport?: Transport
    ciphersuite?: string
    /** Registry watcher polling, ms (default 200). */
    pollingInterval?: number
  }): Promise<Client & { home: string }>
  cleanup(): Promise<void>
}

/** Clients share `ctx`'s chain; each gets a fresh home directory unless one is given. */
export function testNetwork(ctx: ChainContext): TestNetwork {
  const hub = new MemoryHub()
  const clients: Client[] = []
  const dirs: string[] = []
  const deployment: Deployment = {
    chainId: ctx.anvil.chainId,
    keyRegistry: ctx.contracts.keyRegistry,
    messageAnchor: ctx.contracts.messageAnchor,
    deployBlock: ctx.deployBlock,
  }
  return {
    hub,
    deployment,
    account: (index) => privateKeyToAccount(ctx.anvil.accounts[index] as Hex),
    async client({ account, device, home, transport, ciphersuite, pollingInterval = 200 }) {
      const dir = home ?? mkdtempSync(join(tmpdir(), 'sealpost-test-'))
      if (!home) dirs.push(dir)
      const client = await Client.create({
        account,
        home: dir,
        rpc: ctx.anvil.rpcUrl,
        transport: transport ?? hub.connect(),
        deployment,
        passphrase: testPassphrase,
        device,
        kdf: testKdf,
        ciphersuite,
        pollingInterval,
      })
      clients.push(client)
      return Object.assign(client, { home: dir })
    },
    async cleanup() {
      for (const c of clients) await c.close().catch(() => undefined)
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    },
  }
}
