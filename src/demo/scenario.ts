/** The `sealpost demo` scenario: two parties, an offline catch-up, receipts, finality, attacks that must fail, a team group. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicClient, type Hex, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Client, ReceivedMessage, SentMessage } from '../client/Client.js'
import { loadDevice } from '../client/identity.js'
import { exportTranscript, formatVerification, verifyTranscript } from '../client/transcript.js'
import {
  KeyRevokedError,
  MlsRejectedError,
  ReplayError,
  SenderRemovedError,
  StaleSequenceError,
} from '../client/verificationErrors.js'
import { verifyReceipt } from '../client/verifyReceipt.js'
import { EnvelopeIdMismatchError } from '../protocol/envelope.js'
import {
  flipEnvelopeBit,
  forgeTranscript,
  replaySequence,
  sealWithRevokedDevice,
  tamperCiphertext,
} from './attacks.js'
import { runDevices } from './devices.js'
import { DemoAttackError } from './errors.js'
import { signBeforeRevocation } from './lateStatement.js'
import {
  authenticateParty,
  connectParty,
  DEMO_PASSPHRASE,
  type DemoNetwork,
  type DemoParty,
  openOffline,
  registerOffline,
} from './parties.js'
import {
  joinOutsider,
  refuseLateStatement,
  refuseLookAlikeTranscript,
  refusePlantedGroup,
  refuseRemovedSender,
} from './refusals.js'
import { type DemoReport, expectRejection } from './report.js'
import { runTeamGroup } from './teamGroup.js'
import {
  nextMessage,
  pollUntil,
  until,
  untilJoined,
  untilLogAnchored,
  untilReceived,
  untilRelayRefuses,
  untilVerdict,
} from './waits.js'

/**
 * Parameters of {@link runDemoScenario}.
 *
 * @example await runDemoScenario({ network, keys: [aliceKey, bobKey], report })
 */
export type DemoScenarioParameters = {
  /** A local chain (the scenario mines blocks with `anvil_mine`), its contracts and a relay with an anchorer. */
  network: DemoNetwork
  /** Funded private keys of Alice and Bob, then optionally Carol and Dave (fresh funded accounts otherwise). */
  keys: readonly Hex[]
  report: DemoReport
  /** Draws a QR code as terminal lines (the CLI passes its renderer), for the link request of the devices act. */
  qr?: ((text: string) => string[]) | undefined
}

const TEXTS = [
  'Hi Bob, the audit report is ready.',
  'Section 3 covers the relay.',
  'Call me when you are back.',
]

/**
 * Runs the scenario and records every step in `report`: Alice writes while Bob is offline, Bob catches up in
 * order, receipts arrive and verify, messages reach final; then a relay tampers, a sender replays, an outsider plants
 * a 1:1 group (attack 1 of issue 9), a stolen and revoked phone signs, before and after its removal, and its
 * statement signed before the revocation but anchored after it fails transcript verification (attack 2), and
 * transcripts are forged, by editing and against a look-alike registry (attack 3), and each must be caught; finally
 * a team group of four accounts (issue 11): a member's message verified by all, a non-admin refused by the SDK and,
 * for a forged commit, by every member (attack 4), and a removal the removed member's saved state cannot read past;
 * last the devices act (issue 12): Alice's new laptop, linked by her approval, joins her conversations and imports her
 * history, Bob rotates his keys and talks on, Alice revokes the laptop, and the peers are alerted of each change.
 * Closes its clients; throws only on an unexpected failure.
 *
 * @example await runDemoScenario({ network, keys: anvil.accounts.slice(1, 3), report })
 */
