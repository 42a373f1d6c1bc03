/** `sealpost ids report|tail|verify|quarantine`: the IDS over an events file, its anchored alert log, its quarantines. */
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { openSuspicions } from '../client/suspicion.js'
import { verifyReceipt } from '../client/verifyReceipt.js'
import { alertAnchorsPath, checkAlertAnchors, readAlertAnchors } from '../ids/alertAnchor.js'
import { AlertLog, verifyAlertLog } from '../ids/alertLog.js'
import type { Alert, Incident } from '../ids/alerts.js'
import { IdsEngine } from '../ids/engine.js'
import { IdsAlertLogAnchorError } from '../ids/errors.js'
import { IDS_FILES } from '../ids/liveIds.js'
import { toOcsfDetectionFinding } from '../ids/ocsf.js'
import { deviceEntity, ResponseLog } from '../ids/responseLog.js'
import { loadIdsState, saveIdsState } from '../ids/state.js'
import { type CliContext, publicFor } from './context.js'
import { ArgumentError } from './errors.js'
import {
  idsQuarantineAddSpec,
  idsQuarantineLiftSpec,
  idsQuarantineListSpec,
  idsReportSpec,
  idsSuspectsSpec,
  idsTailSpec,
  idsVerifySpec,
} from './idsSpecs.js'
import { parseCommandArgs } from './options.js'
import { untilSignal } from './signals.js'

const time = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ')
const alertLine = (a: Alert) =>
  `${time(a.at)}  ${a.severity.padEnd(8)} ${a.category.padEnd(21)} ${a.detector.type}:${a.detector.name}  ${a.summary}`
const incidentLine = (i: Incident) =>
  `${i.id}  ${i.severity.padEnd(8)} ${i.kind.padEnd(21)} ${time(i.start)} → ${time(i.end)}  ${i.entities.slice(0, 4).join(' ')}${i.entities.length > 4 ? ' …' : ''}  (${i.alerts.length} alerts: ${i.detectors.join(', ')})`

/**
 * Runs `ids report`, `ids tail`, `ids verify` or `ids quarantine list|lift|add`.
 *
 * @example await idsCommand(ctx, ['report', '--events', 'events.jsonl'])
 */
export async function idsCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  if (sub === 'report') return report(ctx, rest)
  if (sub === 'tail') return tail(ctx, rest)
  if (sub === 'verify') return verify(ctx, rest)
  if (sub === 'quarantine') return quarantine(ctx, rest)
  if (sub === 'suspects') return suspects(ctx, rest)
  throw new ArgumentError(`Unknown command "ids ${sub ?? ''}".`, {
    metaMessages: ['Run `sealpost ids --help` for its commands.'],
  })
}

/** The chain, each anchored head, then each anchor's receipt on chain (unless --offline). */
async function verify(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(idsVerifySpec, argv)
  const entries = verifyAlertLog(readLog(values.log))
  const records = readAlertAnchors(values.anchors ?? alertAnchorsPath(values.log))
  const anchored = checkAlertAnchors(entries, records)
  if (records.length > 0 && !values.offline) {
    const deployment = await ctx.deployment()
    const publicClient = publicFor(ctx.rpc)
    for (const r of records) {
      const v = await verifyReceipt(publicClient, {
        receipt: r.receipt,
        messageAnchor: deployment.messageAnchor,
        chainId: deployment.chainId,
      })
      if (!v.ok)
        throw new IdsAlertLogAnchorError({ size: r.size, problem: v.error?.shortMessage ?? 'receipt' })
    }
  }
  const where = values.offline ? 'not checked on chain' : 'receipts verified on chain'
  ctx.out.info(
    `alert log ${values.log}: ${entries.length} entries, chain intact, head ${entries.at(-1)?.hash ?? '(empty)'}`,
  )
  if (records.length > 0)
    ctx.out.info(`anchored: ${records.length} heads, up to entry ${anchored - 1} (${where})`)
  else
    ctx.out.info('anchored: no anchor records (the chain shows changes only to whoever kept an earlier head)')
  ctx.out.result({
    ok: true,
    entries: entries.length,
    head: entries.at(-1)?.hash ?? null,
    anchors: records.length,
    anchoredEntries: anchored,
  })
}

