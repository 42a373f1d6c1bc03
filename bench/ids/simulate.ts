/**
 * The trace generator: a seeded simulation of an organisation (devices, accounts, groups, a working-hours rhythm)
 * emitting IDS events, with attacks injected and labelled. Deterministic by seed.
 */
import type { IdsEvent } from '../../src/ids/events.js'
import { Prng } from './prng.js'

/** The attack kinds injected, one label each. @example ATTACK_KINDS.length // 12 */
export const ATTACK_KINDS = [
  'credential-stuffing',
  'replay-flood',
  'spam-fanout',
  'enumeration',
  'kp-draining',
  'exfiltration',
  'compromised-device',
  'revoked-key-use',
  'relay-drop',
  'sybil-registration',
  'anchor-front-running',
  'clock-skew-forgery',
] as const
/** One attack kind. @example const k: AttackKind = 'exfiltration' */
export type AttackKind = (typeof ATTACK_KINDS)[number]

/** Ground truth of one attack: the entities use the IDS's keys (`device:…`, `ip:…`, `relay:…`, `registry`). @example const l: AttackLabel = trace.labels.attacks[0] */
export type AttackLabel = { id: string; kind: AttackKind; start: number; end: number; entities: string[] }

/** What to simulate. @example const o: TraceOptions = { seed: 1, days: 7, devices: 500, attacksPerKind: 4 } */
export type TraceOptions = { seed: number; days: number; devices: number; attacksPerKind: number }
/** Events (sorted by time) and their labels. @example const { events, labels }: Trace = generateTrace(o) */
export type Trace = {
  events: IdsEvent[]
  labels: {
    seed: number
    days: number
    devices: number
    start: number
    deviceHours: number
    attacks: AttackLabel[]
  }
}

const HOUR = 3600_000
const DAY = 24 * HOUR
/** Monday 2026-01-05 00:00 UTC. */
const START = Date.UTC(2026, 0, 5)
const ANCHORER = '0xa11ce0000000000000000000000000000000a11c'
const SPONSOR = '0x5905500000000000000000000000000000005905'

/** Relative activity by hour of a weekday (UTC): night, ramp, work with a lunch dip, evening. */
const WEEKDAY = [
  0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2, 0.6, 1, 1, 0.9, 0.6, 0.9, 1, 1, 0.9, 0.6, 0.3, 0.15, 0.1,
  0.08, 0.05, 0.02,
]
const activity = (t: number) => {
  const d = new Date(t)
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6
  return (WEEKDAY[d.getUTCHours()] ?? 0) * (weekend ? 0.12 : 1)
}

type Device = {
  id: string
  account: number
  ip: string
  relay: string
  rate: number
  drift: boolean
  from: number
  until: number
  topics: string[]
}

/**
 * Generates one trace.
 *
 * @example const { events, labels } = generateTrace({ seed: 1, days: 7, devices: 500, attacksPerKind: 3 })
 */
