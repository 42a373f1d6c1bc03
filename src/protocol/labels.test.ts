import { createHash } from 'node:crypto'
import { expect, test } from 'vitest'
import {
  LABEL_STATEMENT,
  LABEL_STATEMENT_BYTES,
  labelledHash,
  labelledInput,
  labels,
  labelToBytes,
} from './labels.js'

test('labels are exactly the strings of plan.md', () => {
  expect(labels).toMatchInlineSnapshot(`
    {
      "blob": "sealpost/v3/blob",
      "body": "sealpost/v1/body",
      "bodyV2": "sealpost/v2/body",
      "envelopeId": "sealpost/v1/envelope-id",
      "inbox": "sealpost/v1/inbox",
      "keystore": "sealpost/v1/keystore",
      "leaf": "sealpost/v1/leaf",
      "leafV2": "sealpost/v2/leaf",
      "logEntry": "sealpost/v1/log-entry",
      "logHead": "sealpost/v2/log-head",
      "popMls": "sealpost/v2/pop-mls",
      "popP256": "sealpost/v2/pop-p256",
      "recipients": "sealpost/v2/recipients",
      "relayAuth": "sealpost/v1/relay-auth",
      "statement": "sealpost/v1/statement",
      "statementV2": "sealpost/v2/statement",
      "welcomeKey": "sealpost/v3/welcome-key",
      "welcomeTree": "sealpost/v2/welcome-tree",
    }
  `)
  expect(new TextDecoder().decode(LABEL_STATEMENT_BYTES)).toBe(LABEL_STATEMENT)
})

test('labelledHash = SHA-256(label || 0x00 || parts...)', () => {
  const a = Uint8Array.of(1, 2)
  const b = Uint8Array.of(3)
  const manual = createHash('sha256')
    .update('sealpost/v1/body')
    .update(Uint8Array.of(0, 1, 2, 3))
    .digest()
  expect(labelledHash(labels.body, a, b)).toEqual(new Uint8Array(manual))
  expect(labelledHash(labels.body, a, b)).toEqual(
    new Uint8Array(
      createHash('sha256')
        .update(labelledInput(labels.body, a, b))
        .digest(),
    ),
  )
  expect(labelledInput(labels.leaf, b)).toEqual(Uint8Array.from([...Buffer.from('sealpost/v1/leaf'), 0, 3]))
})

test('labelToBytes returns a fresh copy', () => {
  const bytes = labelToBytes(LABEL_STATEMENT)
  bytes[0] = 0
  expect(labelToBytes(LABEL_STATEMENT)[0]).toBe(0x73)
})
