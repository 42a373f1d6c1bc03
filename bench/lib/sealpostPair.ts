/** Two Sealpost devices in a 1:1 MLS group, and the seal/open pipeline of one application message, without I/O. */
import { randomBytes } from 'node:crypto'
import {
  type CiphersuiteImpl,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  emptyPskIndex,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls'
import { bytesToHex, type Hex, keccak256, toHex } from 'viem'
import type { DeviceRecord } from '../../src/chain/registryWatcher.js'
import {
  createKeyPackage,
  decodeMls,
  encodeMls,
  mlsClientConfig,
  registryAuthService,
} from '../../src/client/mls.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { signStatement, verifyStatementSignature } from '../../src/crypto/statementSignature.js'
import { decodeApplicationContent, encodeApplicationContent } from '../../src/protocol/content.js'
import type { DeviceIdentity } from '../../src/protocol/credential.js'
import { createEnvelope, decodeEnvelope, encodeEnvelope } from '../../src/protocol/envelope.js'
import { hashBody, type Statement } from '../../src/protocol/statement.js'

const CHAIN_ID = 31337

/** A device as the benchmark needs it: identity, P-256 statement key and MLS signature key. */
export type BenchDevice = {
  identity: DeviceIdentity
  signingKey: DeviceSigningKey
  mls: { publicKey: Uint8Array; signKey: Uint8Array }
  record: DeviceRecord
}

/** A device with fresh keys; its registry record is what the authentication service will find. */
export async function benchDevice(impl: CiphersuiteImpl, index: number): Promise<BenchDevice> {
  const signingKey = DeviceSigningKey.generate()
  const mls = await impl.signature.keygen()
  const account = `0x${(index + 1).toString(16).padStart(40, '0')}` as Hex
  const deviceId = keccak256(signingKey.publicKey)
  const identity: DeviceIdentity = { chainId: CHAIN_ID, account, deviceId }
  const record: DeviceRecord = {
    account,
    deviceId,
    p256X: signingKey.p256X,
    p256Y: signingKey.p256Y,
    mlsKey: bytesToHex(mls.publicKey),
    addedAt: 1n,
    addedTx: keccak256(toHex(index)),
  }
  return { identity, signingKey, mls, record }
}

/** An authentication service over an in-memory registry of `devices`. */
export function benchConfig(devices: Iterable<BenchDevice>) {
  const byId = new Map<Hex, DeviceRecord>()
  for (const d of devices) byId.set(d.identity.deviceId, d.record)
  return {
    byId,
    config: mlsClientConfig(registryAuthService({ chainId: CHAIN_ID, lookup: async (id) => byId.get(id) })),
  }
}

/** One direction of a Sealpost 1:1 conversation: `roundTrip(body)` seals as Alice and opens as Bob. */
export type SealpostPair = { roundTrip(body: Uint8Array): Promise<void> }

/**
 * Builds Alice and Bob, a group with both, and the full per-message pipeline Sealpost runs: statement (P-256
 * signature) + content + MLS application message + envelope, then decode, MLS processing and statement check.
 * Storage (SQLite, group state serialisation) and the network are not part of it.
 */
export async function sealpostPair(
  aliceImpl: CiphersuiteImpl,
  bobImpl: CiphersuiteImpl,
): Promise<SealpostPair> {
  const alice = await benchDevice(aliceImpl, 0)
  const bob = await benchDevice(bobImpl, 1)
  const { config } = benchConfig([alice, bob])
  const groupId = new Uint8Array(randomBytes(32))
  const own = await createKeyPackage({ identity: alice.identity, mls: alice.mls, impl: aliceImpl })
  const bobKp = await createKeyPackage({ identity: bob.identity, mls: bob.mls, impl: bobImpl })
  let a: ClientState = await createGroup(
    groupId,
    own.publicPackage,
    own.privatePackage,
    [],
    aliceImpl,
    config,
  )
  const commit = await createCommit(
    { state: a, cipherSuite: aliceImpl },
    {
      extraProposals: [{ proposalType: 'add', add: { keyPackage: bobKp.publicPackage } }],
      ratchetTreeExtension: true,
    },
  )
  a = commit.newState
  let b: ClientState = await joinGroup(
    commit.welcome!,
    bobKp.publicPackage,
    bobKp.privatePackage,
    emptyPskIndex,
    bobImpl,
    undefined,
    undefined,
    config,
  )
  const topic = bytesToHex(groupId)
  const block = { number: 1n, hash: keccak256(toHex('block')) }
  let seq = 0n
  return {
    async roundTrip(body) {
      const statement: Statement = {
        chainId: CHAIN_ID,
        from: alice.identity.account,
        device: alice.identity.deviceId,
        conversation: topic,
        seq: ++seq,
        sentAt: Date.now(),
        block,
        bodyHash: hashBody(body),
        salt: bytesToHex(randomBytes(32)),
      }
      const signed = signStatement({ statement, key: alice.signingKey })
      const content = encodeApplicationContent({ signed, contentType: 'text', body })
      const created = await createApplicationMessage(a, content, aliceImpl)
      a = created.newState
      const wire = encodeEnvelope(
        createEnvelope({
          kind: 'application',
          topic,
          payload: encodeMls({
            version: 'mls10',
            wireformat: 'mls_private_message',
            privateMessage: created.privateMessage,
          }),
        }),
      )
      // Bob's side.
      const envelope = decodeEnvelope(wire)
      const message = decodeMls(envelope.payload, envelope.id)
      if (message.wireformat !== 'mls_private_message') throw new Error('expected a private message')
      const processed = await processPrivateMessage(b, message.privateMessage, emptyPskIndex, bobImpl)
      b = processed.newState
      if (processed.kind !== 'applicationMessage') throw new Error('expected an application message')
      const opened = decodeApplicationContent(processed.message)
      if (!verifyStatementSignature({ signed: opened.signed, publicKey: alice.signingKey.publicKey }))
        throw new Error('statement signature does not verify')
      if (opened.signed.statement.bodyHash !== hashBody(opened.body)) throw new Error('body hash mismatch')
    },
  }
}
