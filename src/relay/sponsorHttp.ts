/** HTTP on the relay's port: `POST /v1/sponsor` (the sponsor, reachable before a device is registered), else 404. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type SponsorRefusalReason, SponsorRefusedError } from '../chain/errors.js'
import { parseSponsorRequest, SPONSOR_PATH } from '../chain/sponsor.js'
import type { Sponsor } from './sponsor.js'

/** Largest request body accepted (a rotate with a 2,592-byte ML-DSA key is under 8 KiB of JSON). */
export const MAX_SPONSOR_BODY_BYTES = 64 * 1024

const STATUS: Record<SponsorRefusalReason, number> = {
  'bad-request': 400,
  'wrong-registry': 403,
  reverted: 422,
  'gas-cap': 422,
  'rate-limited': 429,
  'budget-exhausted': 503,
  'not-offered': 404,
  failed: 502,
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

function refuse(res: ServerResponse, err: SponsorRefusedError): void {
  const detail = err.metaMessages.find((m) => m.startsWith('Detail: '))?.slice(8)
  if (err.retryAfterMs !== undefined && !res.headersSent)
    res.setHeader('retry-after', String(Math.ceil(err.retryAfterMs / 1000)))
  reply(res, STATUS[err.reason], {
    ok: false,
    error: {
      code: err.code,
      reason: err.reason,
      ...(detail ? { detail } : {}),
      ...(err.errorName ? { errorName: err.errorName } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    },
  })
}

/**
 * The relay's plain-HTTP handler. With a sponsor, `POST /v1/sponsor` takes a JSON {@link SponsorRequest} and
 * answers `{ ok: true, hash, blockNumber, gasUsed }` once mined, or `{ ok: false, error: { code, reason, … } }`
 * with 400/403/422/429/502/503; without one, 404 `not-offered`. Every other path is 404. `onError` hears failures
 * after simulation.
 *
 * @example const server = createServer(relayHttpHandler(sponsor))
 */
export function relayHttpHandler(
  sponsor: Sponsor | undefined,
  onError?: (err: SponsorRefusedError) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== SPONSOR_PATH) return reply(res, 404, { ok: false, error: { reason: 'not-found' } })
    if (!sponsor) return refuse(res, new SponsorRefusedError({ reason: 'not-offered' }))
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return reply(res, 405, { ok: false, error: { reason: 'method-not-allowed' } })
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_SPONSOR_BODY_BYTES) {
        refuse(res, new SponsorRefusedError({ reason: 'bad-request', detail: 'body too large' }))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      if (res.headersSent) return
      let request: ReturnType<typeof parseSponsorRequest>
      try {
        request = parseSponsorRequest(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch (err) {
        return refuse(
          res,
          err instanceof SponsorRefusedError
            ? err
            : new SponsorRefusedError({ reason: 'bad-request', detail: 'not JSON' }),
        )
      }
      sponsor.submit(request, req.socket.remoteAddress ?? 'unknown').then(
        (result) =>
          reply(res, 200, {
            ok: true,
            hash: result.hash,
            blockNumber: result.blockNumber.toString(),
            gasUsed: result.gasUsed.toString(),
          }),
        (err: unknown) => {
          const refused =
            err instanceof SponsorRefusedError
              ? err
              : new SponsorRefusedError({ reason: 'failed', cause: err })
          if (refused.reason === 'failed') onError?.(refused)
          refuse(res, refused)
        },
      )
    })
  }
}
