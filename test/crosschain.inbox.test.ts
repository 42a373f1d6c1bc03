/**
 * `send --via hyperlane` on two real anvils (chain ids 31337 and 31338): an MLS-sealed envelope crosses A → B through
 * Hyperlane's shipped Mailbox, TypeScript validators (2-of-3) and relayer, into the SealpostInbox on B, and Bob's
 * client reads it from B's logs into its normal receive path. Forged deliveries (direct call, wrong sender, wrong
 * origin) and replays (the same message, the same envelope in a new message, the same bytes to the client) are
 * refused; a tampered envelope and a revoked sender's are delivered by the chain and refused by the client; the CLI
 * path's typed error for a missing second-chain deployment, and its steps.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, pad, parseEventLogs } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sealpostInboxAbi } from '../contracts/artifacts/SealpostInbox.js'
import type { ContractRevertError } from '../src/chain/errors.js'
import { sendAndWait } from '../src/chain/sendAndWait.js'
import type { CliContext } from '../src/cli/context.js'
import { sendViaHyperlane } from '../src/cli/sendViaHyperlane.js'
import type { Client } from '../src/client/Client.js'
import { writeDeployment } from '../src/client/deployment.js'
import type { ReceiveResult } from '../src/client/types.js'
import {
  type Checkpoint,
  encodeMessageIdMultisigMetadata,
  signCheckpoint,
} from '../src/crosschain/checkpoint.js'
import { type CheckpointStore, memoryCheckpointStore } from '../src/crosschain/checkpointStore.js'
import { deployHyperlaneCore, type HyperlaneCore } from '../src/crosschain/deploy.js'
import { mailboxAbi } from '../src/crosschain/hyperlaneAbi.js'
import { deployInboxPair, type InboxPair } from '../src/crosschain/inboxDeploy.js'
import { InboxReader, waitForInboxDelivery } from '../src/crosschain/inboxReceive.js'
import {
  checkInboxRoute,
  INBOX_ROUTE_FILE,
  type InboxRoute,
  readInboxRoute,
  writeInboxRoute,
} from '../src/crosschain/inboxRoute.js'
import { sendEnvelopeViaHyperlane } from '../src/crosschain/inboxSend.js'
import {
  addressToBytes32,
  decodeHyperlaneMessage,
  encodeHyperlaneMessage,
  hyperlaneMessageId,
} from '../src/crosschain/message.js'
import { routeOperators } from '../src/crosschain/operators.js'
import { collectQuorum, type Relayer } from '../src/crosschain/relayer.js'
import type { Validator } from '../src/crosschain/validator.js'
import { encodeEnvelope } from '../src/protocol/envelope.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { sealpostInProcess } from './utils/cli.js'
import { type TestNetwork, testNetwork } from './utils/clients.js'
import { refusal } from './utils/reverts.js'

let A: ChainContext
let B: ChainContext
let coreA: HyperlaneCore
let coreB: HyperlaneCore
let pair: InboxPair
let net: TestNetwork
let alice: Client
let bob: Client
let relayer: Relayer
let validators: Validator[]
const validatorAccounts = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()].map((k) =>
  privateKeyToAccount(k),
)
const stores = validatorAccounts.map(() => memoryCheckpointStore())

beforeAll(async () => {
  ;[A, B] = await Promise.all([setupChain({ chainId: 31337 }), setupChain({ chainId: 31338 })])
  const addresses = validatorAccounts.map((a) => a.address)
  // Different deployers on A and B, so that no address is shared by accident.
  ;[coreA, coreB] = await Promise.all([
    deployHyperlaneCore(A.walletClients[0]!, A.publicClient, { validators: addresses, threshold: 2 }),
    deployHyperlaneCore(B.walletClients[1]!, B.publicClient, { validators: addresses, threshold: 2 }),
  ])
  pair = await deployInboxPair({
    a: { wallet: A.walletClients[0]!, client: A.publicClient, core: coreA },
    b: { wallet: B.walletClients[1]!, client: B.publicClient, core: coreB },
  })
  ;({ validators, relayer } = routeOperators({
    origin: { client: A.publicClient, core: coreA },
    destination: { client: B.publicClient, wallet: B.walletClients[2]!, core: coreB },
    validators: validatorAccounts.map((account, i) => ({ account, store: stores[i]! })),
    confirmations: 1,
  }))
  // Alice and Bob are accounts of chain A's registry; their envelopes travel either way (relay or Hyperlane).
  net = testNetwork(A)
  alice = await net.client({ account: net.account(1) })
  bob = await net.client({ account: net.account(2) })
  await alice.register({ keyPackages: 0 })
  await bob.register({ keyPackages: 2 })
}, 120_000)

afterAll(async () => {
  await net?.cleanup()
  await Promise.all([A?.stop(), B?.stop()])
})

/** Every validator signs what is final on A; the relayer delivers what has a quorum. */
async function signAndRelay() {
  for (const v of validators) await v.poll()
  return relayer.poll()
}

