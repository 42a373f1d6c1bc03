import { expect, test } from 'vitest'
import { qrcode, qrLines } from './qrTerminal.js'

test('each character cell holds two module rows of the code, inside a 4-module quiet zone', () => {
  const text = `sealpost:link?v=1&r=${'A'.repeat(496)}`
  const lines = qrLines(text)
  const qr = qrcode(0, 'L')
  qr.addData(text, 'Byte')
  qr.make()
  const count = qr.getModuleCount()
  const size = count + 8
  expect(lines.length).toBe(Math.ceil(size / 2))
  for (const line of lines) expect([...line].length).toBe(size)
  // Read the modules back from the characters: light is drawn, dark is blank.
  const light = (row: number, col: number) => {
    const ch = [...(lines[row >> 1] as string)][col]
    return row % 2 === 0 ? ch === '█' || ch === '▀' : ch === '█' || ch === '▄'
  }
  for (let r = 0; r < count; r++)
    for (let c = 0; c < count; c++) expect(light(r + 4, c + 4), `${r},${c}`).toBe(!qr.isDark(r, c))
  for (let c = 0; c < size; c++) expect(light(0, c)).toBe(true)
})
