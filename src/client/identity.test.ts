import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, isAddressEqual } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { deviceIdOf } from '../chain/registryAuthorizations.js'
import { DEFAULT_CIPHERSUITE, UnsupportedCiphersuiteError } from '../crypto/mls.js'
import { verifyP256 } from '../crypto/p256.js'
import { UsageError } from '../errors.js'
import { WrongPassphraseError } from '../store/keystore.js'
import {
  accountPath,
  createAccount,
  createDevice,
  deviceDir,
  deviceExists,
  IdentityExistsError,
  IdentityNotFoundError,
  listDevices,
  loadAccount,
  loadDevice,
  readAccountAddress,
} from './identity.js'

const kdf = { N: 2 ** 10, r: 8, p: 1 }
const passphrase = 'correct horse battery staple'
// Anvil's first dev account (well-known test key, `anvil` prints it at startup).
const ANVIL_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const ANVIL_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

let root: string
let home: string

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sealpost-identity-'))
  home = join(root, 'home') // not created yet: the identity code creates it
})

afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

const mode = (path: string) => statSync(path).mode & 0o777

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
}

describe('accounts', () => {
  test('createAccount then loadAccount gives the same address', async () => {
    const created = await createAccount({ home, passphrase, kdf })
    const loaded = await loadAccount({ home, passphrase })
    expect(isAddressEqual(loaded.address, created.address)).toBe(true)
    expect(readAccountAddress(home)).toBe(created.address)
  })

  test('importing a known private key gives the known address', async () => {
    const account = await createAccount({ home, passphrase, privateKey: ANVIL_KEY, kdf })
    expect(account.address).toBe(ANVIL_ADDRESS)
    expect((await loadAccount({ home, passphrase })).address).toBe(ANVIL_ADDRESS)
  })

  test('the key file does not contain the private key in clear', async () => {
    await createAccount({ home, passphrase, privateKey: ANVIL_KEY, kdf })
    const text = readFileSync(accountPath(home), 'utf8')
    expect(text).not.toContain(ANVIL_KEY.slice(2))
    expect(JSON.parse(text).kdf).toMatchObject({ name: 'scrypt', N: 1024, r: 8, p: 1 })
  })

  test('wrong passphrase -> WrongPassphraseError', async () => {
    await createAccount({ home, passphrase, kdf })
    const err = await rejection(loadAccount({ home, passphrase: 'wrong' }))
    expect(err).toBeInstanceOf(WrongPassphraseError)
    expect((err as WrongPassphraseError).code).toBe('SEALPOST_WRONG_PASSPHRASE')
  })

  test('account file is 0600 and its directory 0700', async () => {
    await createAccount({ home, passphrase, kdf })
    expect(mode(accountPath(home))).toBe(0o600)
    expect(mode(home)).toBe(0o700)
  })

  test('creating an account where one exists -> IdentityExistsError, file unchanged', async () => {
    await createAccount({ home, passphrase, privateKey: ANVIL_KEY, kdf })
    const before = readFileSync(accountPath(home), 'utf8')
    const err = await rejection(createAccount({ home, passphrase, kdf }))
    expect(err).toBeInstanceOf(IdentityExistsError)
    expect((err as IdentityExistsError).code).toBe('SEALPOST_IDENTITY_EXISTS')
    expect(readFileSync(accountPath(home), 'utf8')).toBe(before)
  })

  test('loading a missing account -> IdentityNotFoundError', async () => {
    const err = await rejection(loadAccount({ home, passphrase }))
    expect(err).toBeInstanceOf(IdentityNotFoundError)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as IdentityNotFoundError).code).toBe('SEALPOST_IDENTITY_NOT_FOUND')
    expect(() => readAccountAddress(home)).toThrow(IdentityNotFoundError)
  })
})

