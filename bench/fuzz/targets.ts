/** Every decoder of untrusted input the fuzzer drives, each with valid seed inputs to mutate. */
import { type Address, type Hex, toHex } from 'viem'
import { createKeyPackage, decodeMls, encodeMls } from '../../src/client/mls.js'
import { parseTranscript } from '../../src/client/transcriptFormat.js'
import { getMlsCiphersuite } from '../../src/crypto/mls.js'
import { decodeApplicationContent, encodeApplicationContent } from '../../src/protocol/content.js'
import {
  type ConversationContext,
  decodeConversationContext,
  directContext,
  encodeConversationContext,
} from '../../src/protocol/conversationContext.js'
import { decodeDeviceIdentity, encodeDeviceIdentity } from '../../src/protocol/credential.js'
import { decodeDeliveryReceiptBody, encodeDeliveryReceiptBody } from '../../src/protocol/deliveryReceipt.js'
import { createEnvelope, decodeEnvelope, encodeEnvelope, envelopeKinds } from '../../src/protocol/envelope.js'
import {
  decodeLogHeadStatement,
  encodeLogHeadStatement,
  type LogHeadStatement,
} from '../../src/protocol/logHeadStatement.js'
import {
  decodeReceipt,
  encodeReceipt,
  type Receipt,
  receiptFromJson,
  receiptToJson,
} from '../../src/protocol/receipt.js'
import {
  type ClientFrame,
  decodeClientFrame,
  decodeRelayFrame,
  encodeClientFrame,
  encodeRelayFrame,
  type RelayFrame,
} from '../../src/protocol/relayFrames.js'
import {
  decodeSignedStatement,
  decodeStatement,
  encodeSignedStatement,
  encodeStatement,
  parseCaip10,
  type SignedStatement,
  type Statement,
} from '../../src/protocol/statement.js'
import { decodeTopicPreimage, encodeTopicPreimage, type TopicPreimage } from '../../src/protocol/topics.js'
import { decodeTreeChunk, encodeTreeChunks } from '../../src/protocol/welcomeTree.js'

/** How a target's inputs are made: mutated bytes, mutated JSON values, or mutated text. */
export type FuzzInputKind = 'bytes' | 'json' | 'string'

/** One decoder under fuzzing: it must return a value or throw a `BaseError` subclass for any input. */
export type FuzzTarget = {
  name: string
  /** The function called, as a reader finds it in the source. */
  decoder: string
  kind: FuzzInputKind
  seeds: readonly unknown[]
  decode(input: unknown): unknown
}

const h = (byte: number, n: number): Hex => `0x${byte.toString(16).padStart(2, '0').repeat(n)}`
const account: Address = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const other: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

const statement: Statement = {
  chainId: 31337,
  from: account,
  device: h(0x11, 32),
  conversation: h(0x22, 32),
  seq: 7n,
  sentAt: 1_700_000_000_000,
  block: { number: 123n, hash: h(0x33, 32) },
  bodyHash: h(0x44, 32),
  salt: h(0x55, 32),
}
const statementBytes = encodeStatement(statement)
const signed: SignedStatement = { statement, bytes: statementBytes, signature: h(0x66, 64) }
const statementV2: Statement = {
  ...statement,
  version: 2,
  registry: other,
  epoch: 3n,
  recipientsRoot: h(0x45, 32),
}
const statementV2Bytes = encodeStatement(statementV2)
const signedV2: SignedStatement = { statement: statementV2, bytes: statementV2Bytes, signature: h(0x66, 64) }

const logHead: LogHeadStatement = {
  kind: 'head',
  chainId: 31337,
  registry: other,
  account,
  device: h(0x11, 32),
  logIndex: 31,
  head: h(0x23, 32),
  prev: undefined,
  block: { number: 123n, hash: h(0x33, 32) },
}
const logExport: LogHeadStatement = {
  ...logHead,
  kind: 'export',
  logIndex: 40,
  prev: { index: 31, head: h(0x23, 32) },
}

const direct = directContext({ chainId: 31337, registry: other, a: other, b: account, nonce: h(0x56, 32) })
const group: ConversationContext = {
  kind: 'group',
  chainId: 31337,
  registry: other,
  nonce: h(0x57, 32),
  members: direct.members,
  admins: direct.members.slice(0, 1),
  name: 'ops ✓',
}

const receiptV1: Receipt = {
  chainId: 31337,
  contract: other,
  root: h(0x77, 32),
  leaf: h(0x88, 32),
  index: 2,
  treeSize: 5,
  path: [h(0x99, 32), h(0xaa, 32), h(0xbb, 32)],
  txHash: h(0xcc, 32),
  blockNumber: 456n,
  blockTimestamp: 1_700_000_000n,
}
const receiptV2: Receipt = { ...receiptV1, submitter: account }

const topicPreimages: TopicPreimage[] = [
  { kind: 'inbox', deviceId: h(0x11, 32) },
  { kind: 'direct', chainId: 31337, registry: other, a: account, b: other, nonce: h(0x57, 32) },
  { kind: 'group', chainId: 31337, registry: other, nonce: h(0x57, 32) },
  { kind: 'welcome-tree', welcomeDigest: h(0x5b, 32) },
]