/** The Mailbox's ABI with the inbox's errors, so a refusal by the inbox decodes by name. */
const processAbi = [...mailboxAbi, ...sealpostInboxAbi.filter((i) => i.type === 'error')] as const

/** Delivers `message` on B with a quorum from `quorumStores` (default: the validators' stores). */
function deliver(message: Hex, quorumStores: readonly CheckpointStore[] = stores) {
  return collectQuorum(B.publicClient, { mailbox: coreB.mailbox, message, stores: quorumStores }).then(
    (quorum) =>
      sendAndWait(
        B.walletClients[3]!,
        {
          address: coreB.mailbox,
          abi: processAbi,
          functionName: 'process',
          args: [encodeMessageIdMultisigMetadata(quorum), message],
        },
        undefined,
      ),
  )
}

/** An InboxReader of B for Bob's conversation with Alice, from `fromBlock`. */
const readerFor = (conversation: Hex, fromBlock: bigint) =>
  new InboxReader<ReceiveResult>({
    client: B.publicClient,
    inbox: pair.b.inbox,
    fromBlock,
    topics: () => [conversation],
    receive: (bytes) => bob.receive(bytes),
  })

let conversation: Hex
let sealed: { id: Hex; bytes: Uint8Array; message: Hex }

describe('an envelope across two networks', () => {
  test('the inboxes enroll each other, on distinct addresses', async () => {
    expect(pair.a.inbox).not.toBe(pair.b.inbox)
    const read = (client: typeof A.publicClient, inbox: Address, domain: number) =>
      client.readContract({
        address: inbox,
        abi: sealpostInboxAbi,
        functionName: 'remoteInbox',
        args: [domain],
      })
    expect(await read(A.publicClient, pair.a.inbox, 31338)).toBe(addressToBytes32(pair.b.inbox).toLowerCase())
    expect(await read(B.publicClient, pair.b.inbox, 31337)).toBe(addressToBytes32(pair.a.inbox).toLowerCase())
  })

  test("a sealed envelope sent through A's Mailbox reaches B's inbox and Bob's client verifies it", async () => {
    const chat = await alice.conversations.open(bob.account)
    conversation = chat.id
    await bob.sync() // the Welcome, through the in-process relay
    const text = 'across two networks, sealed'
    const sent = await chat.send(text)
    const bytes = encodeEnvelope(sent.envelope)
    const fromBlock = (await B.publicClient.getBlockNumber()) + 1n
    const dispatch = await sendEnvelopeViaHyperlane(A.walletClients[4]!, {
      inbox: pair.a.inbox,
      destination: coreB.domain,
      envelope: bytes,
    })
    // The Hyperlane message body is the envelope, byte for byte: what the relay carries, not the text.
    const body = decodeHyperlaneMessage(dispatch.message).body
    expect(body).toBe(bytesToHex(bytes))
    expect(body).not.toContain(Buffer.from(text).toString('hex'))
    sealed = { id: sent.id, bytes, message: dispatch.message }

    const outcomes = await signAndRelay()
    expect(outcomes.map((o) => [o.status, o.messageId])).toEqual([['delivered', dispatch.messageId]])
    expect(
      await waitForInboxDelivery(B.publicClient, {
        inbox: pair.b.inbox,
        envelopeId: sent.id,
        timeoutMs: 10_000,
      }),
    ).toBeGreaterThan(0n)

    const reader = readerFor(conversation, fromBlock)
    const received = await reader.poll()
    expect(received.map((o) => o.status)).toEqual(['accepted'])
    const result = (received[0] as { result: ReceiveResult }).result
    expect(result.type).toBe('message')
    const message = (result as Extract<ReceiveResult, { type: 'message' }>).message
    expect(message.text).toBe(text)
    expect(message.from).toBe(alice.account)
    expect(message.device).toBe(alice.deviceId)
    expect(bob.messages.get(sent.id)?.body).toBe(text)
    // The copy the relay carries is the same envelope: Bob's client takes it as a replay, nothing new.
    expect((await bob.sync()).received).toEqual([])
  })

  test('replays are refused: the same message by the Mailbox, the same envelope by the inbox, the bytes by the client', async () => {
    expect(await refusal(deliver(sealed.message))).toEqual({
      errorName: 'Error',
      args: ['Mailbox: already delivered'],
    })
    // Anyone on A can dispatch the public envelope bytes again: a new Hyperlane message, refused by the inbox.
    const again = await sendEnvelopeViaHyperlane(A.walletClients[5]!, {
      inbox: pair.a.inbox,
      destination: coreB.domain,
      envelope: sealed.bytes,
    })
    for (const v of validators) await v.poll()
    expect(await refusal(deliver(again.message))).toEqual({
      errorName: 'EnvelopeReplayed',
      args: [sealed.id],
    })
    await expect(bob.receive(sealed.bytes)).rejects.toMatchObject({ code: 'SEALPOST_REPLAY' })
    // The relayer drops it as refused, naming the inbox's error, and it never reaches a client.
    const [dropped] = await relayer.poll()
    expect(dropped).toMatchObject({ status: 'refused', messageId: again.messageId })
    expect((dropped as { error: ContractRevertError }).error.errorName).toBe('EnvelopeReplayed')
  })

  test('forged deliveries are refused on chain: a direct call, another sender on A, another origin', async () => {
    const forged = sealed.bytes
    // Only the Mailbox may call handle.
    expect(
      await refusal(
        sendAndWait(
          B.walletClients[5]!,
          {
            address: pair.b.inbox,
            abi: sealpostInboxAbi,
            functionName: 'handle',
            args: [coreA.domain, addressToBytes32(pair.a.inbox), bytesToHex(forged)],
          },
          undefined,
        ),
      ),
    ).toEqual({ errorName: 'NotMailbox', args: [B.walletClients[5]!.account.address] })

    // An account on A dispatches straight to B's inbox through the Mailbox: validators sign it (it is a genuine
    // message of A), the ISM accepts it, the inbox refuses the sender.
    const eve = A.walletClients[6]!
    const direct = await sendAndWait(
      eve,
      {
        address: coreA.mailbox,
        abi: mailboxAbi,
        functionName: 'dispatch',
        args: [coreB.domain, addressToBytes32(pair.b.inbox), bytesToHex(forged)],
      },
      undefined,
    )
    const [dispatched] = parseEventLogs({ abi: mailboxAbi, eventName: 'Dispatch', logs: direct.receipt.logs })
    const fromEve = dispatched!.args.message
    expect(decodeHyperlaneMessage(fromEve).sender).toBe(addressToBytes32(eve.account.address).toLowerCase())
    for (const v of validators) await v.poll()
    expect(await refusal(deliver(fromEve))).toEqual({
      errorName: 'UnexpectedSender',
      args: [addressToBytes32(eve.account.address).toLowerCase()],
    })
    await relayer.poll() // drops it as refused

    // The same validators serve another origin (domain 99): a message from there naming A's inbox as sender,
    // signed by a quorum, passes the ISM (which does not check the origin); the inbox refuses the origin.
    const fromElsewhere = encodeHyperlaneMessage({
      version: 3,
      nonce: 0,
      origin: 99,
      sender: addressToBytes32(pair.a.inbox),
      destination: coreB.domain,
      recipient: addressToBytes32(pair.b.inbox),
      body: bytesToHex(forged),
    })
    const checkpoint: Checkpoint = {
      origin: 99,
      merkleTreeHook: coreA.merkleTreeHook,
      root: pad('0x01', { size: 32 }),
      index: 0,
      messageId: hyperlaneMessageId(fromElsewhere),
    }
    const quorumStores = await Promise.all(
      validatorAccounts.slice(1).map(async (a) => {
        const store = memoryCheckpointStore()
        store.put(await signCheckpoint(a, checkpoint))
        return store
      }),
    )
    expect(await refusal(deliver(fromElsewhere, quorumStores))).toEqual({
      errorName: 'UnexpectedOrigin',
      args: [99],
    })
  })

  test('the chain checks framing only: a tampered envelope is delivered, and Bob refuses it as from a relay', async () => {
    const short = await refusal(
      sendEnvelopeViaHyperlane(A.walletClients[4]!, {
        inbox: pair.a.inbox,
        destination: coreB.domain,
        envelope: hexToBytes('0x5350'),
      }),
    )
    expect(short.errorName).toBe('MalformedEnvelope')
    expect(
      (
        await refusal(
          sendEnvelopeViaHyperlane(A.walletClients[4]!, {
            inbox: pair.a.inbox,
            destination: 99,
            envelope: sealed.bytes,
          }),
        )
      ).errorName,
    ).toBe('UnknownDestination')

    // One payload byte flipped, a fresh envelope id claimed: the framing holds, the inbox delivers it.
    const tampered = sealed.bytes.slice()
    tampered[tampered.length - 1]! ^= 0x01
    tampered[40]! ^= 0x01 // a new id, so the inbox does not take it for a replay
    const fromBlock = (await B.publicClient.getBlockNumber()) + 1n
    await sendEnvelopeViaHyperlane(A.walletClients[4]!, {
      inbox: pair.a.inbox,
      destination: coreB.domain,
      envelope: tampered,
    })
    expect((await signAndRelay()).map((o) => o.status)).toEqual(['delivered'])
    const outcomes = await readerFor(conversation, fromBlock).poll()
    expect(outcomes.map((o) => o.status)).toEqual(['rejected'])
    expect((outcomes[0] as { error: { code: string } }).error.code).toBe('SEALPOST_ENVELOPE_ID_MISMATCH')
  })
})

