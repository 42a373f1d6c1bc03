/** Domain-separation labels (plan.md) and the `labelledHash` helper: SHA-256(label || 0x00 || parts...). */
import { createHash } from 'node:crypto'

/** P-256 statement signature input: ECDSA-SHA256 over `label || 0x00 || statementBytes`. @example LABEL_STATEMENT // 'sealpost/v1/statement' */
export const LABEL_STATEMENT = 'sealpost/v1/statement'
/** Statement Merkle leaf: SHA-256(label || 0x00 || statementBytes || signature64). @example LABEL_LEAF // 'sealpost/v1/leaf' */
export const LABEL_LEAF = 'sealpost/v1/leaf'
/** Body hash: SHA-256(label || 0x00 || body). @example LABEL_BODY // 'sealpost/v1/body' */
export const LABEL_BODY = 'sealpost/v1/body'
/** Envelope id: SHA-256(label || 0x00 || version || kind || topic || payload). @example LABEL_ENVELOPE_ID // 'sealpost/v1/envelope-id' */
export const LABEL_ENVELOPE_ID = 'sealpost/v1/envelope-id'
/** Start of the AES-GCM associated data of a keystore file. @example LABEL_KEYSTORE // 'sealpost/v1/keystore' */
export const LABEL_KEYSTORE = 'sealpost/v1/keystore'
/** Relay authentication: the device signs label || 0x00 || challenge || account || deviceId. @example LABEL_RELAY_AUTH // 'sealpost/v1/relay-auth' */
export const LABEL_RELAY_AUTH = 'sealpost/v1/relay-auth'
/** Tamper-evident log entry hash: SHA-256(label || 0x00 || prevHash || canonical entry). @example LABEL_LOG_ENTRY // 'sealpost/v1/log-entry' */
export const LABEL_LOG_ENTRY = 'sealpost/v1/log-entry'
/** P-256 proof of possession (KeyRegistry v2): ECDSA-SHA256 over label || 0x00 || chainId u256 || registry || account || p256X || p256Y || keccak256(mlsKey). @example LABEL_POP_P256 // 'sealpost/v2/pop-p256' */
export const LABEL_POP_P256 = 'sealpost/v2/pop-p256'
/** MLS-key proof of possession: the MLS key signs label || 0x00 || chainId u256 || registry || account || p256X || p256Y. @example LABEL_POP_MLS // 'sealpost/v2/pop-mls' */
export const LABEL_POP_MLS = 'sealpost/v2/pop-mls'
/** Statement v2 signature input: ECDSA-SHA256 over `label || 0x00 || statementBytes` (message statements). @example LABEL_STATEMENT_V2 // 'sealpost/v2/statement' */
export const LABEL_STATEMENT_V2 = 'sealpost/v2/statement'
/** Statement v2 Merkle leaf: SHA-256(label || 0x00 || statementBytes || signature64), messages and log heads alike. @example LABEL_LEAF_V2 // 'sealpost/v2/leaf' */
export const LABEL_LEAF_V2 = 'sealpost/v2/leaf'
/** Statement v2 body hash: SHA-256(label || 0x00 || contentType u8 || body). @example LABEL_BODY_V2 // 'sealpost/v2/body' */
export const LABEL_BODY_V2 = 'sealpost/v2/body'
/** Recipients Merkle leaf data: SHA-256(label || 0x00 || chainId u64 || account 20). @example LABEL_RECIPIENTS // 'sealpost/v2/recipients' */
export const LABEL_RECIPIENTS = 'sealpost/v2/recipients'
/** Log-head and log-export statements: the device signs label || 0x00 || statementBytes. @example LABEL_LOG_HEAD // 'sealpost/v2/log-head' */
export const LABEL_LOG_HEAD = 'sealpost/v2/log-head'
/** Device inbox topic: SHA-256(label || 0x00 || deviceId) (used by `topics.ts`; not in plan.md's list). @example LABEL_INBOX // 'sealpost/v1/inbox' */
export const LABEL_INBOX = 'sealpost/v1/inbox'
/** Topic of a Welcome's ratchet tree sent by reference: SHA-256(label || 0x00 || welcome key). @example LABEL_WELCOME_TREE // 'sealpost/v2/welcome-tree' */
export const LABEL_WELCOME_TREE = 'sealpost/v2/welcome-tree'
/** Welcome key, common to every trimmed Welcome of one commit: SHA-256(label || 0x00 || encrypted_group_info). @example LABEL_WELCOME_KEY // 'sealpost/v3/welcome-key' */
export const LABEL_WELCOME_KEY = 'sealpost/v3/welcome-key'
/** Topic of bytes sent by reference (a large commit or GroupInfo): SHA-256(label || 0x00 || SHA-256(bytes)). @example LABEL_BLOB // 'sealpost/v3/blob' */
export const LABEL_BLOB = 'sealpost/v3/blob'

