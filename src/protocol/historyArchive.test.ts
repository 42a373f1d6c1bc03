import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  decodeArchivePlaintext,
  decodeHistoryChunk,
  decodeSealedHistory,
  encodeArchivePlaintext,
  encodeHistoryChunks,
  encodeSealedHistory,
  HISTORY_CHUNK_BYTES,
  HistoryArchiveFormatError,
  historyArchiveInfo,
  historyArchiveSigningInput,
} from './historyArchive.js'

const archiveId = `0x${'a1'.repeat(32)}` as const
const fromDevice = `0x${'f0'.repeat(32)}` as const

describe('history chunks', () => {
  test('a sealed archive splits into 512 KiB chunks that reassemble in order', () => {
    const sealed = new Uint8Array(HISTORY_CHUNK_BYTES * 2 + 7).map((_, i) => i % 251)
    const chunks = encodeHistoryChunks({ archiveId, sealed })
    expect(chunks.map((c) => c.length)).toEqual([41 + HISTORY_CHUNK_BYTES, 41 + HISTORY_CHUNK_BYTES, 41 + 7])
    const decoded = chunks.map(decodeHistoryChunk)
    expect(decoded.map(({ archiveId: id, index, count }) => ({ id, index, count }))).toEqual([
      { id: archiveId, index: 0, count: 3 },
      { id: archiveId, index: 1, count: 3 },
      { id: archiveId, index: 2, count: 3 },
    ])
    expect(Buffer.concat(decoded.map((c) => c.data)).equals(Buffer.from(sealed))).toBe(true)
  })

  test('the chunk header is magic, version, archive id, index and count', () => {
    const [chunk] = encodeHistoryChunks({ archiveId, sealed: Uint8Array.of(9) })
    expect(bytesToHex(chunk!)).toBe(`0x535048410${'1'}${'a1'.repeat(32)}0000000109`)
  })

  test('bad chunks are refused with HistoryArchiveFormatError', () => {
    const [chunk] = encodeHistoryChunks({ archiveId, sealed: Uint8Array.of(1, 2) })
    const cases = [
      chunk!.slice(0, 41), // no data
      Uint8Array.from(chunk!).fill(0, 0, 1), // magic
      Uint8Array.from(chunk!).fill(2, 4, 5), // version
      Uint8Array.from(chunk!).fill(0, 39, 41), // count 0
      Uint8Array.from(chunk!).fill(5, 37, 39), // index beyond count
    ]
    for (const bytes of cases) expect(() => decodeHistoryChunk(bytes)).toThrow(HistoryArchiveFormatError)
  })
})

describe('sealed archive and plaintext', () => {
  test('decoding what was encoded gives back the input', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ maxLength: 1200 }),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        (keyPackageRef, enc, ct) => {
          const sealed = { fromDevice, keyPackageRef, enc, ct }
          expect(decodeSealedHistory(encodeSealedHistory(sealed))).toEqual(sealed)
        },
      ),
    )
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 500 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (body, sig) => {
          const signature = bytesToHex(sig)
          expect(decodeArchivePlaintext(encodeArchivePlaintext({ body, signature }))).toEqual({
            body,
            signature,
          })
        },
      ),
    )
  })

  test('truncations and trailing bytes are refused', () => {
    const sealed = encodeSealedHistory({
      fromDevice,
      keyPackageRef: Uint8Array.of(1),
      enc: Uint8Array.of(2),
      ct: Uint8Array.of(3),
    })
    expect(() => decodeSealedHistory(sealed.slice(0, -1))).toThrow(HistoryArchiveFormatError)
    const plaintext = encodeArchivePlaintext({ body: Uint8Array.of(1), signature: `0x${'11'.repeat(64)}` })
    expect(() => decodeArchivePlaintext(Uint8Array.of(...plaintext, 0))).toThrow(HistoryArchiveFormatError)
    expect(() => decodeArchivePlaintext(plaintext.slice(0, -1))).toThrow(HistoryArchiveFormatError)
  })
})

describe('bindings', () => {
  test('the HPKE info is the label, 0x00 and the fixed fields, the key package reference last', () => {
    const info = historyArchiveInfo({
      chainId: 31337,
      registry: `0x${'22'.repeat(20)}`,
      account: `0x${'33'.repeat(20)}`,
      fromDevice,
      toDevice: `0x${'44'.repeat(32)}`,
      archiveId,
      keyPackageRef: Uint8Array.of(0xee, 0xff),
    })
    const label = Buffer.from('sealpost/v2/history-archive\0')
    expect(Buffer.from(info.subarray(0, label.length)).equals(label)).toBe(true)
    expect(info.length).toBe(label.length + 8 + 20 + 20 + 32 + 32 + 32 + 2)
    expect(bytesToHex(info.subarray(label.length, label.length + 8))).toBe('0x0000000000007a69')
    expect(bytesToHex(info.subarray(-2))).toBe('0xeeff')
  })

  test('the signing input is the label, 0x00 and SHA-256 of the body (60 bytes)', () => {
    const input = historyArchiveSigningInput(new TextEncoder().encode('{}'))
    expect(input.length).toBe(60)
    expect(bytesToHex(input.subarray(28))).toBe(
      '0x44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    )
  })
})