describe('devices', () => {
  test('createDevice then loadDevice round trip', async () => {
    const created = await createDevice({ home, name: 'laptop', account: ANVIL_ADDRESS, passphrase, kdf })
    const loaded = await loadDevice({ home, name: 'laptop', passphrase })

    expect(created.deviceId).toBe(deviceIdOf(created.signingKey.p256X, created.signingKey.p256Y))
    expect(loaded.deviceId).toBe(created.deviceId)
    expect(loaded.account).toBe(ANVIL_ADDRESS)
    expect(loaded.name).toBe('laptop')
    expect(loaded.dir).toBe(deviceDir(home, 'laptop'))
    expect(loaded.signingKey.publicKeyHex).toBe(created.signingKey.publicKeyHex)
    expect(loaded.storageKey).toEqual(created.storageKey)
    expect(loaded.storageKey).toHaveLength(32)
    expect(loaded.mls).toEqual(created.mls)
    expect(loaded.mls.ciphersuite).toBe(DEFAULT_CIPHERSUITE)
    expect(loaded.mls.publicKey).toHaveLength(32)
    // ts-mls keeps the Ed25519 private key as PKCS#8 DER: a fixed 16-byte prefix, then the 32-byte seed.
    expect(Buffer.from(loaded.mls.signKey.subarray(0, 16)).toString('hex')).toBe(
      '302e020100300506032b657004220420',
    )
    expect(loaded.mls.signKey.subarray(16)).toHaveLength(32)
    expect(deviceExists(home, 'laptop')).toBe(true)
    expect(deviceExists(home, 'phone')).toBe(false)
  })

  test('the loaded P-256 key signs and the created public key verifies', async () => {
    const created = await createDevice({ home, account: ANVIL_ADDRESS, passphrase, kdf })
    const loaded = await loadDevice({ home, passphrase })
    const message = new TextEncoder().encode('statement input')
    const signature = loaded.signingKey.sign(message)
    expect(verifyP256({ publicKey: created.signingKey.publicKey, message, signature })).toBe(true)
    expect(
      verifyP256({ publicKey: created.signingKey.publicKey, message: new Uint8Array(3), signature }),
    ).toBe(false)
  })

  test('device file is 0600, devices/ and devices/<name>/ are 0700', async () => {
    await createDevice({ home, name: 'laptop', account: ANVIL_ADDRESS, passphrase, kdf })
    expect(mode(join(deviceDir(home, 'laptop'), 'device.json'))).toBe(0o600)
    expect(mode(deviceDir(home, 'laptop'))).toBe(0o700)
    expect(mode(join(home, 'devices'))).toBe(0o700)
    expect(mode(home)).toBe(0o700)
  })

  test('the device file carries no secret in clear', async () => {
    const created = await createDevice({ home, account: ANVIL_ADDRESS, passphrase, kdf })
    const text = readFileSync(join(deviceDir(home, 'default'), 'device.json'), 'utf8')
    expect(text).not.toContain(Buffer.from(created.storageKey).toString('hex'))
    expect(text).not.toContain(Buffer.from(created.mls.signKey).toString('hex'))
    expect(text).not.toContain(Buffer.from(created.signingKey.exportPkcs8()).toString('hex'))
  })

  test('wrong passphrase on a device -> WrongPassphraseError', async () => {
    await createDevice({ home, account: ANVIL_ADDRESS, passphrase, kdf })
    await expect(loadDevice({ home, passphrase: 'nope' })).rejects.toBeInstanceOf(WrongPassphraseError)
  })

  test('creating an existing device -> IdentityExistsError; missing -> IdentityNotFoundError', async () => {
    await createDevice({ home, name: 'a', account: ANVIL_ADDRESS, passphrase, kdf })
    const exists = await rejection(createDevice({ home, name: 'a', account: ANVIL_ADDRESS, passphrase, kdf }))
    expect(exists).toBeInstanceOf(IdentityExistsError)
    const missing = await rejection(loadDevice({ home, name: 'b', passphrase }))
    expect(missing).toBeInstanceOf(IdentityNotFoundError)
    expect((missing as IdentityNotFoundError).metaMessages[0]).toBe(
      `Looked in: ${join(deviceDir(home, 'b'), 'device.json')}`,
    )
  })

  test('listDevices reads public info without a passphrase', async () => {
    expect(listDevices(home)).toEqual([])
    const a = await createDevice({
      home,
      name: 'alpha',
      account: ANVIL_ADDRESS.toLowerCase() as Address,
      passphrase,
      kdf,
    })
    const b = await createDevice({ home, name: 'beta', account: ANVIL_ADDRESS, passphrase, kdf })
    const list = listDevices(home).sort((x, y) => x.name.localeCompare(y.name))
    expect(list).toEqual(
      [a, b].map((d) => ({
        name: d.name,
        account: ANVIL_ADDRESS,
        deviceId: d.deviceId,
        p256X: d.signingKey.p256X,
        p256Y: d.signingKey.p256Y,
        mlsKey: `0x${Buffer.from(d.mls.publicKey).toString('hex')}`,
      })),
    )
  })

  test.each(['', 'has space', '../escape', 'a/b', 'x'.repeat(33), 'émoji'])(
    'bad device name %j -> UsageError SEALPOST_BAD_DEVICE_NAME',
    async (name) => {
      const err = await rejection(createDevice({ home, name, account: ANVIL_ADDRESS, passphrase, kdf }))
      expect(err).toBeInstanceOf(UsageError)
      expect((err as UsageError).code).toBe('SEALPOST_BAD_DEVICE_NAME')
      expect((err as UsageError).name).toBe('DeviceNameError')
      expect((err as UsageError).shortMessage).toBe('Device names use 1 to 32 letters, digits, "-" or "_".')
      await expect(loadDevice({ home, name, passphrase })).rejects.toMatchObject({
        code: 'SEALPOST_BAD_DEVICE_NAME',
      })
      expect(existsSync(home)).toBe(false)
    },
  )

  test('a 32-character name with - and _ is accepted', async () => {
    const name = `a-b_${'c'.repeat(28)}`
    const created = await createDevice({ home, name, account: ANVIL_ADDRESS, passphrase, kdf })
    expect(created.name).toBe(name)
  })

  test.each(['MLS_128_DHKEMP256_AES128GCM_SHA256_P256', 'not-a-suite'])(
    'unsupported ciphersuite %s -> UnsupportedCiphersuiteError, nothing written',
    async (ciphersuite) => {
      const err = await rejection(
        createDevice({ home, account: ANVIL_ADDRESS, passphrase, kdf, ciphersuite }),
      )
      expect(err).toBeInstanceOf(UnsupportedCiphersuiteError)
      expect((err as UnsupportedCiphersuiteError).code).toBe('SEALPOST_UNSUPPORTED_CIPHERSUITE')
      expect(deviceExists(home)).toBe(false)
    },
  )
})
