/** Errors a client raises in use: sending, conversations, registration, the relay connection, deployments and evidence files (verification errors are in verificationErrors.ts). */
import { CodecError, InternalError, UsageError } from '../errors.js'

/** The envelope is for a conversation this device is not part of. */
export class UnknownConversationError extends UsageError {
  override name = 'UnknownConversationError' as const
  constructor(p: { topic: string }) {
    super('This device is not a member of that conversation.', {
      metaMessages: [`Topic: ${p.topic}`],
      code: 'SEALPOST_UNKNOWN_CONVERSATION',
    })
  }
}

/** A device has no key package left, so it cannot be added while offline. */
export class NoKeyPackageError extends UsageError {
  override name = 'NoKeyPackageError' as const
  constructor(p: { deviceId: string }) {
    super('Device has no published key package left.', {
      metaMessages: [`Device: ${p.deviceId}`, 'Its owner must come online once to publish more.'],
      code: 'SEALPOST_NO_KEY_PACKAGE',
    })
  }
}

/** The peer account has no active device on chain. */
export class PeerHasNoDevicesError extends UsageError {
  override name = 'PeerHasNoDevicesError' as const
  constructor(p: { account: string }) {
    super('Peer account has no active device registered on chain.', {
      metaMessages: [`Account: ${p.account}`],
      code: 'SEALPOST_PEER_NO_DEVICES',
    })
  }
}

/**
 * A 1:1 conversation was asked for with this device's own account (its other devices join every conversation anyway).
 *
 * @example await client.conversations.open(client.account).catch((e) => e instanceof SelfConversationError)
 */
export class SelfConversationError extends UsageError {
  override name = 'SelfConversationError' as const
  constructor(p: { account: string }) {
    super('A conversation needs another account.', {
      metaMessages: [
        `Account: ${p.account}`,
        "This account's other devices are members of all its conversations.",
      ],
      code: 'SEALPOST_CONVERSATION_WITH_SELF',
    })
  }
}

/** This device is not (or no longer) registered on chain. */
export class DeviceNotRegisteredError extends UsageError {
  override name = 'DeviceNotRegisteredError' as const
  constructor(p: { deviceId: string; revoked?: boolean }) {
    super(p.revoked ? 'This device was revoked on chain.' : 'This device is not registered on chain yet.', {
      metaMessages: [
        `Device: ${p.deviceId}`,
        ...(p.revoked ? [] : ['Run `sealpost id register` or client.register().']),
      ],
      code: p.revoked ? 'SEALPOST_DEVICE_REVOKED' : 'SEALPOST_DEVICE_NOT_REGISTERED',
    })
  }
}

/**
 * This device's P-256 key is registered on chain to another account (a key is bound to the first account whose
 * registration proved possession of it), so `register()` cannot register it for this one.
 *
 * @example throw new DeviceKeyTakenError({ deviceId, owner, account })
 */
export class DeviceKeyTakenError extends UsageError {
  override name = 'DeviceKeyTakenError' as const
  readonly owner: string
  constructor(p: { deviceId: string; owner: string; account: string }) {
    super('This device key is registered to another account.', {
      metaMessages: [
        `Device: ${p.deviceId}`,
        `Registered to: ${p.owner}`,
        `This client's account: ${p.account}`,
      ],
      code: 'SEALPOST_DEVICE_KEY_TAKEN',
    })
    this.owner = p.owner
  }
}

/**
 * The device under `home` belongs to another account than the one given.
 *
 * @example throw new AccountMismatchError({ deviceAccount, givenAccount })
 */
export class AccountMismatchError extends UsageError {
  override name = 'AccountMismatchError' as const
  constructor(p: { deviceAccount: string; givenAccount: string }) {
    super('This device belongs to another account.', {
      metaMessages: [`Device account: ${p.deviceAccount}`, `Given account: ${p.givenAccount}`],
      code: 'SEALPOST_ACCOUNT_MISMATCH',
    })
  }
}

