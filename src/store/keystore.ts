/** Secrets encrypted at rest: scrypt-derived key, AES-256-GCM, public metadata bound as associated data. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import type { Hex } from 'viem'
import { z } from 'zod'
import { CodecError, InternalError, UsageError, ValidationError } from '../errors.js'
import { LABEL_KEYSTORE, labelledInput } from '../protocol/labels.js'

/** scrypt cost parameters. @example const params: ScryptParams = { N: 2 ** 17, r: 8, p: 1 } */
export type ScryptParams = { N: number; r: number; p: number }

/**
 * One encrypted secret as stored on disk (JSON). `meta` is public, non-secret information (an address, a
 * device id) that is readable without the passphrase but authenticated: changing it breaks decryption.
 *
 * @example const file: KeystoreFile = await encryptSecret({ plaintext, passphrase, kind: 'sealpost-account' })
 */
export type KeystoreFile = {
  version: 1
  kind: string
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: Hex }
  cipher: { name: 'aes-256-gcm'; nonce: Hex }
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  ciphertext: Hex
  meta?: Record<string, string>
}

/** Interactive default: N = 2^17, r = 8, p = 1 (about 128 MiB and a few hundred ms). @example DEFAULT_SCRYPT_PARAMS.N // 131072 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 })

const SALT_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const MAX_PLAINTEXT_BYTES = 1024 * 1024
const MAX_FILE_BYTES = 4 * MAX_PLAINTEXT_BYTES
/** scrypt memory is 128·N·r bytes; refuse files that would ask for more than this. */
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024

// ---------------------------------------------------------------------------------------------------------
// Errors

/** Decryption failed: the passphrase is wrong, or the file (ciphertext, kdf, meta) was modified. @example new WrongPassphraseError() */
export class WrongPassphraseError extends UsageError {
  override name = 'WrongPassphraseError' as const
  constructor() {
    super('The passphrase is wrong, or the key file was modified.', { code: 'SEALPOST_WRONG_PASSPHRASE' })
  }
}

/** The file is not a keystore file this version understands. @example new KeystoreFormatError({ reason: 'not JSON' }) */
export class KeystoreFormatError extends CodecError {
  override name = 'KeystoreFormatError' as const
  constructor({ reason, path }: { reason: string; path?: string | undefined }) {
    super('Key file is malformed.', {
      metaMessages: [...(path ? [`File: ${path}`] : []), `Reason: ${reason}`],
      code: 'SEALPOST_KEYSTORE_MALFORMED',
    })
  }
}

/** The file holds a different kind of secret than the caller asked for. @example new KeystoreKindMismatchError({ expected: 'a', actual: 'b' }) */
export class KeystoreKindMismatchError extends UsageError {
  override name = 'KeystoreKindMismatchError' as const
  constructor({ expected, actual }: { expected: string; actual: string }) {
    super('Key file holds a different kind of secret.', {
      metaMessages: [`Expected: ${expected}`, `Found: ${actual}`],
      code: 'SEALPOST_KEYSTORE_WRONG_KIND',
    })
  }
}

/** Parameters given to `encryptSecret` are out of range. @example new InvalidKeystoreParametersError({ reason: 'N must be a power of two' }) */
export class InvalidKeystoreParametersError extends ValidationError {
  override name = 'InvalidKeystoreParametersError' as const
  constructor({ reason }: { reason: string }) {
    super('Keystore parameters are invalid.', {
      metaMessages: [`Reason: ${reason}`],
      code: 'SEALPOST_KEYSTORE_BAD_PARAMETERS',
    })
  }
}

/** No passphrase was given and `SEALPOST_PASSPHRASE` is unset. @example new MissingPassphraseError() */
export class MissingPassphraseError extends UsageError {
  override name = 'MissingPassphraseError' as const
  constructor() {
    super('A passphrase is required.', {
      metaMessages: [
        'Set SEALPOST_PASSPHRASE, pass `passphrase` to the SDK, or use --passphrase-env VAR with the CLI.',
      ],
      code: 'SEALPOST_MISSING_PASSPHRASE',
    })
  }
}

/** The key file does not exist. @example new KeystoreNotFoundError({ path }) */
export class KeystoreNotFoundError extends UsageError {
  override name = 'KeystoreNotFoundError' as const
  constructor({ path }: { path: string }) {
    super('Key file not found.', { metaMessages: [`File: ${path}`], code: 'SEALPOST_KEYSTORE_NOT_FOUND' })
  }
}

