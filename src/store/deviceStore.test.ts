import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { InternalError } from '../errors.js'
import { DeviceStore, DeviceStoreCorruptError, type StoredMessage } from './deviceStore.js'

let dir: string
let path: string
let storageKey: Uint8Array
const opened: DeviceStore[] = []

function openStore(key: Uint8Array = storageKey): DeviceStore {
  const store = DeviceStore.open({ path, storageKey: key })
  opened.push(store)
  return store
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

const bytes = (text: string) => new TextEncoder().encode(text)
const PEER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const OTHER_PEER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-store-'))
  path = join(dir, 'device', 'state.sqlite')
  storageKey = new Uint8Array(randomBytes(32))
})

afterEach(() => {
  for (const s of opened.splice(0)) s.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('DeviceStore: open', () => {
  test('creates the file (and its directory) in WAL mode', () => {
    const store = openStore()
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.open).toBe(true)
  })

  test('rejects a storage key that is not 32 bytes', () => {
    expect(() => DeviceStore.open({ path, storageKey: new Uint8Array(16) })).toThrow(InternalError)
  })

  test('close is idempotent', () => {
    const store = openStore()
    store.close()
    store.close()
    expect(store.db.open).toBe(false)
  })
})

describe('DeviceStore: groups', () => {
  test('put/get/list round trip the sealed state', () => {
    const store = openStore()
    const state = new Uint8Array(randomBytes(300))
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 'suite-a', state })
    store.putGroup({ groupId: 'g2', peer: OTHER_PEER, ciphersuite: 'suite-b', state: bytes('two') })
    const g1 = store.getGroup('g1')
    expect(g1).toMatchObject({ groupId: 'g1', peer: PEER.toLowerCase(), ciphersuite: 'suite-a' })
    expect(g1?.state).toEqual(state)
    expect(typeof g1?.updatedAt).toBe('number')
    expect(store.getGroup('nope')).toBeUndefined()
    expect(
      store
        .listGroups()
        .map((g) => g.groupId)
        .sort(),
    ).toEqual(['g1', 'g2'])
  })

  test('the state column holds ciphertext, not the plaintext', () => {
    const store = openStore()
    const marker = 'PLAINTEXT-MARKER-1234567890'
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes(marker) })
    const raw = store.db.prepare('select state from groups where group_id = ?').get('g1') as { state: Buffer }
    expect(raw.state.includes(Buffer.from(marker))).toBe(false)
    // nonce (12) + ciphertext + tag (16)
    expect(raw.state.length).toBe(12 + marker.length + 16)
  })

  test('putGroup on an existing id replaces the state', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('epoch 1') })
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('epoch 2') })
    expect(store.getGroup('g1')?.state).toEqual(bytes('epoch 2'))
    expect(store.listGroups()).toHaveLength(1)
  })

  test('groupsWithPeer is case-insensitive and returns nothing for strangers', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('a') })
    expect(store.groupsWithPeer(PEER).map((g) => g.groupId)).toEqual(['g1'])
    expect(store.groupsWithPeer(PEER.toLowerCase()).map((g) => g.groupId)).toEqual(['g1'])
    expect(store.groupsWithPeer(`0x${PEER.slice(2).toUpperCase()}`).map((g) => g.groupId)).toEqual(['g1'])
    expect(store.groupsWithPeer(OTHER_PEER)).toEqual([])
  })

  test('groupsWithPeer lists the lowest group id first, whatever was updated last', () => {
    const store = openStore()
    const low = `0x0${'f'.repeat(63)}`
    const high = `0x1${'0'.repeat(63)}`
    store.putGroup({ groupId: high, peer: PEER, ciphersuite: 's', state: bytes('a') })
    store.putGroup({ groupId: low, peer: PEER, ciphersuite: 's', state: bytes('b') })
    store.putGroup({ groupId: high, peer: PEER, ciphersuite: 's', state: bytes('c') })
    expect(store.groupsWithPeer(PEER).map((g) => g.groupId)).toEqual([low, high])
  })

  test('state survives reopening with the same key', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('persisted') })
    store.close()
    expect(openStore().getGroup('g1')?.state).toEqual(bytes('persisted'))
  })
})

