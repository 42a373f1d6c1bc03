/** The dashboard's errors: an unbuilt web app, and the refusals of its access check (token, Host, Origin). */
import { UsageError, VerificationError } from '../errors.js'

/** The web app has not been built (`npm run build:web`). @example new DashboardNotBuiltError({ dir: 'web/dist' }) */
export class DashboardNotBuiltError extends UsageError {
  override name = 'DashboardNotBuiltError' as const
  constructor({ dir }: { dir: string }) {
    super('The dashboard web app is not built.', {
      metaMessages: [`Looked in: ${dir}`, 'Run `npm run build:web` first (`npm start` does it).'],
      code: 'SEALPOST_DASHBOARD_NOT_BUILT',
    })
  }
}

/**
 * A request's `Host` header names neither a loopback name nor an IP literal nor the bound host, or another port:
 * a DNS-rebinding page or a misdirected request. Answered with HTTP 403.
 *
 * @example new DashboardForeignHostError({ host: 'evil.example:8788' })
 */
export class DashboardForeignHostError extends VerificationError {
  override name = 'DashboardForeignHostError' as const
  readonly status = 403
  constructor({ host }: { host: string }) {
    super('The dashboard refuses a request for a foreign Host.', {
      metaMessages: [`Host: ${host.slice(0, 100)}`],
      code: 'SEALPOST_DASHBOARD_FOREIGN_HOST',
    })
  }
}

/**
 * A request carries an `Origin` (or `Sec-Fetch-Site: cross-site`) that is not the dashboard's own: another web
 * page is reading it. Answered with HTTP 403.
 *
 * @example new DashboardForeignOriginError({ origin: 'http://evil.example' })
 */
export class DashboardForeignOriginError extends VerificationError {
  override name = 'DashboardForeignOriginError' as const
  readonly status = 403
  constructor({ origin }: { origin: string }) {
    super('The dashboard refuses a cross-origin request.', {
      metaMessages: [`Origin: ${origin.slice(0, 100)}`],
      code: 'SEALPOST_DASHBOARD_FOREIGN_ORIGIN',
    })
  }
}

/**
 * The event stream was asked for without this run's token, or with a wrong one. Answered with HTTP 401.
 *
 * @example new DashboardUnauthorizedError()
 */
export class DashboardUnauthorizedError extends VerificationError {
  override name = 'DashboardUnauthorizedError' as const
  readonly status = 401
  constructor() {
    super('The dashboard event stream requires this run’s token.', {
      metaMessages: ['Open the URL printed by `sealpost up` (the token is in its #fragment).'],
      code: 'SEALPOST_DASHBOARD_UNAUTHORIZED',
    })
  }
}

/** Every refusal of the dashboard's access check. @example if (err instanceof DashboardForeignHostError) … */
export type DashboardAccessError =
  | DashboardForeignHostError
  | DashboardForeignOriginError
  | DashboardUnauthorizedError