/** Reading or writing the key file failed at the file-system level. @example new KeystoreIoError({ path, cause }) */
export class KeystoreIoError extends InternalError {
  override name = 'KeystoreIoError' as const
  constructor({ path, cause }: { path: string; cause: unknown }) {
    super('Key file could not be read or written.', {
      metaMessages: [`File: ${path}`],
      cause,
      code: 'SEALPOST_KEYSTORE_IO',
    })
  }
}

// ---------------------------------------------------------------------------------------------------------
// Schema (zod 4)

const hexOf = (min: number, max: number) =>
  z
    .string()
    .regex(/^0x(?:[0-9a-f]{2})*$/, 'must be lower-case 0x-hex of whole bytes')
    .refine((v) => (v.length - 2) / 2 >= min && (v.length - 2) / 2 <= max, `must be ${min}..${max} bytes`)

const kindSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'must be 1-64 chars of [A-Za-z0-9._:/-]')

const scryptParamsSchema = z
  .object({
    N: z
      .number()
      .int()
      .min(2 ** 10)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
  })
  .refine(({ N, r }) => 128 * N * r <= MAX_SCRYPT_MEMORY, 'scrypt memory (128·N·r) must be at most 512 MiB')

const metaSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'meta keys are 1-64 chars of [A-Za-z0-9_.-]'),
    z.string().max(4096),
  )
  .refine((m) => Object.keys(m).length <= 64, 'at most 64 meta entries')

const keystoreFileSchema = z
  .strictObject({
    version: z.literal(1),
    kind: kindSchema,
    kdf: z.object({
      name: z.literal('scrypt'),
      N: z.number(),
      r: z.number(),
      p: z.number(),
      salt: hexOf(16, 64),
    }),
    cipher: z.object({ name: z.literal('aes-256-gcm'), nonce: hexOf(NONCE_BYTES, NONCE_BYTES) }),
    ciphertext: hexOf(TAG_BYTES, MAX_PLAINTEXT_BYTES + TAG_BYTES),
    meta: metaSchema.optional(),
  })
  .superRefine((file, ctx) => {
    const params = scryptParamsSchema.safeParse({ N: file.kdf.N, r: file.kdf.r, p: file.kdf.p })
    if (!params.success)
      for (const issue of params.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: ['kdf', ...issue.path.map(String)] })
  })

function parseFile(value: unknown, path?: string): KeystoreFile {
  const result = keystoreFileSchema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'file'
    // Only our own fixed messages and the field path: never echo values from the file.
    throw new KeystoreFormatError({ reason: `${where}: ${issue?.message ?? 'invalid'}`, path })
  }
  return result.data as KeystoreFile
}

// ---------------------------------------------------------------------------------------------------------
// Encrypt / decrypt

/** Inputs to `encryptSecret`. @example const p: EncryptSecretParameters = { plaintext, passphrase, kind: 'sealpost-device' } */
export type EncryptSecretParameters = {
  plaintext: Uint8Array
  /** Strings are NFKC-normalised, then UTF-8 encoded. */
  passphrase: string | Uint8Array
  /** What the secret is, e.g. 'sealpost-account'; must match on decrypt. */
  kind: string
  /** Public, non-secret information stored in clear and authenticated. */
  meta?: Record<string, string> | undefined
  /** scrypt cost; defaults to `DEFAULT_SCRYPT_PARAMS`. Tests use N = 2^12. */
  kdfParams?: ScryptParams | undefined
}

/**
 * Encrypts `plaintext` under a key derived from `passphrase` with scrypt. The AES-256-GCM associated data is
 * `sealpost/v1/keystore || 0x00 || kind || 0x00 || canonicalJson({ cipher, kdf, meta, version })`, so a file
 * whose kind, kdf parameters, salt or meta were changed, or that was swapped for another kind, fails to decrypt.
 *
 * @example
 * const file = await encryptSecret({ plaintext: der, passphrase, kind: 'sealpost-device', meta: { deviceId } })
 * writeKeystoreFile(path, file)
 */
