import { type Address, concat, type Hex, keccak256 } from 'viem'
import WebSocket from 'ws'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import {
  type ClientFrame,
  decodeRelayFrame,
  encodeClientFrame,
  type RelayFrame,
  relayAuthMessage,
} from '../../src/protocol/relayFrames.js'
import type { ChainContext, TestWalletClient } from '../utils/anvil.js'
import { registerTestDevice, testDeviceKeys } from '../utils/devices.js'

/** A P-256 device key, its id, and the account it is (or will be) registered to. */
export type RawDevice = { key: DeviceSigningKey; account: Address; deviceId: Hex; wallet: TestWalletClient }

/** A fresh device key for `wallet`'s account; not registered yet. */
export function newDevice(wallet: TestWalletClient): RawDevice {
  const key = DeviceSigningKey.generate()
  const deviceId = keccak256(concat([key.p256X, key.p256Y]))
  return { key, account: wallet.account.address, deviceId, wallet }
}

/** Registers `device` in the KeyRegistry (account key signs, account 0 submits), with a fresh MLS key. */
export async function registerDevice(ctx: ChainContext, device: RawDevice): Promise<void> {
  const keys = testDeviceKeys({
    chainId: ctx.anvil.chainId,
    registry: ctx.contracts.keyRegistry,
    account: device.account,
    signingKey: device.key,
  })
  await registerTestDevice(ctx, device.wallet, { keys })
}

/** A raw connection: every frame received is queued; `next` takes the first that matches. */
export class RawRelayClient {
  readonly frames: RelayFrame[] = []
  /** Every frame ever received, consumed or not. */
  readonly history: RelayFrame[] = []
  challenge: Hex | undefined
  /** Pending `next` calls in call order; a frame goes to the first whose predicate it matches, else to `frames`. */
  #waiters: { pred: (f: RelayFrame) => boolean; settle: (f: RelayFrame | undefined) => void }[] = []
  #challengeWake: (() => void) | undefined

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = decodeRelayFrame(new Uint8Array(data))
      this.history.push(frame)
      if (frame.type === 'challenge') {
        this.challenge = frame.challenge
        this.#challengeWake?.()
        return
      }
      const i = this.#waiters.findIndex((w) => w.pred(frame))
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.settle(frame)
      else this.frames.push(frame)
    })
    ws.on('close', () => {
      this.#challengeWake?.()
      for (const w of this.#waiters.splice(0)) w.settle(undefined)
    })
    ws.on('error', () => {})
  }

  /** Opens a connection from `localAddress` (any 127.x.y.z on Linux) and waits for its CHALLENGE. */
  static async connect(url: string, localAddress = '127.0.0.1'): Promise<RawRelayClient> {
    const client = new RawRelayClient(new WebSocket(url, { localAddress }))
    if (!client.challenge)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000)
        client.#challengeWake = () => {
          clearTimeout(t)
          resolve()
        }
      })
    client.#challengeWake = undefined
    if (!client.challenge) throw new Error('no CHALLENGE')
    return client
  }

  send(frame: ClientFrame): void {
    this.ws.send(encodeClientFrame(frame))
  }

  /** Sends raw frame bytes (for example a retired frame type) and returns the OK or ERROR with `reqId`. */
  requestBytes(bytes: Uint8Array, reqId: number): Promise<RelayFrame> {
    this.ws.send(bytes)
    return this.next((f) => (f.type === 'ok' || f.type === 'error') && f.reqId === reqId)
  }

  /** Sends AUTH signed by `key` for (`account`, `deviceId`) and returns AUTH_OK or the ERROR. */
  auth(device: { key: DeviceSigningKey; account: Address; deviceId: Hex }): Promise<RelayFrame> {
    const { key, account, deviceId } = device
    const message = relayAuthMessage({ challenge: this.challenge as Hex, account, deviceId })
    const signature = `0x${Buffer.from(key.sign(message)).toString('hex')}` as Hex
    this.send({ type: 'auth', account, deviceId, signature })
    return this.next((f) => f.type === 'auth-ok' || (f.type === 'error' && f.reqId === 0))
  }

  /** Sends a request and returns the OK, KP or ERROR with its reqId. */
  request(frame: ClientFrame & { reqId: number }): Promise<RelayFrame> {
    this.send(frame)
    return this.next(
      (f) => (f.type === 'ok' || f.type === 'error' || f.type === 'kp') && f.reqId === frame.reqId,
    )
  }

  /** Removes and returns the first queued frame matching `pred`, or the next one to arrive within `timeoutMs`. */
  next(pred: (f: RelayFrame) => boolean, timeoutMs = 5000): Promise<RelayFrame> {
    const i = this.frames.findIndex(pred)
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!)
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error('no matching frame'))
    return new Promise<RelayFrame>((resolve, reject) => {
      const waiter = {
        pred,
        settle: (f: RelayFrame | undefined) => {
          clearTimeout(timer)
          if (f) resolve(f)
          else reject(new Error('no matching frame'))
        },
      }
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter)
        if (at >= 0) this.#waiters.splice(at, 1)
        reject(new Error('no matching frame'))
      }, timeoutMs)
      this.#waiters.push(waiter)
    })
  }

  close(): void {
    this.ws.terminate()
  }
}
