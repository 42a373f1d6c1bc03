import { createHash } from 'node:crypto'
import { type Address, concatHex, type Hex, keccak256, toHex } from 'viem'
import { expect, test } from 'vitest'
import { deviceKeyCommitment, safetyNumber, safetyNumberHash } from './safetyNumber.js'

const registry = '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Address
const account = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Address
const device = (n: number) => ({
  deviceId: keccak256(toHex(n, { size: 64 })),
  mlsKey: toHex(n, { size: 32 }),
})
const base = { chainId: 31337, registry, account }

test('the hash is SHA-512 iterated 5200 times over label ‖ 0x00 ‖ chainId ‖ registry ‖ account ‖ n ‖ sorted commitments', () => {
  const [a, b] = [device(2), device(1)]
  const sorted = [a, b]
    .map((d) => concatHex([d.deviceId, keccak256(d.mlsKey)]))
    .sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1))
  const input = Buffer.from(
    concatHex([
      toHex('sealpost/v2/safety-number'),
      '0x00',
      toHex(31337n, { size: 8 }),
      registry,
      account,
      toHex(2, { size: 4 }),
      ...(sorted as Hex[]),
    ]).slice(2),
    'hex',
  )
  let h = createHash('sha512').update(input).digest()
  for (let i = 1; i < 5200; i++) h = createHash('sha512').update(h).update(input).digest()
  expect(Buffer.from(safetyNumberHash({ ...base, devices: [a, b] }))).toEqual(h)
  expect(deviceKeyCommitment(a)).toHaveLength(64)
})

test('a safety number is 12 groups of 5 digits, independent of the order of the devices', () => {
  const n = safetyNumber({ ...base, devices: [device(1), device(2), device(3)] })
  expect(n).toMatch(/^\d{5}( \d{5}){11}$/)
  expect(safetyNumber({ ...base, devices: [device(3), device(1), device(2)] })).toBe(n)
  expect(safetyNumber({ ...base, devices: [device(3), device(1), device(2), device(1)] })).toBe(n)
})

test('it changes when a device is added, revoked or rotated, and with the account, chain or registry', () => {
  const set = [device(1), device(2)]
  const n = safetyNumber({ ...base, devices: set })
  const others = [
    safetyNumber({ ...base, devices: [...set, device(3)] }), // added
    safetyNumber({ ...base, devices: [device(1)] }), // revoked
    safetyNumber({ ...base, devices: [device(1), device(4)] }), // rotated
    safetyNumber({ ...base, devices: [device(1), { ...device(2), mlsKey: toHex(9, { size: 32 }) }] }), // MLS key
    safetyNumber({ ...base, account: registry, devices: set }),
    safetyNumber({ ...base, chainId: 1, devices: set }),
    safetyNumber({ ...base, registry: account, devices: set }),
    safetyNumber({ ...base, devices: [] }),
  ]
  expect(new Set([n, ...others]).size).toBe(others.length + 1)
})