/**
 * Registering or revoking needs the account's key, but only its address was given.
 *
 * @example throw new AccountKeyRequiredError()
 */
export class AccountKeyRequiredError extends UsageError {
  override name = 'AccountKeyRequiredError' as const
  constructor() {
    super('This operation needs the account key (only the address was given).', {
      code: 'SEALPOST_ACCOUNT_KEY_REQUIRED',
    })
  }
}

/**
 * An envelope of a kind that clients do not receive (key packages, for example).
 *
 * @example throw new UnexpectedEnvelopeKindError({ kind: 'key-package' })
 */
export class UnexpectedEnvelopeKindError extends UsageError {
  override name = 'UnexpectedEnvelopeKindError' as const
  constructor(p: { kind: string }) {
    super(`Envelopes of kind "${p.kind}" are not delivered to clients.`, {
      code: 'SEALPOST_UNEXPECTED_KIND',
    })
  }
}

/**
 * A message did not reach the state waited for in time. `lastState` is where it was when the wait gave up.
 *
 * @example await client.waitForState(id, 'final', { timeoutMs: 5000 }).catch((e) => e instanceof MessageStateTimeoutError)
 */
export class MessageStateTimeoutError extends UsageError {
  override name = 'MessageStateTimeoutError' as const
  readonly lastState: string | undefined
  constructor(p: { messageId: string; state: string; lastState: string | undefined; timeoutMs: number }) {
    super(`Message did not reach "${p.state}" within ${p.timeoutMs} ms.`, {
      metaMessages: [`Message: ${p.messageId}`, `Last state: ${p.lastState ?? 'unknown'}`],
      code: 'SEALPOST_MESSAGE_STATE_TIMEOUT',
    })
    this.lastState = p.lastState
  }
}

/**
 * The client was closed while an operation (such as `waitForState`) was still waiting.
 *
 * @example await client.waitForState(id, 'final', { timeoutMs }).catch((e) => e instanceof ClientClosedError)
 */
export class ClientClosedError extends UsageError {
  override name = 'ClientClosedError' as const
  constructor(p: { operation: string }) {
    super('The client was closed.', {
      metaMessages: [`Operation: ${p.operation}`],
      code: 'SEALPOST_CLIENT_CLOSED',
    })
  }
}

/**
 * The relay refused a request with a wire error code (see docs/errors.md, "Relay wire codes").
 *
 * @example await transport.publish(envelope).catch((e) => e instanceof RelayRequestError && e.wireCode)
 */
export class RelayRequestError extends UsageError {
  override name = 'RelayRequestError' as const
  readonly wireCode: string
  constructor({ wireCode, request }: { wireCode: string; request: string }) {
    super('The relay refused the request.', {
      metaMessages: [`Relay code: ${wireCode}`, `Request: ${request}`],
      code: 'SEALPOST_RELAY_REJECTED',
    })
    this.wireCode = wireCode
  }
}

/**
 * The relay refused this device's authentication: unknown, revoked, a bad signature, or another deployment.
 *
 * @example new RelayAuthError({ wireCode: 'WRONG_DEPLOYMENT', url: 'ws://127.0.0.1:8787' })
 */
export class RelayAuthError extends UsageError {
  override name = 'RelayAuthError' as const
  readonly wireCode: string
  constructor({ wireCode, url }: { wireCode: string; url: string }) {
    super('The relay refused to authenticate this device.', {
      metaMessages: [`Relay code: ${wireCode}`, `Relay: ${url}`],
      code: 'SEALPOST_RELAY_AUTH_REFUSED',
    })
    this.wireCode = wireCode
  }
}

/**
 * The relay could not be reached within the connect timeout.
 *
 * @example new RelayUnreachableError({ url: 'ws://127.0.0.1:8787' })
 */
