/** Relay store on JetStream: an existing stream must be configured as this relay asks, or the relay refuses to start. */
import type { StreamConfig } from '@nats-io/jetstream'
import { RelayStoreMismatchError } from './relayStore.js'

/**
 * What a relay expects of a stream it shares: its replicas and, when given, its subjects and description (which
 * names the deployment).
 *
 * @example const wanted: StreamExpectation = { name: stream, replicas: 3, subjects: ['sealpost.env.*'] }
 */
export type StreamExpectation = {
  name: string
  replicas: number
  subjects?: string[] | undefined
  description?: string | undefined
}

/**
 * Throws {@link RelayStoreMismatchError} naming every difference between `config` (an existing stream's) and
 * `wanted`. A stream created without a description (by a relay that did not name its deployment) is accepted.
 *
 * @example checkStreamConfig((await jsm.streams.info(name)).config, { name, replicas: 3, subjects })
 */
export function checkStreamConfig(config: Partial<StreamConfig>, wanted: StreamExpectation): void {
  const differences: string[] = []
  if ((config.num_replicas ?? 1) !== wanted.replicas)
    differences.push(
      `replicas: the stream has ${config.num_replicas ?? 1}, this relay asks for ${wanted.replicas}`,
    )
  if (wanted.subjects) {
    const have = [...(config.subjects ?? [])].sort().join(', ')
    const want = [...wanted.subjects].sort().join(', ')
    if (have !== want) differences.push(`subjects: the stream has [${have}], this relay uses [${want}]`)
  }
  if (wanted.description !== undefined && config.description && config.description !== wanted.description)
    differences.push(
      `deployment: the stream is "${config.description}", this relay is "${wanted.description}"`,
    )
  if (differences.length > 0)
    throw new RelayStoreMismatchError({ resource: `stream ${wanted.name}`, differences })
}

/**
 * Options of `JetStreamRelayStore.open` (`jetStreamRelayStore.ts`).
 *
 * @example JetStreamRelayStore.open({ servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'], replicas: 3 })
 */
export type JetStreamRelayStoreOptions = {
  /** NATS server URLs (any node of the cluster; the client fails over between them). */
  servers: string[]
  /** Names the stream (`<PREFIX>_ENVELOPES`), subjects (`<prefix>.env.<topic>`) and buckets; default `sealpost`. */
  prefix?: string | undefined
  /** Replicas of the stream and the KV buckets (1, 3 or 5); default 3. */
  replicas?: number | undefined
  /** JetStream's duplicate window for `Nats-Msg-Id` (ms); default 2 minutes. */
  duplicateWindowMs?: number | undefined
  /** Clock for the stored append time (retention); default `Date.now`. */
  now?: (() => number) | undefined
  /**
   * What the stream belongs to (e.g. chain id, contract and deployment block), kept in its description: a relay
   * of another deployment refuses to use it (`RelayStoreMismatchError`).
   */
  deployment?: string | undefined
}
