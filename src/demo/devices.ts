/** The demo's devices act (issue 12): a laptop linked by approval joins Alice's conversations, Bob rotates, the laptop is revoked. */
import type { Hex } from 'viem'
import type { Client, ReceivedMessage } from '../client/Client.js'
import { devicePublicKeys } from '../client/identity.js'
import { approveLinkRequest, createLinkRequest, waitForLinkedDevice } from '../client/linkDevice.js'
import type { HistoryImported } from '../client/types.js'
import { linkRequestFingerprints } from '../protocol/linkRequest.js'
import { shortQr, shortUri } from './linkDisplay.js'
import {
  connectParty,
  DEMO_KDF,
  DEMO_PASSPHRASE,
  type DemoNetwork,
  type DemoParty,
  partyParameters,
} from './parties.js'
import { alertLines, allAlerted, peerAlerts } from './peerAlerts.js'
import type { DemoReport } from './report.js'
import { nextMessageIn, pollUntil } from './waits.js'

/**
 * The names of the devices act's steps, as the report and `--json` list them.
 *
 * @example summary.steps.find((s) => s.name === DEVICE_STEPS.autoJoin)?.detail
 */
export const DEVICE_STEPS = {
  link: "Alice's new laptop creates a link request",
  approve: 'Alice approves the laptop from a device holding the account key',
  autoJoin: "the laptop joins Alice's conversations by itself",
  history: "the laptop imports Alice's history, verified entry by entry",
  addedAlert: 'peers alerted: Alice added a device',
  rotate: "Bob rotates his device's keys",
  afterRotation: 'conversations continue after the rotation',
  rotatedAlert: 'peers alerted: Bob rotated a device',
  revoke: 'Alice revokes the laptop: evicted from every conversation',
  revokedAlert: 'peers alerted: Alice revoked a device',
} as const

/**
 * Parameters of {@link runDevices}.
 *
 * @example const p: DevicesParameters = { report, network, alice, bob, carol, aliceParty, bobParty, track }
 */
export type DevicesParameters = {
  report: DemoReport
  network: DemoNetwork
  /** Alice's first device (it holds the account key), Bob's and Carol's live clients; Bob's is closed by his rotation. */
  alice: Client
  bob: Client
  carol: Client
  aliceParty: DemoParty
  bobParty: DemoParty
  /** Registers a client for the caller to close. */
  track: (client: Client) => Client
  /** Draws a QR code as terminal lines (the CLI passes its renderer); without it, only the URI is shown. */
  qr?: ((text: string) => string[]) | undefined
}

const WAIT_MS = 30_000

/**
 * Runs the devices act and records each step in `report`: Alice's new laptop makes a link request (URI and QR code,
 * fingerprints); Alice's first device checks and approves it (EIP-712 AddDevice); the laptop sees itself active,
 * connects and joins every conversation of Alice's by itself (timed from the registry transaction), then imports the
 * history archive Alice's first device sends it; Bob and Carol are alerted of the new device. Bob rotates his keys
 * (new fingerprint), comes back under them and his next message is delivered; Alice, her laptop and Carol are
 * alerted. Alice revokes the laptop, every conversation evicts it, and Bob and Carol are alerted. Returns Bob's
 * client under his new keys. Throws only on an unexpected failure.
 *
 * @example const { bob: rotatedBob } = await runDevices({ report, network, alice, bob, carol, aliceParty, bobParty, track })
 */
