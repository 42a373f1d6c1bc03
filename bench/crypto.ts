/** Crypto benchmark: 1:1 seal+open of 1 KiB messages with ts-mls's default provider, Sealpost's node:crypto provider, and libsignal. */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { defaultCryptoProvider } from 'ts-mls'
import { DEFAULT_CIPHERSUITE, getMlsCiphersuite } from '../src/crypto/mls.js'
import { createNodeCryptoProvider } from '../src/crypto/nodeCryptoProvider.js'
import { loadLibsignal, signalPair } from './lib/libsignal.js'
import { type BenchContext, type BenchOutput, opsPerSecond, target } from './lib/report.js'
import { sealpostPair } from './lib/sealpostPair.js'

/** The physical limit: per message one Ed25519 (MLS) and one P-256 (statement) signature and verification. */
async function signatureFloor(ms: number) {
  const ed = generateKeyPairSync('ed25519')
  const p = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const edPriv = ed.privateKey
  const edPub = ed.publicKey
  const msg = randomBytes(1200)
  const statement = randomBytes(230)
  const edSig = sign(null, msg, edPriv)
  const pSig = sign('sha256', statement, { key: p.privateKey, dsaEncoding: 'ieee-p1363' })
  const perOp = async (fn: () => unknown) => 1e6 / (await opsPerSecond(fn, ms, 50)).perSec
  const costs = {
    ed25519Sign: await perOp(() => sign(null, msg, edPriv)),
    ed25519Verify: await perOp(() => verify(null, msg, edPub, edSig)),
    p256Sign: await perOp(() => sign('sha256', statement, { key: p.privateKey, dsaEncoding: 'ieee-p1363' })),
    p256Verify: await perOp(() =>
      verify('sha256', statement, { key: p.publicKey, dsaEncoding: 'ieee-p1363' }, pSig),
    ),
  }
  const totalUs = costs.ed25519Sign + costs.ed25519Verify + costs.p256Sign + costs.p256Verify
  return { costs, totalUs, perSec: 1e6 / totalUs }
}

/** Runs the crypto benchmark. */
export async function runCrypto({ quick, log }: BenchContext): Promise<BenchOutput> {
  const ms = quick ? 700 : 5000
  const body = new Uint8Array(randomBytes(1024))
  const rows: Record<string, string | number | null>[] = []
  const notes: string[] = []
  const measure = async (name: string, roundTrip: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await roundTrip() // warm up
    const { ops, perSec } = await opsPerSecond(roundTrip, ms)
    log(`crypto: ${name}: ${Math.round(perSec)} msg/s`)
    rows.push({ implementation: name, 'msg/s': perSec, 'µs/msg': 1e6 / perSec, messages: ops, status: 'ok' })
    return perSec
  }

  const defaultImpl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, defaultCryptoProvider) // ts-mls's own provider
  const nodeImpl = await getMlsCiphersuite(DEFAULT_CIPHERSUITE, createNodeCryptoProvider())
  const slow = await sealpostPair(defaultImpl, defaultImpl)
  const sealDefault = await measure('Sealpost, ts-mls default provider', () => slow.roundTrip(body))
  const fast = await sealpostPair(nodeImpl, nodeImpl)
  const sealNode = await measure('Sealpost, node:crypto provider', () => fast.roundTrip(body))

  let signal: number | null = null
  const S = await loadLibsignal()
  if (S) {
    const pair = await signalPair(S)
    signal = await measure('@signalapp/libsignal-client (native)', () => pair.send(body))
  } else {
    rows.push({
      implementation: '@signalapp/libsignal-client',
      'msg/s': null,
      'µs/msg': null,
      messages: 0,
      status: 'skipped: not installed',
    })
    log('crypto: libsignal skipped: not installed')
  }

  const floor = await signatureFloor(quick ? 300 : 2000)
  rows.push({
    implementation: 'physical limit: Ed25519 + P-256 sign and verify (node:crypto)',
    'msg/s': floor.perSec,
    'µs/msg': floor.totalUs,
    messages: null,
    status: 'computed',
  })
  log(`crypto: signature floor ${Math.round(floor.perSec)} msg/s (${floor.totalUs.toFixed(1)} µs)`)
  notes.push(
    `Physical limit per message: Ed25519 sign ${floor.costs.ed25519Sign.toFixed(1)} µs + verify ${floor.costs.ed25519Verify.toFixed(1)} µs (MLS leaf signature) + P-256 sign ${floor.costs.p256Sign.toFixed(1)} µs + verify ${floor.costs.p256Verify.toFixed(1)} µs (statement signature) = ${floor.totalUs.toFixed(1)} µs, i.e. ${Math.round(floor.perSec)} msg/s on one core. The node provider reaches ${((sealNode / floor.perSec) * 100).toFixed(0)}% of it.`,
    `Speed-up of the node:crypto provider over ts-mls's default provider: ${(sealNode / sealDefault).toFixed(2)}x.`,
    'A "message" is one seal (statement signature, content encoding, MLS application message, envelope) by Alice and one open (envelope and MLS decoding, MLS processing, statement verification) by Bob, in one process, one direction, suite MLS_256_XWING_AES256GCM_SHA512_Ed25519. Storage and network are measured by the relay benchmark. libsignal: one PQXDH session, Alice encrypts, Bob decrypts, one direction.',
  )
  if (!S)
    notes.push(
      'libsignal is an optional dev dependency (AGPL, benchmark only) and was not installed: its row is skipped and the ratio falls back to the default provider.',
    )

  const baseline = signal ?? sealDefault
  return {
    title: 'Crypto: 1:1 seal+open of 1 KiB messages',
    baseline: {
      name:
        signal !== null
          ? '@signalapp/libsignal-client encrypt+decrypt'
          : 'Sealpost with the ts-mls default provider',
      value: baseline,
      unit: 'msg/s',
    },
    headline: { name: 'Sealpost with the node:crypto provider', value: sealNode, unit: 'msg/s' },
    ratio: sealNode / baseline,
    ratioMeaning: "Sealpost messages per second divided by the baseline's; above 1 is faster",
    columns: ['implementation', 'msg/s', 'µs/msg', 'messages', 'status'],
    rows,
    targets: [
      target(
        'Sealpost (node provider) vs libsignal',
        signal !== null ? sealNode / signal : null,
        '>=',
        1,
        'x',
        signal === null ? 'libsignal not installed' : undefined,
      ),
    ],
    notes,
    series: {
      throughput: rows
        .filter((r) => typeof r['msg/s'] === 'number')
        .map((r) => ({ label: r.implementation ?? '', value: r['msg/s'] ?? 0 })),
    },
  }
}
