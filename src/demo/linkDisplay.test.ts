/** The demo's link request display: short URIs and QR codes pass whole, long ones keep their head and say what is cut. */
import { expect, test } from 'vitest'
import { shortQr, shortUri } from './linkDisplay.js'

test('a long URI keeps its head and tail and names its length; a short one is whole', () => {
  const uri = `sealpost:link?v=1&r=${'A'.repeat(480)}xyz`
  expect(shortUri(uri)).toBe(`${uri.slice(0, 48)}…${uri.slice(-12)} (503 chars)`)
  expect(shortUri('sealpost:link?v=1&r=AAAA')).toBe('sealpost:link?v=1&r=AAAA')
})

test('a tall QR code keeps its top rows and names the rest; a small one is whole', () => {
  const tall = Array.from({ length: 43 }, (_, i) => `${'█'.repeat(84)}${i % 10}`)
  expect(shortQr(tall)).toEqual([
    ...tall.slice(0, 6),
    '… 37 more lines (85 columns): sealpost id link prints the whole code',
  ])
  const small = tall.slice(0, 20)
  expect(shortQr(small)).toEqual(small)
})