export async function runDevices(p: DevicesParameters): Promise<{ bob: Client }> {
  const { report, network, alice, carol, track } = p
  const conversations = activeConversations(alice)

  // The laptop makes its keys and a link request; nothing on it holds the account key.
  const link = await createLinkRequest({
    home: partyParameters(network, p.aliceParty).home,
    name: 'laptop',
    account: alice.account,
    passphrase: DEMO_PASSPHRASE,
    deployment: network.deployment,
    kdf: { ...DEMO_KDF },
  })
  const { fingerprints } = link
  report.record(DEVICE_STEPS.link, true, `device "laptop" ${fingerprints.deviceId.slice(0, 18)}…`, [
    `URI ${shortUri(link.uri)}`,
    ...(p.qr ? shortQr(p.qr(link.uri)) : []),
    `P-256 ${fingerprints.p256}`,
    `MLS   ${fingerprints.mls}`,
  ])

  // Alice's first device checks what it is asked to authorize, shows it, and signs the EIP-712 AddDevice.
  const active = waitForLinkedDevice({
    rpc: network.rpc,
    deployment: network.deployment,
    account: alice.account,
    deviceId: fingerprints.deviceId,
    pollMs: network.pollingInterval,
    signal: AbortSignal.timeout(WAIT_MS),
  })
  let shown: { name: string; p256: string; mls: string } | undefined
  const approved = await approveLinkRequest({
    request: link.uri,
    wallet: p.aliceParty.account,
    rpc: network.rpc,
    deployment: network.deployment,
    confirm: ({ request, fingerprints: f }) => {
      shown = { name: request.name, p256: f.p256, mls: f.mls }
      return true
    },
  })
  const txAt = Date.now()
  const matches = shown?.p256 === fingerprints.p256 && shown.mls === fingerprints.mls
  report.record(
    DEVICE_STEPS.approve,
    matches && approved.deviceId === fingerprints.deviceId,
    `shown "${shown?.name}", fingerprints ${matches ? 'match' : 'differ from'} the laptop's; tx ${approved.txHash.slice(0, 18)}… block ${approved.blockNumber}`,
    [`shown P-256 ${shown?.p256}`, `shown MLS   ${shown?.mls}`, `gas ${approved.gasUsed}`],
  )

  // The laptop watches the registry, connects once active, and is added to each conversation by its members.
  const joining = report.progress(
    "The laptop waits for the registry, then to be added to Alice's conversations",
  )
  const { block } = await active
  const imported: HistoryImported[] = []
  const laptopParty: DemoParty = { ...p.aliceParty, device: 'laptop' }
  const laptop = track(
    await connectParty(network, laptopParty, {
      register: false,
      beforeStart: (c) => c.events.on('historyImported', (h) => imported.push(h)),
    }),
  )
  const joined = await pollUntil(
    () => conversations.every((id) => devicesIn(laptop, id).includes(laptop.deviceId.toLowerCase())),
    WAIT_MS,
    "the laptop to join Alice's conversations",
  ).catch(() => false)
  const joinMs = Date.now() - txAt
  const held = conversations.filter((id) => devicesIn(laptop, id).length > 0).length
  joining(`${held} of ${conversations.length}`)
  report.record(
    DEVICE_STEPS.autoJoin,
    joined === true && conversations.length > 0,
    `member of ${held} of ${conversations.length} conversations ${(joinMs / 1000).toFixed(1)} s after the registry transaction`,
    [
      `active at block ${block}; the laptop connected and published key packages, and each conversation's members added it`,
      ...conversations.map((id) => `${label(alice, id, p.bob)}: ${devicesIn(laptop, id).length} devices`),
    ],
  )

  // History: Alice's first device seals its past conversations to the laptop.
  const sent = await alice.history.send({ toDevice: laptop.deviceId })
  const got = await pollUntil(
    () => imported.find((h) => h.archive === sent.archiveId),
    WAIT_MS,
    'the history archive',
  ).catch(() => undefined)
  report.record(
    DEVICE_STEPS.history,
    got !== undefined && got.messages === sent.messages && got.messages > 0,
    got
      ? `${got.messages} messages of ${got.conversations.length} conversations verified, ${got.imported} new on the laptop`
      : 'no archive imported',
    [
      `archive ${sent.archiveId.slice(0, 18)}…: ${sent.entries} log entries, ${sent.bytes} bytes sealed to the laptop`,
    ],
  )

  const added = await peerAlerts({
    peers: { Bob: p.bob, Carol: carol },
    account: alice.account,
    match: (c) => c.kind === 'added' && hasId(c.added, laptop.deviceId),
  })
  report.record(
    DEVICE_STEPS.addedAlert,
    allAlerted(added),
    `${added.filter((a) => a.change).length} of ${added.length} peers; Alice's safety number changed`,
    alertLines(added),
  )

  // Bob rotates: new keys in one registry transaction; peers swap his old leaf for the new device everywhere.
  const bobConversations = activeConversations(p.bob)
  const rotated = await p.bob.rotateDevice({ passphrase: DEMO_PASSPHRASE })
  const newKeys = linkRequestFingerprints(devicePublicKeys(rotated.keys))
  report.record(
    DEVICE_STEPS.rotate,
    rotated.deviceId !== rotated.oldDeviceId,
    `device ${rotated.oldDeviceId.slice(0, 12)}… → ${rotated.deviceId.slice(0, 12)}… in tx ${rotated.txHash.slice(0, 18)}… block ${rotated.blockNumber}`,
    [`new P-256 ${newKeys.p256}`, `new MLS   ${newKeys.mls}`, `gas ${rotated.gasUsed}`],
  )
  const swapping = report.progress("Bob reconnects under his new keys; his peers swap his old device's leaf")
  const bob = track(await connectParty(network, p.bobParty, { register: false }))
  const swapped = await pollUntil(
    () =>
      bobConversations.every((id) => {
        const devices = devicesIn(bob, id)
        return hasId(devices, bob.deviceId) && !hasId(devices, rotated.oldDeviceId)
      }),
    WAIT_MS,
    "Bob's new device to replace the old one",
  ).catch(() => false)
  swapping()
  const chat = bobConversations.find((id) => bob.conversations.get(id)?.peer === alice.account)
  const text = 'New keys on my side; carry on.'
  const arriving = [alice, laptop].map((c) => nextMessageIn(c, chat ?? '0x', WAIT_MS))
  if (chat) await bob.conversations.get(chat)?.send(text)
  const read = (await Promise.all(arriving)) as (ReceivedMessage | undefined)[]
  const delivered = read.every((m) => m?.text === text && m.report.ok && m.device === bob.deviceId)
  report.record(
    DEVICE_STEPS.afterRotation,
    swapped === true && delivered,
    delivered
      ? `"${text}" from Bob's new device, verified by Alice and her laptop`
      : `delivered to ${read.filter((m) => m?.report.ok).length} of 2 of Alice's devices`,
    [
      `Bob's new device is a member of ${bobConversations.filter((id) => hasId(devicesIn(bob, id), bob.deviceId)).length} of ${bobConversations.length} conversations, his old one of none`,
    ],
  )
  const rotatedAlerts = await peerAlerts({
    peers: { Alice: alice, "Alice's laptop": laptop, Carol: carol },
    account: bob.account,
    match: (c) => c.kind === 'rotated' && hasId(c.added, bob.deviceId),
  })
  report.record(
    DEVICE_STEPS.rotatedAlert,
    allAlerted(rotatedAlerts),
    `${rotatedAlerts.filter((a) => a.change).length} of ${rotatedAlerts.length} peers; Bob's safety number changed`,
    alertLines(rotatedAlerts),
  )

  // Alice revokes the laptop; the members' committers remove its leaf from every conversation.
  const revocation = await alice.revokeDevice(laptop.deviceId)
  const evicting = report.progress("Alice's and Bob's devices remove the revoked laptop's leaf")
  const evicted = await pollUntil(
    () =>
      conversations.every(
        (id) => !hasId(devicesIn(alice, id), laptop.deviceId) && !hasId(devicesIn(bob, id), laptop.deviceId),
      ),
    WAIT_MS,
    'the laptop to be removed',
  ).catch(() => false)
  const still = conversations.filter((id) => hasId(devicesIn(alice, id), laptop.deviceId)).length
  evicting()
  report.record(
    DEVICE_STEPS.revoke,
    evicted === true,
    `tx ${revocation.txHash.slice(0, 18)}… block ${revocation.blockNumber}; the laptop is in ${still} of ${conversations.length} conversations`,
  )
  await laptop.close()
  const revoked = await peerAlerts({
    peers: { Bob: bob, Carol: carol },
    account: alice.account,
    match: (c) => c.kind === 'revoked' && hasId(c.revoked, laptop.deviceId),
  })
  const back = revoked[0]?.change?.fingerprintAfter === added[0]?.change?.fingerprintBefore
  report.record(
    DEVICE_STEPS.revokedAlert,
    allAlerted(revoked),
    `${revoked.filter((a) => a.change).length} of ${revoked.length} peers; Alice's safety number ${back ? 'is back to the one before the laptop' : 'changed'}`,
    alertLines(revoked),
  )
  return { bob }
}

