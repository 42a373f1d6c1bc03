/**
 * Cross-chain mirroring through Hyperlane's shipped contracts on two real anvils (chain ids 31337 and 31338): TypeScript
 * validators (2-of-3 StaticMessageIdMultisigIsm) and relayer, the SealpostMirrorSender on A and SealpostMirror on B,
 * and the faults: below-threshold, non-validator signature, tampered message and origin hook, replay, unexpected
 * origin and sender, validators offline, chain B down for a while, and a reorg on A before the validators'
 * confirmations.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  encodeDeployData,
  type Hex,
  http,
  type LocalAccount,
  pad,
  parseEventLogs,
  toHex,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { getTransaction } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { messageAnchorAbi } from '../contracts/artifacts/MessageAnchor.js'
import { sealpostMirrorAbi } from '../contracts/artifacts/SealpostMirror.js'
import { ContractRevertError, RpcUnreachableError } from '../src/chain/errors.js'
import { revokeDevice } from '../src/chain/keyRegistry.js'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import { signRevokeDevice } from '../src/chain/registryAuthorizations.js'
import { createContext } from '../src/cli/context.js'
import { validatorCommand } from '../src/cli/validator.js'
import {
  type Checkpoint,
  encodeMessageIdMultisigMetadata,
  type SignedCheckpoint,
  signCheckpoint,
} from '../src/crosschain/checkpoint.js'
import {
  type CheckpointStore,
  directoryCheckpointStore,
  memoryCheckpointStore,
} from '../src/crosschain/checkpointStore.js'
import { deployMirroring, type HyperlaneCore } from '../src/crosschain/deploy.js'
import { type MirrorRoute, mirrorAnchors } from '../src/crosschain/dispatchMirror.js'
import { QuorumNotReachedError } from '../src/crosschain/errors.js'
import { mailboxAbi } from '../src/crosschain/hyperlaneAbi.js'
import { hyperlaneArtifact } from '../src/crosschain/hyperlaneArtifacts.js'
import { MirrorKeeper } from '../src/crosschain/keeper.js'
import {
  addressToBytes32,
  decodeHyperlaneMessage,
  encodeHyperlaneMessage,
  hyperlaneMessageId,
} from '../src/crosschain/message.js'
import { decodeMirrorPayload, encodeMirrorPayload } from '../src/crosschain/mirrorPayload.js'
import { mirroredValidityAt, readMirroredAnchor, readMirroredDevice } from '../src/crosschain/mirrorViews.js'
import { collectQuorum, processMessage, Relayer } from '../src/crosschain/relayer.js'
import { Validator } from '../src/crosschain/validator.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { registerTestDevice } from './utils/devices.js'
import { startRpcProxy } from './utils/rpcProxy.js'

let A: ChainContext
let B: ChainContext
let coreA: HyperlaneCore
let coreB: HyperlaneCore
let sender: Address
let mirror: Address
let route: MirrorRoute
let keeper: MirrorKeeper
let relayer: Relayer
const validatorKeys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()]
const validatorAccounts = validatorKeys.map((k) => privateKeyToAccount(k))
const stores = validatorAccounts.map(() => memoryCheckpointStore())
let validators: Validator[]

/** Anvil account 7 of A anchors roots. */
const anchorer = () => A.walletClients[7]!

beforeAll(async () => {
  ;[A, B] = await Promise.all([setupChain({ chainId: 31337 }), setupChain({ chainId: 31338 })])
  const addresses = validatorAccounts.map((a) => a.address)
  // Different deployers on A and B: the same deployer and nonces would give both chains the same addresses and hide
  // a wrong-chain mistake.
  const m = await deployMirroring({
    origin: {
      wallet: A.walletClients[0]!,
      client: A.publicClient,
      keyRegistry: A.contracts.keyRegistry,
      messageAnchor: A.contracts.messageAnchor,
    },
    destination: { wallet: B.walletClients[1]!, client: B.publicClient },
    validators: addresses,
    threshold: 2,
  })
  ;({ origin: coreA, destination: coreB, sender, mirror, route } = m)
  keeper = new MirrorKeeper({
    client: A.publicClient,
    wallet: A.walletClients[3]!,
    keyRegistry: A.contracts.keyRegistry,
    messageAnchor: A.contracts.messageAnchor,
    route,
    fromBlock: coreA.deployBlock,
  })
  validators = validatorAccounts.map(
    (account, i) =>
      new Validator({
        client: A.publicClient,
        account,
        origin: coreA.domain,
        merkleTreeHook: coreA.merkleTreeHook,
        confirmations: 1,
        store: stores[i]!,
        fromBlock: coreA.deployBlock,
      }),
  )
  relayer = new Relayer({
    origin: { client: A.publicClient, mailbox: coreA.mailbox, fromBlock: coreA.deployBlock },
    destination: {
      client: B.publicClient,
      wallet: B.walletClients[2]!,
      mailbox: coreB.mailbox,
      domain: coreB.domain,
    },
    stores,
  })
}, 120_000)

afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()])
})

/** The validators at these positions sign what is final on A; the others are offline. */
async function sign(online: number[] = [0, 1, 2]) {
  for (const i of online) await validators[i]!.poll()
}

/** Anchors the 32-byte root `tag` on A (4 leaves) from the anchorer account. */
async function anchorTagged(tag: number): Promise<Hex> {
  const root = pad(toHex(tag), { size: 32 })
  await anchorRoot(anchorer(), { contract: A.contracts.messageAnchor, root, leafCount: 4 })
  return root
}

/** Dispatches one anchor mirror message and returns its message bytes and id. */
async function dispatchAnchor(tag: number) {
  const root = await anchorTagged(tag)
  return {
    root,
    ...(await mirrorAnchors(A.walletClients[3]!, route, [{ submitter: anchorer().account.address, root }])),
  }
}

/** A revert's decoded error name and first argument (`Error` + reason for require, a custom error's name). */
async function refusal(
  p: Promise<unknown>,
): Promise<{ errorName: string | undefined; args: readonly unknown[] }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ContractRevertError)
  const r = e as ContractRevertError
  return { errorName: r.errorName, args: r.args }
}

async function signedBy(accounts: LocalAccount[], checkpoint: Checkpoint): Promise<SignedCheckpoint[]> {
  return Promise.all(accounts.map((a) => signCheckpoint(a, checkpoint)))
}

function storeOf(signed: SignedCheckpoint[]): CheckpointStore[] {
  return signed.map((s) => {
    const store = memoryCheckpointStore()
    store.put(s)
    return store
  })
}

describe('deployment', () => {
  test('the deployed Hyperlane contracts are the shipped bytecode, on distinct addresses per chain', async () => {
    for (const [core, ctx, owner] of [
      [coreA, A, A.walletClients[0]!.account.address],
      [coreB, B, B.walletClients[1]!.account.address],
    ] as const) {
      const args = {
        Mailbox: [core.domain],
        MerkleTreeHook: [core.mailbox],
        ProtocolFee: [0n, 0n, owner, owner],
        StaticMessageIdMultisigIsmFactory: [],
      } as const
      for (const [name, hash] of Object.entries(core.txHashes) as [keyof typeof args, Hex][]) {
        const tx = await getTransaction(ctx.publicClient, { hash })
        const { abi, bytecode } = hyperlaneArtifact(name)
        // Exactly the shipped creation code followed by the ABI-encoded constructor arguments.
        expect(tx.input, name).toBe(encodeDeployData({ abi, bytecode, args: args[name] as never }))
      }
    }
    expect(coreA.domain).toBe(31337)
    expect(coreB.domain).toBe(31338)
    expect(coreA.mailbox).not.toBe(coreB.mailbox)
    expect(coreA.ism).not.toBe(coreB.ism) // the ISM address hashes its factory's
    const [required, byDefault] = await Promise.all([
      A.publicClient.readContract({ address: coreA.mailbox, abi: mailboxAbi, functionName: 'requiredHook' }),
      A.publicClient.readContract({ address: coreA.mailbox, abi: mailboxAbi, functionName: 'defaultHook' }),
    ])
    expect(required.toLowerCase()).toBe(coreA.merkleTreeHook.toLowerCase())
    expect(byDefault.toLowerCase()).toBe(coreA.protocolFee.toLowerCase())
  })
})

