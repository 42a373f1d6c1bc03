import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { CodecError, UsageError } from '../errors.js'
import {
  decryptSecret,
  encryptSecret,
  InvalidKeystoreParametersError,
  type KeystoreFile,
  KeystoreFormatError,
  KeystoreKindMismatchError,
  KeystoreNotFoundError,
  MissingPassphraseError,
  readKeystoreFile,
  resolvePassphrase,
  WrongPassphraseError,
  writeKeystoreFile,
} from './keystore.js'

// Small scrypt cost so the suite stays fast; production default is N = 2^17.
const kdfParams = { N: 2 ** 12, r: 8, p: 1 }
const kind = 'sealpost-test'
const plaintext = new TextEncoder().encode('top secret key material')
const passphrase = 'correct horse battery staple'
const dir = mkdtempSync(join(tmpdir(), 'sealpost-keystore-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const encrypt = (meta?: Record<string, string>) =>
  encryptSecret({ plaintext, passphrase, kind, meta, kdfParams })

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('did not reject')
}

describe('encrypt / decrypt', () => {
  test('round trip, with the expected file shape', async () => {
    const file = await encrypt({ address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' })
    expect(file).toMatchObject({
      version: 1,
      kind,
      kdf: { name: 'scrypt', N: 4096, r: 8, p: 1 },
      cipher: { name: 'aes-256-gcm' },
      meta: { address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' },
    })
    expect(file.kdf.salt).toMatch(/^0x[0-9a-f]{64}$/)
    expect(file.cipher.nonce).toMatch(/^0x[0-9a-f]{24}$/)
    expect((file.ciphertext.length - 2) / 2).toBe(plaintext.length + 16)
    expect(await decryptSecret({ file, passphrase, kind })).toEqual(plaintext)
    // Fresh salt and nonce every time.
    const again = await encrypt()
    expect(again.kdf.salt).not.toBe(file.kdf.salt)
    expect(again.cipher.nonce).not.toBe(file.cipher.nonce)
  })

  test('passphrases are NFKC-normalised; bytes work too', async () => {
    const file = await encryptSecret({ plaintext, passphrase: 'caf\u00e9', kind, kdfParams })
    expect(await decryptSecret({ file, passphrase: 'cafe\u0301', kind })).toEqual(plaintext)
    const bytesFile = await encryptSecret({ plaintext, passphrase: Uint8Array.of(1, 2, 3), kind, kdfParams })
    expect(await decryptSecret({ file: bytesFile, passphrase: Uint8Array.of(1, 2, 3), kind })).toEqual(
      plaintext,
    )
  })

  test('wrong passphrase', async () => {
    const file = await encrypt()
    const err = await rejection(decryptSecret({ file, passphrase: 'wrong', kind }))
    expect(err).toBeInstanceOf(WrongPassphraseError)
    expect(err).toBeInstanceOf(UsageError)
    expect(err.message).toMatchInlineSnapshot(`"The passphrase is wrong, or the key file was modified."`)
    expect((err as WrongPassphraseError).code).toBe('SEALPOST_WRONG_PASSPHRASE')
  })

  test('tampering with ciphertext, meta, kdf, nonce or kind is detected', async () => {
    const file = await encrypt({ address: '0x01' })
    const flip = (hex: string, at: number) =>
      `0x${Buffer.from(Buffer.from(hex.slice(2), 'hex').map((b, i) => (i === at ? b ^ 1 : b))).toString('hex')}`
    const tampered: [string, KeystoreFile][] = [
      ['ciphertext', { ...file, ciphertext: flip(file.ciphertext, 0) as `0x${string}` }],
      ['tag', { ...file, ciphertext: flip(file.ciphertext, plaintext.length + 3) as `0x${string}` }],
      ['meta changed', { ...file, meta: { address: '0x02' } }],
      ['meta added', { ...file, meta: { address: '0x01', extra: 'x' } }],
      ['meta removed', { ...file, meta: {} }],
      ['salt', { ...file, kdf: { ...file.kdf, salt: flip(file.kdf.salt, 0) as `0x${string}` } }],
      ['N', { ...file, kdf: { ...file.kdf, N: 2 ** 11 } }],
      ['r', { ...file, kdf: { ...file.kdf, r: 7 } }],
      ['nonce', { ...file, cipher: { ...file.cipher, nonce: flip(file.cipher.nonce, 0) as `0x${string}` } }],
      ['kind (relabelled file)', { ...file, kind: 'sealpost-other' }],
    ]
    for (const [name, f] of tampered) {
      const err = await rejection(decryptSecret({ file: f, passphrase, kind: f.kind }))
      expect(err, name).toBeInstanceOf(WrongPassphraseError)
    }
    expect(await decryptSecret({ file, passphrase, kind })).toEqual(plaintext)
  })

  test('asking for another kind fails before any work', async () => {
    const file = await encrypt()
    const err = await rejection(decryptSecret({ file, passphrase, kind: 'sealpost-account' }))
    expect(err).toBeInstanceOf(KeystoreKindMismatchError)
  })

  test('malformed files are KeystoreFormatErrors that never echo values', async () => {
    const file = await encrypt()
    const cases: [string, unknown][] = [
      ['version', { ...file, version: 2 }],
      ['extra field', { ...file, secret: 'x' }],
      ['N not power of two', { ...file, kdf: { ...file.kdf, N: 5000 } }],
      ['N too big', { ...file, kdf: { ...file.kdf, N: 2 ** 24 } }],
      ['memory too big', { ...file, kdf: { ...file.kdf, N: 2 ** 20, r: 32 } }],
      ['nonce length', { ...file, cipher: { ...file.cipher, nonce: '0x00' } }],
      ['ciphertext odd hex', { ...file, ciphertext: '0xabc' }],
      ['ciphertext too short', { ...file, ciphertext: '0x00' }],
      ['cipher name', { ...file, cipher: { ...file.cipher, name: 'aes-128-gcm' } }],
      ['meta value type', { ...file, meta: { a: 1 } }],
      ['null', null],
    ]
    for (const [name, f] of cases) {
      const err = await rejection(decryptSecret({ file: f as KeystoreFile, passphrase, kind }))
      expect(err, name).toBeInstanceOf(KeystoreFormatError)
      expect(err, name).toBeInstanceOf(CodecError)
      expect(err.message).not.toContain(file.ciphertext.slice(2, 20))
    }
    const err = await rejection(
      decryptSecret({ file: { ...file, kdf: { ...file.kdf, N: 5000 } }, passphrase, kind }),
    )
    expect(err.message).toMatchInlineSnapshot(`
      "Key file is malformed.

      Reason: kdf.N: N must be a power of two"
    `)
  })

  test('bad encrypt parameters', async () => {
    for (const bad of [
      { kdfParams: { N: 2 ** 12 + 1, r: 8, p: 1 } },
      { kdfParams: { N: 2 ** 8, r: 8, p: 1 } },
      { kind: '' },
      { kind: 'has space' },
      { meta: { 'bad key': 'x' } },
    ]) {
      const err = await rejection(encryptSecret({ plaintext, passphrase, kind, kdfParams, ...bad }))
      expect(err, JSON.stringify(bad)).toBeInstanceOf(InvalidKeystoreParametersError)
    }
  })
})

describe('files', () => {
  test('write is atomic with mode 0600 and a 0700 parent; read validates', async () => {
    const file = await encrypt({ address: '0xabc' })
    const path = join(dir, 'nested', 'deeper', 'account.json')
    const oldMask = process.umask(0o022)
    try {
      writeKeystoreFile(path, file)
    } finally {
      process.umask(oldMask)
    }
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'nested', 'deeper')).mode & 0o777).toBe(0o700)
    expect(readdirSync(join(dir, 'nested', 'deeper'))).toEqual(['account.json']) // no temp files left
    const read = readKeystoreFile(path)
    expect(read).toEqual(file)
    expect(await decryptSecret({ file: read, passphrase, kind })).toEqual(plaintext)
    // The plaintext never reaches the disk.
    expect(readFileSync(path, 'utf8')).not.toContain('top secret')
  })

  test('overwrite keeps 0600 even under a permissive umask', async () => {
    const path = join(dir, 'over.json')
    writeFileSync(path, 'old', { mode: 0o644 })
    const oldMask = process.umask(0)
    try {
      writeKeystoreFile(path, await encrypt())
    } finally {
      process.umask(oldMask)
    }
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  test('malformed JSON, invalid files and missing files', () => {
    const path = join(dir, 'broken.json')
    writeFileSync(path, '{ not json')
    expect(() => readKeystoreFile(path)).toThrow(KeystoreFormatError)
    writeFileSync(path, JSON.stringify({ version: 1 }))
    expect(() => readKeystoreFile(path)).toThrow(KeystoreFormatError)
    expect(() => readKeystoreFile(join(dir, 'missing.json'))).toThrow(KeystoreNotFoundError)
    expect(() => writeKeystoreFile(join(dir, 'x.json'), { version: 1 } as never)).toThrow(KeystoreFormatError)
  })
})

describe('resolvePassphrase', () => {
  test('explicit wins, then SEALPOST_PASSPHRASE, else MissingPassphraseError', () => {
    expect(resolvePassphrase({ passphrase: 'a', env: { SEALPOST_PASSPHRASE: 'b' } })).toBe('a')
    expect(resolvePassphrase({ env: { SEALPOST_PASSPHRASE: 'b' } })).toBe('b')
    expect(resolvePassphrase({ passphrase: '', env: { SEALPOST_PASSPHRASE: 'b' } })).toBe('b')
    expect(() => resolvePassphrase({ env: {} })).toThrowErrorMatchingInlineSnapshot(`
      [MissingPassphraseError: A passphrase is required.

      Set SEALPOST_PASSPHRASE, pass \`passphrase\` to the SDK, or use --passphrase-env VAR with the CLI.]
    `)
    expect(() => resolvePassphrase({ env: { SEALPOST_PASSPHRASE: '' } })).toThrow(MissingPassphraseError)
  })
})
