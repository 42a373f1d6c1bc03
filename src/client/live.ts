/** Live mode: subscriptions to the inbox and every conversation, acks, the finality timer and membership upkeep. */
import type { Hex } from 'viem'
import { inboxTopic } from '../protocol/topics.js'
import type { ClientContext } from './context.js'
import { handleExpiryNotice } from './expiryNotices.js'
import { KeyChangeMonitor } from './keyChanges.js'
import {
  dropStaleKeyPackages,
  KEY_PACKAGE_TARGET,
  publishKeyPackages,
  topUpKeyPackages,
  watchKeyPackageStock,
} from './keyPackageStock.js'
import { deserializeGroupState, membersOf } from './mls.js'
import { asRejection } from './reasons.js'
import { checkFinality } from './receipts.js'
import { consumeDelivery } from './receive.js'
import { reconcile } from './reconcile.js'
import { registration } from './registration.js'
import { topicPreimage } from './topicPreimage.js'
import type { SyncResult } from './types.js'

/**
 * A client's live session: follows topics as deliveries arrive, marks messages delivered from ACKS, checks finality
 * and resubmits overdue leaves on a timer, and reconciles group membership when the registry changes.
 *
 * @example const live = new Live(ctx, { pollingInterval: 1000, finality: 2 }); await live.start()
 */
export class Live {
  readonly #ctx: ClientContext
  readonly #pollingInterval: number
  readonly #finality: number
  readonly #subscriptions = new Map<Hex, () => void>()
  readonly #members = new Map<Hex, { version: number; others: string[] }>()
  #stops: (() => void)[] = []
  #reconcileTimer: NodeJS.Timeout | undefined
  #reconciling: Promise<void> | undefined
  #reconcileAgain = false
  #keys: KeyChangeMonitor | undefined
  #running = false

  constructor(
    ctx: ClientContext,
    { pollingInterval, finality }: { pollingInterval: number; finality: number },
  ) {
    this.#ctx = ctx
    this.#pollingInterval = pollingInterval
    this.#finality = finality
  }