describe('DeviceStore: sealed rows are authenticated', () => {
  test('a state tampered in SQLite -> DeviceStoreCorruptError', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('state') })
    const { state } = store.db.prepare('select state from groups where group_id = ?').get('g1') as {
      state: Buffer
    }
    const tampered = Buffer.from(state)
    tampered[14] = tampered[14]! ^ 0x01
    store.db.prepare('update groups set state = ? where group_id = ?').run(tampered, 'g1')
    expect(() => store.getGroup('g1')).toThrow(DeviceStoreCorruptError)
    expect(() => store.listGroups()).toThrow(DeviceStoreCorruptError)
    const err = thrown(() => store.getGroup('g1'))
    expect(err).toBeInstanceOf(InternalError)
    expect((err as DeviceStoreCorruptError).code).toBe('SEALPOST_STORE_CORRUPT')
    expect((err as Error).message).toMatchInlineSnapshot(`
      "Device store row failed authentication.

      Row: groups/g1"
    `)
  })

  test('truncated or empty sealed blobs -> DeviceStoreCorruptError', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('state') })
    for (const blob of [Buffer.alloc(0), Buffer.alloc(5), Buffer.alloc(28)]) {
      store.db.prepare('update groups set state = ? where group_id = ?').run(blob, 'g1')
      expect(() => store.getGroup('g1')).toThrow(DeviceStoreCorruptError)
    }
  })

  test('opening with another storage key -> DeviceStoreCorruptError on read', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('state') })
    store.putKeyPackage({ ref: 'kp1', publicPackage: bytes('pub'), privatePackage: bytes('priv') })
    store.close()
    const intruder = openStore(new Uint8Array(randomBytes(32)))
    expect(() => intruder.getGroup('g1')).toThrow(DeviceStoreCorruptError)
    expect(() => intruder.listKeyPackages()).toThrow(DeviceStoreCorruptError)
  })

  test('swapping sealed blobs between two rows is detected (AAD binds the row key)', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('one') })
    store.putGroup({ groupId: 'g2', peer: PEER, ciphersuite: 's', state: bytes('two') })
    const get = store.db.prepare('select state from groups where group_id = ?')
    const s1 = (get.get('g1') as { state: Buffer }).state
    const s2 = (get.get('g2') as { state: Buffer }).state
    const set = store.db.prepare('update groups set state = ? where group_id = ?')
    set.run(s2, 'g1')
    set.run(s1, 'g2')
    expect(() => store.getGroup('g1')).toThrow(DeviceStoreCorruptError)
    expect(() => store.getGroup('g2')).toThrow(DeviceStoreCorruptError)
  })

  test('a blob sealed for one table does not open in another (AAD binds the table)', () => {
    const store = openStore()
    const sealed = store.seal('groups', 'k', bytes('x'))
    expect(store.open('groups', 'k', sealed)).toEqual(bytes('x'))
    expect(() => store.open('messages', 'k', sealed)).toThrow(DeviceStoreCorruptError)
    expect(() => store.open('groups', 'k2', sealed)).toThrow(DeviceStoreCorruptError)
  })

  test('sealing the same plaintext twice gives different blobs (random nonce)', () => {
    const store = openStore()
    const a = store.seal('groups', 'k', bytes('same'))
    const b = store.seal('groups', 'k', bytes('same'))
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false)
  })
})