export function generateTrace({ seed, days, devices: k, attacksPerKind }: TraceOptions): Trace {
  if (days < 2) throw new RangeError("a trace needs at least 2 days (the first is the models' warm-up)")
  const r = new Prng(seed)
  const end = START + days * DAY
  const ev: IdsEvent[] = []
  const push = (e: IdsEvent) => ev.push(e)
  const block = 1_000_000
  const blockAt = (t: number) => block + Math.floor((t - START) / 12_000)

  // Organisation: accounts of 1–3 devices, 50 groups, a few direct contacts per account.
  const accounts: number[][] = []
  const devs: Device[] = []
  const accountTopics: string[][] = []
  while (devs.length < k) {
    const a = accounts.length
    const n = Math.min(k - devs.length, r.chance(0.6) ? 1 : r.chance(0.75) ? 2 : 3)
    accounts.push([])
    for (let i = 0; i < n; i++) {
      accounts[a]?.push(devs.length)
      devs.push({
        id: `dev-${devs.length.toString().padStart(4, '0')}`,
        account: a,
        ip: `10.${r.int(4)}.${r.int(256)}.${r.int(256)}`,
        relay: r.chance(0.5) ? 'relay-1' : 'relay-2',
        rate: Math.min(12, 1.5 * Math.exp(0.8 * r.normal())),
        drift: r.chance(0.03),
        from: START,
        until: end,
        topics: [],
      })
    }
  }
  const acct = (a: number) => `acct-${a.toString().padStart(4, '0')}`
  const groups: number[][] = Array.from({ length: 50 }, () => [])
  for (let a = 0; a < accounts.length; a++) {
    accountTopics[a] = []
    for (let g = 0; g < 50; g++) if (r.chance(1.5 / 50) || g === a % 50) groups[g]?.push(a)
  }
  for (let g = 0; g < 50; g++) for (const a of groups[g] ?? []) accountTopics[a]?.push(`grp-${g}`)
  for (let a = 0; a < accounts.length; a++)
    for (let c = 0; c < 4; c++) {
      const b = r.int(accounts.length)
      if (b === a) continue
      const topic = `dm-${Math.min(a, b)}-${Math.max(a, b)}`
      accountTopics[a]?.push(topic)
      accountTopics[b]?.push(topic)
    }
  for (const d of devs) d.topics = accountTopics[d.account] ?? []
  const recipientsOf = (topic: string) =>
    topic.startsWith('grp-')
      ? (groups[Number(topic.slice(4))] ?? []).reduce((s, a) => s + (accounts[a]?.length ?? 1), 0)
      : 3

  push({ v: 1, t: START, src: 'ids', kind: 'config', knownAnchorers: [ANCHORER] })

  // Normal chain activity: new devices and new accounts in working hours, rotations, revocations, anchors, reorgs.
  const workTime = (day: number, evening = false) =>
    START + day * DAY + (evening ? r.range(19, 22) : r.range(8, 17)) * HOUR + r.int(HOUR)
  for (let day = 0; day < days; day++) {
    for (let i = r.poisson(2.5); i > 0; i--) {
      const t = workTime(day, r.chance(0.05))
      const newAccount = r.chance(0.35)
      const a = newAccount ? accounts.length : r.int(accounts.length)
      if (newAccount) {
        accounts.push([])
        accountTopics.push([...(accountTopics[r.int(a)] ?? []).slice(0, 3)])
      }
      const d: Device = {
        id: `dev-${devs.length.toString().padStart(4, '0')}`,
        account: a,
        ip: `10.${r.int(4)}.${r.int(256)}.${r.int(256)}`,
        relay: r.chance(0.5) ? 'relay-1' : 'relay-2',
        rate: Math.min(8, 1.2 * Math.exp(0.6 * r.normal())),
        drift: false,
        from: t + 10 * 60_000,
        until: end,
        topics: accountTopics[a] ?? [],
      }
      accounts[a]?.push(devs.length)
      devs.push(d)
      push({
        v: 1,
        t,
        src: 'chain',
        kind: 'device-added',
        account: acct(a),
        device: d.id,
        submitter: SPONSOR,
        block: blockAt(t),
        newAccount,
      })
    }
    for (let i = r.poisson(4); i > 0; i--) {
      const d = r.pick(devs)
      const t = workTime(day)
      push({
        v: 1,
        t,
        src: 'chain',
        kind: 'device-rotated',
        account: acct(d.account),
        device: d.id,
        submitter: SPONSOR,
        block: blockAt(t),
      })
      for (let c = 0; c < 3; c++)
        push({
          v: 1,
          t: t + 60_000 + r.int(HOUR),
          src: 'client',
          kind: 'key-change',
          device: r.pick(devs).id,
          contact: acct(d.account),
        })
    }
  }
  for (let t = START + 5 * 60_000; t < end; t += 10 * 60_000 + r.int(60_000)) {
    push({ v: 1, t, src: 'chain', kind: 'anchor', root: r.hex(32), submitter: ANCHORER, block: blockAt(t) })
    if (r.chance(0.01))
      push({ v: 1, t: t + 30_000, src: 'chain', kind: 'reorg', depth: 1, block: blockAt(t) })
  }
  for (let t = START; t < end; t += HOUR)
    for (let i = r.poisson(0.4); i > 0; i--) {
      const d = r.pick(devs)
      push({
        v: 1,
        t: t + r.int(HOUR),
        src: 'client',
        kind: 'seq-gap',
        device: d.id,
        topic: r.pick(d.topics),
        relay: d.relay,
        missing: r.range(1, 3),
      })
    }

  // Attacks first: a revoked device must stop its normal activity at its revocation.
  const attacks = injectAttacks(r, { devs, accounts, push, blockAt, acct, days, attacksPerKind })

  // Normal device activity, hour by hour.
  const normal = devs.length
  const pool = devs.slice()
  for (let di = 0; di < normal; di++) {
    const d = pool[di] as Device
    if (d.topics.length === 0) continue
    // A device does nothing after its revocation.
    const push = (e: IdsEvent) => {
      if (e.t < d.until) ev.push(e)
    }
    let online = false
    for (let t = Math.max(START, Math.floor(d.from / HOUR) * HOUR); t < d.until; t += HOUR) {
      const act = activity(t)
      const n = r.poisson(d.rate * act)
      if (n === 0) {
        if (act < 0.05) online = false
        continue
      }
      const t0 = Math.max(t, d.from)
      if (!online) {
        online = true
        const ok = !r.chance(0.03)
        push({
          v: 1,
          t: t0,
          src: 'relay',
          kind: 'auth',
          device: d.id,
          ip: d.ip,
          ok,
          ...(ok ? {} : { reason: 'expired-challenge' as const }),
        })
        if (!ok) push({ v: 1, t: t0 + 500, src: 'relay', kind: 'auth', device: d.id, ip: d.ip, ok: true })
        for (const topic of d.topics) {
          const denied = r.chance(0.004)
          push({ v: 1, t: t0 + 1000, src: 'relay', kind: 'subscribe', device: d.id, topic, denied })
        }
        const backlog = r.chance(0.01) ? 8 : 1
        for (const topic of d.topics.slice(0, 4))
          push({
            v: 1,
            t: t0 + 2000,
            src: 'relay',
            kind: 'fetch',
            device: d.id,
            topic,
            count: r.poisson(d.rate * 4 * backlog),
          })
      }
      for (let i = 0; i < n; i++) {
        const t1 = t0 + r.int(HOUR - (t0 - t))
        const topic = r.chance(0.02) ? `dm-${d.account}-${r.int(accounts.length)}` : r.pick(d.topics)
        push({
          v: 1,
          t: t1,
          src: 'relay',
          kind: 'publish',
          device: d.id,
          account: acct(d.account),
          topic,
          recipients: recipientsOf(topic),
          bytes: 200 + r.int(4000),
        })
        if (d.drift && r.chance(0.3))
          for (let j = r.range(1, 2); j > 0; j--)
            push({
              v: 1,
              t: t1 + 2000,
              src: 'client',
              kind: 'verify-fail',
              device: r.pick(devs).id,
              sender: d.id,
              reason: 'clock',
              skewMs: (r.chance(0.5) ? 1 : -1) * r.range(120_000, 600_000),
            })
      }
      if (r.chance(0.004 * act))
        for (let j = r.range(1, 4); j > 0; j--)
          push({
            v: 1,
            t: t0 + r.int(HOUR / 2),
            src: 'relay',
            kind: 'kp-claim',
            device: d.id,
            target: r.pick(devs).id,
          })
    }
  }

  ev.sort((a, b) => a.t - b.t)
  const deviceHours = devs.reduce(
    (s, d) => s + Math.max(0, Math.min(d.until, end) - Math.max(d.from, START)) / HOUR,
    0,
  )
  return { events: ev, labels: { seed, days, devices: k, start: START, deviceHours, attacks } }
}