const clientFrames: ClientFrame[] = [
  { type: 'auth', account, deviceId: h(0x11, 32), signature: h(0x66, 64) },
  { type: 'publish', reqId: 1, envelope: new Uint8Array(100).fill(7) },
  {
    type: 'subscribe',
    reqId: 2,
    topic: h(0x22, 32),
    after: 3n,
    preimage: { kind: 'inbox', deviceId: h(0x11, 32) },
  },
  {
    type: 'subscribe',
    reqId: 8,
    topic: h(0x23, 32),
    after: 0n,
    preimage: { kind: 'direct', chainId: 31337, registry: other, a: account, b: other, nonce: h(0x57, 32) },
  },
  { type: 'unsubscribe', reqId: 3, topic: h(0x22, 32) },
  { type: 'ack', topic: h(0x22, 32), seq: 9n },
  { type: 'kp-put', reqId: 4, envelopes: [new Uint8Array(40).fill(1), new Uint8Array(3)] },
  { type: 'kp-take', reqId: 5, deviceId: h(0x11, 32) },
  { type: 'kp-count', reqId: 6, deviceId: h(0x11, 32) },
  { type: 'leaf', reqId: 7, topic: h(0x22, 32), leaf: h(0x88, 32) },
]
const relayFrames: RelayFrame[] = [
  {
    type: 'challenge',
    challenge: h(0x12, 32),
    expiresAt: 1_700_000_000_000,
    chainId: 31337,
    registry: other,
  },
  { type: 'auth-ok', account, deviceId: h(0x11, 32) },
  { type: 'ok', reqId: 1, value: 42n },
  { type: 'error', reqId: 2, code: 'RELAY_FORBIDDEN' },
  { type: 'deliver', topic: h(0x22, 32), seq: 5n, envelope: new Uint8Array(80).fill(9) },
  { type: 'kp', reqId: 3, envelope: new Uint8Array(30).fill(2) },
  { type: 'kp', reqId: 4, envelope: undefined },
  { type: 'acks', topic: h(0x22, 32), acks: [{ deviceId: h(0x11, 32), seq: 4n }] },
  {
    type: 'expired',
    topic: h(0x22, 32),
    seq: 6n,
    id: h(0x13, 32),
    expiredAt: 1_700_000_000_000,
    recipients: [h(0x14, 32)],
  },
]

const transcript = {
  version: 1,
  chainId: 31337,
  keyRegistry: other,
  messageAnchor: other,
  account,
  deviceId: h(0x11, 32),
  exportedAt: 1_700_000_100_000,
  entries: [
    {
      index: 0,
      at: 1_700_000_000_000,
      kind: 'sent',
      data: { id: h(0x13, 32), statement: toHex(statementBytes), text: 'hi' },
      prevHash: h(0, 32),
      hash: h(0x21, 32),
    },
    {
      index: 1,
      at: 1_700_000_000_500,
      kind: 'receipt',
      data: { receipt: receiptToJson(receiptV2) },
      prevHash: h(0x21, 32),
      hash: h(0x23, 32),
    },
    {
      index: 2,
      at: 1_700_000_001_000,
      kind: 'log-anchor',
      data: { head: h(0x23, 32), index: 1 },
      prevHash: h(0x23, 32),
      hash: h(0x24, 32),
    },
  ],
}

/** A valid MLS message to start from: a real key package of a Sealpost device identity. */
async function mlsSeeds(): Promise<Uint8Array[]> {
  const impl = await getMlsCiphersuite()
  const keys = await impl.signature.keygen()
  const { publicPackage } = await createKeyPackage({
    identity: { chainId: 31337, account, deviceId: h(0x11, 32) },
    mls: { publicKey: keys.publicKey, signKey: keys.signKey },
    impl,
  })
  return [encodeMls({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage })]
}

const text = (input: unknown) => input as string
const bytes = (input: unknown) => input as Uint8Array

/**
 * Every decoder that reads bytes or documents from outside the process: wire formats (envelope, statement v1/v2,
 * signed statement v1/v2, log-head and log-export statements, the conversation context group extension, content,
 * receipt v1/v2, client and relay frames, credential identity, MLS messages) and files a user is handed (receipt JSON, transcript as text and as a value, CAIP-10 accounts).
 *
 * @example const targets = await fuzzTargets(); targets.map((t) => t.name)
 */