describe('DeviceStore: sequence numbers, cursors, processed', () => {
  test('nextSeq starts at 1 per conversation, increments, and survives reopen', () => {
    const store = openStore()
    expect(store.nextSeq('c1')).toBe(1n)
    expect(store.nextSeq('c1')).toBe(2n)
    expect(store.nextSeq('c2')).toBe(1n)
    expect(store.nextSeq('c1')).toBe(3n)
    store.close()
    const reopened = openStore()
    expect(reopened.nextSeq('c1')).toBe(4n)
    expect(reopened.nextSeq('c2')).toBe(2n)
  })

  test('seq_in: 0 when unknown, set/get per (conversation, sender, device), sender case-insensitive', () => {
    const store = openStore()
    expect(store.lastSeqIn('c1', PEER, 'd1')).toBe(0n)
    store.setSeqIn('c1', PEER, 'd1', 7n)
    expect(store.lastSeqIn('c1', PEER, 'd1')).toBe(7n)
    expect(store.lastSeqIn('c1', PEER.toLowerCase(), 'd1')).toBe(7n)
    expect(store.lastSeqIn('c1', PEER, 'd2')).toBe(0n)
    expect(store.lastSeqIn('c2', PEER, 'd1')).toBe(0n)
    expect(store.lastSeqIn('c1', OTHER_PEER, 'd1')).toBe(0n)
    store.setSeqIn('c1', PEER, 'd1', 9n)
    expect(store.lastSeqIn('c1', PEER, 'd1')).toBe(9n)
  })

  test('cursors start at 0 and only move forward', () => {
    const store = openStore()
    expect(store.getCursor('t')).toBe(0n)
    store.setCursor('t', 5n)
    expect(store.getCursor('t')).toBe(5n)
    store.setCursor('t', 3n)
    expect(store.getCursor('t')).toBe(5n)
    store.setCursor('t', 8n)
    expect(store.getCursor('t')).toBe(8n)
    expect(store.getCursor('other')).toBe(0n)
  })

  test('processed verdicts: first verdict wins', () => {
    const store = openStore()
    expect(store.processed('e1')).toBeUndefined()
    store.markProcessed('e1', 'accepted')
    store.markProcessed('e1', 'rejected')
    expect(store.processed('e1')).toBe('accepted')
    store.markProcessed('e2', 'rejected:SEALPOST_STALE_SEQ')
    expect(store.processed('e2')).toBe('rejected:SEALPOST_STALE_SEQ')
  })
})

