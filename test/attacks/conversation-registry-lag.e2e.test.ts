// A member whose registry view lags the committer's must not refuse an honest removal: the owner revokes a device
// and removes it at once, and a member that has not polled the chain since judges the removal against a view where
// the device still looks active (`removal-not-allowed`). The refusal is final only after a sync (found by the demo).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { conversationWorld, syncUntil } from './conversation-setup.js'

let world: Awaited<ReturnType<typeof conversationWorld>>

beforeAll(async () => {
  world = await conversationWorld()
})

afterAll(async () => {
  await world?.cleanup()
})

describe('a lagging registry view', () => {
  test('a removal of a device revoked a moment ago is accepted by a member that had not seen the revocation', async () => {
    const phone = await world.manual(2)
    const laptop = await world.manual(2)
    // Bob's watcher polls once an hour: after joining, his view of the registry stays where it was.
    const home = world.newHome()
    const setup = await world.net.client({ account: world.net.account(4), home })
    await setup.register({ keyPackages: 0 })
    await setup.close()
    const bob = await world.net.client({
      account: world.net.account(4),
      home,
      transport: await world.relayTransportOf(home, 4),
      pollingInterval: 3_600_000,
    })
    await bob.publishKeyPackages(3)

    const chat = await laptop.conversations.open(bob.account)
    expect((await syncUntil(bob, (r) => r.joined.length > 0)).joined).toEqual([chat.id])
    expect((await syncUntil(phone, (r) => r.joined.length > 0)).joined).toEqual([chat.id])

    await laptop.revokeDevice(phone.deviceId)
    expect(bob.watcher.device(phone.deviceId)?.revokedAt).toBeUndefined() // Bob has not seen it
    expect((await chat.syncMembers()).removed).toEqual([phone.deviceId])

    const got = await syncUntil(bob, (r) => r.commits + r.rejected.length > 0)
    expect(got.rejected).toEqual([])
    expect(got.commits).toBe(1)
    expect(bob.conversations.get(chat.id)?.info().epoch).toBe(chat.info().epoch)
    expect(
      bob.conversations
        .get(chat.id)
        ?.info()
        .members.map((m) => m.deviceId),
    ).not.toContain(phone.deviceId)
  })
})
