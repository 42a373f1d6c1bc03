/** A QR code drawn in a terminal with half-block characters (two modules per character cell), via qrcode-generator. */
import { createRequire } from 'node:module'

/**
 * The qrcode-generator factory. It is a CommonJS module typed with `export =`, which this ESM project cannot
 * default-import, so it is required.
 *
 * @example const qr = qrcode(0, 'L'); qr.addData('hi'); qr.make()
 */
export const qrcode: typeof import('qrcode-generator') = createRequire(import.meta.url)('qrcode-generator')

/** Quiet zone around the code, in modules (the QR standard asks for 4). */
const MARGIN = 4

/**
 * The QR code of `text` (byte mode, error correction level L, the smallest version that fits) as terminal lines.
 * Light modules are drawn, dark ones left blank, so it reads as dark-on-light on the usual dark terminal; each line
 * holds two rows of modules (`▀`, `▄`, `█`, space).
 *
 * @example for (const line of qrLines(uri)) console.log(line)
 */
export function qrLines(text: string): string[] {
  const qr = qrcode(0, 'L')
  qr.addData(text, 'Byte')
  qr.make()
  const count = qr.getModuleCount()
  const size = count + 2 * MARGIN
  const light = (row: number, col: number) => {
    const r = row - MARGIN
    const c = col - MARGIN
    return r < 0 || c < 0 || r >= count || c >= count || !qr.isDark(r, c)
  }
  const lines: string[] = []
  for (let row = 0; row < size; row += 2) {
    let line = ''
    for (let col = 0; col < size; col++) {
      const top = light(row, col)
      const bottom = row + 1 < size ? light(row + 1, col) : false
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' '
    }
    lines.push(line)
  }
  return lines
}
