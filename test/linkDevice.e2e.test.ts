/**
 * Linking a device on a real anvil and relay: the new device's link request, approval by an account without ether
 * (the relay's sponsor submits it), the new device active on chain and admitted by the relay; and each bad input of
 * issue 12 refused with its typed error before anything is signed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Hex, parseEther } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { getRegistryNonce, isDeviceValidAt } from '../src/chain/keyRegistry.js'
import { sponsorUrlOf } from '../src/chain/sponsor.js'
import {
  approveLinkRequest,
  createLinkRequest,
  parseLinkRequest,
  waitForLinkedDevice,
} from '../src/client/linkDevice.js'
import {
  LinkApprovalDeclinedError,
  LinkRequestExpiredError,
  LinkRequestFingerprintMismatchError,
  LinkRequestProofError,
  LinkRequestReplayedError,
  LinkRequestSignatureError,
  LinkRequestWrongAccountError,
} from '../src/client/linkErrors.js'
import { RelayTransport } from '../src/client/relayTransport.js'
import { signMlsPop } from '../src/crypto/pop.js'
import {
  encodeLinkRequest,
  LINK_URI_PREFIX,
  linkRequestFromText,
  linkRequestSigningInput,
  linkRequestToUri,
} from '../src/protocol/linkRequest.js'
import { type RelayNode, startRelayNode } from '../src/relay/node.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { type TestNetwork, testKdf, testNetwork, testPassphrase } from './utils/clients.js'

let ctx: ChainContext
let net: TestNetwork
let node: RelayNode
let sponsor: { url: string }
const dirs: string[] = []

beforeAll(async () => {
  ctx = await setupChain()
  net = testNetwork(ctx)
  node = await startRelayNode({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    dir: home(),
    anchorAccount: privateKeyToAccount(ctx.anvil.accounts[9] as Hex),
    sponsor: { account: privateKeyToAccount(ctx.anvil.accounts[8] as Hex) },
    pollingInterval: 100,
  })
  sponsor = { url: sponsorUrlOf(node.url) }
}, 120_000)

afterAll(async () => {
  await net?.cleanup()
  await node?.stop()
  await ctx?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-link-'))
  dirs.push(dir)
  return dir
}

/** A new device's request for `account`, made under a fresh home (as `sealpost id link` does). */
function link(account: LocalAccount, extra: { now?: number; name?: string } = {}) {
  return createLinkRequest({
    home: home(),
    account: account.address,
    passphrase: testPassphrase,
    kdf: testKdf,
    deployment: net.deployment,
    name: extra.name ?? 'laptop',
    ...(extra.now !== undefined ? { now: extra.now } : {}),
  })
}

const approve = (
  wallet: LocalAccount,
  request: string,
  more: Partial<Parameters<typeof approveLinkRequest>[0]> = {},
) =>
  approveLinkRequest({ request, wallet, rpc: ctx.anvil.rpcUrl, deployment: net.deployment, sponsor, ...more })

const nonceOf = (account: LocalAccount) =>
  getRegistryNonce(ctx.publicClient, { registry: net.deployment.keyRegistry, account: account.address })

test('link → approve (an account without ether, through the sponsor) → the new device is active and the relay admits it', async () => {
  const owner = privateKeyToAccount(generatePrivateKey())
  const laptop = await link(owner)
  expect(laptop.uri.startsWith(LINK_URI_PREFIX)).toBe(true)
  // The new device waits on the registry while the owner approves.
  const polls: number[] = []
  const waiting = waitForLinkedDevice({
    rpc: ctx.anvil.rpcUrl,
    deployment: net.deployment,
    account: owner.address,
    deviceId: laptop.fingerprints.deviceId,
    pollMs: 100,
    onPoll: (n) => polls.push(n),
  })
  const shown: string[] = []
  const approved = await approve(owner, laptop.uri, {
    confirm: ({ request, fingerprints }) => {
      shown.push(request.name, fingerprints.p256, fingerprints.mls)
      return true
    },
  })
  // What the approver was shown is what the new device shows.
  expect(shown).toEqual(['laptop', laptop.fingerprints.p256, laptop.fingerprints.mls])
  expect(approved.deviceId).toBe(laptop.device.deviceId)
  const { block } = await waiting
  expect(block).toBeGreaterThanOrEqual(approved.blockNumber)
  expect(polls.length).toBeGreaterThan(0)
  expect(
    await isDeviceValidAt(ctx.publicClient, {
      registry: net.deployment.keyRegistry,
      account: owner.address,
      deviceId: laptop.device.deviceId,
      at: approved.blockNumber,
    }),
  ).toBe(true)
  // The owner paid nothing: the sponsor submitted the transaction.
  expect(await ctx.publicClient.getBalance({ address: owner.address })).toBe(0n)
  // The relay admits only registered devices: the linked one authenticates with its own key.
  const transport = await RelayTransport.connect({
    url: node.url,
    account: owner.address,
    deviceId: laptop.device.deviceId,
    sign: (m) => laptop.device.signingKey.sign(m),
    expect: { chainId: net.deployment.chainId, registry: net.deployment.keyRegistry },
  })
  await transport.close()

  // Replayed: the same request again is refused before anything is signed.
  const nonce = await nonceOf(owner)
  await expect(approve(owner, laptop.uri)).rejects.toBeInstanceOf(LinkRequestReplayedError)
  expect(await nonceOf(owner)).toBe(nonce)
}, 120_000)

