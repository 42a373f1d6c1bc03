import { describe, expect, test } from 'vitest'
import { nextRelayIndex, relayUrlList } from './relayUrls.js'

describe('relayUrlList', () => {
  test('one URL, a comma-separated list and an array give the URLs in order, trimmed, without repeats or blanks', () => {
    expect(relayUrlList('ws://a:1')).toEqual(['ws://a:1'])
    expect(relayUrlList(' ws://a:1, ws://b:2 ,,ws://a:1')).toEqual(['ws://a:1', 'ws://b:2'])
    expect(relayUrlList(['ws://a:1', 'ws://b:2,ws://c:3'])).toEqual(['ws://a:1', 'ws://b:2', 'ws://c:3'])
    expect(relayUrlList(' , ')).toEqual([])
  })
})

describe('nextRelayIndex', () => {
  test('after a disconnect the next relay is tried, wrapping around; a single relay is retried', () => {
    const order: number[] = []
    let index = 0
    for (let i = 0; i < 7; i++) {
      index = nextRelayIndex(index, 3)
      order.push(index)
    }
    expect(order).toEqual([1, 2, 0, 1, 2, 0, 1])
    expect(nextRelayIndex(0, 1)).toBe(0)
    expect(nextRelayIndex(0, 0)).toBe(0)
  })
})