/** `ids quarantine list|lift|add` over the relay's response log. */
async function quarantine(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  const dirOf = (dir: string | undefined) => dir ?? join(ctx.home, 'relay')
  if (sub === 'list') {
    const { values } = parseCommandArgs(idsQuarantineListSpec, rest)
    const list = ResponseLog.open(join(dirOf(values.dir), IDS_FILES.responses)).quarantines()
    for (const q of list)
      ctx.out.info(
        `${q.entity.slice('device:'.length)}  since ${time(q.at)}  ${q.category ?? 'by hand'}${q.alert ? ` (alert ${q.alert})` : ''}${q.by ? ` by ${q.by}` : ''}`,
      )
    ctx.out.info(`${list.length} quarantined`)
    ctx.out.result({ ok: true, quarantined: list })
    return
  }
  if (sub !== 'lift' && sub !== 'add')
    throw new ArgumentError(`Unknown command "ids quarantine ${sub ?? ''}".`, {
      metaMessages: ['Commands: list, lift, add.'],
    })
  const { values } = parseCommandArgs(sub === 'lift' ? idsQuarantineLiftSpec : idsQuarantineAddSpec, rest)
  if (!values.device) throw new ArgumentError('--device ID is required.')
  const log = ResponseLog.open(join(dirOf(values.dir), IDS_FILES.responses))
  const entity = deviceEntity(values.device)
  if (sub === 'lift') log.lift(entity, { by: values.by, now: Date.now() })
  else if (!log.isQuarantined(entity))
    log.record({ action: 'quarantine', entity, at: Date.now(), by: values.by })
  ctx.out.info(`${entity.slice('device:'.length)} ${sub === 'lift' ? 'released' : 'quarantined'}`)
  ctx.out.result({ ok: true, device: entity.slice('device:'.length), quarantined: sub === 'add' })
}

/** `ids suspects`: this home's suspicious contacts (`<home>/suspicion.json`, written by `sealpost inbox`). */
function suspects(ctx: CliContext, argv: string[]): void {
  const { values } = parseCommandArgs(idsSuspectsSpec, argv)
  const marks = openSuspicions({ path: join(ctx.home, 'suspicion.json') })
  if (values.mark) marks.mark({ account: values.mark, reason: values.reason, source: 'user' })
  if (values.clear && !marks.clear(values.clear))
    throw new ArgumentError(`${values.clear} is not marked suspicious.`)
  const list = marks.list()
  for (const s of list)
    ctx.out.info(
      `${s.account}  since ${time(s.at)}  ${s.reason} (${s.source}${s.device ? `, device ${s.device}` : ''})`,
    )
  ctx.out.info(`${list.length} suspicious contact${list.length === 1 ? '' : 's'}`)
  ctx.out.result({ ok: true, suspects: list })
}

function readLog(path: string): string {
  if (!existsSync(path)) throw new ArgumentError(`No alert log at ${path}.`)
  return readFileSync(path, 'utf8')
}

async function report(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(idsReportSpec, argv)
  if (!values.events) throw new ArgumentError('--events FILE is required.')
  if (!existsSync(values.events)) throw new ArgumentError(`No events file at ${values.events}.`)
  const warmup = Number(values['warmup-hours'])
  if (!Number.isFinite(warmup) || warmup < 0) throw new ArgumentError('--warmup-hours must be a number ≥ 0.')
  const log = AlertLog.open(values.log)
  const ocsf: string[] = []
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version
  const state = values.state && existsSync(values.state) ? loadIdsState(values.state) : undefined
  const engine = new IdsEngine(
    {
      warmupMs: warmup * 3600_000,
      knownAnchorers: values.anchorers ? values.anchorers.split(',').map((a) => a.trim()) : [],
    },
    {
      onAlert: (a) => {
        log.append(a)
        if (values.ocsf) ocsf.push(JSON.stringify(toOcsfDetectionFinding(a, version)))
      },
      ...(state ? { state } : {}),
    },
  )
  const lines = createInterface({
    input: createReadStream(values.events),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  let n = 0
  const problems: string[] = []
  for await (const line of lines) {
    n += 1
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      value = Symbol('not JSON')
    }
    const r = engine.ingestUnknown(value, n)
    if (!r.ok && problems.length < 5) problems.push(`line ${n}: ${r.error.code}`)
  }
  engine.flush()
  if (values.state) saveIdsState(values.state, engine.exportState())
  if (values.ocsf) writeFileSync(values.ocsf, ocsf.length > 0 ? `${ocsf.join('\n')}\n` : '')
  const incidents = engine.incidents()
  const s = engine.stats
  ctx.out.info(
    `${s.ingested} events (${s.malformed} malformed, ${s.outOfOrder} out of order, ${s.shed} shed, ${s.clockJumps} clock jumps), ${engine.alerts().length} alerts, ${incidents.length} incidents`,
  )
  for (const p of problems) ctx.out.info(`  skipped ${p}`)
  for (const i of incidents) ctx.out.info(incidentLine(i))
  ctx.out.info(`alert log ${values.log}: ${log.size} entries, head ${log.head}`)
  ctx.out.result({
    ok: true,
    stats: s,
    incidents,
    alertLog: { path: values.log, entries: log.size, head: log.head },
  })
}

async function tail(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(idsTailSpec, argv)
  let printed = 0
  const show = () => {
    const entries = verifyAlertLog(readLog(values.log))
    for (const e of entries.slice(printed)) ctx.out.info(alertLine(e.alert))
    if (ctx.out.json) for (const e of entries.slice(printed)) ctx.out.result(e.alert)
    printed = entries.length
  }
  show()
  if (values.once) return
  let size = statSync(values.log).size
  const timer = setInterval(() => {
    const now = statSync(values.log).size
    if (now !== size) {
      size = now
      show()
    }
  }, 500)
  try {
    await untilSignal()
  } finally {
    clearInterval(timer)
  }
}
