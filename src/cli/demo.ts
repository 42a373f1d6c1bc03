/** `sealpost demo`: the whole system end to end through a real relay, including attacks that must fail. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createPublicClient, createWalletClient, type Hex, http } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../chain/anvil.js'
import { deploySealpost } from '../chain/deploy.js'
import { Client, type ReceivedMessage, type SentMessage } from '../client/Client.js'
import { connectClient } from '../client/connect.js'
import type { Deployment } from '../client/deployment.js'
import { KeyRevokedError, MlsRejectedError, ReplayError, StaleSequenceError } from '../client/errors.js'
import { RelayAuthError } from '../client/relayTransport.js'
import {
  exportTranscript,
  formatVerification,
  type Transcript,
  verifyTranscript,
} from '../client/transcript.js'
import { verifyReceipt } from '../client/verifyReceipt.js'
import { BaseError } from '../errors.js'
import {
  createEnvelope,
  decodeEnvelope,
  EnvelopeIdMismatchError,
  encodeEnvelope,
} from '../protocol/envelope.js'
import { receiptFromJson } from '../protocol/receipt.js'
import { type RelayNode, startRelayNode } from '../relay/node.js'
import type { MessageState } from '../store/deviceStore.js'
import type { CliContext } from './context.js'

/** One step of the demo and its outcome. */
export type DemoStep = { name: string; ok: boolean; detail: string }

/** Summary printed with --json. */
export type DemoSummary = { ok: boolean; steps: DemoStep[] }

const PASSPHRASE = 'sealpost demo passphrase'
const rank: MessageState[] = ['queued', 'accepted', 'delivered', 'anchored', 'final']

/**
 * Runs the demo scenario and returns its summary (exit code 0 only if every step passed).
 *
 * @example const { ok } = await demoCommand(ctx, ['--json'])
 */
