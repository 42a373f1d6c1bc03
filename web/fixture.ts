/**
 * Development fixture (loaded only with `?fixture=1`): a local simulation that emits plausible dashboard
 * events as JSON strings, including bad actors, a forged receipt, a broken log link and a few malformed
 * events. `?n=` sets how many messages are backfilled at start, `?rate=` the live messages per second.
 */
import type { DashboardEvent, DashboardMessageState, VerificationEvent } from '../src/dashboard/events.ts'
import { buildTree } from './src/merkle.ts'

type Emit = (raw: string) => void
type Role = 'honest' | 'tamperer' | 'replayer' | 'revoked'

const hex = (bytes: number) => {
  const b = crypto.getRandomValues(new Uint8Array(bytes))
  let s = '0x'
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T
const texts = [
  'Deploy window moved to 14:00 UTC',
  'Can you review the audit notes?',
  'Keys rotated on the build box',
  'Lunch at noon?',
  'The relay looks healthy from here',
  'Invoice #4471 approved',
  'Please re-sign the release tag',
  'Meeting notes attached (sealed)',
  'ok',
  'Anchoring lag looks fine today',
]

interface Person {
  name: string
  account: string
  devices: { id: string; name: string; x: string; y: string; added: number; tx: string; revokedAt?: number }[]
  role: Role
  log: { index: number; head: string }
}

export function startFixture(emit: Emit, opts: { messages: number; rate: number }): void {
  const rate = Math.max(0.5, Math.min(200, Number.isFinite(opts.rate) ? opts.rate : 8))
  const backfill = Math.max(0, Math.min(12_000, Number.isFinite(opts.messages) ? opts.messages : 400))
  // Virtual clock: backfill runs instantly through the past, then follows wall-clock time.
  let now = Date.now() - Math.max(30_000, (backfill / rate) * 1000)
  let block = 120
  const queue: { t: number; fn: () => void }[] = []
  const later = (ms: number, fn: () => void) => {
    const t = Math.round(now + ms)
    let i = queue.length
    while (i > 0 && (queue[i - 1] as { t: number }).t > t) i--
    queue.splice(i, 0, { t, fn })
  }
  const send = (e: DashboardEvent) => emit(JSON.stringify(e))

  const people: Person[] = (
    [
      ['alice', 'honest', 2],
      ['bob', 'honest', 1],
      ['carol', 'honest', 1],
      ['dave', 'honest', 1],
      ['mallory', 'tamperer', 1],
      ['eve', 'replayer', 1],
      ['trent', 'revoked', 1],
    ] as const
  ).map(([name, role, n]) => ({
    name,
    role,
    account: hex(20),
    devices: Array.from({ length: n }, (_, i) => ({
      id: hex(32),
      name: i === 0 ? 'laptop' : 'phone',
      x: hex(32),
      y: hex(32),
      added: 100 + Math.floor(Math.random() * 15),
      tx: hex(32),
    })),
    log: { index: 0, head: `0x${'00'.repeat(32)}` },
  }))
  const honest = people.filter((p) => p.role === 'honest')
  const trent = people.find((p) => p.name === 'trent') as Person
  ;(trent.devices[0] as Person['devices'][number]).revokedAt = 118

  send({
    type: 'hello',
    at: now,
    chainId: 31337,
    rpc: 'http://127.0.0.1:8545',
    relay: 'ws://127.0.0.1:8787',
    keyRegistry: hex(20),
    messageAnchor: hex(20),
    demo: true,
  })
  for (const p of people)
    for (const d of p.devices) {
      send({
        type: 'participant',
        at: now,
        account: p.account,
        name: p.name,
        deviceId: d.id,
        deviceName: d.name,
        role: p.role,
      })
      send({
        type: 'device',
        at: now,
        change: 'added',
        account: p.account,
        deviceId: d.id,
        block: String(d.added),
        tx: d.tx,
      })
    }
  const td = trent.devices[0] as Person['devices'][number]
  send({
    type: 'device',
    at: now,
    change: 'revoked',
    account: trent.account,
    deviceId: td.id,
    block: '118',
    tx: hex(32),
  })

  // A team group of the honest parties (alice admin), reported as its members' clients would.
  const ops = { id: hex(32), members: honest }
  send({
    type: 'group',
    at: now,
    id: ops.id,
    name: 'ops',
    epoch: '3',
    block: String(block),
    memberCount: honest.length,
    members: honest.map((p) => ({
      account: p.account,
      admin: p.name === 'alice',
      devices: p.devices.map((d) => ({ deviceId: d.id, status: 'active' as const, inGroup: true })),
    })),
    by: (honest[0] as Person).account,
    active: true,
    observer: (honest[0] as Person).name,
  })

  const logEntry = (
    p: Person,
    kind: 'sent' | 'received' | 'rejected' | 'receipt' | 'log-anchor',
    summary: string,
    id?: string,
  ) => {
    const hash = hex(32)
    // Mallory's log has a tampered entry now and then: its prevHash does not match.
    const broken = p.role === 'tamperer' && Math.random() < 0.08
    send({
      type: 'log',
      at: now,
      account: p.account,
      deviceId: (p.devices[0] as Person['devices'][number]).id,
      index: p.log.index++,
      kind,
      hash,
      prevHash: broken ? hex(32) : p.log.head,
      chained: !broken,
      summary,
      ...(id ? { id } : {}),
    })
    p.log.head = hash
  }

  // Traffic
  const pending: { leaf: string; id: string; from: Person; to: Person[]; submitted: number }[] = []
  let accepted = 0
  let latencies: number[] = []
  let seq = 1000
  let batchId = 0
  let queueDepth = 0

  const message = () => {
    const r = Math.random()
    const from = r < 0.05 ? pick(people.filter((p) => p.role !== 'honest')) : pick(honest)
    const others = honest.filter((p) => p !== from)
    // A quarter of the honest parties' messages go to the ops group (every other member), with per-member delivery.
    const inGroup = from.role === 'honest' && Math.random() < 0.25
    const to = inGroup ? others : [pick(others)]
    const id = hex(32)
    const conversation = inGroup ? ops.id : hex(32)
    const delivered: string[] = []
    const delivery = () =>
      send({
        type: 'delivery',
        at: now,
        id,
        conversation,
        members: to.map((p) => p.account),
        delivered: [...delivered],
        memberCount: to.length,
        observer: from.name,
      })
    const text = pick(texts)
    const dev = from.devices[0] as Person['devices'][number]
    const base = {
      type: 'message' as const,
      id,
      conversation,
      from: from.account,
      fromDevice: dev.id,
      to: to.map((p) => p.account),
      bytes: 420 + Math.floor(Math.random() * 600),
    }
    const state = (s: DashboardMessageState, observer: string, extra: object = {}) =>
      send({ ...base, at: now, state: s, observer, ...extra })
    state('queued', from.name, { text })
    const mySeq = String(seq++)
    const leaf = hex(32)
    queueDepth++
    later(8 + Math.random() * 20, () => {
      accepted++
      queueDepth = Math.max(0, queueDepth - 1)
      state('accepted', 'relay', { seq: mySeq, leaf })
      if (inGroup) delivery()
      logEntry(from, 'sent', `sent ${id.slice(0, 10)}… to ${to.map((p) => p.name).join(', ')}`, id)
      if (from.role === 'honest') pending.push({ leaf, id, from, to, submitted: now })
      const lat = 15 + Math.random() * 60 + (Math.random() < 0.05 ? 200 + Math.random() * 400 : 0)
      later(lat, () => {
        latencies.push(lat)
        for (const rcpt of to) {
          const steps = verify(from, rcpt, id, conversation, mySeq)
          const failed = steps.steps.find((s) => !s.ok)
          if (failed) {
            state('rejected', rcpt.name)
            logEntry(
              rcpt,
              'rejected',
              `rejected ${id.slice(0, 10)}… from ${from.name}: ${steps.error?.code}`,
              id,
            )
            send({
              type: 'alert',
              at: now,
              source: 'client',
              severity: from.role === 'replayer' ? 'warning' : 'critical',
              code: steps.error?.code ?? 'REJECTED',
              message: `${rcpt.name} rejected a message from ${from.name}: ${steps.error?.message}`,
              id,
              account: from.account,
              deviceId: dev.id,
            })
          } else {
            state('received', rcpt.name, { text })
            logEntry(rcpt, 'received', `received ${id.slice(0, 10)}… from ${from.name}`, id)
            if (inGroup)
              later(200 + Math.random() * 400, () => {
                delivered.push(rcpt.account)
                delivery()
              })
          }
          send(steps)
        }
        if (from.role === 'honest') later(5, () => state('delivered', from.name))
      })
    })
  }

  const verify = (
    from: Person,
    by: Person,
    id: string,
    conversation: string,
    seqNo: string,
  ): VerificationEvent => {
    const dev = from.devices[0] as Person['devices'][number]
    const b = String(block - 1)
    const sigOk = from.role !== 'tamperer'
    const keyOk = from.role !== 'revoked'
    const replayOk = from.role !== 'replayer'
    const steps = [
      { name: 'envelope', ok: true, detail: 'Envelope v1 decoded; 1 frame, no trailing bytes' },
      { name: 'mls-decrypt', ok: true, detail: 'MLS PrivateMessage decrypted at epoch 3, sender leaf 0' },
      { name: 'statement', ok: true, detail: `statement v1 from ${from.name}, seq ${seqNo}, block ${b}` },
      {
        name: 'signature',
        ok: sigOk,
        detail: sigOk
          ? 'P-256 signature valid (low-S) over statement'
          : 'P-256 signature does not verify over statement',
      },
      {
        name: 'device-key',
        ok: keyOk,
        detail: keyOk
          ? `device ${dev.id.slice(0, 10)}… registered at block ${dev.added}, valid at ${b}`
          : `device ${dev.id.slice(0, 10)}… revoked at block ${dev.revokedAt}, before ${b}`,
      },
      {
        name: 'replay',
        ok: replayOk,
        detail: replayOk
          ? `seq ${seqNo} is new for this sender`
          : `seq ${seqNo} already seen for this sender`,
      },
      { name: 'body-hash', ok: true, detail: 'SHA-256 of the plaintext matches bodyHash' },
    ]
    const firstBad = steps.findIndex((s) => !s.ok)
    const shown = firstBad >= 0 ? steps.slice(0, firstBad + 1) : steps
    const errors: Record<string, [string, string, string]> = {
      signature: [
        'SignatureError',
        'SEALPOST_SIGNATURE_INVALID',
        'Statement signature is not valid for the device key',
      ],
      'device-key': [
        'KeyError',
        'SEALPOST_DEVICE_REVOKED',
        'Device key was revoked before the statement block',
      ],
      replay: ['ReplayError', 'SEALPOST_REPLAY', 'Statement sequence number was already used'],
    }
    const failed = firstBad >= 0 ? (shown[firstBad] as { name: string }).name : undefined
    const err = failed ? errors[failed] : undefined
    return {
      type: 'verification',
      at: now,
      id,
      by: by.account,
      ok: firstBad < 0,
      steps: shown,
      ...(failed ? { failedStep: failed } : {}),
      ...(err ? { error: { name: err[0], code: err[1], message: err[2] } } : {}),
      statement: {
        from: from.account,
        device: dev.id,
        conversation,
        seq: seqNo,
        sentAt: now,
        blockNumber: b,
        blockHash: hex(32),
        bodyHash: hex(32),
      },
      signature: hex(64),
      mls: { epoch: '3', ciphersuite: 'MLS_128_DHKEMP256_AES128GCM_SHA256_P256', senderLeaf: 0 },
      key: {
        deviceId: dev.id,
        p256X: dev.x,
        p256Y: dev.y,
        addedAt: String(dev.added),
        ...(dev.revokedAt ? { revokedAt: String(dev.revokedAt) } : {}),
        addedTx: dev.tx,
      },
    }
  }

  const anchor = () => {
    if (pending.length === 0) return
    const batch = pending.splice(0, 64)
    const id = batchId++
    const at = now
    const tx = hex(32)
    buildTree(batch.map((b) => b.leaf)).then(({ root, paths }) => {
      const gas = 48_000 + 2_100 * batch.length
      const anchoredBlock = block
      const lag = at - Math.min(...batch.map((b) => b.submitted)) + 900
      send({ type: 'batch', at, batchId: id, status: 'submitted', root, leafCount: batch.length, txHash: tx })
      send({
        type: 'batch',
        at: at + 900,
        batchId: id,
        status: 'confirmed',
        root,
        leafCount: batch.length,
        txHash: tx,
        blockNumber: String(anchoredBlock),
        gasUsed: String(gas),
        gasPerLeaf: Math.round(gas / batch.length),
        lagMs: lag,
      })
      batch.forEach((b, i) => {
        // Now and then a receipt's path is forged: the client rejects it and raises an alert.
        const forged = Math.random() < 0.02
        const path = forged ? (paths[i] as string[]).map(() => hex(32)) : (paths[i] as string[])
        const receipt = {
          type: 'receipt' as const,
          at: at + 950,
          leaf: b.leaf,
          ids: [b.id],
          root,
          index: i,
          treeSize: batch.length,
          path,
          txHash: tx,
          blockNumber: String(anchoredBlock),
          blockTimestamp: String(Math.floor((at + 900) / 1000)),
          confirmations: '1',
          verified: !forged,
          steps: [
            { name: 'root-anchored', ok: true, detail: `root anchored in block ${anchoredBlock}` },
            {
              name: 'inclusion',
              ok: !forged,
              detail: forged
                ? 'audit path does not recompute the anchored root'
                : `RFC 9162 path of ${path.length} verified`,
            },
          ],
        }
        send(receipt)
        const msg = {
          type: 'message' as const,
          id: b.id,
          conversation: hex(32),
          from: b.from.account,
          to: b.to.map((p) => p.account),
        }
        if (forged) {
          send({
            type: 'alert',
            at: at + 950,
            source: 'client',
            severity: 'critical',
            code: 'SEALPOST_RECEIPT_FORGED',
            message: `Receipt for ${b.id.slice(0, 10)}… does not prove inclusion in root ${root.slice(0, 10)}…`,
            id: b.id,
          })
          return
        }
        send({ ...msg, at: at + 960, state: 'anchored', observer: b.from.name })
        logEntry(
          b.from,
          'receipt',
          `receipt for ${b.id.slice(0, 10)}…: leaf ${i} of ${batch.length}, block ${anchoredBlock}`,
          b.id,
        )
        later(2_200, () => send({ ...msg, at: now, state: 'final', observer: b.from.name }))
      })
    })
  }

  // Periodic processes.
  const every = (ms: number, fn: () => void) => {
    const tick = () => {
      fn()
      later(ms, tick)
    }
    later(ms, tick)
  }
  every(1000 / rate, message)
  every(1000, () => {
    block++
  })
  every(2_000, anchor)
  every(1000, () => {
    send({
      type: 'metrics',
      at: now,
      throughput: accepted,
      latencies,
      queueDepth: queueDepth + Math.floor(Math.random() * 4),
      connections: people.reduce((n, p) => n + p.devices.length, 0),
      pendingLeaves: pending.length,
    })
    accepted = 0
    latencies = []
  })
  every(7_000, () => {
    // Malformed on purpose: must be counted and dropped, never rendered.
    emit(JSON.stringify({ type: 'message', at: now, id: 'not-a-hash', state: 'final' }))
  })
  every(20_000, () => {
    const p = pick(honest)
    logEntry(p, 'log-anchor', `log head #${p.log.index - 1} submitted as a Merkle leaf`)
  })

  const runUntil = (t: number) => {
    while (queue.length && (queue[0] as { t: number }).t <= t) {
      const next = queue.shift() as { t: number; fn: () => void }
      now = Math.max(now, next.t)
      next.fn()
    }
    now = Math.max(now, t)
  }
  runUntil(Date.now())
  setInterval(() => runUntil(Date.now()), 50)
}
