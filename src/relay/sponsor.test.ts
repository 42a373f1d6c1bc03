/** Sponsored registry operations against a real anvil and a real relay node: the policy, refusals, funds. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWalletClient, type Hex, http } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type ChainContext, setupChain } from '../../test/utils/anvil.js'
import { testKdf, testPassphrase } from '../../test/utils/clients.js'
import { testDeviceKeys } from '../../test/utils/devices.js'
import { InsufficientFundsError, SponsorRefusedError } from '../chain/errors.js'
import { addDevice, getDevices, getRegistryNonce } from '../chain/keyRegistry.js'
import { signAddDevice } from '../chain/registryAuthorizations.js'
import { postSponsorRequest, type SponsorRequest, sponsorUrlOf } from '../chain/sponsor.js'
import { Client } from '../client/Client.js'
import { connectClient } from '../client/connect.js'
import type { Deployment } from '../client/deployment.js'
import { type RelayNode, startRelayNode } from './node.js'

let ctx: ChainContext
let deployment: Deployment
let node: RelayNode
let strict: RelayNode
const dirs: string[] = []
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-sponsor-'))
  dirs.push(dir)
  return dir
}

beforeAll(async () => {
  ctx = await setupChain()
  deployment = {
    chainId: ctx.anvil.chainId,
    keyRegistry: ctx.contracts.keyRegistry,
    messageAnchor: ctx.contracts.messageAnchor,
    deployBlock: ctx.deployBlock,
  }
  const sponsorAccount = privateKeyToAccount(ctx.anvil.accounts[8] as Hex)
  const common = { rpc: ctx.anvil.rpcUrl, deployment, pollingInterval: 100 }
  node = await startRelayNode({
    ...common,
    dir: tmp(),
    sponsor: { account: sponsorAccount, policy: { perAccount: 2 } },
  })
  // A second node with a tight policy: 4 requests per IP, a budget smaller than one operation.
  strict = await startRelayNode({
    ...common,
    dir: tmp(),
    sponsor: { account: sponsorAccount, policy: { perIp: 4, dailyBudgetWei: 1n } },
  })
}, 60_000)

afterAll(async () => {
  await node?.stop()
  await strict?.stop()
  await ctx?.stop()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A signed AddDevice for `account`, signed by `signer` (the account itself unless forging). */
async function addRequest(
  account: LocalAccount,
  signer: LocalAccount = account,
): Promise<Extract<SponsorRequest, { operation: 'addDevice' }>> {
  const registry = deployment.keyRegistry
  const keys = testDeviceKeys({ chainId: deployment.chainId, registry, account: account.address })
  const nonce = await getRegistryNonce(ctx.publicClient, { registry, account: account.address })
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const { signingKey: _s, mlsSignKey: _m, ...publicKeys } = keys
  const signature = await signAddDevice(signer, {
    registry,
    chainId: deployment.chainId,
    ...publicKeys,
    account: account.address,
    nonce,
    deadline,
  })
  return {
    operation: 'addDevice',
    chainId: deployment.chainId,
    registry,
    account: account.address,
    ...publicKeys,
    nonce,
    deadline,
    signature,
  }
}

async function refusal(promise: Promise<unknown>): Promise<SponsorRefusedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SponsorRefusedError)
  return err as SponsorRefusedError
}

const sponsorNonce = () => ctx.publicClient.getTransactionCount({ address: node.sponsor!.account })

test('a fresh account with no ether registers through the relay and connects; it never pays', async () => {
  const account = privateKeyToAccount(generatePrivateKey())
  const home = tmp()
  const client = await connectClient({
    account,
    home,
    rpc: ctx.anvil.rpcUrl,
    deployment,
    relay: node.url,
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 100,
  })
  try {
    const record = await client.registration()
    expect(record?.account).toBe(account.address)
    expect(await ctx.publicClient.getBalance({ address: account.address })).toBe(0n)
    // The relay admitted it over WebSocket: registered devices only.
    expect(node.server.connectionCount).toBeGreaterThanOrEqual(1)
  } finally {
    await client.close()
  }
}, 120_000)