/** Ids of the conversations (1:1 and groups) `client` is an active member of. */
function activeConversations(client: Client): Hex[] {
  return [
    ...client.conversations
      .list()
      .filter((c) => c.info().active)
      .map((c) => c.id),
    ...client.groups
      .list()
      .filter((g) => g.info().active)
      .map((g) => g.id),
  ]
}

/** Device ids (lower case) of the leaves of conversation or group `id` as `client` holds it; none if it is not active. */
function devicesIn(client: Client, id: Hex): string[] {
  const direct = client.conversations.get(id)
  if (direct) {
    const info = direct.info()
    return info.active ? info.members.map((m) => m.deviceId.toLowerCase()) : []
  }
  const group = client.groups.get(id)
  if (!group?.info().active) return []
  return group
    .members()
    .members.flatMap((m) => m.devices.filter((d) => d.inGroup).map((d) => d.deviceId.toLowerCase()))
}

/** A conversation's name for the report: "1:1 with Bob" (or the peer's address) or the group's name. */
function label(client: Client, id: Hex, bob: Client): string {
  const direct = client.conversations.get(id)
  if (direct) return `1:1 with ${direct.peer === bob.account ? 'Bob' : direct.peer}`
  return `group "${client.groups.get(id)?.info().name ?? id.slice(0, 10)}"`
}

const hasId = (ids: readonly string[], id: string) => ids.some((x) => x.toLowerCase() === id.toLowerCase())
