import { describe, expect, test } from 'vitest'
import { SeasonalBaseline } from './baseline.js'

/** A registry-like entity: nothing for a day, then `values` one window each, scored armed. */
function run(values: number[]) {
  const b = new SeasonalBaseline()
  for (let i = 0; i < 144; i++) b.observe('registry', Math.floor(i / 6) % 24, 0, false)
  return { b, scores: values.map((x, i) => b.observe('registry', 10 + Math.floor(i / 6), x).score) }
}

describe('seasonal baseline', () => {
  test("an attack's decaying tail (the sliding sum halving after it) does not raise the peak envelope", () => {
    const { b } = run([6, 9, 4.5, 2.25, 1.125, 0.5, 0.25])
    expect(b.stats.get('registry')?.P).toBe(0)
    // A second attack of the same size scores as high as the first did.
    const again = b.observe('registry', 14, 6).score
    expect(again).toBeGreaterThan(5)
  })

  test('after the cool-down an ordinary small burst raises the peak again', () => {
    const { b } = run([6, 3, 1.5, 0.75, 0.4, 0.2, 0.1, 0, 0, 1])
    expect(b.stats.get('registry')?.P).toBe(1)
  })
})