export class RelayUnreachableError extends InternalError {
  override name = 'RelayUnreachableError' as const
  constructor({ url, cause }: { url: string; cause?: unknown }) {
    super('The relay is unreachable.', {
      metaMessages: [`Relay: ${url}`],
      code: 'SEALPOST_RELAY_UNREACHABLE',
      cause,
    })
  }
}

/**
 * The transport was closed while a request was pending.
 *
 * @example await transport.publish(envelope).catch((e) => e instanceof TransportClosedError)
 */
export class TransportClosedError extends UsageError {
  override name = 'TransportClosedError' as const
  constructor() {
    super('The relay connection was closed by this client.', { code: 'SEALPOST_TRANSPORT_CLOSED' })
  }
}

/**
 * The relay transport cannot subscribe to a topic: the caller gave no preimage for it (SUBSCRIBE v2 carries one,
 * protocol §9.4), or one that does not hash to it.
 *
 * @example transport.subscribe({ topics, onDelivery, onError: (t, e) => e instanceof TopicPreimageUnknownError })
 */
export class TopicPreimageUnknownError extends UsageError {
  override name = 'TopicPreimageUnknownError' as const
  constructor({ topic, cause }: { topic: string; cause?: unknown }) {
    super('No preimage is known for this topic, so the relay cannot be asked for it.', {
      metaMessages: [`Topic: ${topic}`],
      code: 'SEALPOST_TOPIC_PREIMAGE_UNKNOWN',
      cause,
    })
  }
}

/**
 * The JSON is not a version-1 transcript.
 *
 * @example new TranscriptFormatError({ path: ['entries', 3, 'hash'], reason: 'Invalid string' })
 */
export class TranscriptFormatError extends CodecError {
  override name = 'TranscriptFormatError' as const
  /** Entry index the problem is in, if any. */
  readonly entry: number | null
  constructor({ path, reason }: { path: (string | number | symbol)[]; reason: string }) {
    const at = path.map(String).join('.') || 'transcript'
    super('Transcript is malformed.', {
      metaMessages: [`Field: ${at}`, `Reason: ${reason}`],
      code: 'SEALPOST_TRANSCRIPT_MALFORMED',
    })
    this.entry = path[0] === 'entries' && typeof path[1] === 'number' ? path[1] : null
  }
}

/**
 * No deployment is recorded under `--home` and none was given.
 *
 * @example new DeploymentNotFoundError({ path: '~/.sealpost/deployment.json' })
 */
export class DeploymentNotFoundError extends UsageError {
  override name = 'DeploymentNotFoundError' as const
  constructor({ path }: { path: string }) {
    super('No Sealpost deployment is configured.', {
      metaMessages: [
        `Looked for ${path}`,
        'Run `sealpost up` (local chain), or name the deployment file with --deployment FILE or SEALPOST_DEPLOYMENT',
      ],
      code: 'SEALPOST_NO_DEPLOYMENT',
    })
  }
}

/**
 * `deployment.json` under `--home` is not a deployment record.
 *
 * @example new DeploymentFormatError({ path: '~/.sealpost/deployment.json', reason: 'not valid JSON' })
 */
export class DeploymentFormatError extends UsageError {
  override name = 'DeploymentFormatError' as const
  constructor({ path, reason }: { path: string; reason: string }) {
    super('deployment.json is malformed.', {
      metaMessages: [`Path: ${path}`, reason],
      code: 'SEALPOST_BAD_DEPLOYMENT',
    })
  }
}

/**
 * A device name that cannot be a directory under `<home>/devices/`.
 *
 * @example new DeviceNameError({ name: '../x' })
 */
export class DeviceNameError extends UsageError {
  override name = 'DeviceNameError' as const
  constructor({ name }: { name: string }) {
    super('Device names use 1 to 32 letters, digits, "-" or "_".', {
      metaMessages: [`Got: ${JSON.stringify(name.slice(0, 40))}`],
      code: 'SEALPOST_BAD_DEVICE_NAME',
    })
  }
}