/**
 * Every label by purpose.
 *
 * @example labels.statement // 'sealpost/v1/statement'
 */
export const labels = {
  statement: LABEL_STATEMENT,
  leaf: LABEL_LEAF,
  body: LABEL_BODY,
  envelopeId: LABEL_ENVELOPE_ID,
  keystore: LABEL_KEYSTORE,
  inbox: LABEL_INBOX,
  relayAuth: LABEL_RELAY_AUTH,
  logEntry: LABEL_LOG_ENTRY,
  popP256: LABEL_POP_P256,
  popMls: LABEL_POP_MLS,
  statementV2: LABEL_STATEMENT_V2,
  leafV2: LABEL_LEAF_V2,
  bodyV2: LABEL_BODY_V2,
  recipients: LABEL_RECIPIENTS,
  logHead: LABEL_LOG_HEAD,
  welcomeTree: LABEL_WELCOME_TREE,
  welcomeKey: LABEL_WELCOME_KEY,
  blob: LABEL_BLOB,
} as const

/** One of Sealpost's domain-separation labels. @example const l: Label = 'sealpost/v1/leaf' */
export type Label = (typeof labels)[keyof typeof labels]

/**
 * ASCII bytes of a label, as a fresh copy on each call (no shared buffer that a caller could corrupt).
 *
 * @example labelToBytes(LABEL_STATEMENT).length // 21
 */
export function labelToBytes(label: Label): Uint8Array {
  return new Uint8Array(Buffer.from(label, 'latin1'))
}

/** ASCII bytes of `sealpost/v1/statement`; treat as read-only. @example LABEL_STATEMENT_BYTES.length // 21 */
export const LABEL_STATEMENT_BYTES: Uint8Array = labelToBytes(LABEL_STATEMENT)
/** ASCII bytes of `sealpost/v1/leaf`; treat as read-only. @example LABEL_LEAF_BYTES.length // 16 */
export const LABEL_LEAF_BYTES: Uint8Array = labelToBytes(LABEL_LEAF)
/** ASCII bytes of `sealpost/v1/body`; treat as read-only. @example LABEL_BODY_BYTES.length // 16 */
export const LABEL_BODY_BYTES: Uint8Array = labelToBytes(LABEL_BODY)
/** ASCII bytes of `sealpost/v1/envelope-id`; treat as read-only. @example LABEL_ENVELOPE_ID_BYTES.length // 23 */
export const LABEL_ENVELOPE_ID_BYTES: Uint8Array = labelToBytes(LABEL_ENVELOPE_ID)
/** ASCII bytes of `sealpost/v1/keystore`; treat as read-only. @example LABEL_KEYSTORE_BYTES.length // 20 */
export const LABEL_KEYSTORE_BYTES: Uint8Array = labelToBytes(LABEL_KEYSTORE)
/** ASCII bytes of `sealpost/v1/inbox`; treat as read-only. @example LABEL_INBOX_BYTES.length // 17 */
export const LABEL_INBOX_BYTES: Uint8Array = labelToBytes(LABEL_INBOX)

/**
 * `label || 0x00 || parts...` as one new byte array: the exact input that gets hashed or signed.
 *
 * @example labelledInput(LABEL_STATEMENT, statementBytes) // what the device key signs
 */
export function labelledInput(label: Label, ...parts: Uint8Array[]): Uint8Array {
  let length = label.length + 1
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  out.set(Buffer.from(label, 'latin1'), 0)
  let offset = label.length + 1 // out[label.length] is already 0x00
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/**
 * SHA-256(label || 0x00 || parts...). Parts are concatenated without length prefixes, so only the last
 * part of a given use may vary in length.
 *
 * @example labelledHash(LABEL_BODY, new TextEncoder().encode('hi')) // 32 bytes
 */
export function labelledHash(label: Label, ...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256')
  hash.update(label, 'latin1')
  hash.update(ZERO)
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

const ZERO = new Uint8Array(1)
/** ASCII bytes of `sealpost/v1/relay-auth`; treat as read-only. @example LABEL_RELAY_AUTH_BYTES.length // 22 */
export const LABEL_RELAY_AUTH_BYTES: Uint8Array = labelToBytes(LABEL_RELAY_AUTH)
/** ASCII bytes of `sealpost/v1/log-entry`; treat as read-only. @example LABEL_LOG_ENTRY_BYTES.length // 21 */
export const LABEL_LOG_ENTRY_BYTES: Uint8Array = labelToBytes(LABEL_LOG_ENTRY)