describe('DeviceStore: messages and key packages', () => {
  const message = (over: Partial<StoredMessage> = {}): StoredMessage => ({
    id: 'm1',
    conversation: 'c1',
    direction: 'in',
    from: PEER,
    device: 'd1',
    seq: 3n,
    sentAt: 1_700_000_000_000,
    body: 'secret meeting at noon ☕',
    report: '{"ok":true}',
    receivedAt: 1_700_000_000_500,
    state: 'received',
    delivered: false,
    ...over,
  })

  test('messages round trip with a sealed body', () => {
    const store = openStore()
    store.putMessage(message())
    const [m] = store.listMessages({ conversation: 'c1' })
    expect(m).toEqual({ ...message(), from: PEER.toLowerCase(), verdict: 'pending', contentType: 'text' })
    const raw = store.db.prepare('select body from messages where id = ?').get('m1') as { body: Buffer }
    expect(raw.body.includes(Buffer.from('secret meeting'))).toBe(false)
  })

  test('listMessages filters by conversation, orders by receivedAt and honours limit', () => {
    const store = openStore()
    store.putMessage(message({ id: 'late', receivedAt: 30 }))
    store.putMessage(message({ id: 'early', receivedAt: 10 }))
    store.putMessage(message({ id: 'mid', receivedAt: 20 }))
    store.putMessage(message({ id: 'elsewhere', conversation: 'c2', receivedAt: 15 }))
    expect(store.listMessages({ conversation: 'c1' }).map((m) => m.id)).toEqual(['early', 'mid', 'late'])
    expect(store.listMessages().map((m) => m.id)).toEqual(['early', 'elsewhere', 'mid', 'late'])
    expect(store.listMessages({ conversation: 'c1', limit: 2 }).map((m) => m.id)).toEqual(['early', 'mid'])
  })

  test('message state only moves forward; the outgoing envelope is dropped once accepted', () => {
    const store = openStore()
    const envelope = bytes('envelope bytes')
    store.putMessage(message({ id: 'o1', direction: 'out', state: 'queued', leaf: '0xAB', envelope }))
    expect(store.messagesInState(['queued'], 'out').map((m) => m.envelope)).toEqual([envelope])
    expect(store.updateMessage('o1', { state: 'accepted', cursor: 7n })).toMatchObject({
      state: 'accepted',
      cursor: 7n,
      envelope: undefined,
    })
    store.updateMessage('o1', { state: 'anchored', receipt: '{"leaf":"0xab"}' })
    expect(store.updateMessage('o1', { state: 'delivered', delivered: true })).toMatchObject({
      state: 'anchored',
      delivered: true,
      receipt: '{"leaf":"0xab"}',
    })
    expect(store.messagesByLeaf('0xab').map((m) => m.id)).toEqual(['o1'])
    expect(store.updateMessage('missing', { state: 'final' })).toBeUndefined()
  })

  test('undeliveredUpTo returns accepted outgoing messages of a topic up to a cursor', () => {
    const store = openStore()
    store.putMessage(message({ id: 'a', direction: 'out', state: 'queued' }))
    store.putMessage(message({ id: 'b', direction: 'out', state: 'queued' }))
    store.putMessage(message({ id: 'c', direction: 'out', state: 'queued', conversation: 'c2' }))
    store.updateMessage('a', { state: 'accepted', cursor: 1n })
    store.updateMessage('b', { state: 'accepted', cursor: 5n })
    store.updateMessage('c', { state: 'accepted', cursor: 1n })
    expect(store.undeliveredUpTo('c1', 4n).map((m) => m.id)).toEqual(['a'])
    store.updateMessage('a', { state: 'delivered', delivered: true })
    expect(store.undeliveredUpTo('c1', 9n).map((m) => m.id)).toEqual(['b'])
  })

  test('putMessage with an existing id keeps the first', () => {
    const store = openStore()
    store.putMessage(message({ body: 'first' }))
    store.putMessage(message({ body: 'second' }))
    expect(store.listMessages().map((m) => m.body)).toEqual(['first'])
  })

  test('a tampered message body -> DeviceStoreCorruptError', () => {
    const store = openStore()
    store.putMessage(message())
    const { body } = store.db.prepare('select body from messages where id = ?').get('m1') as { body: Buffer }
    body[body.length - 1] = body[body.length - 1]! ^ 0x80
    store.db.prepare('update messages set body = ? where id = ?').run(body, 'm1')
    expect(() => store.listMessages()).toThrow(DeviceStoreCorruptError)
  })

  test('key packages: put, list (private part sealed), delete', () => {
    const store = openStore()
    const priv = bytes('PRIVATE-KEY-PACKAGE-SECRET')
    store.putKeyPackage({ ref: 'kp1', publicPackage: bytes('pub1'), privatePackage: priv })
    store.putKeyPackage({ ref: 'kp2', publicPackage: bytes('pub2'), privatePackage: bytes('priv2') })
    const listed = store.listKeyPackages().sort((a, b) => a.ref.localeCompare(b.ref))
    expect(listed).toEqual([
      { ref: 'kp1', publicPackage: bytes('pub1'), privatePackage: priv, lastResort: false },
      { ref: 'kp2', publicPackage: bytes('pub2'), privatePackage: bytes('priv2'), lastResort: false },
    ])
    const raw = store.db.prepare('select private from key_packages where ref = ?').get('kp1') as {
      private: Buffer
    }
    expect(raw.private.includes(Buffer.from('PRIVATE-KEY-PACKAGE-SECRET'))).toBe(false)
    store.deleteKeyPackage('kp1')
    expect(store.listKeyPackages().map((k) => k.ref)).toEqual(['kp2'])
    store.deleteKeyPackage('missing')
    expect(store.listKeyPackages()).toHaveLength(1)
  })

  test('a last-resort key package survives deletion after use; a new one retires it, kept until purged', () => {
    const store = openStore()
    store.putKeyPackage(
      { ref: 'old', publicPackage: bytes('o'), privatePackage: bytes('p'), lastResort: true },
      1000,
    )
    store.putKeyPackage({ ref: 'once', publicPackage: bytes('x'), privatePackage: bytes('y') }, 1000)
    store.deleteKeyPackage('old')
    store.deleteKeyPackage('once')
    expect(store.listKeyPackages().map((k) => [k.ref, k.lastResort])).toEqual([['old', true]])
    expect(store.lastResortKeyPackage()).toEqual({ ref: 'old', publicPackage: bytes('o'), createdAt: 1000 })

    store.putKeyPackage(
      { ref: 'new', publicPackage: bytes('n'), privatePackage: bytes('q'), lastResort: true },
      2000,
    )
    expect(store.lastResortKeyPackage()?.ref).toBe('new')
    expect(store.purgeRetiredKeyPackages(1999)).toBe(0)
    expect(
      store
        .listKeyPackages()
        .map((k) => k.ref)
        .sort(),
    ).toEqual(['new', 'old'])
    expect(store.purgeRetiredKeyPackages(2000)).toBe(1)
    expect(store.listKeyPackages().map((k) => k.ref)).toEqual(['new'])
  })

  test('a store made before last-resort key packages keeps its key packages, as one-time ones', () => {
    mkdirSync(dirname(path), { recursive: true })
    const old = new Database(path)
    old.exec(
      'create table key_packages (ref text primary key, public blob not null, private blob not null, created_at integer not null)',
    )
    old
      .prepare('insert into key_packages values (?, ?, ?, ?)')
      .run('kp1', Buffer.from('pub'), Buffer.from('x'), 5)
    old.close()
    const store = openStore()
    expect(
      store.db.prepare('select ref, created_at, last_resort, retired_at from key_packages').all(),
    ).toEqual([{ ref: 'kp1', created_at: 5, last_resort: 0, retired_at: null }])
    expect(store.lastResortKeyPackage()).toBeUndefined()
  })

  test('a duplicate key package ref is refused', () => {
    const store = openStore()
    store.putKeyPackage({ ref: 'kp1', publicPackage: bytes('a'), privatePackage: bytes('b') })
    expect(() =>
      store.putKeyPackage({ ref: 'kp1', publicPackage: bytes('c'), privatePackage: bytes('d') }),
    ).toThrow(/UNIQUE/)
    expect(store.listKeyPackages()[0]?.publicPackage).toEqual(bytes('a'))
  })
})

describe('DeviceStore: transactions', () => {
  test('transaction() commits every write together and returns the value', () => {
    const store = openStore()
    const value = store.transaction(() => {
      store.setCursor('t', 4n)
      store.markProcessed('e1', 'accepted')
      return 42
    })
    expect(value).toBe(42)
    expect(store.getCursor('t')).toBe(4n)
    expect(store.processed('e1')).toBe('accepted')
  })

  test('transaction() rolls back every write when fn throws', () => {
    const store = openStore()
    store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('before') })
    expect(() =>
      store.transaction(() => {
        store.putGroup({ groupId: 'g1', peer: PEER, ciphersuite: 's', state: bytes('after') })
        store.nextSeq('c1')
        store.setCursor('t', 9n)
        store.markProcessed('e1', 'accepted')
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(store.getGroup('g1')?.state).toEqual(bytes('before'))
    expect(store.getCursor('t')).toBe(0n)
    expect(store.processed('e1')).toBeUndefined()
    expect(store.nextSeq('c1')).toBe(1n)
  })
})
