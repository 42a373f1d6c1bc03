import { describe, expect, test } from 'vitest'
import { formatVerification } from './formatVerification.js'
import { short, transcriptReport } from './transcriptReport.js'

describe('transcriptReport', () => {
  test('orders transcript-wide checks, then entries by index (insertion order within one), then the anchored prefix', () => {
    const { add, done } = transcriptReport()
    add(null, 'anchored-prefix', true, 'p')
    add(3, 'receipt', true, 'r3')
    add(1, 'statement', true, 's1')
    add(null, 'chain', true, 'c')
    add(1, 'leaf', true, 'l1')
    add(null, 'hash-chain', true, 'h')
    const result = done()
    expect(result.ok).toBe(true)
    expect(result.checks.map((c) => [c.entry, c.check])).toEqual([
      [null, 'chain'],
      [null, 'hash-chain'],
      [1, 'statement'],
      [1, 'leaf'],
      [3, 'receipt'],
      [null, 'anchored-prefix'],
    ])
  })

  test('add returns the verdict, and one failed check fails the report', () => {
    const { add, done } = transcriptReport()
    expect(add(null, 'chain', true, 'ok')).toBe(true)
    expect(add(2, 'signature', false, 'bad')).toBe(false)
    expect(done().ok).toBe(false)
  })

  test('short keeps ten characters', () => {
    expect(short(`0x${'ab'.repeat(32)}`)).toBe('0xabababab…')
  })
})

describe('formatVerification', () => {
  test('one line per check and a verdict line', () => {
    const { add, done } = transcriptReport()
    add(null, 'chain', true, 'transcript chain 31337, RPC chain 31337')
    add(4, 'body', false, 'body does not match the signed bodyHash')
    expect(formatVerification(done())).toMatchInlineSnapshot(`
      [
        "✓ transcript chain: transcript chain 31337, RPC chain 31337",
        "✗ entry 4 body: body does not match the signed bodyHash",
        "✗ transcript does not verify (1 of 2 checks failed)",
      ]
    `)
  })

  test('a verified transcript ends with the count of checks', () => {
    const { add, done } = transcriptReport()
    add(null, 'format', true, 'version 1 transcript of 0 entries for 0x…')
    expect(formatVerification(done()).at(-1)).toBe('✓ transcript verified (1 checks)')
  })
})