type Ctx = {
  devs: Device[]
  accounts: number[][]
  push: (e: IdsEvent) => void
  blockAt: (t: number) => number
  acct: (a: number) => string
  days: number
  attacksPerKind: number
}

/** Injects `attacksPerKind` of every kind, after the first day (the models' warm-up), at any hour. */
function injectAttacks(r: Prng, c: Ctx): AttackLabel[] {
  const out: AttackLabel[] = []
  const { devs, push, blockAt, acct } = c
  const active = devs.filter((d) => d.from === START && d.topics.length > 0)
  const used = new Set<string>()
  const victim = () => {
    let d = r.pick(active)
    while (used.has(d.id)) d = r.pick(active)
    used.add(d.id)
    return d
  }
  const when = () => START + DAY + 2 * HOUR + r.int((c.days - 1) * DAY - 8 * HOUR)
  const spread = (t: number, span: number, n: number, f: (t: number, i: number) => void) => {
    for (let i = 0; i < n; i++) f(t + Math.floor((span * (i + r.next())) / Math.max(1, n)), i)
  }
  let seq = 0
  for (const kind of ATTACK_KINDS)
    for (let k = 0; k < c.attacksPerKind; k++) {
      const start = when()
      const id = `atk-${++seq}`
      const s = r.logUniform(1, 4) // intensity: 1 is the low-and-slow end
      let span = r.range(10, 40) * 60_000
      let entities: string[] = []
      switch (kind) {
        case 'credential-stuffing': {
          const ip = `203.0.113.${r.int(256)}`
          entities = [`ip:${ip}`]
          spread(start, span, Math.round(30 * s), (t) =>
            push({
              v: 1,
              t,
              src: 'relay',
              kind: 'auth',
              device: r.pick(devs).id,
              ip,
              ok: false,
              reason: 'bad-signature',
            }),
          )
          break
        }
        case 'replay-flood': {
          const sender = victim()
          entities = [`device:${sender.id}`]
          spread(start, span, Math.round(15 * s), (t) =>
            push({
              v: 1,
              t,
              src: 'client',
              kind: 'verify-fail',
              device: r.pick(devs).id,
              sender: sender.id,
              reason: 'replayed',
              envelope: r.hex(32),
            }),
          )
          break
        }
        case 'spam-fanout': {
          const d = victim()
          entities = [`device:${d.id}`]
          spread(start, span, Math.round((span / 60_000) * 2 * s), (t) => {
            const topic = r.chance(0.7) ? r.pick(d.topics) : `dm-${d.account}-${r.int(c.accounts.length)}`
            push({
              v: 1,
              t,
              src: 'relay',
              kind: 'publish',
              device: d.id,
              account: acct(d.account),
              topic,
              recipients: 30 + r.int(60),
              bytes: 500,
            })
          })
          break
        }
        case 'enumeration': {
          const d = victim()
          entities = [`device:${d.id}`]
          spread(start, span, Math.round(12 * s), (t) =>
            push({ v: 1, t, src: 'relay', kind: 'subscribe', device: d.id, topic: r.hex(32), denied: true }),
          )
          break
        }
        case 'kp-draining': {
          const d = victim()
          entities = [`device:${d.id}`]
          spread(start, span, Math.round(15 * s), (t) =>
            push({ v: 1, t, src: 'relay', kind: 'kp-claim', device: d.id, target: r.pick(devs).id }),
          )
          break
        }
        case 'exfiltration': {
          const d = victim()
          entities = [`device:${d.id}`]
          span = r.range(5, 20) * 60_000
          spread(start, span, 20, (t) =>
            push({
              v: 1,
              t,
              src: 'relay',
              kind: 'fetch',
              device: d.id,
              topic: r.pick(d.topics),
              count: Math.round(d.rate * 20 * s + 30 * s),
            }),
          )
          break
        }
        case 'compromised-device': {
          const owner = victim()
          const linkAt = START + r.range(1, c.days - 1) * DAY + r.range(0, 4) * HOUR + r.int(HOUR)
          const dev = `dev-x${seq}`
          const ip = `198.51.100.${r.int(256)}`
          entities = [`device:${dev}`, `account:${acct(owner.account)}`]
          push({
            v: 1,
            t: linkAt,
            src: 'chain',
            kind: 'device-added',
            account: acct(owner.account),
            device: dev,
            submitter: SPONSOR,
            block: blockAt(linkAt),
            newAccount: false,
          })
          const t0 = linkAt + r.range(10, 60) * 60_000
          push({ v: 1, t: t0, src: 'relay', kind: 'auth', device: dev, ip, ok: true })
          spread(t0 + 60_000, 30 * 60_000, Math.round(12 * s), (t) =>
            push({
              v: 1,
              t,
              src: 'relay',
              kind: 'publish',
              device: dev,
              account: acct(owner.account),
              topic: `dm-${owner.account}-${r.int(c.accounts.length)}-x`,
              recipients: 3,
              bytes: 300,
            }),
          )
          spread(t0 + 35 * 60_000, 10 * 60_000, 10, (t) =>
            push({
              v: 1,
              t,
              src: 'relay',
              kind: 'fetch',
              device: dev,
              topic: r.pick(owner.topics),
              count: Math.round(50 * s),
            }),
          )
          out.push({ id, kind, start: linkAt, end: t0 + 45 * 60_000, entities })
          continue
        }
        case 'revoked-key-use': {
          const d = victim()
          d.until = start - r.range(1, 12) * HOUR
          push({
            v: 1,
            t: d.until,
            src: 'chain',
            kind: 'device-revoked',
            account: acct(d.account),
            device: d.id,
            submitter: SPONSOR,
            block: blockAt(d.until),
          })
          entities = [`device:${d.id}`]
          const ip = `192.0.2.${r.int(256)}`
          push({ v: 1, t: start, src: 'relay', kind: 'auth', device: d.id, ip, ok: false, reason: 'revoked' })
          spread(start, span, Math.round(3 * s), (t) =>
            push({
              v: 1,
              t,
              src: 'client',
              kind: 'verify-fail',
              device: r.pick(devs).id,
              sender: d.id,
              reason: 'revoked-key',
            }),
          )
          break
        }
        case 'relay-drop': {
          const relay = r.chance(0.5) ? 'relay-1' : 'relay-2'
          entities = [`relay:${relay}`]
          span = r.range(30, 120) * 60_000
          const on = devs.filter((d) => d.relay === relay && d.topics.length > 0)
          spread(start, span, Math.round((span / 60_000) * 0.5 * s), (t) => {
            const d = r.pick(on)
            push({
              v: 1,
              t,
              src: 'client',
              kind: 'seq-gap',
              device: d.id,
              topic: r.pick(d.topics),
              relay,
              missing: r.range(1, 4),
            })
          })
          break
        }
        case 'sybil-registration': {
          entities = ['registry']
          const submitter = r.chance(0.5) ? SPONSOR : r.hex(20)
          spread(start, span, Math.round(10 * s), (t) =>
            push({
              v: 1,
              t,
              src: 'chain',
              kind: 'device-added',
              account: `sybil-${seq}-${r.int(1e6)}`,
              device: `dev-s${r.int(1e9)}`,
              submitter,
              block: blockAt(t),
              newAccount: true,
            }),
          )
          break
        }
        case 'anchor-front-running': {
          const submitter = r.hex(20)
          entities = [`submitter:${submitter}`]
          span = r.range(1, 10) * 60_000
          spread(start, span, r.range(1, 4), (t) =>
            push({ v: 1, t, src: 'chain', kind: 'anchor', root: r.hex(32), submitter, block: blockAt(t) }),
          )
          break
        }
        case 'clock-skew-forgery': {
          const d = victim()
          entities = [`device:${d.id}`]
          spread(start, span, Math.round(6 * s), (t) =>
            push({
              v: 1,
              t,
              src: 'client',
              kind: 'verify-fail',
              device: r.pick(devs).id,
              sender: d.id,
              reason: 'clock',
              skewMs: r.range(2, 48) * HOUR,
            }),
          )
          break
        }
      }
      out.push({ id, kind, start, end: start + span, entities })
    }
  return out
}
