/** Relay store on JetStream: pipelined publishes and direct gets over one reply subscription, cheap per request. */
import { type ApiError, JetStreamApiError, type PubAck } from '@nats-io/jetstream'
import {
  createInbox,
  Empty,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NoRespondersError,
  type Subscription,
  TimeoutError,
} from '@nats-io/transport-node'

type Waiter = { resolve(m: Msg): void; reject(err: unknown): void; at: number }

/**
 * Requests to JetStream for the store's hot path (an append's publishes, id look-ups and id writes). `nc.request`
 * makes a timer, an error with a stack trace and a mux entry per request, which cost more CPU than the request
 * itself at a few thousand per second; here every reply comes to one subscription (`<inbox>.<n>`) and one sweep
 * times out what waited longer than `timeoutMs`. Requests go out in call order, so publishes made in one loop are
 * pipelined on the connection. Errors are the client library's: `JetStreamApiError` (an API error in the reply),
 * `NoRespondersError` (no JetStream behind the subject), `TimeoutError`.
 *
 * @example
 * const pipeline = new JetStreamPipeline(nc)
 * const acks = await Promise.all(messages.map((m) => pipeline.publish(m.subject, m.bytes, m.headers)))
 */
export class JetStreamPipeline {
  readonly #nc: NatsConnection
  readonly #inbox = createInbox()
  readonly #sub: Subscription
  readonly #waiting = new Map<number, Waiter>()
  readonly #timeoutMs: number
  readonly #sweep: ReturnType<typeof setInterval>
  #next = 0

  constructor(nc: NatsConnection, { timeoutMs = 5_000 }: { timeoutMs?: number | undefined } = {}) {
    this.#nc = nc
    this.#timeoutMs = timeoutMs
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => {
        if (err) return
        const id = Number(msg.subject.slice(this.#inbox.length + 1))
        const waiter = this.#waiting.get(id)
        if (!waiter) return
        this.#waiting.delete(id)
        waiter.resolve(msg)
      },
    })
    this.#sweep = setInterval(
      () => this.#expire(Date.now() - this.#timeoutMs),
      Math.min(1_000, timeoutMs / 4),
    )
    this.#sweep.unref()
  }

  /**
   * Publishes to a stream's subject and resolves with JetStream's ack.
   *
   * @example const { seq, duplicate } = await pipeline.publish('sealpost.env.ab…', bytes, h)
   */
  async publish(subject: string, data: Uint8Array | string, headers?: MsgHdrs): Promise<PubAck> {
    const reply = await this.#request(subject, data, headers)
    if (reply.headers?.code === 503) throw new NoRespondersError(subject)
    const ack = reply.json<Partial<PubAck> & { error?: ApiError }>()
    if (ack.error) throw new JetStreamApiError(ack.error)
    return {
      stream: ack.stream ?? '',
      seq: ack.seq ?? 0,
      duplicate: ack.duplicate ?? false,
      ...(ack.domain === undefined ? {} : { domain: ack.domain }),
    }
  }

  /**
   * The last message on `subject` of `stream` (a direct get, answered by any replica), or null when there is none.
   *
   * @example const entry = await pipeline.lastOf('KV_sealpost_state', '$KV.sealpost_state.ids.ab….cd…')
   */
  async lastOf(stream: string, subject: string): Promise<Msg | null> {
    const reply = await this.#request(`$JS.API.DIRECT.GET.${stream}.${subject}`, Empty)
    const code = reply.headers?.code ?? 0
    if (code === 404) return null
    if (code === 503) throw new NoRespondersError(subject)
    if (code !== 0)
      throw new JetStreamApiError({
        code,
        err_code: 0,
        description: reply.headers?.description ?? 'direct get failed',
      })
    return reply
  }

  /**
   * Stops listening; what still waits fails with a `TimeoutError`.
   *
   * @example pipeline.close()
   */
  close(): void {
    clearInterval(this.#sweep)
    this.#expire(Number.POSITIVE_INFINITY)
    this.#sub.unsubscribe()
  }

  #request(subject: string, data: Uint8Array | string, headers?: MsgHdrs): Promise<Msg> {
    const id = this.#next++
    return new Promise<Msg>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, at: Date.now() })
      try {
        this.#nc.publish(subject, data, { reply: `${this.#inbox}.${id}`, ...(headers ? { headers } : {}) })
      } catch (err) {
        this.#waiting.delete(id)
        reject(err)
      }
    })
  }

  /** Fails every request sent before `before` (ms) with a `TimeoutError`. */
  #expire(before: number): void {
    let err: TimeoutError | undefined
    for (const [id, waiter] of this.#waiting) {
      if (waiter.at >= before) break // insertion order is send order
      this.#waiting.delete(id)
      err ??= new TimeoutError()
      waiter.reject(err)
    }
  }
}
