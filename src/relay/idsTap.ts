/** The relay's IDS tap: turns what the relay saw into an IDS event for its optional sink (docs/ids.md §2). */
import type { IdsEvent } from '../ids/events.js'
import type { RelayContext } from './context.js'

type RelayIdsEvent = Extract<IdsEvent, { src: 'relay' }>

/**
 * A relay IDS event without the fields the tap fills in (`v`, `t`, `src`).
 *
 * @example const e: RelayTapEvent = { kind: 'frame-error', ip: '10.0.0.1', code: 'RELAY_FRAME_MALFORMED' }
 */
export type RelayTapEvent = RelayIdsEvent extends infer E
  ? E extends RelayIdsEvent
    ? Omit<E, 'v' | 't' | 'src'>
    : never
  : never

/**
 * Hands one event to the relay's IDS sink, stamped with the relay's clock. Callers check `ctx.ids` first, so a
 * relay without an IDS builds no event at all.
 *
 * @example if (ctx.ids) tapIds(ctx, { kind: 'frame-error', ip: conn.ip, code })
 */
export function tapIds(ctx: RelayContext, event: RelayTapEvent): void {
  ctx.ids?.emit({ v: 1, t: Math.floor(ctx.now()), src: 'relay', ...event } as IdsEvent)
}