test('a forged authorization is refused after simulation with the contract reason, and nothing is sent', async () => {
  const alice = privateKeyToAccount(generatePrivateKey())
  const mallory = privateKeyToAccount(generatePrivateKey())
  const before = await sponsorNonce()
  const err = await refusal(postSponsorRequest(sponsorUrlOf(node.url), await addRequest(alice, mallory)))
  expect(err.code).toBe('SEALPOST_SPONSOR_REVERTED')
  expect(err.errorName).toBe('InvalidSignature')
  expect(await sponsorNonce()).toBe(before)
  expect(
    await getDevices(ctx.publicClient, {
      registry: deployment.keyRegistry,
      account: alice.address,
      fromBlock: deployment.deployBlock,
    }),
  ).toEqual([])
})

test('another registry is refused; a malformed body is refused; both before any chain call', async () => {
  const alice = privateKeyToAccount(generatePrivateKey())
  const request = await addRequest(alice)
  const other = await refusal(
    postSponsorRequest(sponsorUrlOf(node.url), { ...request, registry: deployment.messageAnchor }),
  )
  expect(other.code).toBe('SEALPOST_SPONSOR_WRONG_REGISTRY')
  const response = await fetch(sponsorUrlOf(node.url), { method: 'POST', body: '{"operation":"addDevice"}' })
  expect(response.status).toBe(400)
  expect(await response.json()).toMatchObject({ ok: false, error: { code: 'SEALPOST_SPONSOR_BAD_REQUEST' } })
})

test('per-account limit: a third operation of one account in the window is refused with a retry time', async () => {
  const bob = privateKeyToAccount(generatePrivateKey())
  const url = sponsorUrlOf(node.url)
  const first = await postSponsorRequest(url, await addRequest(bob))
  expect(first.gasUsed).toBeGreaterThan(0n)
  await postSponsorRequest(url, await addRequest(bob))
  const err = await refusal(postSponsorRequest(url, await addRequest(bob)))
  expect(err.code).toBe('SEALPOST_SPONSOR_RATE_LIMITED')
  expect(err.retryAfterMs).toBeGreaterThan(0)
  expect(
    await getDevices(ctx.publicClient, {
      registry: deployment.keyRegistry,
      account: bob.address,
      fromBlock: deployment.deployBlock,
    }),
  ).toHaveLength(2)
}, 60_000)

test('a burst over the per-IP limit is refused; over the daily budget nothing is sent', async () => {
  const url = sponsorUrlOf(strict.url)
  const before = await sponsorNonce()
  const carol = privateKeyToAccount(generatePrivateKey())
  const budget = await refusal(postSponsorRequest(url, await addRequest(carol)))
  expect(budget.code).toBe('SEALPOST_SPONSOR_BUDGET_EXHAUSTED')
  const mallory = privateKeyToAccount(generatePrivateKey())
  const forged = await addRequest(carol, mallory)
  const burst = await Promise.all(Array.from({ length: 5 }, () => refusal(postSponsorRequest(url, forged))))
  const codes = burst.map((e) => e.code).sort()
  expect(codes.filter((c) => c === 'SEALPOST_SPONSOR_RATE_LIMITED')).toHaveLength(2)
  expect(codes.filter((c) => c === 'SEALPOST_SPONSOR_REVERTED')).toHaveLength(3)
  expect(await sponsorNonce()).toBe(before)
})

test('an unfunded direct submission fails with InsufficientFundsError naming the account', async () => {
  const dave = privateKeyToAccount(generatePrivateKey())
  const request = await addRequest(dave)
  const wallet = createWalletClient({ account: dave, transport: http(ctx.anvil.rpcUrl, { retryCount: 0 }) })
  const err = await addDevice(wallet, { ...request }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(InsufficientFundsError)
  expect((err as InsufficientFundsError).code).toBe('SEALPOST_INSUFFICIENT_FUNDS')
  expect((err as InsufficientFundsError).account).toBe(dave.address)
  // The client, given no sponsor, says the same.
  const client = await Client.create({
    account: dave,
    home: tmp(),
    rpc: ctx.anvil.rpcUrl,
    deployment,
    passphrase: testPassphrase,
    kdf: testKdf,
  })
  try {
    await expect(client.register({ keyPackages: 0 })).rejects.toBeInstanceOf(InsufficientFundsError)
  } finally {
    await client.close()
  }
}, 60_000)