export async function fuzzTargets(): Promise<FuzzTarget[]> {
  return [
    {
      name: 'envelope',
      decoder: 'decodeEnvelope',
      kind: 'bytes',
      seeds: envelopeKinds.map((kind, i) =>
        encodeEnvelope(createEnvelope({ kind, topic: h(0x22, 32), payload: new Uint8Array(20 * i).fill(i) })),
      ),
      decode: (input) => decodeEnvelope(bytes(input)),
    },
    {
      name: 'statement',
      decoder: 'decodeStatement',
      kind: 'bytes',
      seeds: [statementBytes],
      decode: (input) => decodeStatement(bytes(input)),
    },
    {
      name: 'signed-statement',
      decoder: 'decodeSignedStatement',
      kind: 'bytes',
      seeds: [encodeSignedStatement(signed)],
      decode: (input) => decodeSignedStatement(bytes(input)),
    },
    {
      name: 'statement-v2',
      decoder: 'decodeStatement',
      kind: 'bytes',
      seeds: [statementV2Bytes],
      decode: (input) => decodeStatement(bytes(input)),
    },
    {
      name: 'signed-statement-v2',
      decoder: 'decodeSignedStatement',
      kind: 'bytes',
      seeds: [encodeSignedStatement(signedV2)],
      decode: (input) => decodeSignedStatement(bytes(input)),
    },
    {
      name: 'log-head-statement',
      decoder: 'decodeLogHeadStatement',
      kind: 'bytes',
      seeds: [encodeLogHeadStatement(logHead), encodeLogHeadStatement(logExport)],
      decode: (input) => decodeLogHeadStatement(bytes(input)),
    },
    {
      name: 'conversation-context',
      decoder: 'decodeConversationContext',
      kind: 'bytes',
      seeds: [encodeConversationContext(direct), encodeConversationContext(group)],
      decode: (input) => decodeConversationContext(bytes(input)),
    },
    {
      name: 'delivery-receipt-body',
      decoder: 'decodeDeliveryReceiptBody',
      kind: 'bytes',
      seeds: [encodeDeliveryReceiptBody([h(0x58, 32), h(0x59, 32)])],
      decode: (input) => decodeDeliveryReceiptBody(bytes(input)),
    },
    {
      name: 'welcome-tree-chunk',
      decoder: 'decodeTreeChunk',
      kind: 'bytes',
      seeds: encodeTreeChunks(new Uint8Array(3000).fill(0x5a)),
      decode: (input) => decodeTreeChunk(bytes(input)),
    },
    {
      name: 'content',
      decoder: 'decodeApplicationContent',
      kind: 'bytes',
      seeds: [
        encodeApplicationContent({
          signed,
          contentType: 'text',
          body: new TextEncoder().encode('hello, Bob'),
        }),
        encodeApplicationContent({ signed, contentType: 'text', body: new Uint8Array(0) }),
      ],
      decode: (input) => decodeApplicationContent(bytes(input)),
    },
    {
      name: 'receipt-v1',
      decoder: 'decodeReceipt',
      kind: 'bytes',
      seeds: [encodeReceipt(receiptV1)],
      decode: (input) => decodeReceipt(bytes(input)),
    },
    {
      name: 'receipt-v2',
      decoder: 'decodeReceipt',
      kind: 'bytes',
      seeds: [encodeReceipt(receiptV2)],
      decode: (input) => decodeReceipt(bytes(input)),
    },
    {
      name: 'receipt-json',
      decoder: 'receiptFromJson',
      kind: 'json',
      seeds: [receiptToJson(receiptV1), receiptToJson(receiptV2)],
      decode: (input) => receiptFromJson(input),
    },
    {
      name: 'topic-preimage',
      decoder: 'decodeTopicPreimage',
      kind: 'bytes',
      seeds: topicPreimages.map(encodeTopicPreimage),
      decode: (input) => decodeTopicPreimage(bytes(input)),
    },
    {
      name: 'client-frame',
      decoder: 'decodeClientFrame',
      kind: 'bytes',
      seeds: clientFrames.map(encodeClientFrame),
      decode: (input) => decodeClientFrame(bytes(input)),
    },
    {
      name: 'relay-frame',
      decoder: 'decodeRelayFrame',
      kind: 'bytes',
      seeds: relayFrames.map(encodeRelayFrame),
      decode: (input) => decodeRelayFrame(bytes(input)),
    },
    {
      name: 'credential',
      decoder: 'decodeDeviceIdentity',
      kind: 'bytes',
      seeds: [encodeDeviceIdentity({ chainId: 31337, account, deviceId: h(0x11, 32) })],
      decode: (input) => decodeDeviceIdentity(bytes(input)),
    },
    {
      name: 'mls-message',
      decoder: 'decodeMls',
      kind: 'bytes',
      seeds: await mlsSeeds(),
      decode: (input) => decodeMls(bytes(input)),
    },
    {
      name: 'transcript-text',
      decoder: 'parseTranscript',
      kind: 'string',
      seeds: [JSON.stringify(transcript, null, 2)],
      decode: (input) => parseTranscript(text(input)),
    },
    {
      name: 'transcript-json',
      decoder: 'parseTranscript',
      kind: 'json',
      seeds: [transcript],
      decode: (input) => parseTranscript(input),
    },
    {
      name: 'caip10',
      decoder: 'parseCaip10',
      kind: 'string',
      seeds: [`eip155:31337:${account}`, `eip155:1:${account.toLowerCase()}`],
      decode: (input) => parseCaip10(text(input)),
    },
  ]
}