export async function encryptSecret({
  plaintext,
  passphrase,
  kind,
  meta,
  kdfParams = DEFAULT_SCRYPT_PARAMS,
}: EncryptSecretParameters): Promise<KeystoreFile> {
  if (!(plaintext instanceof Uint8Array))
    throw new InvalidKeystoreParametersError({ reason: 'plaintext must be bytes' })
  if (plaintext.length > MAX_PLAINTEXT_BYTES)
    throw new InvalidKeystoreParametersError({
      reason: `plaintext must be at most ${MAX_PLAINTEXT_BYTES} bytes`,
    })
  if (!kindSchema.safeParse(kind).success)
    throw new InvalidKeystoreParametersError({ reason: 'kind must be 1-64 chars of [A-Za-z0-9._:/-]' })
  const params = scryptParamsSchema.safeParse(kdfParams)
  if (!params.success)
    throw new InvalidKeystoreParametersError({
      reason: params.error.issues[0]?.message ?? 'bad scrypt parameters',
    })
  if (meta !== undefined && !metaSchema.safeParse(meta).success)
    throw new InvalidKeystoreParametersError({ reason: 'meta must map [A-Za-z0-9_.-] keys to short strings' })

  const file: KeystoreFile = {
    version: 1,
    kind,
    kdf: {
      name: 'scrypt',
      N: kdfParams.N,
      r: kdfParams.r,
      p: kdfParams.p,
      salt: toHex(randomBytes(SALT_BYTES)),
    },
    cipher: { name: 'aes-256-gcm', nonce: toHex(randomBytes(NONCE_BYTES)) },
    ciphertext: '0x',
    ...(meta !== undefined ? { meta: { ...meta } } : {}),
  }
  const key = await deriveKey(passphrase, file.kdf)
  try {
    const cipher = createCipheriv('aes-256-gcm', key, fromHex(file.cipher.nonce), {
      authTagLength: TAG_BYTES,
    })
    cipher.setAAD(associatedData(file))
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
    file.ciphertext = toHex(body)
    return file
  } finally {
    key.fill(0)
  }
}

/** Inputs to `decryptSecret`. @example const p: DecryptSecretParameters = { file, passphrase, kind: 'sealpost-device' } */
export type DecryptSecretParameters = { file: KeystoreFile; passphrase: string | Uint8Array; kind: string }
/** Errors `decryptSecret` throws. @example catch (e) { const err = e as DecryptSecretErrorType } */
export type DecryptSecretErrorType = WrongPassphraseError | KeystoreFormatError | KeystoreKindMismatchError

/**
 * Decrypts a keystore file. Throws `WrongPassphraseError` when authentication fails (wrong passphrase or a
 * modified file), `KeystoreFormatError` for a malformed file, `KeystoreKindMismatchError` for another kind.
 * The caller owns the returned plaintext and should zero it when done.
 *
 * @example const der = await decryptSecret({ file: readKeystoreFile(path), passphrase, kind: 'sealpost-device' })
 */
export async function decryptSecret({
  file,
  passphrase,
  kind,
}: DecryptSecretParameters): Promise<Uint8Array> {
  const parsed = parseFile(file)
  if (parsed.kind !== kind) throw new KeystoreKindMismatchError({ expected: kind, actual: parsed.kind })
  const key = await deriveKey(passphrase, parsed.kdf)
  try {
    const body = fromHex(parsed.ciphertext)
    const decipher = createDecipheriv('aes-256-gcm', key, fromHex(parsed.cipher.nonce), {
      authTagLength: TAG_BYTES,
    })
    decipher.setAAD(associatedData(parsed))
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
    const head = decipher.update(body.subarray(0, body.length - TAG_BYTES))
    let tail: Buffer
    try {
      tail = decipher.final()
    } catch {
      head.fill(0)
      throw new WrongPassphraseError()
    }
    const out = new Uint8Array(head.length + tail.length)
    out.set(head, 0)
    out.set(tail, head.length)
    head.fill(0)
    tail.fill(0)
    return out
  } finally {
    key.fill(0)
  }
}

async function deriveKey(passphrase: string | Uint8Array, kdf: KeystoreFile['kdf']): Promise<Uint8Array> {
  let password: Uint8Array
  if (typeof passphrase === 'string')
    password = new Uint8Array(Buffer.from(passphrase.normalize('NFKC'), 'utf8'))
  else if (passphrase instanceof Uint8Array)
    password = new Uint8Array(passphrase) // copy: we zero it afterwards
  else throw new InvalidKeystoreParametersError({ reason: 'passphrase must be a string or bytes' })
  try {
    return await scryptAsync(password, fromHex(kdf.salt), {
      N: kdf.N,
      r: kdf.r,
      p: kdf.p,
      dkLen: KEY_BYTES,
      maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024,
    })
  } finally {
    password.fill(0)
  }
}

