/** Account and device identities on disk under `--home`, every secret encrypted at rest. */
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes } from 'viem'
import { generatePrivateKey, type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { deviceIdOf } from '../chain/registryAuthorizations.js'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../crypto/mls.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { UsageError } from '../errors.js'
import {
  decryptSecret,
  encryptSecret,
  type KeystoreFile,
  readKeystoreFile,
  writeKeystoreFile,
} from '../store/keystore.js'
import { DeviceNameError } from './errors.js'

/** scrypt cost parameters; the default (N = 2^17, r = 8, p = 1) suits interactive use. */
export type KdfParams = { N: number; r: number; p: number }

const ACCOUNT_KIND = 'sealpost-account'
const DEVICE_KIND = 'sealpost-device'

/** A device's secrets once unlocked. */
export type DeviceKeys = {
  name: string
  account: Address
  deviceId: Hex
  signingKey: DeviceSigningKey
  mls: { ciphersuite: string; publicKey: Uint8Array; signKey: Uint8Array }
  /** 32 bytes that seal the device's SQLite rows (group states, key packages, messages). */
  storageKey: Uint8Array
  dir: string
}

/** The public half of a device, readable without the passphrase. */
export type DevicePublicInfo = {
  name: string
  account: Address
  deviceId: Hex
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
}

/** No identity exists under the given home. */
export class IdentityNotFoundError extends UsageError {
  override name = 'IdentityNotFoundError' as const
  constructor({ path }: { path: string }) {
    super('No Sealpost identity found.', {
      metaMessages: [`Looked in: ${path}`, 'Create one with `sealpost id new`.'],
      code: 'SEALPOST_IDENTITY_NOT_FOUND',
    })
  }
}

/** An identity already exists where a new one was to be written. */
export class IdentityExistsError extends UsageError {
  override name = 'IdentityExistsError' as const
  constructor({ path }: { path: string }) {
    super('An identity already exists here; refusing to overwrite it.', {
      metaMessages: [`Path: ${path}`],
      code: 'SEALPOST_IDENTITY_EXISTS',
    })
  }
}

/** Path of the account key file. */
export const accountPath = (home: string) => join(home, 'account.json')
/** Directory of a named device. */
export const deviceDir = (home: string, name: string) => join(home, 'devices', name)
const devicePath = (home: string, name: string) => join(deviceDir(home, name), 'device.json')

/**
 * Creates and stores a new account key (secp256k1), or imports `privateKey`.
 *
 * @example const account = await createAccount({ home, passphrase })
 */
export async function createAccount({
  home,
  passphrase,
  privateKey = generatePrivateKey(),
  kdf,
}: {
  home: string
  passphrase: string
  privateKey?: Hex
  kdf?: KdfParams | undefined
}): Promise<LocalAccount> {
  const path = accountPath(home)
  if (existsSync(path)) throw new IdentityExistsError({ path })
  const account = privateKeyToAccount(privateKey)
  const file = await encryptSecret({
    plaintext: hexToBytes(privateKey),
    passphrase,
    kind: ACCOUNT_KIND,
    meta: { address: account.address },
    ...(kdf ? { kdfParams: kdf } : {}),
  })
  writeKeystoreFile(path, file)
  return account
}

/**
 * Unlocks the account key stored under `home`.
 *
 * @example const account = await loadAccount({ home, passphrase })
 */
export async function loadAccount({
  home,
  passphrase,
}: {
  home: string
  passphrase: string
}): Promise<LocalAccount> {
  const file = readIfExists(accountPath(home))
  const secret = await decryptSecret({ file, passphrase, kind: ACCOUNT_KIND })
  return privateKeyToAccount(bytesToHex(secret))
}

/**
 * Reads the account address without unlocking anything.
 *
 * @example const address = readAccountAddress(home)
 */
export function readAccountAddress(home: string): Address {
  const file = readIfExists(accountPath(home))
  return getAddress(file.meta?.address ?? '')
}

/**
 * Generates a device: an ECDSA P-256 key (statements, relay auth), an MLS Ed25519 leaf key, and a storage key.
 *
 * @example const device = await createDevice({ home, name: 'laptop', account: account.address, passphrase })
 */
export async function createDevice({
  home,
  name = 'default',
  account,
  passphrase,
  ciphersuite: requestedSuite,
  kdf,
}: {
  home: string
  name?: string
  account: Address
  passphrase: string
  ciphersuite?: string | undefined
  kdf?: KdfParams | undefined
}): Promise<DeviceKeys> {
  assertDeviceName(name)
  const path = devicePath(home, name)
  if (existsSync(path)) throw new IdentityExistsError({ path })
  const keys = await generateDeviceKeys({
    name,
    account: getAddress(account),
    ciphersuite: requestedSuite ?? DEFAULT_CIPHERSUITE,
    storageKey: new Uint8Array(randomBytes(32)),
    dir: deviceDir(home, name),
  })
  await writeDeviceFile(path, keys, passphrase, kdf)
  return keys
}

/** New P-256 and MLS keys for a device; everything else (name, account, suite, storage key, directory) as given. */
async function generateDeviceKeys(
  base: Omit<DeviceKeys, 'deviceId' | 'signingKey' | 'mls'> & { ciphersuite: string },
): Promise<DeviceKeys> {
  const { ciphersuite, ...rest } = base
  const signingKey = DeviceSigningKey.generate()
  const mlsPair = await (await getMlsCiphersuite(ciphersuite)).signature.keygen()
  return {
    ...rest,
    deviceId: deviceIdOf(signingKey.p256X, signingKey.p256Y),
    signingKey,
    mls: { ciphersuite, publicKey: mlsPair.publicKey, signKey: mlsPair.signKey },
  }
}

/** Encrypts a device's secrets under `passphrase` and writes its key file atomically (protocol §7.1). */
async function writeDeviceFile(
  path: string,
  keys: DeviceKeys,
  passphrase: string,
  kdf: KdfParams | undefined,
): Promise<void> {
  const secrets = {
    p256Pkcs8: bytesToHex(keys.signingKey.exportPkcs8()),
    mlsSignKey: bytesToHex(keys.mls.signKey),
    mlsPublicKey: bytesToHex(keys.mls.publicKey),
    storageKey: bytesToHex(keys.storageKey),
    ciphersuite: keys.mls.ciphersuite,
  }
  const file = await encryptSecret({
    plaintext: new TextEncoder().encode(JSON.stringify(secrets)),
    passphrase,
    kind: DEVICE_KIND,
    meta: {
      name: keys.name,
      account: keys.account,
      deviceId: keys.deviceId,
      p256X: keys.signingKey.p256X,
      p256Y: keys.signingKey.p256Y,
      mlsKey: secrets.mlsPublicKey,
    },
    ...(kdf ? { kdfParams: kdf } : {}),
  })
  writeKeystoreFile(path, file)
}

/** The key file of a rotation in progress: written before the registry transaction, renamed over `device.json` after. */
const rotationPath = (dir: string) => join(dir, 'device.rotating.json')

/**
 * Starts a key rotation of `device` (docs/key-management.md §6): new P-256 and MLS keys under the same name, account,
 * ciphersuite and storage key, written encrypted (with the current key file's scrypt cost) to `device.rotating.json`
 * beside the current key file; a pending rotation's file is replaced. The current keys stay in use until
 * {@link completeDeviceRotation}.
 *
 * @example const next = await prepareDeviceRotation({ device, passphrase })
 */
export async function prepareDeviceRotation({
  device,
  passphrase,
}: {
  device: DeviceKeys
  passphrase: string
}): Promise<DeviceKeys> {
  const { N, r, p } = readIfExists(join(device.dir, 'device.json')).kdf
  const { deviceId: _id, signingKey: _key, mls, ...base } = device
  const next = await generateDeviceKeys({ ...base, ciphersuite: mls.ciphersuite })
  await writeDeviceFile(rotationPath(device.dir), next, passphrase, { N, r, p })
  return next
}

/**
 * Finishes a rotation once the registry holds the new device: the new key file replaces `device.json` in one rename,
 * so the old keys are gone from disk.
 *
 * @example completeDeviceRotation(device.dir)
 */
export function completeDeviceRotation(dir: string): void {
  renameSync(rotationPath(dir), join(dir, 'device.json'))
}

/**
 * Unlocks the new keys of a rotation that was prepared but not completed (the process stopped between the registry
 * transaction and the rename), or returns undefined when there is none.
 *
 * @example const next = await loadPendingRotation({ device, passphrase })
 */
export async function loadPendingRotation({
  device,
  passphrase,
}: {
  device: Pick<DeviceKeys, 'dir' | 'name'>
  passphrase: string
}): Promise<DeviceKeys | undefined> {
  const path = rotationPath(device.dir)
  return existsSync(path) ? unlockDeviceFile(path, device, passphrase) : undefined
}

/**
 * Unlocks a device's keys.
 *
 * @example const device = await loadDevice({ home, name: 'default', passphrase })
 */
export async function loadDevice({
  home,
  name = 'default',
  passphrase,
}: {
  home: string
  name?: string
  passphrase: string
}): Promise<DeviceKeys> {
  assertDeviceName(name)
  return unlockDeviceFile(devicePath(home, name), { name, dir: deviceDir(home, name) }, passphrase)
}

async function unlockDeviceFile(
  path: string,
  { name, dir }: Pick<DeviceKeys, 'dir' | 'name'>,
  passphrase: string,
): Promise<DeviceKeys> {
  const file = readIfExists(path)
  const secrets = JSON.parse(
    new TextDecoder().decode(await decryptSecret({ file, passphrase, kind: DEVICE_KIND })),
  )
  const signingKey = DeviceSigningKey.fromPkcs8(hexToBytes(secrets.p256Pkcs8))
  return {
    name,
    account: getAddress(file.meta?.account ?? ''),
    deviceId: deviceIdOf(signingKey.p256X, signingKey.p256Y),
    signingKey,
    mls: {
      ciphersuite: secrets.ciphersuite,
      publicKey: hexToBytes(secrets.mlsPublicKey),
      signKey: hexToBytes(secrets.mlsSignKey),
    },
    storageKey: hexToBytes(secrets.storageKey),
    dir,
  }
}

/**
 * Lists the devices stored under `home` with their public keys (no passphrase needed).
 *
 * @example for (const d of listDevices(home)) console.log(d.name, d.deviceId)
 */
export function listDevices(home: string): DevicePublicInfo[] {
  const root = join(home, 'devices')
  if (!existsSync(root)) return []
  return readdirSync(root)
    .filter((name) => existsSync(devicePath(home, name)))
    .map((name) => {
      const meta = readKeystoreFile(devicePath(home, name)).meta ?? {}
      return {
        name,
        account: getAddress(meta.account ?? ''),
        deviceId: meta.deviceId as Hex,
        p256X: meta.p256X as Hex,
        p256Y: meta.p256Y as Hex,
        mlsKey: meta.mlsKey as Hex,
      }
    })
}

/** Returns whether a device of that name exists under `home`. */
export function deviceExists(home: string, name = 'default'): boolean {
  return existsSync(devicePath(home, name))
}

function readIfExists(path: string): KeystoreFile {
  if (!existsSync(path)) throw new IdentityNotFoundError({ path })
  return readKeystoreFile(path)
}

function assertDeviceName(name: string): void {
  if (!/^[a-zA-Z0-9_-]{1,32}$/.test(name)) throw new DeviceNameError({ name })
}

/**
 * The uncompressed P-256 public key (x ‖ y, 64 bytes as hex) of a device record: what statement and relay
 * signatures verify against.
 *
 * @example verifyStatementSignature({ signed, publicKey: p256PublicKey(record) })
 */
export function p256PublicKey({ p256X, p256Y }: { p256X: Hex; p256Y: Hex }): Hex {
  return `0x${p256X.slice(2)}${p256Y.slice(2)}`
}

/**
 * The public keys of a device as the registry stores them (P-256 coordinates and the MLS signature key).
 *
 * @example await addDevice(wallet, { registry, account, ...devicePublicKeys(device), nonce, deadline, signature })
 */
export function devicePublicKeys(device: Pick<DeviceKeys, 'signingKey' | 'mls'>): {
  p256X: Hex
  p256Y: Hex
  mlsKey: Hex
} {
  return {
    p256X: device.signingKey.p256X,
    p256Y: device.signingKey.p256Y,
    mlsKey: bytesToHex(device.mls.publicKey),
  }
}
