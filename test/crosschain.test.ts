/**
 * Cross-chain mirroring through Hyperlane's shipped contracts on two real anvils (chain ids 31337 and 31338): TypeScript
 * validators (2-of-3 StaticMessageIdMultisigIsm) and relayer, the SealpostMirrorSender on A and SealpostMirror on B,
 * and the faults: below-threshold, non-validator signature, tampered message and origin hook, replay, unexpected
 * origin and sender, validators offline, chain B down for a while, and a reorg on A before the validators'
 * confirmations. Then the same pair deployed B -> A, and a statement proof of an account on A verified by reading
 * chain B only (`verifyViaMirror`, `sealpost verify --mirror`): not yet mirrored, verified, a device revoked on A.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  encodeDeployData,
  getAddress,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  pad,
  parseEventLogs,
  toHex,
  zeroAddress,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { getTransaction } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { messageAnchorAbi } from '../contracts/artifacts/MessageAnchor.js'
import { sealpostMirrorAbi } from '../contracts/artifacts/SealpostMirror.js'
import { batchTree } from '../src/anchor/batchTree.js'
import { type ContractRevertError, RpcUnreachableError } from '../src/chain/errors.js'
import { getRegistryNonce, revokeDevice } from '../src/chain/keyRegistry.js'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import { signRevokeDevice } from '../src/chain/registryAuthorizations.js'
import { createContext } from '../src/cli/context.js'
import { validatorCommand } from '../src/cli/validator.js'
import { verifyCommand } from '../src/cli/verify.js'
import { verifyTranscriptViaMirror } from '../src/cli/verifyMirror.js'
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
import { deployMirroring, deployMirrorRoute, type HyperlaneCore } from '../src/crosschain/deploy.js'
import { type MirrorRoute, mirrorAnchors, mirrorDevices } from '../src/crosschain/dispatchMirror.js'
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
import {
  mirroredValidityAt,
  readMirroredAnchor,
  readMirroredDevice,
  readMirrorOrigin,
} from '../src/crosschain/mirrorViews.js'
import { routeOperators } from '../src/crosschain/operators.js'
import { collectQuorum, processMessage, Relayer } from '../src/crosschain/relayer.js'
import { Validator } from '../src/crosschain/validator.js'
import { MirrorOriginMismatchError } from '../src/crosschain/verifyErrors.js'
import { verifyViaMirror } from '../src/crosschain/verifyViaMirror.js'
import { DeviceSigningKey } from '../src/crypto/p256.js'
import { signStatement } from '../src/crypto/statementSignature.js'
import { inclusionProof } from '../src/protocol/merkle.js'
import { type Receipt, receiptToJson } from '../src/protocol/receipt.js'
import { type SignedStatement, statementLeaf } from '../src/protocol/statement.js'
import type { LogEntry } from '../src/store/auditLog.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { registerTestDevice, type TestDeviceKeys } from './utils/devices.js'
import { refusal } from './utils/reverts.js'
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
  ;({ validators, relayer } = routeOperators({
    origin: { client: A.publicClient, core: coreA },
    destination: { client: B.publicClient, wallet: B.walletClients[2]!, core: coreB },
    validators: validatorAccounts.map((account, i) => ({ account, store: stores[i]! })),
    confirmations: 1,
  }))
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

describe('mirroring B -> A', () => {
  test('the same pair deployed the other way round mirrors a device of B onto A, on the same two cores', async () => {
    const back = await deployMirrorRoute({
      origin: {
        wallet: B.walletClients[1]!,
        client: B.publicClient,
        core: coreB,
        keyRegistry: B.contracts.keyRegistry,
        messageAnchor: B.contracts.messageAnchor,
      },
      destination: { wallet: A.walletClients[0]!, client: A.publicClient, core: coreA },
    })
    expect(back.route.destination).toBe(31337)
    expect(await readMirrorOrigin(A.publicClient, { mirror: back.mirror })).toEqual({
      originDomain: 31338,
      originSender: getAddress(back.sender),
    })
    expect(await readMirrorOrigin(B.publicClient, { mirror })).toEqual({
      originDomain: 31337,
      originSender: getAddress(sender),
    })
    const { validators: validatorsB, relayer: relayerBA } = routeOperators({
      origin: { client: B.publicClient, core: coreB },
      destination: { client: A.publicClient, wallet: A.walletClients[2]!, core: coreA },
      validators: validatorAccounts.map((account, i) => ({ account, store: stores[i]! })),
      confirmations: 1,
    })
    const bob = B.walletClients[5]!
    const { deviceId, blockNumber: addedAt } = await registerTestDevice(B, bob)
    const { messageId } = await mirrorDevices(B.walletClients[3]!, back.route, [
      { account: bob.account.address, deviceId },
    ])
    for (const v of validatorsB.slice(0, 2)) await v.poll()
    expect((await relayerBA.poll()).map((o) => [o.messageId, o.status])).toEqual([[messageId, 'delivered']])
    const account = bob.account.address
    expect(
      await mirroredValidityAt(A.publicClient, {
        mirror: back.mirror,
        account,
        deviceId,
        originBlock: addedAt,
      }),
    ).toBe('valid')
    // The A -> B mirror knows nothing of B's device: the two directions are separate records.
    expect((await readMirroredDevice(B.publicClient, { mirror, deviceId })).account).toBe(zeroAddress)
  })
})

describe('verification across two chains: a verifier that reads only chain B', () => {
  const carol = () => A.walletClients[6]!
  let device: { deviceId: Hex; keys: TestDeviceKeys }
  /** Proofs the tests below make: a statement that verifies, and one of the revoked device. */
  const proofs: { good?: [SignedStatement, Receipt]; revoked?: [SignedStatement, Receipt] } = {}
  const trust = () => ({
    chainId: 31338,
    mirror,
    sender,
    origin: {
      chainId: 31337,
      keyRegistry: A.contracts.keyRegistry,
      messageAnchor: A.contracts.messageAnchor,
    },
  })

  /** Carol's statement referencing A block `block`, signed by her device. */
  const statementAt = (block: { number: bigint; hash: Hex }, seq: bigint): SignedStatement =>
    signStatement({
      key: device.keys.signingKey,
      statement: {
        version: 2,
        chainId: 31337,
        registry: A.contracts.keyRegistry,
        from: carol().account.address,
        device: device.deviceId,
        conversation: pad('0xc0', { size: 32 }),
        epoch: 1n,
        recipientsRoot: pad('0x01', { size: 32 }),
        seq,
        sentAt: Date.now(),
        block,
        bodyHash: pad('0x02', { size: 32 }),
        salt: keccak256(toHex(seq)),
      },
    })

  /** Anchors the statements' leaves (plus one) on A from the anchorer; their receipts. */
  async function anchorStatements(signed: SignedStatement[]): Promise<Receipt[]> {
    const leaves = [
      ...signed.map((s) => statementLeaf(s.bytes, s.signature)),
      keccak256(toHex(signed.length)),
    ]
    const tree = batchTree(leaves)
    const done = await anchorRoot(anchorer(), {
      contract: A.contracts.messageAnchor,
      root: tree.root,
      leafCount: tree.size,
    })
    const { timestamp } = await A.publicClient.getBlock({ blockNumber: done.blockNumber })
    return signed.map((_, index) => ({
      chainId: 31337,
      contract: A.contracts.messageAnchor,
      submitter: anchorer().account.address,
      root: tree.root,
      leaf: leaves[index]!,
      index,
      treeSize: tree.size,
      path: inclusionProof(tree, index),
      txHash: done.hash,
      blockNumber: done.blockNumber,
      blockTimestamp: timestamp,
    }))
  }

  const check = (s: SignedStatement, receipt: Receipt) =>
    verifyViaMirror(B.publicClient, {
      trust: trust(),
      statement: s.bytes,
      signature: s.signature,
      receipt,
    })

  /** Mirrors Carol's device record (a fresh snapshot) and the given anchors, then validators sign and the relayer delivers. */
  async function mirrorNow({ devices = true, roots = [] as Hex[] } = {}) {
    const ids: Hex[] = []
    if (devices)
      ids.push(
        (
          await mirrorDevices(A.walletClients[3]!, route, [
            { account: carol().account.address, deviceId: device.deviceId },
          ])
        ).messageId,
      )
    if (roots.length > 0)
      ids.push(
        (
          await mirrorAnchors(
            A.walletClients[3]!,
            route,
            roots.map((root) => ({ submitter: anchorer().account.address, root })),
          )
        ).messageId,
      )
    await sign()
    const delivered = (await relayer.poll()).filter((o) => o.status === 'delivered').map((o) => o.messageId)
    expect(delivered).toEqual(expect.arrayContaining(ids))
  }

  /** `sealpost verify FILE --mirror PIN` with A's deployment pinned by flags and an unreachable RPC for A. */
  async function cliVerify(s: SignedStatement, receipt: Receipt) {
    const home = mkdtempSync(join(tmpdir(), 'sealpost-mirror-verify-'))
    try {
      const proofFile = join(home, 'proof.json')
      const pinFile = join(home, 'mirror.json')
      writeFileSync(
        proofFile,
        JSON.stringify({
          statement: toHex(s.bytes),
          signature: s.signature,
          receipt: receiptToJson(receipt),
        }),
      )
      writeFileSync(pinFile, JSON.stringify({ rpcUrl: B.anvil.rpcUrl, chainId: 31338, mirror, sender }))
      const lines: string[] = []
      const results: Record<string, unknown>[] = []
      const out = {
        json: false,
        debug: false,
        info: (line: string) => lines.push(line),
        step: () => () => {},
        result: (value: unknown) => results.push(value as Record<string, unknown>),
      }
      // Chain A's RPC is unreachable: the verifier reads chain B only.
      const ctx = createContext({ home, rpc: 'http://127.0.0.1:9', out })
      const verdict = await verifyCommand(ctx, [
        proofFile,
        '--mirror',
        pinFile,
        '--registry',
        A.contracts.keyRegistry,
        '--anchor',
        A.contracts.messageAnchor,
        '--chain-id',
        '31337',
      ])
      return { verdict, text: lines.join('\n'), result: results[0]! }
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }

  test('not yet mirrored is pending (the CLI says so), then verified from B alone once mirrored', async () => {
    device = await registerTestDevice(A, carol())
    const head = await A.publicClient.getBlock()
    const s1 = statementAt({ number: head.number, hash: head.hash }, 1n)
    const [r1] = await anchorStatements([s1])
    proofs.good = [s1, r1!]

    const before = await check(s1, r1!)
    expect([before.status, before.ok, before.code]).toEqual([
      'pending',
      false,
      'SEALPOST_CROSSCHAIN_NOT_MIRRORED',
    ])
    expect(before.steps.filter((s) => s.status === 'pending').map((s) => s.name)).toEqual([
      'device-registered',
      'key-valid-at-block',
      'anchored',
      'time-bounds',
    ])
    const cliBefore = await cliVerify(s1, r1!)
    expect(cliBefore.verdict).toBe('pending')
    expect(cliBefore.text).toContain('not yet mirrored (pending, not a failure)')
    expect(cliBefore.result).toMatchObject({ ok: false, status: 'pending' })

    await mirrorNow({ roots: [r1!.root] })
    const after = await check(s1, r1!)
    expect(after.steps.map((s) => [s.name, s.status])).toEqual([
      ['statement', 'ok'],
      ['chain', 'ok'],
      ['device-registered', 'ok'],
      ['signature', 'ok'],
      ['key-valid-at-block', 'ok'],
      ['block-reference', 'not-checked'],
      ['inclusion', 'ok'],
      ['anchored', 'ok'],
      ['time-bounds', 'ok'],
    ])
    expect(after).toMatchObject({
      status: 'verified',
      ok: true,
      sender: `eip155:31337:${carol().account.address}`,
      anchorBlock: r1!.blockNumber,
    })
    const cli = await cliVerify(s1, r1!)
    expect(cli.verdict).toBe(true)
    expect(cli.text).toContain(
      `✓ verified through the mirror: signed by eip155:31337:${carol().account.address}`,
    )
    expect(cli.result).toMatchObject({ ok: true, status: 'verified', sender: after.sender })

    // A signature by another key, and a pin naming another sender on A, are refused.
    const forged = signStatement({ key: DeviceSigningKey.generate(), statement: s1.statement })
    expect(await check(forged, r1!)).toMatchObject({
      status: 'refused',
      failedStep: 'signature',
      code: 'SEALPOST_BAD_SIGNATURE',
    })
    await expect(
      verifyViaMirror(B.publicClient, {
        trust: { ...trust(), sender: anchorer().account.address },
        statement: s1.bytes,
        signature: s1.signature,
        receipt: r1!,
      }),
    ).rejects.toBeInstanceOf(MirrorOriginMismatchError)
  })

  test('a device revoked on A: pending while the mirror lags, refused once the revocation is mirrored', async () => {
    const head = await A.publicClient.getBlock()
    const s1 = statementAt({ number: head.number, hash: head.hash }, 2n)
    const [r1] = await anchorStatements([s1]) // anchored before the revocation
    const nonce = await getRegistryNonce(A.publicClient, {
      registry: A.contracts.keyRegistry,
      account: carol().account.address,
    })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const signature = await signRevokeDevice(carol(), {
      registry: A.contracts.keyRegistry,
      chainId: 31337,
      deviceId: device.deviceId,
      nonce,
      deadline,
    })
    const { blockNumber: revokedAt } = await revokeDevice(A.walletClient, {
      registry: A.contracts.keyRegistry,
      account: carol().account.address,
      deviceId: device.deviceId,
      nonce,
      deadline,
      signature,
    })
    const after = await A.publicClient.getBlock()
    expect(after.number).toBeGreaterThanOrEqual(revokedAt)
    const s2 = statementAt({ number: after.number, hash: after.hash }, 3n) // signed after the revocation
    const s3 = statementAt({ number: head.number, hash: head.hash }, 4n) // backdated to before it
    const [r2, r3] = await anchorStatements([s2, s3])
    proofs.revoked = [s2, r2!]

    // Only the anchors reach B: the mirror's newest snapshot of the device predates the revocation.
    await mirrorNow({ devices: false, roots: [r1!.root, r2!.root] })
    expect(await check(s2, r2!)).toMatchObject({ status: 'pending', ok: false })
    // s1 too: its blocks are newer than the mirror's snapshot of the device, so it cannot be judged yet either.
    expect((await check(s1, r1!)).status).toBe('pending')

    await mirrorNow()
    expect(await check(s2, r2!)).toMatchObject({
      status: 'refused',
      failedStep: 'key-valid-at-block',
      code: 'SEALPOST_KEY_REVOKED',
    })
    expect(await check(s3, r3!)).toMatchObject({
      status: 'refused',
      failedStep: 'time-bounds',
      code: 'SEALPOST_REVOKED_BEFORE_ANCHOR',
    })
    expect((await check(s1, r1!)).status).toBe('verified') // sent and anchored while the device was valid
    const cli = await cliVerify(s2, r2!)
    expect(cli.verdict).toBe(false)
    expect(cli.text).toContain('✗ refused through the mirror (step key-valid-at-block, SEALPOST_KEY_REVOKED)')
  })

  test("a transcript's anchored entries through the mirror: each judged, one refused entry refuses it", async () => {
    const entry = (index: number, kind: 'sent' | 'receipt', data: Record<string, unknown>) =>
      ({
        index,
        at: 0,
        kind,
        data,
        prevHash: pad('0x', { size: 32 }),
        hash: pad('0x', { size: 32 }),
      }) as LogEntry
    const entries = (list: [SignedStatement, Receipt][]) =>
      list.flatMap(([s, r], i) => [
        entry(2 * i, 'sent', {
          envelopeId: keccak256(s.signature),
          statement: toHex(s.bytes),
          signature: s.signature,
        }),
        entry(2 * i + 1, 'receipt', { receipt: receiptToJson(r) as never }),
      ])
    const lines: string[] = []
    const results: Record<string, unknown>[] = []
    const ctx = createContext({
      home: tmpdir(),
      rpc: 'http://127.0.0.1:9',
      out: {
        json: false,
        debug: false,
        info: (l: string) => lines.push(l),
        step: () => () => {},
        result: (v: unknown) => results.push(v as Record<string, unknown>),
      },
    })
    const origin = {
      chainId: 31337,
      keyRegistry: A.contracts.keyRegistry,
      messageAnchor: A.contracts.messageAnchor,
      source: 'test',
    }
    const pin = { rpcUrl: B.anvil.rpcUrl, chainId: 31338, mirror }
    expect(await verifyTranscriptViaMirror(ctx, origin, pin, entries([proofs.good!]))).toBe(true)
    expect(await verifyTranscriptViaMirror(ctx, origin, pin, entries([proofs.good!, proofs.revoked!]))).toBe(
      false,
    )
    expect(results[1]).toMatchObject({ ok: false, status: 'refused', verified: 1, refused: 1, pending: 0 })
    expect(lines.at(-1)).toBe('✗ through the mirror: 1 verified, 0 not yet mirrored, 1 refused, 0 skipped')
  })
})