test('bad requests are refused with typed errors before anything is signed', async () => {
  const owner = privateKeyToAccount(generatePrivateKey())
  const stranger = privateKeyToAccount(generatePrivateKey())
  const hash = await ctx.walletClient.sendTransaction({ to: owner.address, value: parseEther('1') })
  await ctx.publicClient.waitForTransactionReceipt({ hash })
  const nonce = await nonceOf(owner)

  // Expired: made 11 minutes ago with the default 10-minute lifetime.
  const old = await link(owner, { now: Date.now() - 11 * 60_000 })
  await expect(approve(owner, old.uri)).rejects.toBeInstanceOf(LinkRequestExpiredError)

  // For another account: the stranger's device asks; the owner's key may not approve it.
  const foreign = await link(stranger)
  const wrongAccount = await approve(owner, foreign.uri).catch((e: unknown) => e)
  expect(wrongAccount).toBeInstanceOf(LinkRequestWrongAccountError)
  expect((wrongAccount as LinkRequestWrongAccountError).code).toBe('SEALPOST_LINK_REQUEST_WRONG_ACCOUNT')

  // Proof of possession failing: the device signs the request, but its MLS proof is for another chain.
  const good = await link(owner)
  const badPop = {
    ...good.request,
    mlsPop: signMlsPop(good.device.mls.signKey, { ...good.request, chainId: 1 }),
  }
  const resigned = {
    ...badPop,
    signature: hexOf(good.device.signingKey.sign(linkRequestSigningInput(badPop))),
  }
  const proof = await approve(owner, linkRequestToUri(resigned)).catch((e: unknown) => e)
  expect(proof).toBeInstanceOf(LinkRequestProofError)
  expect((proof as LinkRequestProofError).metaMessages).toEqual(['Failed: mls'])

  // Altered in transit: one byte of the name changed; the error shows the fingerprints the request carries.
  const bytes = encodeLinkRequest(good.request)
  bytes[74] = 'm'.charCodeAt(0) // 'laptop' → 'maptop'
  const altered = `${LINK_URI_PREFIX}${Buffer.from(bytes).toString('base64url')}`
  expect(linkRequestFromText(altered).name).toBe('maptop')
  const alteredError = await approve(owner, altered).catch((e: unknown) => e)
  expect(alteredError).toBeInstanceOf(LinkRequestSignatureError)
  expect((alteredError as LinkRequestSignatureError).metaMessages[0]).toBe(
    `P-256 fingerprint in the request: ${good.fingerprints.p256}`,
  )

  // Substituted in transit: someone else's well-formed request for this account; the fingerprint the real device
  // shows does not match, and the approver is told so.
  const impostor = await link(owner, { name: 'laptop' })
  const mismatch = await approve(owner, impostor.uri, { expectedFingerprint: good.fingerprints.p256 }).catch(
    (e: unknown) => e,
  )
  expect(mismatch).toBeInstanceOf(LinkRequestFingerprintMismatchError)
  expect((mismatch as LinkRequestFingerprintMismatchError).metaMessages).toEqual([
    `Shown on the new device: ${good.fingerprints.p256}`,
    `In this request:         ${impostor.fingerprints.p256}`,
  ])

  // Declined at the confirmation: nothing signed.
  await expect(approve(owner, good.uri, { confirm: () => false })).rejects.toBeInstanceOf(
    LinkApprovalDeclinedError,
  )

  // None of these consumed a registry nonce: nothing was signed or sent.
  expect(await nonceOf(owner)).toBe(nonce)

  // The genuine request with the fingerprint typed in goes through, paid by the owner (it has ether).
  const done = await approve(owner, good.uri, { expectedFingerprint: good.fingerprints.p256.toUpperCase() })
  expect(await nonceOf(owner)).toBe(nonce + 1n)
  expect(parseLinkRequest(good.uri).fingerprints.deviceId).toBe(done.deviceId)
}, 120_000)

const hexOf = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`
