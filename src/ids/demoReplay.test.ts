/** Replays the IDS event stream recorded from a real `sealpost up --demo` run (scripts/record-ids-demo.ts) through the engine. */
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { IdsEngine } from './engine.js'

const FIXTURE = new URL('../../test/fixtures/ids/up-demo.events.jsonl', import.meta.url)
const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n')
type Line = { src: string; kind: string; reason?: string; device?: string; sender?: string; account?: string }
const events = lines.map((l) => JSON.parse(l) as Line)

/** The demo's parties are anvil's accounts 1–6, in this order (`sealpost up --demo`'s scripted keys). */
const ACCOUNTS = {
  alice: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  carol: '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
  mallory: '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65',
  rita: '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc',
}
const chain = events.filter((e) => e.src === 'chain')
const firstDevice = (account: string) =>
  chain.find((e) => e.kind === 'device-added' && e.account === account)?.device
/** Alice's phone after its rotation, revoked later: the thief's device. */
const stolenPhone = chain.find((e) => e.kind === 'device-rotated')?.device
/** The scripted attacks (src/demo/traffic.ts) as the IDS must report them: the category and the attacker. */
const SCRIPTED = [
  `forgery account:${ACCOUNTS.mallory}`, // Mallory's tampered ciphertext in her conversation with Bob
  `replay-flood device:${firstDevice(ACCOUNTS.rita)}`, // Rita's reused sequence number
  `policy-violation device:${stolenPhone}`, // the revoked phone's message, sealed in its old epoch
  `policy-violation device:${firstDevice(ACCOUNTS.mallory)}`, // Mallory's planted "1:1" group
  `policy-violation account:${ACCOUNTS.carol}`, // Carol's forged admin commit
].sort()

test('the recorded stream is valid and holds the traces of every scripted attack and of the phone lifecycle', () => {
  const engine = new IdsEngine({}, {})
  for (const [i, e] of events.entries()) expect(engine.ingestUnknown(e, i + 1).ok).toBe(true)
  expect(engine.stats).toMatchObject({ ingested: lines.length, malformed: 0, outOfOrder: 0, shed: 0 })
  const refusals = events.filter((e) => e.kind === 'verify-fail')
  expect(new Set(refusals.map((e) => e.reason))).toEqual(new Set(['forged', 'policy', 'stale-seq']))
  // Every refusal names an attacker: none is `unknown`, none an honest party's (Dave's refusals of the group's
  // traffic after his removal and the new phone's of what came before it joined are not attacks and not emitted).
  const attackers = new Set([
    ACCOUNTS.mallory,
    ACCOUNTS.carol,
    firstDevice(ACCOUNTS.mallory),
    firstDevice(ACCOUNTS.rita),
    stolenPhone,
  ])
  for (const r of refusals) expect(attackers.has(r.sender)).toBe(true)
  expect(chain.map((e) => e.kind)).toContain('device-rotated') // Alice's phone: linked, rotated, revoked
  expect(chain.filter((e) => e.kind === 'device-revoked')).toHaveLength(2)
  expect(stolenPhone && chain.some((e) => e.kind === 'device-revoked' && e.device === stolenPhone)).toBe(true)
})

test('with the default warm-up, the IDS flags every scripted attack, by kind and attacker, each its own incident, and nothing else', () => {
  const engine = new IdsEngine({}, {})
  for (const e of events) engine.ingestUnknown(e)
  engine.flush()
  const alerts = engine.alerts()
  expect(alerts.every((a) => a.detector.type === 'rule')).toBe(true)
  expect([...new Set(alerts.map((a) => `${a.category} ${a.entities.join(' ')}`))].sort()).toEqual(SCRIPTED)
  const incidents = engine.incidents().map((i) => `${i.kind} ${i.entities.join(' ')}`)
  expect(incidents.sort()).toEqual(SCRIPTED)
})