describe('mirroring A -> B', () => {
  test('a device added and revoked on A, and an anchored root, become readable on B', async () => {
    const alice = A.walletClients[5]!
    const { deviceId, blockNumber: addedAt } = await registerTestDevice(A, alice)
    const root = await anchorTagged(1)
    const dispatches = await keeper.poll()
    expect(dispatches).toHaveLength(2)
    const payload = decodeMirrorPayload(decodeHyperlaneMessage(dispatches[0]!.message).body)
    expect(payload).toMatchObject({
      kind: 'devices',
      originBlock: dispatches[0]!.blockNumber,
      items: [{ account: alice.account.address, deviceId, addedAt: Number(addedAt), revokedAt: 0 }],
    })
    expect(encodeMirrorPayload(payload)).toBe(decodeHyperlaneMessage(dispatches[0]!.message).body)

    await sign()
    const outcomes = await relayer.poll()
    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered'])
    const account = alice.account.address
    const synced = dispatches[0]!.blockNumber
    expect(
      await mirroredValidityAt(B.publicClient, { mirror, account, deviceId, originBlock: addedAt }),
    ).toBe('valid')
    expect(
      await mirroredValidityAt(B.publicClient, { mirror, account, deviceId, originBlock: synced + 5n }),
    ).toBe('not-mirrored')
    expect(
      await mirroredValidityAt(B.publicClient, {
        mirror,
        account: B.walletClients[6]!.account.address,
        deviceId,
        originBlock: addedAt,
      }),
    ).toBe('invalid')
    const onA = await A.publicClient.readContract({
      address: A.contracts.messageAnchor,
      abi: messageAnchorAbi,
      functionName: 'anchorOf',
      args: [anchorer().account.address, root],
    })
    expect(
      await readMirroredAnchor(B.publicClient, { mirror, submitter: anchorer().account.address, root }),
    ).toEqual({
      blockNumber: onA[0],
      timestamp: onA[1],
      leafCount: onA[2],
    })

    // Revocation on A: mirrored as final, valid before it, invalid from it on.
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const nonce = 1n
    const signature = await signRevokeDevice(alice, {
      registry: A.contracts.keyRegistry,
      chainId: 31337,
      deviceId,
      nonce,
      deadline,
    })
    const { blockNumber: revokedAt } = await revokeDevice(A.walletClient, {
      registry: A.contracts.keyRegistry,
      account,
      deviceId,
      nonce,
      deadline,
      signature,
    })
    await keeper.poll()
    await sign()
    expect((await relayer.poll()).map((o) => o.status)).toEqual(['delivered'])
    expect((await readMirroredDevice(B.publicClient, { mirror, deviceId })).revokedAt).toBe(Number(revokedAt))
    expect(
      await mirroredValidityAt(B.publicClient, { mirror, account, deviceId, originBlock: revokedAt - 1n }),
    ).toBe('valid')
    expect(
      await mirroredValidityAt(B.publicClient, { mirror, account, deviceId, originBlock: revokedAt }),
    ).toBe('invalid')
    expect(
      await mirroredValidityAt(B.publicClient, { mirror, account, deviceId, originBlock: revokedAt + 100n }),
    ).toBe('invalid')
  })
})