export async function demoCommand(ctx: CliContext, argv: string[]): Promise<DemoSummary> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: 'boolean', default: false } } })
  const out = ctx.out
  const steps: DemoStep[] = []
  const record = (name: string, ok: boolean, detail: string, lines: string[] = []) => {
    steps.push({ name, ok, detail })
    out.info(`${ok ? '✓' : '✗'} ${name}: ${detail}`)
    for (const line of lines) out.info(`    ${line}`)
  }
  const expectRejection = async (
    name: string,
    attempt: () => Promise<unknown>,
    expected: new (...a: never[]) => BaseError,
  ) => {
    try {
      await attempt()
      record(name, false, `accepted, but ${expected.name} was expected`)
    } catch (err) {
      const ok = err instanceof expected
      const e = err as BaseError
      record(name, ok, ok ? `rejected with ${e.name} [${e.code}]` : `unexpected ${e?.name}: ${e?.message}`, [
        e.shortMessage ?? '',
        ...(e.metaMessages ?? []),
      ])
    }
  }

  const home = mkdtempSync(join(tmpdir(), 'sealpost-demo-'))
  let anvil: Anvil | undefined
  let relay: RelayNode | undefined
  const clients: Client[] = []
  try {
    let done = out.step('Starting anvil (hardfork osaka)')
    anvil = await startAnvil()
    done(anvil.rpcUrl)
    record('start chain', true, `anvil on ${anvil.rpcUrl}, chain id ${anvil.chainId}`)
    const rpc = anvil.rpcUrl
    const chain = anvil
    const publicClient = createPublicClient({ transport: http(rpc) })

    done = out.step('Deploying KeyRegistry and MessageAnchor')
    const deployer = privateKeyToAccount(anvil.accounts[0] as Hex)
    const deployed = await deploySealpost(
      createWalletClient({ account: deployer, transport: http(rpc) }),
      publicClient,
    )
    done()
    record(
      'deploy contracts',
      true,
      `KeyRegistry ${deployed.keyRegistry}, MessageAnchor ${deployed.messageAnchor}`,
      [
        `KeyRegistry tx ${deployed.txHashes.keyRegistry} gas ${deployed.gasUsed.keyRegistry}`,
        `MessageAnchor tx ${deployed.txHashes.messageAnchor} gas ${deployed.gasUsed.messageAnchor}`,
      ],
    )
    const deployment: Deployment = {
      chainId: anvil.chainId,
      keyRegistry: deployed.keyRegistry,
      messageAnchor: deployed.messageAnchor,
      deployBlock: deployed.deployBlock,
    }

    done = out.step('Starting the relay (SQLite store) and its anchorer')
    relay = await startRelayNode({
      rpc,
      deployment,
      dir: join(home, 'relay'),
      anchorAccount: privateKeyToAccount(anvil.accounts[9] as Hex),
      anchor: {
        batchSize: 64,
        batchIntervalMs: 300,
        confirmations: 1,
        pollingIntervalMs: 100,
        recheckIntervalMs: 1000,
      },
      pollingInterval: 200,
    })
    done(relay.url)
    record('start relay', true, `relay on ${relay.url}; anchors batches of up to 64 leaves every 300 ms`)
    const relayUrl = relay.url

    /** Registers a device on chain (offline), then connects it to the relay and starts live mode. */
    const options = (who: string, account: LocalAccount, device = 'default') => ({
      account,
      home: join(home, who),
      rpc,
      deployment,
      passphrase: PASSPHRASE,
      device,
      kdf: { N: 2 ** 14, r: 8, p: 1 },
      pollingInterval: 200,
    })
    /** Registers a device on chain (offline, to show the transaction), then connects it and starts live mode. */
    const join_ = async (who: string, account: LocalAccount, device = 'default') => {
      const offline = await Client.create(options(who, account, device))
      const registered = await offline.register({ keyPackages: 0 })
      await offline.close()
      const client = await connectClient({
        ...options(who, account, device),
        relay: relayUrl,
        register: false,
      })
      clients.push(client)
      return { client, registered }
    }
    const reconnect = async (
      who: string,
      account: LocalAccount,
      received: ReceivedMessage[],
      joined: Hex[],
    ) => {
      const client = await connectClient({
        ...options(who, account),
        relay: relayUrl,
        register: false,
        beforeStart: (c) => {
          c.events.on('message', (m) => received.push(m))
          c.events.on('joined', (j) => joined.push(j.conversation))
        },
      })
      clients.push(client)
      return client
    }

    const aliceKey = privateKeyToAccount(anvil.accounts[1] as Hex)
    const bobKey = privateKeyToAccount(anvil.accounts[2] as Hex)
    const { client: alice, registered: ra } = await join_('alice', aliceKey)
    record('register Alice', true, `${alice.account} device ${alice.deviceId}`, [
      `EIP-712 AddDevice tx ${ra.txHash} gas ${ra.gasUsed} block ${ra.blockNumber}`,
    ])
    const { client: bobFirst, registered: rb } = await join_('bob', bobKey)
    record('register Bob', true, `${bobFirst.account} device ${bobFirst.deviceId}`, [
      `EIP-712 AddDevice tx ${rb.txHash} gas ${rb.gasUsed} block ${rb.blockNumber}`,
      '5 key packages published at the relay, then Bob goes offline',
    ])
    await bobFirst.close()

    // Alice writes while Bob is offline.
    const chat = await alice.conversations.open(bobKey.address)
    const texts = [
      'Hi Bob, the audit report is ready.',
      'Section 3 covers the relay.',
      'Call me when you are back.',
    ]
    const sent: SentMessage[] = []
    for (const text of texts) sent.push(await chat.send(text))
    record(
      'Alice sends while Bob is offline',
      sent.every((s) => s.cursor > 0n),
      `${sent.length} messages accepted by the relay`,
      [...sent.map((s, i) => `#${s.cursor} "${texts[i]}" leaf ${s.leaf.slice(0, 18)}…`)],
    )

    // Bob comes back and receives everything, in order.
    const caughtUp: ReceivedMessage[] = []
    const joined: Hex[] = []
    const bob = await reconnect('bob', bobKey, caughtUp, joined)
    await until(bob, 'message', () => caughtUp.length >= texts.length, 30_000, 'Bob did not catch up').catch(
      () => undefined,
    )
    const inOrder = caughtUp.map((m) => m.text).join('|') === texts.join('|')
    const first = caughtUp[0]
    record(
      'Bob comes back: everything, in order',
      inOrder && joined.includes(chat.id),
      `${caughtUp.length} messages, in order, after joining the conversation from his inbox`,
      first
        ? [
            `first message's checks:`,
            ...first.report.steps.map((s) => `  ${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}`),
          ]
        : [],
    )

    const bobChat = bob.conversations.get(chat.id)
    const aliceIncoming = alice.streamAll()
    await bobChat?.send('Back now. Reading it.')
    const reply = await withTimeout(aliceIncoming.next(), 30_000)
    await aliceIncoming.return?.()
    const replyMessage = reply.value as ReceivedMessage | undefined
    record(
      'Bob → Alice, live',
      replyMessage?.text === 'Back now. Reading it.' && replyMessage.report.ok,
      replyMessage ? `"${replyMessage.text}" verified` : 'nothing arrived',
    )

    // Receipts: batched anchoring, verified by both sides against the chain.
    done = out.step('Waiting for the anchorer to anchor the batch and for receipts')
    await Promise.all(sent.map((s) => untilState(alice, s.id, 'anchored', 45_000)))
    done()
    const receipt = receiptFromJson(JSON.parse(alice.store.getMessage(sent[0]?.id ?? '')?.receipt ?? '{}'))
    const check = await verifyReceipt(publicClient, {
      receipt,
      messageAnchor: deployment.messageAnchor,
      chainId: deployment.chainId,
    })
    const bobHasIt = bob.store.messagesByLeaf(receipt.leaf).some((m) => m.receipt !== undefined)
    record(
      'receipts arrive and verify',
      check.ok && bobHasIt,
      `root ${receipt.root.slice(0, 18)}… in block ${receipt.blockNumber}, ${receipt.treeSize} leaves`,
      [
        `tx ${receipt.txHash}`,
        ...check.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}`),
        `Bob received the same receipt for Alice's first message: ${bobHasIt ? 'yes' : 'no'}`,
      ],
    )
    await testClientMine(chain, 2)
    await Promise.all(sent.map((s) => untilState(alice, s.id, 'final', 45_000)))
    record(
      'messages reach final',
      true,
      `queued → accepted → delivered → anchored → final for all ${sent.length}`,
    )

    // Attack 1: a relay flips a byte of a message Bob has not read yet.
    const pending = await chat.send('Second page attached.')
    const tamperedBytes = encodeEnvelope(pending.envelope)
    tamperedBytes[tamperedBytes.length - 20] = (tamperedBytes[tamperedBytes.length - 20] ?? 0) ^ 0x01
    await expectRejection(
      'tampered envelope (bad id)',
      () => bob.receive(tamperedBytes),
      EnvelopeIdMismatchError,
    )
    const payload = pending.envelope.payload.slice()
    payload[payload.length - 20] = (payload[payload.length - 20] ?? 0) ^ 0x01
    await expectRejection(
      'tampered envelope (id recomputed)',
      () => bob.receive(createEnvelope({ kind: 'application', topic: chat.id, payload })),
      MlsRejectedError,
    )
    const genuine = await untilReceived(bob, pending.id, 30_000)
    record(
      'genuine message still delivered',
      genuine,
      genuine ? '"Second page attached." verified' : 'not received',
    )

    // Attack 2: replays.
    await expectRejection('replayed envelope', () => bob.receive(sent[0]?.envelope as never), ReplayError)
    const stale = await chat.send('this reuses seq 1', { unsafeSeq: 1n })
    await until(
      bob,
      'rejected',
      () => bob.store.processed(stale.id) !== undefined,
      15_000,
      'no verdict',
    ).catch(() => undefined)
    const staleRejected = bob.store.processed(stale.id) === 'rejected:SEALPOST_STALE_SEQ'
    record(
      'replayed sequence number',
      staleRejected,
      staleRejected
        ? `rejected with ${StaleSequenceError.name} [SEALPOST_STALE_SEQ]`
        : `verdict ${bob.store.processed(stale.id)}`,
    )

    // Attack 3: a stolen phone. Alice adds a phone, it joins, then she revokes it on chain.
    const { client: phone } = await join_('alice', aliceKey, 'phone')
    await chat.syncMembers() // the committer may already have added it on its own
    await untilJoined(phone, chat.id, 30_000)
    const phoneIn = chat.info().members.some((m) => m.deviceId === phone.deviceId)
    // The thief keeps the phone offline from now on, so it never processes its own removal.
    await phone.close()
    const revocation = await alice.revokeDevice(phone.deviceId)
    record("revoke Alice's phone", phoneIn, `device ${phone.deviceId.slice(0, 18)}…`, [
      `added to the group, then revoked in tx ${revocation.txHash} at block ${revocation.blockNumber}`,
    ])
    const refusal = await untilRelayRefuses(() =>
      connectClient({ ...options('alice', aliceKey, 'phone'), relay: relayUrl, register: false }),
    )
    record(
      'relay refuses the revoked device',
      refusal !== undefined,
      refusal ? `authentication refused with ${refusal}` : 'still admitted',
    )
    const stolenPhone = await Client.create(options('alice', aliceKey, 'phone'))
    clients.push(stolenPhone)
    await stolenPhone.conversations
      .get(chat.id)
      ?.send('wire the funds to this account', { unsafeSkipRegistrationCheck: true })
      .catch(() => undefined) // no transport: the thief forwards the sealed envelope some other way
    const stolen = stolenPhone.store.messagesInState(['queued'], 'out')[0]?.envelope
    await expectRejection(
      "a revoked device's message, forwarded anyway",
      () => bob.receive(decodeEnvelope(stolen as Uint8Array)),
      KeyRevokedError,
    )
    await chat.syncMembers() // idempotent: live clients also remove revoked devices on their own
    const phoneOut = !chat.info().members.some((m) => m.deviceId === phone.deviceId)
    record('remove the revoked device from the group', phoneOut, `new epoch ${chat.info().epoch}`)

    // The tamper-evident log: anchor its head, export a transcript, verify it from the chain alone.
    done = out.step("Anchoring the head of Alice's log")
    const head = await alice.anchorLogHead()
    await untilLogAnchored(alice, head as Hex, 45_000)
    done()
    const transcript = exportTranscript({
      log: alice.log,
      chainId: deployment.chainId,
      keyRegistry: deployment.keyRegistry,
      messageAnchor: deployment.messageAnchor,
      account: alice.account,
      deviceId: alice.deviceId,
    })
    const transcriptPath = join(home, 'alice.transcript.json')
    writeFileSync(transcriptPath, JSON.stringify(transcript, null, 2))
    const verified = await verifyTranscript({ transcript, publicClient, deployment })
    const failed = verified.checks.filter((c) => !c.ok)
    record(
      'export and verify a transcript',
      verified.ok,
      `${transcript.entries.length} log entries, ${verified.checks.length} checks against the chain`,
      failed.length ? formatVerification({ ok: false, checks: failed }) : [],
    )

    const tampered = tamperTranscript(transcript)
    const refuted = await verifyTranscript({ transcript: tampered, publicClient, deployment })
    const named = refuted.checks.filter((c) => !c.ok).map((c) => `entry ${c.entry}: ${c.check}: ${c.detail}`)
    record(
      'a tampered transcript fails verification',
      !refuted.ok,
      named[0] ?? 'no check failed',
      named.slice(1, 4),
    )
  } catch (err) {
    const e = err as BaseError
    record(
      'unexpected failure',
      false,
      e instanceof BaseError ? `${e.name} [${e.code}]: ${e.shortMessage}` : String(err),
    )
    if (out.debug) console.error(err)
  } finally {
    for (const c of clients) await c.close().catch(() => undefined)
    await relay?.stop().catch(() => undefined)
    await anvil?.stop()
    if (!values.keep) rmSync(home, { recursive: true, force: true })
    else out.info(`Kept the demo homes in ${home}`)
  }
  const ok = steps.length > 0 && steps.every((s) => s.ok)
  out.info(
    ok ? `\nAll ${steps.length} steps passed.` : `\n${steps.filter((s) => !s.ok).length} step(s) failed.`,
  )
  const summary = { ok, steps }
  out.result(summary)
  return summary
}