  /**
   * Subscribes to this device's inbox and every conversation (resuming after the stored cursors), re-sends what the
   * relay has not accepted, resubmits leaves waiting for receipts, and keeps key packages published. Idempotent.
   *
   * @example await live.start()
   */
  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    const ctx = this.#ctx
    const timer = setInterval(() => {
      this.#tick().catch((err) => this.#backgroundError(err))
    }, this.#pollingInterval)
    timer.unref()
    this.#stops.push(() => clearInterval(timer))
    const offAcks = ctx.transport.onAcks?.((topic, acks) => this.#onAcks(topic, acks))
    // The relay reports envelopes of this device that expired unacked (§9.4): once each, as the `expired` event.
    const offExpired = ctx.transport.onExpired?.((notice) => {
      try {
        handleExpiryNotice(ctx, notice)
      } catch (err) {
        this.#backgroundError(err)
      }
    })
    if (offExpired) this.#stops.push(offExpired)
    // A joined group is reconciled at once too: membership is checked on every epoch, not only on revocation.
    const onJoined = () => this.#scheduleReconcile()
    ctx.events.on('joined', onJoined)
    ctx.events.on('membership', onJoined)
    this.#stops.push(() => ctx.events.off('joined', onJoined))
    this.#stops.push(() => ctx.events.off('membership', onJoined))
    if (offAcks) this.#stops.push(offAcks)
    // Membership follows the registry: a revoked device leaves every group, a new device joins (§3).
    const onChange = () => this.#scheduleReconcile()
    ctx.watcher.on('change', onChange)
    this.#stops.push(() => ctx.watcher.off('change', onChange))
    // Key-change alerts follow the registry too: contacts' changes, those made while offline included (§2.5).
    const keys = new KeyChangeMonitor(ctx, { onError: (err) => this.#backgroundError(err) })
    this.#keys = keys
    const onKeys = () => keys.schedule()
    ctx.watcher.on('change', onKeys)
    ctx.events.on('membership', onKeys)
    this.#stops.push(() => {
      keys.stop()
      ctx.watcher.off('change', onKeys)
      ctx.events.off('membership', onKeys)
    })
    this.follow(inboxTopic(ctx.deviceId))
    for (const group of ctx.store.listGroups()) this.follow(group.groupId as Hex)
    await keys.check().catch((err) => this.#backgroundError(err))
    // A message the relay holds back (this device quarantined) stays queued and the start goes on.
    const resending = ctx.outbox.resendQueued()
    // Accepted but not anchored yet: the anchorer may have lost nothing, but a leaf submission is idempotent.
    ctx.leaves.resubmitAll()
    await resending
    this.#scheduleReconcile()
    // Keep enough key packages at the relay for peers to add this device while it is offline (one-time ones and the
    // last-resort one, §3), topped up after each join and rotated on schedule. Key packages of an older client
    // (without the conversation context capability) are skipped by claimers: publish a full set anew.
    const record = await registration(ctx)
    if (record && record.revokedAt === undefined) {
      if (dropStaleKeyPackages(ctx) > 0) await publishKeyPackages(ctx, KEY_PACKAGE_TARGET)
      await topUpKeyPackages(ctx, KEY_PACKAGE_TARGET)
      if (this.#running)
        this.#stops.push(watchKeyPackageStock(ctx, { onError: (err) => this.#backgroundError(err) }))
    }
  }

  /**
   * Subscribes to `topic` if live and not yet subscribed.
   *
   * @example live.follow(conversationId)
   */
  follow(topic: Hex): void {
    if (!this.#running || this.#subscriptions.has(topic)) return
    const ctx = this.#ctx
    this.#keys?.note(topic) // a new conversation's contacts are followed from now on
    const stop = ctx.transport.subscribe({
      topics: [topic],
      after: (t) => ctx.store.getCursor(t),
      preimage: (t) => topicPreimage(ctx, t),
      onDelivery: (delivery) => {
        if (!ctx.store.db.open || delivery.cursor <= ctx.store.getCursor(delivery.topic)) return
        const result: SyncResult = { received: [], joined: [], commits: 0, rejected: [] }
        consumeDelivery(ctx, delivery, result, (c) => this.follow(c)).catch((err) =>
          this.#backgroundError(err),
        )
      },
      // Refused for good (the transport already retried transient refusals): reported; a later follow may retry.
      onError: (refused, err) => {
        this.#subscriptions.delete(refused)
        this.#backgroundError(err)
      },
    })
    this.#subscriptions.set(topic, stop)
  }

  /**
   * Leaves live mode: unsubscribes and stops the timers.
   *
   * @example live.stop()
   */
  stop(): void {
    if (!this.#running) return
    this.#running = false
    for (const stop of this.#subscriptions.values()) stop()
    this.#subscriptions.clear()
    for (const stop of this.#stops) stop()
    this.#stops = []
    clearTimeout(this.#reconcileTimer)
    this.#reconcileTimer = undefined
  }

  async #tick(): Promise<void> {
    const ctx = this.#ctx
    if (!ctx.store.db.open) return
    ctx.leaves.sweep()
    await checkFinality({
      outbox: ctx.outbox,
      checker: ctx.receipts,
      publicClient: ctx.publicClient,
      finality: this.#finality,
      clock: ctx.clock,
    })
  }

  #backgroundError(err: unknown): void {
    if (!this.#ctx.store.db.open) return
    this.#ctx.events.emit('rejected', {
      envelopeId: '0x' as Hex,
      topic: '0x' as Hex,
      error: asRejection(err),
    })
  }

  /**
   * One reconcile pass at a time: a change during a pass asks for one more pass after it (concurrent passes each
   * walked every group; adding a device to 100 conversations started 40 of them).
   */
  #scheduleReconcile(): void {
    if (!this.#running || this.#reconcileTimer) return
    this.#reconcileTimer = setTimeout(() => {
      this.#reconcileTimer = undefined
      if (!this.#ctx.store.db.open) return
      if (this.#reconciling) {
        this.#reconcileAgain = true
        return
      }
      this.#reconciling = reconcile(this.#ctx, () => this.#scheduleReconcile())
        .catch((err) => this.#backgroundError(err))
        .finally(() => {
          this.#reconciling = undefined
          if (!this.#reconcileAgain) return
          this.#reconcileAgain = false
          this.#scheduleReconcile()
        })
    }, 200)
    this.#reconcileTimer.unref()
  }

  #onAcks(topic: Hex, acks: { deviceId: Hex; seq: bigint }[]): void {
    if (!this.#ctx.store.db.open) return
    const others = this.#otherMembers(topic)
    if (!others || others.length === 0) return
    let min: bigint | undefined
    for (const deviceId of others) {
      const ack = acks.find((a) => a.deviceId.toLowerCase() === deviceId)
      if (!ack) return
      min = min === undefined || ack.seq < min ? ack.seq : min
    }
    if (min !== undefined) this.#ctx.outbox.delivered(topic, min)
  }

  /**
   * Device ids (lower case) of the other members of a group. ACKS frames arrive often; the group state is
   * decrypted and decoded only when it changed since the last call.
   */
  #otherMembers(groupId: Hex): string[] | undefined {
    const { store, config, deviceId } = this.#ctx
    const version = store.groupVersion(groupId)
    const cached = this.#members.get(groupId)
    if (cached && cached.version === version) return cached.others
    const group = store.getGroup(groupId)
    if (!group) return undefined
    const others = membersOf(deserializeGroupState(group.state, config))
      .map((m) => m.identity.deviceId.toLowerCase())
      .filter((id) => id !== deviceId.toLowerCase())
    this.#members.set(groupId, { version, others })
    return others
  }
}
