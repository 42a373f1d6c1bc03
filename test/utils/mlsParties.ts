/** Test helper: devices with real MLS and P-256 keys, a registry in memory, and a two-party group (no chain, no I/O). */
import { randomBytes } from 'node:crypto'
import { type ClientState, createCommit, createGroup, zeroOutUint8Array } from 'ts-mls'
import { type Address, bytesToHex, type Hex, hexToBytes } from 'viem'
import { deviceIdOf } from '../../src/chain/registryAuthorizations.js'
import type { DeviceRecord } from '../../src/chain/registryWatcher.js'
import type { PolicyInput } from '../../src/client/conversationPolicy.js'
import {
  conversationExtensions,
  createKeyPackage,
  encodeMls,
  encodePrivateKeyPackage,
  mlsClientConfig,
  registryAuthService,
} from '../../src/client/mls.js'
import type { ChainView } from '../../src/client/verifyStatement.js'
import { getMlsCiphersuite } from '../../src/crypto/mls.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { directContext, directGroupId } from '../../src/protocol/conversationContext.js'
import type { DeviceIdentity } from '../../src/protocol/credential.js'
import { createEnvelope, type Envelope } from '../../src/protocol/envelope.js'
import type { StoredKeyPackage } from '../../src/store/deviceStore.js'

export const CHAIN_ID = 31337
export const REGISTRY: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
export const BLOCK = { number: 10n, hash: `0x${'0b'.repeat(32)}` as Hex }

export type Party = {
  account: Address
  deviceId: Hex
  identity: DeviceIdentity
  signingKey: DeviceSigningKey
  mls: { publicKey: Uint8Array; signKey: Uint8Array }
}

/** Devices registered at block 1 of an in-memory registry, and a chain view over it whose block 10 is now. */
export async function mlsWorld() {
  const impl = await getMlsCiphersuite()
  const registry = new Map<string, DeviceRecord>()
  const config = mlsClientConfig(
    registryAuthService({ chainId: CHAIN_ID, lookup: async (id) => registry.get(id.toLowerCase()) }),
  )
  const timestamp = BigInt(Math.floor(Date.now() / 1000))
  const chain: ChainView = {
    chainId: CHAIN_ID,
    device: async (id) => registry.get(id.toLowerCase()),
    block: async (n) => (n === BLOCK.number ? { hash: BLOCK.hash, timestamp } : undefined),
  }
  async function party(account: Address): Promise<Party> {
    const signingKey = DeviceSigningKey.generate()
    const deviceId = deviceIdOf(signingKey.p256X, signingKey.p256Y)
    const mls = await impl.signature.keygen()
    registry.set(deviceId.toLowerCase(), {
      deviceId,
      account,
      p256X: signingKey.p256X,
      p256Y: signingKey.p256Y,
      mlsKey: bytesToHex(mls.publicKey),
      addedAt: 1n,
      addedTx: `0x${'aa'.repeat(32)}`,
    })
    return { account, deviceId, identity: { chainId: CHAIN_ID, account, deviceId }, signingKey, mls }
  }
  /** `creator` opens a group with `invitee`: the creator's state, the Welcome envelope and the invitee's key package. */
  async function group(
    creator: Party,
    invitee: Party,
  ): Promise<{ state: ClientState; welcome: Envelope; keyPackage: StoredKeyPackage }> {
    const own = await createKeyPackage({ identity: creator.identity, mls: creator.mls, impl })
    const theirs = await createKeyPackage({ identity: invitee.identity, mls: invitee.mls, impl })
    const pair = {
      chainId: CHAIN_ID,
      registry: REGISTRY,
      a: creator.account,
      b: invitee.account,
      nonce: bytesToHex(randomBytes(32)),
    }
    const state = await createGroup(
      hexToBytes(directGroupId(pair)),
      own.publicPackage,
      own.privatePackage,
      conversationExtensions(directContext(pair)),
      impl,
      config,
    )
    const commit = await createCommit(
      { state, cipherSuite: impl },
      {
        extraProposals: [{ proposalType: 'add', add: { keyPackage: theirs.publicPackage } }],
        ratchetTreeExtension: true,
      },
    )
    commit.consumed.forEach(zeroOutUint8Array)
    if (!commit.welcome) throw new Error('no Welcome')
    const welcome = createEnvelope({
      kind: 'welcome',
      topic: `0x${'00'.repeat(32)}`,
      payload: encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome: commit.welcome }),
    })
    const keyPackage: StoredKeyPackage = {
      ref: theirs.ref,
      publicPackage: encodeMls({
        version: 'mls10',
        wireformat: 'mls_key_package',
        keyPackage: theirs.publicPackage,
      }),
      privatePackage: encodePrivateKeyPackage(theirs.privatePackage),
    }
    return { state: commit.newState, welcome, keyPackage }
  }
  /** The conversation policy's inputs as `party` judges: this chain, REGISTRY, the in-memory registry. */
  function policy(party: Party): PolicyInput {
    return {
      self: party.account,
      deployment: { chainId: CHAIN_ID, keyRegistry: REGISTRY },
      registry: { device: (id) => registry.get(id.toLowerCase()) },
    }
  }
  return { impl, config, chain, registry, party, group, policy }
}