/** Runs `sealpost ARGS…` in this process; its exit code and everything it wrote. */
const cli = (args: string[]) =>
  sealpostInProcess(args).then(({ code, stdout, stderr }) => ({ code, output: stdout + stderr }))

describe('sealpost send --via hyperlane', () => {
  test('a missing second-chain deployment is a typed error before anything is sent', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sealpost-inbox-cli-'))
    try {
      writeDeployment(home, { ...net.deployment, rpcUrl: A.anvil.rpcUrl })
      const args = ['--home', home, '--rpc', A.anvil.rpcUrl, 'send', bob.account, 'hi', '--via', 'hyperlane']
      const none = await cli(args)
      expect(none.code).not.toBe(0)
      expect(none.output).toContain('SEALPOST_CROSSCHAIN_NO_INBOX')
      expect(none.output).toContain('no such file')

      // A record whose inbox on chain B is not there (an address with no code).
      const route: InboxRoute = {
        origin: {
          domain: 31337,
          rpcUrl: A.anvil.rpcUrl,
          inbox: pair.a.inbox,
          mailbox: coreA.mailbox,
          merkleTreeHook: coreA.merkleTreeHook,
        },
        destination: { domain: 31338, rpcUrl: B.anvil.rpcUrl, inbox: bob.account, mailbox: coreB.mailbox },
        validatorStores: [],
        threshold: 2,
      }
      writeInboxRoute(join(home, INBOX_ROUTE_FILE), route)
      const absent = await cli(args)
      expect(absent.code).not.toBe(0)
      expect(absent.output).toContain('SEALPOST_CROSSCHAIN_NO_INBOX')
      expect(absent.output).toContain(`no contract at the destination inbox ${bob.account}`)
      expect(readInboxRoute(join(home, INBOX_ROUTE_FILE)).origin.inbox).toBe(getAddress(pair.a.inbox))

      writeInboxRoute(join(home, INBOX_ROUTE_FILE), {
        ...route,
        destination: { ...route.destination, inbox: pair.b.inbox },
      })
      await expect(
        checkInboxRoute(
          readInboxRoute(join(home, INBOX_ROUTE_FILE)),
          { origin: A.publicClient, destination: B.publicClient },
          home,
        ),
      ).resolves.toBeUndefined()
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })

  test('sends the sealed envelope across and reports each step and its gas', async () => {
    const sent = await alice.conversations.get(conversation)!.send('through the CLI path')
    const lines: string[] = []
    const ctx = {
      out: {
        info: (line: string) => lines.push(line),
        step: (label: string) => (result?: string) => lines.push(`${label}: ${result ?? 'done'}`),
        result: () => undefined,
      },
      account: async () => privateKeyToAccount(A.anvil.accounts[8] as Hex),
    } as unknown as CliContext
    const route: InboxRoute = {
      origin: {
        domain: 31337,
        rpcUrl: A.anvil.rpcUrl,
        inbox: pair.a.inbox,
        mailbox: coreA.mailbox,
        merkleTreeHook: coreA.merkleTreeHook,
      },
      destination: { domain: 31338, rpcUrl: B.anvil.rpcUrl, inbox: pair.b.inbox, mailbox: coreB.mailbox },
      validatorStores: [],
      threshold: 2,
    }
    // The validators and the relayer run beside the command, as `up --chains 2` runs them.
    let running = true
    const operators = (async () => {
      while (running) {
        await signAndRelay()
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    const fromBlock = (await B.publicClient.getBlockNumber()) + 1n
    try {
      const report = await sendViaHyperlane(
        ctx,
        { route, path: 'test', origin: A.publicClient, destination: B.publicClient },
        sent.envelope,
        30_000,
      )
      expect(BigInt(report.gasUsed)).toBeGreaterThan(0n)
      expect(report.envelopeBytes).toBe(encodeEnvelope(sent.envelope).length)
      expect(BigInt(report.deliveredAt)).toBeGreaterThanOrEqual(fromBlock)
    } finally {
      running = false
      await operators
    }
    expect(lines[0]).toMatch(
      /^Dispatching the sealed envelope \(\d+ bytes\) through Hyperlane, chain 31337 → 31338: message 0x[0-9a-f]{64}, gas \d+ on chain 31337$/,
    )
    expect(lines[1]).toMatch(/^Waiting for delivery to the inbox on chain 31338: recorded in block \d+$/)
    const outcomes = await readerFor(conversation, fromBlock).poll()
    expect(outcomes.map((o) => o.status)).toEqual(['accepted'])
  })

  test("a revoked sender's envelope arriving through B is refused by the registry check, as from a relay", async () => {
    // Last test: Alice's device is revoked on A, then its state seals one more message anyway (a stolen device).
    await alice.revokeDevice(alice.deviceId)
    const sent = await alice.conversations
      .get(conversation)!
      .send('after the revocation', { unsafeSkipRegistrationCheck: true })
    const fromBlock = (await B.publicClient.getBlockNumber()) + 1n
    await sendEnvelopeViaHyperlane(A.walletClients[4]!, {
      inbox: pair.a.inbox,
      destination: coreB.domain,
      envelope: encodeEnvelope(sent.envelope),
    })
    expect((await signAndRelay()).map((o) => o.status)).toEqual(['delivered'])
    const outcomes = await readerFor(conversation, fromBlock).poll()
    expect(outcomes.map((o) => o.status)).toEqual(['rejected'])
    expect((outcomes[0] as { error: { code: string } }).error.code).toBe('SEALPOST_KEY_REVOKED')
    expect(bob.messages.get(sent.id)).toBeUndefined()
  })
})