/**
 * Text that is not strict JSON (RFC 8259): empty, a syntax error, trailing data, or an object naming a key twice.
 *
 * @example new JsonSyntaxError({ offset: 12, reason: 'duplicate key "chainId"' })
 */
export class JsonSyntaxError extends CodecError {
  override name = 'JsonSyntaxError' as const
  readonly offset: number
  constructor({ offset, reason }: { offset: number; reason: string }) {
    super('Input is not strict JSON.', {
      metaMessages: [`At offset ${offset}: ${reason}`],
      code: 'SEALPOST_JSON_INVALID',
    })
    this.offset = offset
  }
}

/**
 * A file given to verify is JSON but neither a transcript nor a receipt (null, a number, an array…).
 *
 * @example new EvidenceKindError({ path: 'x.json', got: 'null' })
 */
export class EvidenceKindError extends CodecError {
  override name = 'EvidenceKindError' as const
  constructor({ path, got }: { path: string; got: string }) {
    super('File is neither a transcript nor a receipt.', {
      metaMessages: [`File: ${path}`, `Got: ${got}`],
      code: 'SEALPOST_EVIDENCE_UNKNOWN',
    })
  }
}

/**
 * A file given to verify cannot be read as UTF-8 text: missing, a directory, unreadable, too large, not UTF-8.
 *
 * @example new EvidenceFileError({ path: 'x.json', reason: 'no such file' })
 */
export class EvidenceFileError extends UsageError {
  override name = 'EvidenceFileError' as const
  constructor({ path, reason }: { path: string; reason: string }) {
    super('Cannot read the file to verify.', {
      metaMessages: [`File: ${path}`, `Reason: ${reason}`],
      code: 'SEALPOST_EVIDENCE_UNREADABLE',
    })
  }
}

/**
 * Verification was asked for without a pinned deployment: evidence is never checked against the contracts it names.
 *
 * @example new DeploymentRequiredError({ looked: ['~/.sealpost/deployment.json'] })
 */
export class DeploymentRequiredError extends UsageError {
  override name = 'DeploymentRequiredError' as const
  constructor({ looked }: { looked: string[] }) {
    super('Verification needs a pinned deployment.', {
      metaMessages: [
        ...looked.map((p) => `Looked for ${p}`),
        'Pass --deployment FILE, --home DIR holding deployment.json, or --registry ADDR --anchor ADDR',
      ],
      code: 'SEALPOST_DEPLOYMENT_REQUIRED',
    })
  }
}

/**
 * A statement proof was asked for a message this device's log does not hold: no `sent`/`received` entry with that
 * message id, or the entry index named is out of range or not a message.
 *
 * @example new ProofMessageUnknownError({ message: '0xab…', reason: 'no sent or received entry has this message id' })
 */
export class ProofMessageUnknownError extends UsageError {
  override name = 'ProofMessageUnknownError' as const
  constructor({ message, reason }: { message: string; reason: string }) {
    super("No such message in this device's log.", {
      metaMessages: [
        `Message: ${message}`,
        `Reason: ${reason}`,
        'Message ids: `sealpost send` prints one; `sealpost inbox --json` lists received ones; entries: `sealpost log export`',
      ],
      code: 'SEALPOST_PROOF_UNKNOWN_MESSAGE',
    })
  }
}

/**
 * A statement proof was asked for a message whose receipt this device's log does not hold yet (not anchored, or the
 * receipt not fetched).
 *
 * @example new ProofNotAnchoredError({ message: '0xab…', entry: 7 })
 */
export class ProofNotAnchoredError extends UsageError {
  override name = 'ProofNotAnchoredError' as const
  constructor({ message, entry }: { message: string; entry: number }) {
    super('The message is not anchored yet: the log holds no receipt for it.', {
      metaMessages: [
        `Message: ${message} (log entry ${entry})`,
        'Wait for it: `sealpost send --wait anchored` for a message you send; receipts arrive while the client is online (`sealpost inbox`)',
      ],
      code: 'SEALPOST_PROOF_NOT_ANCHORED',
    })
  }
}