export async function runDemoScenario({ network, keys, report, qr }: DemoScenarioParameters): Promise<void> {
  const clients: Client[] = []
  const publicClient = createPublicClient({ transport: http(network.rpc) }) as PublicClient
  const { deployment } = network
  const track = (client: Client) => {
    clients.push(client)
    return client
  }
  const alice: DemoParty = { name: 'alice', account: privateKeyToAccount(keys[0] as Hex) }
  const bob: DemoParty = { name: 'bob', account: privateKeyToAccount(keys[1] as Hex) }
  const phone: DemoParty = { ...alice, device: 'phone' }
  try {
    /** Registers a device on chain (offline, to show the transaction), then connects it and starts live mode. */
    const join_ = async (party: DemoParty) => {
      const registered = await registerOffline(network, party)
      const client = track(await connectParty(network, party, { register: false }))
      return { client, registered }
    }

    const { client: aliceClient, registered: ra } = await join_(alice)
    report.record('register Alice', true, `${aliceClient.account} device ${aliceClient.deviceId}`, [
      `EIP-712 AddDevice tx ${ra.txHash} gas ${ra.gasUsed} block ${ra.blockNumber}`,
    ])
    const { client: bobFirst, registered: rb } = await join_(bob)
    report.record('register Bob', true, `${bobFirst.account} device ${bobFirst.deviceId}`, [
      `EIP-712 AddDevice tx ${rb.txHash} gas ${rb.gasUsed} block ${rb.blockNumber}`,
      '5 key packages published at the relay, then Bob goes offline',
    ])
    await bobFirst.close()

    // Alice writes while Bob is offline.
    const chat = await aliceClient.conversations.open(bob.account.address)
    const sent: SentMessage[] = []
    for (const text of TEXTS) sent.push(await chat.send(text))
    report.record(
      'Alice sends while Bob is offline',
      sent.every((s) => s.cursor > 0n),
      `${sent.length} messages accepted by the relay`,
      sent.map((s, i) => `#${s.cursor} "${TEXTS[i]}" leaf ${s.leaf.slice(0, 18)}…`),
    )

    // Bob comes back and receives everything, in order.
    const caughtUp: ReceivedMessage[] = []
    const joined: Hex[] = []
    const bobClient = track(
      await connectParty(network, bob, {
        register: false,
        beforeStart: (c) => {
          c.events.on('message', (m) => caughtUp.push(m))
          c.events.on('joined', (j) => joined.push(j.conversation))
        },
      }),
    )
    await until(bobClient, 'message', () => caughtUp.length >= TEXTS.length, 30_000, 'Bob to catch up').catch(
      () => undefined,
    )
    const first = caughtUp[0]
    report.record(
      'Bob comes back: everything, in order',
      caughtUp.map((m) => m.text).join('|') === TEXTS.join('|') && joined.includes(chat.id),
      `${caughtUp.length} messages, in order, after joining the conversation from his inbox`,
      first
        ? [
            `first message's checks:`,
            ...first.report.steps.map((s) => `  ${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}`),
          ]
        : [],
    )

    const arriving = nextMessage(aliceClient, 30_000)
    await bobClient.conversations.get(chat.id)?.send('Back now. Reading it.')
    const reply = await arriving
    report.record(
      'Bob → Alice, live',
      reply?.text === 'Back now. Reading it.' && reply.report.ok,
      reply ? `"${reply.text}" verified` : 'nothing arrived',
    )

    // Receipts: batched anchoring, verified by both sides against the chain.
    let done = report.progress('Waiting for the anchorer to anchor the batch and for receipts')
    await Promise.all(sent.map((s) => aliceClient.waitForState(s.id, 'anchored', { timeoutMs: 45_000 })))
    done()
    const receipt = aliceClient.messages.receipt(sent[0]?.id ?? '0x')
    const check = receipt
      ? await verifyReceipt(publicClient, {
          receipt,
          messageAnchor: deployment.messageAnchor,
          chainId: deployment.chainId,
        })
      : undefined
    const bobHasIt =
      receipt !== undefined && bobClient.messages.byLeaf(receipt.leaf).some((m) => m.receipt !== undefined)
    report.record(
      'receipts arrive and verify',
      check?.ok === true && bobHasIt,
      receipt
        ? `root ${receipt.root.slice(0, 18)}… in block ${receipt.blockNumber}, ${receipt.treeSize} leaves`
        : "no receipt for Alice's first message",
      receipt && check
        ? [
            `tx ${receipt.txHash}`,
            ...check.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}`),
            `Bob received the same receipt for Alice's first message: ${bobHasIt ? 'yes' : 'no'}`,
          ]
        : [],
    )
    await publicClient.request({ method: 'anvil_mine' as never, params: ['0x2'] as never })
    await Promise.all(sent.map((s) => aliceClient.waitForState(s.id, 'final', { timeoutMs: 45_000 })))
    report.record(
      'messages reach final',
      true,
      `queued → accepted → delivered → anchored → final for all ${sent.length}`,
    )

    // A relay flips a bit of a message Bob has not read yet.
    const pending = await chat.send('Second page attached.')
    await expectRejection(
      report,
      'tampered envelope (bad id)',
      () => bobClient.receive(flipEnvelopeBit(pending.envelope)),
      EnvelopeIdMismatchError,
    )
    await expectRejection(
      report,
      'tampered envelope (id recomputed)',
      () => bobClient.receive(tamperCiphertext(pending.envelope)),
      MlsRejectedError,
    )
    const genuine = await untilReceived(bobClient, pending.id, 30_000)
    report.record(
      'genuine message still delivered',
      genuine,
      genuine ? '"Second page attached." verified' : 'not received',
    )

    // Replays.
    await expectRejection(
      report,
      'replayed envelope',
      () => bobClient.receive(sent[0]?.envelope as never),
      ReplayError,
    )
    // Bob replays (so Alice's own log, exported below, holds only her honest sequence numbers).
    const bobChat = bobClient.conversations.get(chat.id)
    if (!bobChat)
      throw new DemoAttackError({
        attack: 'replay a sequence number',
        reason: 'Bob is not in the conversation',
      })
    const stale = await replaySequence(bobChat, 'this reuses seq 1')
    await untilVerdict(aliceClient, stale.id, 15_000)
    const verdict = aliceClient.messages.verdict(stale.id)
    const staleRejected = verdict === 'rejected:SEALPOST_STALE_SEQ'
    report.record(
      'replayed sequence number',
      staleRejected,
      staleRejected ? `rejected with ${StaleSequenceError.name} [SEALPOST_STALE_SEQ]` : `verdict ${verdict}`,
    )

    // Issue 9, attack 1: Mallory, a registered outsider, plants a "1:1" group for Alice and Bob that keeps her leaf.
    const mallory = await joinOutsider(network, publicClient)
    track(mallory.client)
    await refusePlantedGroup({ report, mallory, alice: aliceClient, bob: bobClient, honest: chat.id })

    // A stolen phone. Alice adds a phone, it joins, then she revokes it on chain.
    const { client: phoneClient } = await join_(phone)
    await chat.syncMembers() // the committer may already have added it on its own
    await untilJoined(phoneClient, chat.id, 30_000)
    const phoneIn = chat.info().members.some((m) => m.deviceId === phoneClient.deviceId)
    // The thief keeps the phone offline from now on, so it never processes its own removal.
    await phoneClient.close()
    // Issue 9, attack 2 (statement layer): the thief's copy signs while the phone is still valid, to use it later.
    const stolenPhone = track(await openOffline(network, phone))
    const early = await signBeforeRevocation(stolenPhone, chat.id, 'Please wire the deposit today.')
    const revocation = await aliceClient.revokeDevice(phoneClient.deviceId)
    report.record("revoke Alice's phone", phoneIn, `device ${phoneClient.deviceId.slice(0, 18)}…`, [
      `added to the group, then revoked in tx ${revocation.txHash} at block ${revocation.blockNumber}`,
    ])
    const refusal = await untilRelayRefuses(() => authenticateParty(network, phone))
    report.record(
      'relay refuses the revoked device',
      refusal !== undefined,
      refusal ? `authentication refused with ${refusal}` : 'still admitted',
    )
    // After the revocation Mallory anchors the early statement's leaf; the thief's transcript of the phone must fail.
    await refuseLateStatement({
      report,
      stolen: stolenPhone,
      keys: await loadDevice({
        home: join(network.dir, phone.name),
        name: 'phone',
        passphrase: DEMO_PASSPHRASE,
      }),
      early,
      mallory,
      rpc: network.rpc,
      publicClient,
      deployment,
      revokedAt: revocation.blockNumber,
    })
    const forwarded = await sealWithRevokedDevice(stolenPhone, chat.id, 'wire the funds to this account')
    const forwardedName = "a revoked device's message, forwarded anyway"
    // Revoked at the block its statement names; if Alice's live client already removed the phone (it does so on
    // its own), Bob is past the epoch it was sealed in and MLS-level refusal comes first.
    if (forwarded)
      await expectRejection(report, forwardedName, () => bobClient.receive(forwarded), [
        KeyRevokedError,
        SenderRemovedError,
      ])
    else report.record(forwardedName, false, 'the revoked device sealed nothing to forward')
    await chat.syncMembers() // idempotent: live clients also remove revoked devices on their own
    const phoneOut = !chat.info().members.some((m) => m.deviceId === phoneClient.deviceId)
    report.record('remove the revoked device from the group', phoneOut, `new epoch ${chat.info().epoch}`)

    // Issue 9, attack 2: the thief's phone never saw its removal; it seals in its old epoch and Mallory publishes it.
    // Bob first processes the removal (otherwise he would judge the old epoch's message by its revoked key).
    await pollUntil(
      () => bobChat.info().epoch === chat.info().epoch,
      30_000,
      "Bob to process the phone's removal",
    ).catch(() => undefined)
    await refuseRemovedSender({
      report,
      stolen: stolenPhone,
      publisher: mallory.client,
      conversation: chat.id,
      recipients: [aliceClient, bobClient],
    })

    // The tamper-evident log: anchor its head, export a transcript, verify it from the chain alone.
    done = report.progress("Anchoring the head of Alice's log")
    const head = await aliceClient.anchorLogHead()
    await untilLogAnchored(aliceClient, head as Hex, 45_000)
    done()
    // Alice's device signs the export (over its last entry), so a copy cut short afterwards no longer verifies.
    const aliceKeys = await loadDevice({ home: join(network.dir, alice.name), passphrase: DEMO_PASSPHRASE })
    const transcript = exportTranscript({
      log: aliceClient.log,
      chainId: deployment.chainId,
      keyRegistry: deployment.keyRegistry,
      messageAnchor: deployment.messageAnchor,
      account: aliceClient.account,
      deviceId: aliceClient.deviceId,
      signingKey: aliceKeys.signingKey,
      block: await publicClient.getBlock(),
    })
    writeFileSync(join(network.dir, 'alice.transcript.json'), JSON.stringify(transcript, null, 2))
    const verified = await verifyTranscript({ transcript, publicClient, deployment })
    const failed = verified.checks.filter((c) => !c.ok)
    report.record(
      'export and verify a transcript',
      verified.ok,
      `${transcript.entries.length} log entries, ${verified.checks.length} checks against the chain`,
      failed.length ? formatVerification({ ok: false, checks: failed }) : [],
    )

    const refuted = await verifyTranscript({
      transcript: forgeTranscript(transcript),
      publicClient,
      deployment,
    })
    const named = refuted.checks.filter((c) => !c.ok).map((c) => `entry ${c.entry}: ${c.check}: ${c.detail}`)
    report.record(
      'a tampered transcript fails verification',
      !refuted.ok,
      named[0] ?? 'no check failed',
      named.slice(1, 4),
    )

    // Issue 9, attack 3: a forged transcript that names a look-alike KeyRegistry mapping Mallory's key to Alice.
    await refuseLookAlikeTranscript({
      report,
      mallory,
      rpc: network.rpc,
      publicClient,
      genuine: transcript,
      deployment,
    })

    // Issue 11: a team group of four accounts, a non-admin refused twice, a removal the removed member cannot read past.
    const { carol } = await runTeamGroup({
      report,
      network,
      publicClient,
      alice: aliceClient,
      bob: bobClient,
      keys: keys.slice(2, 4),
      track,
    })

    // Issue 12: a laptop linked by approval, a rotation and a revocation, each alerting the peers.
    await runDevices({
      report,
      network,
      alice: aliceClient,
      bob: bobClient,
      carol,
      aliceParty: alice,
      bobParty: bob,
      track,
      qr,
    })
  } finally {
    for (const c of clients) await c.close().catch(() => undefined)
  }
}