describe('faults', () => {
  test('validators offline: with one of three the relayer refuses (typed) and stalls; a second one resumes it', async () => {
    const { messageId, root } = await dispatchAnchor(2)
    await sign([0])
    const first = await relayer.poll()
    expect(first).toHaveLength(1)
    expect(first[0]!.status).toBe('waiting')
    const error = (first[0] as { error: QuorumNotReachedError }).error
    expect(error).toBeInstanceOf(QuorumNotReachedError)
    expect([error.code, error.have, error.threshold]).toEqual(['SEALPOST_CROSSCHAIN_QUORUM', 1, 2])
    expect(relayer.pendingIds).toEqual([messageId])
    expect(
      await readMirroredAnchor(B.publicClient, { mirror, submitter: anchorer().account.address, root }),
    ).toBe(undefined)

    // Validator 2 comes back (validator 1 stays offline): 2-of-3 is met, signatures go in ISM order (0, 2).
    await sign([2])
    const again = await relayer.poll()
    expect(again.map((o) => o.status)).toEqual(['delivered'])
    expect(relayer.pendingIds).toEqual([])
    expect(
      await readMirroredAnchor(B.publicClient, { mirror, submitter: anchorer().account.address, root }),
    ).toMatchObject({ leafCount: 4 })
    await sign([1]) // catches up
  })

  test('below-threshold metadata built by hand reverts on chain without a reason', async () => {
    const { message, messageId } = await dispatchAnchor(3)
    await sign()
    const quorum = await collectQuorum(B.publicClient, { mailbox: coreB.mailbox, message, stores })
    expect(quorum.signers).toEqual(validatorAccounts.slice(0, 2).map((a) => a.address))
    const short = encodeMessageIdMultisigMetadata({
      checkpoint: quorum.checkpoint,
      signatures: quorum.signatures.slice(0, 1),
    })
    const r = await refusal(
      processMessage(B.walletClients[2]!, { mailbox: coreB.mailbox, metadata: short, message }),
    )
    expect(r.errorName).toBeUndefined()
    // Signatures out of validator order are refused too (the ISM walks its list once).
    const swapped = encodeMessageIdMultisigMetadata({
      checkpoint: quorum.checkpoint,
      signatures: [...quorum.signatures].reverse(),
    })
    expect(
      await refusal(
        processMessage(B.walletClients[2]!, { mailbox: coreB.mailbox, metadata: swapped, message }),
      ),
    ).toEqual({
      errorName: 'Error',
      args: ['!threshold'],
    })
    expect((await relayer.poll()).map((o) => [o.messageId, o.status])).toEqual([[messageId, 'delivered']])
  })

  test('a signature of a non-validator does not count: refused by the relayer, and on chain', async () => {
    const { message, messageId } = await dispatchAnchor(4)
    await sign([0])
    const checkpoint = stores[0]!.get(messageId)!.checkpoint
    const rogue = privateKeyToAccount(generatePrivateKey())
    const [rogueSigned] = await signedBy([rogue], checkpoint)
    const mixed = [stores[0]!, ...storeOf([rogueSigned!])]
    await expect(
      collectQuorum(B.publicClient, { mailbox: coreB.mailbox, message, stores: mixed }),
    ).rejects.toMatchObject({
      name: 'QuorumNotReachedError',
      have: 1,
      threshold: 2,
    })
    const metadata = encodeMessageIdMultisigMetadata({
      checkpoint,
      signatures: [stores[0]!.get(messageId)!.signature, rogueSigned!.signature],
    })
    expect(
      await refusal(processMessage(B.walletClients[2]!, { mailbox: coreB.mailbox, metadata, message })),
    ).toEqual({
      errorName: 'Error',
      args: ['!threshold'],
    })
    await sign([1, 2])
    expect((await relayer.poll()).map((o) => o.status)).toEqual(['delivered'])
  })

  test('a tampered message, a wrong origin hook, and a replay are refused by the Mailbox and ISM', async () => {
    const { message } = await dispatchAnchor(5)
    await sign()
    const quorum = await collectQuorum(B.publicClient, { mailbox: coreB.mailbox, message, stores })
    const metadata = encodeMessageIdMultisigMetadata(quorum)
    // One body byte changed: another message id, so the signers recovered from the digest are not the validators.
    const tampered = `${message.slice(0, -2)}${message.endsWith('ff') ? '00' : 'ff'}` as Hex
    expect(
      await refusal(
        processMessage(B.walletClients[2]!, { mailbox: coreB.mailbox, metadata, message: tampered }),
      ),
    ).toEqual({
      errorName: 'Error',
      args: ['!threshold'],
    })
    const wrongHook = encodeMessageIdMultisigMetadata({
      ...quorum,
      checkpoint: { ...quorum.checkpoint, merkleTreeHook: coreB.merkleTreeHook },
    })
    expect(
      await refusal(
        processMessage(B.walletClients[2]!, { mailbox: coreB.mailbox, metadata: wrongHook, message }),
      ),
    ).toEqual({
      errorName: 'Error',
      args: ['!threshold'],
    })
    await processMessage(B.walletClients[2]!, { mailbox: coreB.mailbox, metadata, message })
    expect(
      await refusal(processMessage(B.walletClients[4]!, { mailbox: coreB.mailbox, metadata, message })),
    ).toEqual({
      errorName: 'Error',
      args: ['Mailbox: already delivered'],
    })
    expect(await relayer.poll()).toEqual([]) // delivered by someone else: dropped
  })

  test('the mirror refuses an unexpected sender, an unexpected origin, and a caller other than its Mailbox', async () => {
    // Mallory dispatches a forged device record to the mirror through A's Mailbox herself: the validators sign it
    // (they attest dispatch, not content), the ISM accepts it, the mirror refuses the sender.
    const mallory = A.walletClients[8]!
    const forged = encodeMirrorPayload({
      kind: 'devices',
      originBlock: 1n,
      items: [
        {
          account: mallory.account.address,
          deviceId: pad('0x66', { size: 32 }),
          addedAt: 1,
          revokedAt: 0,
          mlsKeyHash: pad('0x01', { size: 18 }),
        },
      ],
    })
    const hash = await mallory.writeContract({
      address: coreA.mailbox,
      abi: mailboxAbi,
      functionName: 'dispatch',
      args: [coreB.domain, addressToBytes32(mirror), forged],
    })
    const receipt = await A.publicClient.waitForTransactionReceipt({ hash })
    const [dispatch] = parseEventLogs({ abi: mailboxAbi, eventName: 'Dispatch', logs: receipt.logs })
    await sign()
    const outcomes = await relayer.poll()
    expect(outcomes.map((o) => o.status)).toEqual(['refused'])
    expect((outcomes[0] as { error: ContractRevertError }).error.errorName).toBe('UnexpectedSender')
    expect(outcomes[0]!.messageId).toBe(hyperlaneMessageId(dispatch!.args.message))
    expect(
      (await readMirroredDevice(B.publicClient, { mirror, deviceId: pad('0x66', { size: 32 }) })).account,
    ).toBe('0x0000000000000000000000000000000000000000')

    // The same validators also serve another origin (domain 99): a message from there with the genuine sender's
    // address, signed by a quorum, passes the ISM (which does not check the origin); the mirror refuses it.
    const fromElsewhere = encodeHyperlaneMessage({
      version: 3,
      nonce: 0,
      origin: 99,
      sender: addressToBytes32(sender),
      destination: coreB.domain,
      recipient: addressToBytes32(mirror),
      body: forged,
    })
    const checkpoint: Checkpoint = {
      origin: 99,
      merkleTreeHook: coreA.merkleTreeHook,
      root: pad('0x01', { size: 32 }),
      index: 0,
      messageId: hyperlaneMessageId(fromElsewhere),
    }
    const quorum = await collectQuorum(B.publicClient, {
      mailbox: coreB.mailbox,
      message: fromElsewhere,
      stores: storeOf(await signedBy(validatorAccounts.slice(1), checkpoint)),
    })
    expect(
      await refusal(
        processMessage(B.walletClients[2]!, {
          mailbox: coreB.mailbox,
          metadata: encodeMessageIdMultisigMetadata(quorum),
          message: fromElsewhere,
        }),
      ),
    ).toEqual({ errorName: 'UnexpectedOrigin', args: [99] })

    // Direct call: only the Mailbox may deliver.
    const direct = B.walletClients[5]!
    const e = await direct
      .writeContract({
        address: mirror,
        abi: sealpostMirrorAbi,
        functionName: 'handle',
        args: [coreA.domain, addressToBytes32(sender), forged],
      })
      .catch((err: unknown) => err)
    expect(String(e)).toContain('NotMailbox')
  })

  test('chain B down for a while: a relay pass fails, the message stays pending and is delivered when B is back', async () => {
    const proxy = await startRpcProxy(B.anvil.rpcUrl)
    try {
      const transport = http(proxy.url, { retryCount: 0 })
      const viaProxy = new Relayer({
        origin: {
          client: A.publicClient,
          mailbox: coreA.mailbox,
          fromBlock: (await A.publicClient.getBlockNumber()) + 1n,
        },
        destination: {
          client: createPublicClient({ chain: B.anvil.chain, transport, pollingInterval: 50 }),
          wallet: createWalletClient({
            account: privateKeyToAccount(B.anvil.accounts[9]!),
            chain: B.anvil.chain,
            transport,
            pollingInterval: 50,
          }),
          mailbox: coreB.mailbox,
          domain: coreB.domain,
        },
        stores,
      })
      proxy.setDown(true)
      const { messageId, root } = await dispatchAnchor(8)
      await sign()
      await expect(viaProxy.poll()).rejects.toBeInstanceOf(RpcUnreachableError)
      expect(viaProxy.pendingIds).toEqual([messageId])
      proxy.setDown(false)
      expect((await viaProxy.poll()).map((o) => [o.messageId, o.status])).toEqual([[messageId, 'delivered']])
      expect(
        await readMirroredAnchor(B.publicClient, { mirror, submitter: anchorer().account.address, root }),
      ).toMatchObject({ leafCount: 4 })
    } finally {
      await proxy.stop()
    }
  })

  test('sealpost validator --once writes signed checkpoints to a directory that a relayer reads', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sealpost-validator-'))
    try {
      const { messageId, message } = await dispatchAnchor(9)
      const lines: string[] = []
      const results: unknown[] = []
      const out = {
        json: false,
        debug: false,
        info: (line: string) => lines.push(line),
        step: () => () => {},
        result: (value: unknown) => results.push(value),
      }
      const ctx = createContext({ home, rpc: A.anvil.rpcUrl, out })
      const dirs: string[] = []
      for (const [i, key] of validatorKeys.slice(0, 2).entries()) {
        process.env[`S15_VALIDATOR_${i}`] = key
        const dir = join(home, `v${i}`)
        dirs.push(dir)
        await validatorCommand(ctx, [
          '--merkle-tree-hook',
          coreA.merkleTreeHook,
          '--key-env',
          `S15_VALIDATOR_${i}`,
          '--confirmations',
          '1',
          '--from-block',
          String(coreA.deployBlock),
          '--store',
          dir,
          '--once',
        ])
        delete process.env[`S15_VALIDATOR_${i}`]
      }
      expect(results).toHaveLength(2)
      expect(results[0]).toMatchObject({ ok: true, validator: validatorAccounts[0]!.address })
      expect(lines.some((l) => l.includes(messageId))).toBe(true)
      const quorum = await collectQuorum(B.publicClient, {
        mailbox: coreB.mailbox,
        message,
        stores: dirs.map((d) => directoryCheckpointStore(d)),
      })
      expect(quorum.signers).toEqual(validatorAccounts.slice(0, 2).map((a) => a.address))
      await sign()
      expect((await relayer.poll()).map((o) => o.status)).toEqual(['delivered'])
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })

  test('a reorg on A before the confirmations: the validator never signs the vanished message', async () => {
    const careful = memoryCheckpointStore()
    const validator = new Validator({
      client: A.publicClient,
      account: validatorAccounts[0]!,
      origin: coreA.domain,
      merkleTreeHook: coreA.merkleTreeHook,
      confirmations: 3,
      store: careful,
      fromBlock: coreA.deployBlock,
    })
    await A.mine(2) // what the earlier tests dispatched is final
    await validator.poll()
    const before = validator.signedCount
    const snapshot = await A.snapshot()
    const vanished = await dispatchAnchor(6)
    await A.mine(1) // 2 confirmations: not yet final for this validator
    expect(await validator.poll()).toEqual([])
    await A.revert(snapshot) // the dispatch's blocks are replaced
    await A.mine(5)
    expect(await validator.poll()).toEqual([])
    expect(careful.get(vanished.messageId)).toBeUndefined()
    expect(validator.signedCount).toBe(before)

    // A message that reaches 3 confirmations is signed, at the index the hook gave it.
    const kept = await dispatchAnchor(7)
    await A.mine(1)
    expect(await validator.poll()).toEqual([])
    await A.mine(1)
    const signed = await validator.poll()
    expect(signed.map((s) => [s.checkpoint.messageId, s.checkpoint.index])).toEqual([
      [kept.messageId, before],
    ])
  })
})
