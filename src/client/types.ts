/** The data types a client hands to applications: sent and received messages, events, results, options. */
import type { Address, Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { BaseError } from '../errors.js'
import type { Envelope } from '../protocol/envelope.js'
import type { MessageState } from '../protocol/messageState.js'
import type { Receipt } from '../protocol/receipt.js'
import type { RecipientProof } from '../protocol/recipients.js'
import type { Statement } from '../protocol/statement.js'
import type { MessageVerdict } from '../store/deviceStore.js'
import type { Deployment } from './deployment.js'
import type { DeviceKeys, KdfParams } from './identity.js'
import type { KeyChangeEvent } from './keyChanges.js'
import type { Transport } from './transport.js'
import type { ClockPolicy, VerificationReport } from './verifyStatement.js'

/**
 * Events a client emits; the dashboard and the stream API are built on them.
 *
 * @example client.events.on('state', ({ id, state }) => console.log(id, state))
 */
export type ClientEvents = {
  message: [ReceivedMessage]
  state: [{ id: Hex; conversation: Hex; state: MessageState }]
  rejected: [Rejection]
  receipt: [{ leaf: Hex; receipt: Receipt; messages: Hex[]; confirmations: bigint }]
  /** A received message's verdict settled: `verified` once anchored in time, or `refused` (also emitted as `rejected`). */
  verdict: [VerdictChange]
  /** The relay deleted an envelope this device published before every intended recipient acked it (protocol §9.4). */
  expired: [ExpiredEvent]
  /** A conversation's peer (a direct conversation), or undefined for a group. */
  joined: [{ conversation: Hex; peer: Address | undefined }]
  /** A group's membership changed (a commit moved it to `epoch`) or a member proposed a change (pending). */
  membership: [{ conversation: Hex; epoch: bigint; change: 'commit' | 'proposal'; removed: boolean }]
  /** A member device confirmed, with a signed delivery receipt, that it received a message (protocol §4.5). */
  delivered: [DeliveryEvent]
  /** A history archive from another device of this account was verified and imported (protocol §12.8). */
  historyImported: [HistoryImported]
  /** A contact's device set changed on chain (added, revoked, rotated); once per change, offline ones on start. */
  keyChange: [KeyChangeEvent]
  /** A group invitation held for this account's consent (`groups.accept` policy, security E4): not joined. */
  invitation: [GroupInvitation]
  /** A sending device's sequence numbers in a conversation skipped `missing` messages (never delivered here). */
  seqGap: [{ conversation: Hex; from: Address; device: Hex; after: bigint; seq: bigint; missing: bigint }]
  closed: []
}

export type { MessageVerdict } from '../store/deviceStore.js'

/**
 * A received message's verdict changed (protocol §11.1): `reason` is the judgement's detail line, `error` the typed
 * refusal.
 *
 * @example client.events.on('verdict', ({ id, verdict, reason }) => console.log(id, verdict, reason))
 */
export type VerdictChange = {
  id: Hex
  conversation: Hex
  verdict: MessageVerdict
  reason: string
  error?: BaseError | undefined
}

/**
 * An envelope this device published expired at the relay before every intended recipient acked it (retention,
 * protocol §9.4); emitted once per envelope. `recipients` are the devices the relay knew had not acked it. For a
 * sent message `id` is the message id and `state` its state, which does not change (the lifecycle has no expired
 * state); for another envelope (a welcome, a commit) `state` is undefined.
 *
 * @example client.events.on('expired', (e: ExpiredEvent) => console.log(e.id, e.recipients.length))
 */
export type ExpiredEvent = {
  id: Hex
  conversation: Hex
  seq: bigint
  expiredAt: number
  recipients: Hex[]
  state: MessageState | undefined
}

/**
 * Options of `conversation.send()`. The `unsafe*` switches exist to simulate a misbehaving or compromised sender
 * in tests and the demo (a stolen, revoked key; a replayed sequence number); recipients must reject the result.
 *
 * @example await chat.send('hi', { unsafeSeq: 1n })
 */
export type SendOptions = {
  /** Sign and send even if this device is not (or no longer) registered. */
  unsafeSkipRegistrationCheck?: boolean | undefined
  /** Use this sequence number instead of the next one. */
  unsafeSeq?: bigint | undefined
  /** Send exactly these bytes as the text body instead of `text`'s UTF-8 (e.g. bytes that are not valid UTF-8). */
  unsafeBody?: Uint8Array | undefined
}

/**
 * A message this device sent.
 *
 * @example const sent: SentMessage = await chat.send('hello')
 */
export type SentMessage = {
  id: Hex
  conversation: Hex
  statement: Statement
  signature: Hex
  /** The statement's Merkle leaf, what the anchorer commits on chain. */
  leaf: Hex
  envelope: Envelope
  cursor: bigint
}

/**
 * A message this device received and verified. Its `verdict` is `pending` until a receipt shows it anchored in time
 * (the `verdict` event then reports `verified` or `refused`): a pending message is never shown as verified.
 *
 * @example client.events.on('message', (m: ReceivedMessage) => console.log(m.from, m.text))
 */
export type ReceivedMessage = {
  id: Hex
  conversation: Hex
  from: Address
  device: Hex
  seq: bigint
  sentAt: number
  text: string
  statement: Statement
  signature: Hex
  leaf: Hex
  /** The proof that this device's account is among the statement's recipients (what the log keeps). */
  recipients?: RecipientProof | undefined
  report: VerificationReport
  verdict: MessageVerdict
}

/**
 * A member device's signed delivery receipt, applied: it confirms it received the message whose envelope id is
 * `message` (statement leaf `leaf`) in `conversation`; `receipt` is the envelope id of the receipt message.
 *
 * @example client.events.on('delivered', ({ message, account }) => console.log(message, 'reached', account))
 */
export type DeliveryEvent = {
  conversation: Hex
  message: Hex
  leaf: Hex
  account: Address
  device: Hex
  receipt: Hex
}

/**
 * What processing one envelope produced.
 *
 * @example const result: ReceiveResult = await client.receive(bytes)
 */
export type ReceiveResult =
  | { type: 'message'; message: ReceivedMessage }
  /** A signed delivery receipt from another member: the deliveries it confirmed (of messages this device holds). */
  | { type: 'delivery'; conversation: Hex; receipt: Hex; deliveries: DeliveryEvent[] }
  | { type: 'joined'; conversation: Hex; peer: Address | undefined }
  /** A Welcome to a group held for this account's consent (`groups.accept`, security E4): not joined yet. */
  | { type: 'invitation'; invitation: GroupInvitation }
  | { type: 'commit'; conversation: Hex; epoch: bigint; removed: boolean }
  | { type: 'proposal'; conversation: Hex; epoch: bigint }
  | { type: 'receipt'; leaf: Hex; messages: Hex[] }
  /** A chunk of a history archive was stored; the archive is not whole yet. */
  | { type: 'history-chunk'; archive: Hex; chunk: number; count: number }
  /** A history archive was verified and its messages imported. */
  | { type: 'history'; imported: HistoryImported }

/**
 * A history archive imported (protocol §12.8): from which device of this account, which conversations, how many
 * messages it carried and how many were new here.
 *
 * @example client.events.on('historyImported', ({ fromDevice, imported }) => console.log(imported, 'from', fromDevice))
 */
export type HistoryImported = {
  archive: Hex
  fromDevice: Hex
  conversations: Hex[]
  messages: number
  imported: number
}

/**
 * An envelope that was refused, with the typed error and (for messages) the verification report.
 *
 * @example client.events.on('rejected', (r: Rejection) => console.log(r.error.code))
 */
export type Rejection = {
  envelopeId: Hex
  topic: Hex
  error: BaseError
  report?: VerificationReport | undefined
}

/**
 * Result of `client.sync()`.
 *
 * @example const { received, rejected }: SyncResult = await client.sync()
 */
export type SyncResult = {
  received: ReceivedMessage[]
  joined: Hex[]
  commits: number
  rejected: Rejection[]
}

/**
 * A rejected message carries the report of the checks that ran.
 *
 * @example (err as RejectedMessageError).report?.failedStep
 */
export type RejectedMessageError = BaseError & { report?: VerificationReport }

/**
 * Parameters of `Client.create()`.
 *
 * @example const p: ClientParameters = { account, home: '~/.sealpost', rpc: 'http://127.0.0.1:8545', transport }
 */
export type ClientParameters = {
  /** The account's wallet (signs device authorisations), or just its address for a device that is already registered. */
  account: LocalAccount | Address
  /** Directory holding this account's keys and device state (`--home`). */
  home: string
  /** JSON-RPC URL of the chain. */
  rpc: string
  /** Message transport (in-process hub or relay connection). Without one, only chain operations work. */
  transport?: Transport | undefined
  /** Contract addresses; defaults to `<home>/deployment.json`. */
  deployment?: Deployment | undefined
  /** Key store passphrase; defaults to `SEALPOST_PASSPHRASE`. */
  passphrase?: string | undefined
  /** Device name under `<home>/devices/`. Default `default`; created on first use. */
  device?: string | undefined
  /** Already unlocked keys of that device (`connectClient` passes them, so the key file is decrypted once). */
  keys?: DeviceKeys | undefined
  /** MLS ciphersuite for a new device. Default X-Wing (id 83). */
  ciphersuite?: string | undefined
  /** scrypt cost for newly written key files. */
  kdf?: KdfParams | undefined
  /**
   * Clock bounds for statement verification, and the time windows of protocol §11.1 (`anchorWindowMs`, default
   * 1 h; `liveWindowMs`, default 10 min).
   */
  clock?: Partial<ClockPolicy> | undefined
  /** Pays gas for registry transactions instead of `account` (anyone may submit). */
  submitter?: LocalAccount | undefined
  /** Milliseconds between chain polls of the registry watcher and the finality check. Default 1000. */
  pollingInterval?: number | undefined
  /** Confirmations after which an anchored message is final. Default 2. */
  finality?: number | undefined
  /** Anchor the head of the tamper-evident log every this many entries (0 disables). Default 32. */
  logAnchorEvery?: number | undefined
  /**
   * Largest estimated ratchet tree a Welcome carries inline; a larger one is sent by reference, in chunks on a topic
   * derived from the Welcome (protocol §3.7). Default 262144 (256 KiB).
   */
  inlineTreeBytes?: number | undefined
  /**
   * Largest commit published inline on the group topic; a larger one (the first commit with an UpdatePath in a large
   * group) goes by reference: chunks on a topic derived from its digest, and a reference in its place (protocol §3.9).
   * Default 1048576 (the envelope limit).
   */
  inlineCommitBytes?: number | undefined
  /**
   * Largest `encrypted_group_info` each trimmed Welcome carries itself; a larger one, sent to more than one device,
   * is stored once by reference (protocol §3.9). Default 16384.
   */
  inlineGroupInfoBytes?: number | undefined
  /**
   * Which group invitations (Welcomes to a group) this device joins at once: `'anyone'` (the default), `'contacts'`
   * (the inviter, the member that signed the Welcome, is this account or shares a conversation with it), or a
   * function. The others are held in `client.groups.invitations()` until `accept(id)` or `decline(id)`.
   */
  groups?: { accept?: GroupAcceptPolicy | undefined } | undefined
}

/**
 * A Welcome to a group, held until this account accepts or declines it: the Welcome envelope's id, the group, the
 * inviter's account (the member that signed the Welcome), the group's name, member accounts and admins.
 *
 * @example const [invitation] = client.groups.invitations(); await client.groups.accept(invitation.id)
 */
export type GroupInvitation = {
  id: Hex
  conversation: Hex
  inviter: Address | undefined
  name: string
  members: Address[]
  admins: Address[]
  receivedAt: number
}

/**
 * Which group invitations are joined at once (see `ClientParameters.groups`).
 *
 * @example const accept: GroupAcceptPolicy = (invitation) => invitation.members.length < 50
 */
export type GroupAcceptPolicy = 'anyone' | 'contacts' | ((invitation: GroupInvitation) => boolean)