function associatedData(file: KeystoreFile): Uint8Array {
  const json = canonicalJson({
    cipher: { name: file.cipher.name, nonce: file.cipher.nonce },
    kdf: { name: file.kdf.name, N: file.kdf.N, r: file.kdf.r, p: file.kdf.p, salt: file.kdf.salt },
    meta: file.meta ?? {},
    version: file.version,
  })
  return labelledInput(
    LABEL_KEYSTORE,
    Buffer.from(file.kind, 'utf8'),
    Uint8Array.of(0),
    Buffer.from(json, 'utf8'),
  )
}

/** JSON with object keys sorted by UTF-16 code units at every level and no whitespace. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

// ---------------------------------------------------------------------------------------------------------
// Files

/**
 * Writes `file` atomically with mode 0600: validates it, creates missing parent directories with mode 0700,
 * writes and fsyncs a temporary file in the same directory, then renames it over `path`.
 *
 * @example writeKeystoreFile(join(home, 'account.json'), await encryptSecret({ plaintext, passphrase, kind }))
 */
export function writeKeystoreFile(path: string, file: KeystoreFile): void {
  const valid = parseFile(file)
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    const created = mkdirSync(dir, { recursive: true, mode: 0o700 })
    // mkdir's mode is masked by the umask: set 0700 on every directory this call created (and only those).
    if (created !== undefined) {
      let current = created
      chmodSync(current, 0o700)
      for (const part of relative(created, dir).split(sep).filter(Boolean)) {
        current = join(current, part)
        chmodSync(current, 0o700)
      }
    }
    fd = openSync(tmp, 'wx', 0o600)
    fchmodSync(fd, 0o600) // the umask could only remove bits, but be explicit
    const data = Buffer.from(`${JSON.stringify(valid, null, 2)}\n`, 'utf8')
    let written = 0
    while (written < data.length) written += writeSync(fd, data, written)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, path)
  } catch (err) {
    if (fd !== undefined) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {}
    throw new KeystoreIoError({ path, cause: err })
  }
  try {
    const dirFd = openSync(dir, 'r')
    try {
      fsyncSync(dirFd)
    } finally {
      closeSync(dirFd)
    }
  } catch {
    // Directory fsync is best effort (not supported everywhere).
  }
}

/**
 * Reads and validates a keystore file (no passphrase needed; `meta` is readable in clear).
 *
 * @example const { meta } = readKeystoreFile(join(home, 'account.json'))
 */
export function readKeystoreFile(path: string): KeystoreFile {
  let text: string
  try {
    if (statSync(path).size > MAX_FILE_BYTES)
      throw new KeystoreFormatError({ reason: 'file is too large', path })
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (err instanceof KeystoreFormatError) throw err
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
      throw new KeystoreNotFoundError({ path })
    throw new KeystoreIoError({ path, cause: err })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new KeystoreFormatError({ reason: 'not valid JSON', path })
  }
  return parseFile(json, path)
}

// ---------------------------------------------------------------------------------------------------------
// Passphrase

/** Inputs to `resolvePassphrase`. @example resolvePassphrase({ passphrase: flags.passphrase }) */
export type ResolvePassphraseParameters = {
  passphrase?: string | undefined
  env?: Record<string, string | undefined> | undefined
}

/**
 * The explicit passphrase if given, else `SEALPOST_PASSPHRASE` from `env`; empty strings count as missing.
 * Throws `MissingPassphraseError` if neither is set.
 *
 * @example const passphrase = resolvePassphrase({ passphrase: flags.passphrase })
 */
export function resolvePassphrase({
  passphrase,
  env = process.env,
}: ResolvePassphraseParameters = {}): string {
  if (typeof passphrase === 'string' && passphrase.length > 0) return passphrase
  const fromEnv = env.SEALPOST_PASSPHRASE
  if (typeof fromEnv === 'string' && fromEnv.length > 0) return fromEnv
  throw new MissingPassphraseError()
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

function fromHex(hex: string): Buffer {
  return Buffer.from(hex.slice(2), 'hex')
}