/** Changes the body of the first sent message (keeps the JSON valid, so only the cryptography can tell). */
function tamperTranscript(transcript: Transcript): Transcript {
  const copy = structuredClone(transcript)
  const entry = copy.entries.find((e) => e.kind === 'sent')
  if (entry) (entry.data as { body?: string }).body = 'Hi Bob, wire 10 ETH to 0xBAD.'
  return copy
}

async function testClientMine(anvil: Anvil, blocks: number): Promise<void> {
  const client = createPublicClient({ transport: http(anvil.rpcUrl) })
  await client.request({ method: 'anvil_mine' as never, params: [`0x${blocks.toString(16)}`] as never })
}

function untilState(client: Client, id: Hex, state: MessageState, timeoutMs: number): Promise<void> {
  return until(
    client,
    'state',
    () => {
      const current = client.store.getMessage(id)?.state
      return current !== undefined && rank.indexOf(current) >= rank.indexOf(state)
    },
    timeoutMs,
    `message ${id.slice(0, 10)}… did not become ${state}`,
  )
}

async function untilReceived(client: Client, id: Hex, timeoutMs: number): Promise<boolean> {
  return until(
    client,
    'message',
    () => client.store.getMessage(id) !== undefined,
    timeoutMs,
    'not received',
  ).then(
    () => true,
    () => false,
  )
}

function untilJoined(client: Client, conversation: Hex, timeoutMs: number): Promise<void> {
  return until(
    client,
    'joined',
    () => client.conversations.get(conversation) !== undefined,
    timeoutMs,
    'did not join',
  )
}

function untilLogAnchored(client: Client, head: Hex, timeoutMs: number): Promise<void> {
  return until(
    client,
    'receipt',
    () => client.log.entries({ kind: 'log-anchor' }).some((e) => (e.data as { head: Hex }).head === head),
    timeoutMs,
    'the log head was not anchored',
  )
}

/** Tries to connect until the relay refuses (it learns of the revocation from the chain); returns the wire code. */
async function untilRelayRefuses(
  connect: () => Promise<Client>,
  timeoutMs = 30_000,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const client = await connect()
      await client.close()
    } catch (err) {
      if (err instanceof RelayAuthError) return err.wireCode
      throw err
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return undefined
}

function until(
  client: Client,
  event: 'state' | 'message' | 'joined' | 'receipt' | 'rejected',
  condition: () => boolean,
  timeoutMs: number,
  failure: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!condition()) return
      cleanup()
      resolve()
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(failure))
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      client.events.off(event, check)
    }
    client.events.on(event, check)
    check()
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms)),
  ])
}
