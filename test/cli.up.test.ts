/** `sealpost up` as a user runs it: the join line, a sponsored user, and Ctrl-C that exits promptly and leaves nothing. */
import type { ChildProcess } from 'node:child_process'
import { get, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { createPublicClient, type Hex, http } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, expect, test } from 'vitest'
import { getRegistryNonce } from '../src/chain/keyRegistry.js'
import { signAddDevice } from '../src/chain/registryAuthorizations.js'
import { postSponsorRequest, sponsorUrlOf } from '../src/chain/sponsor.js'
import { connectClient } from '../src/client/connect.js'
import { readDeploymentFile } from '../src/client/deployment.js'
import { parseJoinLine, startUp, tempHomes } from './utils/cli.js'
import { testKdf, testPassphrase } from './utils/clients.js'
import { testDeviceKeys } from './utils/devices.js'
import { alive, descendants } from './utils/processes.js'

/** How long `up` may take from SIGINT to exit, with a client, an SSE stream and a sponsor call in flight. */
const EXIT_BOUND_MS = 15_000
const homes = tempHomes()
let up: ChildProcess | undefined

afterAll(() => {
  if (up && up.exitCode === null && up.signalCode === null) up.kill('SIGKILL')
  homes.remove()
})

test('up prints the join line; a second home joins with it alone and no ether; Ctrl-C exits within the bound, leaving no process', async () => {
  const home = homes.make('up')
  const userHome = homes.make('up-user')
  const upProcess = await startUp(home, { SEALPOST_PASSPHRASE: 'unused' }, ['--batch-ms', '300'])
  up = upProcess.child
  const child = upProcess.child
  const output = upProcess.output()
  const exited = upProcess.exited
  const { chain: chainPort, relay: relayPort, dashboard: dashboardPort } = upProcess.ports

  // Item 2: where it writes, and the exact line another user types.
  expect(output).toContain(`Writing under ${home}`)
  const {
    SEALPOST_RPC: rpc,
    SEALPOST_RELAY: relay,
    SEALPOST_DEPLOYMENT: deploymentFile,
  } = parseJoinLine(output)
  expect(rpc).toBe(`http://127.0.0.1:${chainPort}`)
  expect(relay).toBe(`ws://127.0.0.1:${relayPort}`)
  expect(deploymentFile).toBe(join(home, 'deployment.json'))
  const deployment = readDeploymentFile(deploymentFile)
  expect(deployment.statementVerifier, 'up records the StatementVerifier').toMatch(/^0x[0-9a-fA-F]{40}$/)

  // A second user with their own home, no ether and only those three values: registered through the sponsor.
  const account = privateKeyToAccount(generatePrivateKey())
  const client = await connectClient({
    account,
    home: userHome,
    rpc,
    deployment,
    relay,
    passphrase: testPassphrase,
    kdf: testKdf,
    pollingInterval: 200,
  })
  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 0 }) })
  expect(await publicClient.getBalance({ address: account.address })).toBe(0n)
  expect((await client.registration())?.account).toBe(account.address)

  // A dashboard SSE listener stays connected.
  const token = /#token=([\w-]+)/.exec(output)?.[1]
  expect(token, 'the dashboard is built (npm run build:web)').toBeDefined()
  const events = await new Promise<IncomingMessage>((resolve, reject) => {
    get(`http://127.0.0.1:${dashboardPort}/events?token=${token}`, resolve).on('error', reject)
  })
  expect(events.statusCode).toBe(200)
  const eventsClosed = new Promise<void>((resolve) => events.once('close', () => resolve()))
  events.resume()

  // A sponsor call in flight on a chain that stopped mining: the relay is waiting for a block that never comes.
  await publicClient.request({ method: 'evm_setIntervalMining' as never, params: [0] as never })
  const other = privateKeyToAccount(generatePrivateKey())
  const keys = testDeviceKeys({
    chainId: deployment.chainId,
    registry: deployment.keyRegistry,
    account: other.address,
  })
  const { signingKey: _s, mlsSignKey: _m, ...publicKeys } = keys
  const nonce = await getRegistryNonce(publicClient, {
    registry: deployment.keyRegistry,
    account: other.address,
  })
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const signature = await signAddDevice(other, {
    registry: deployment.keyRegistry,
    chainId: deployment.chainId,
    ...publicKeys,
    nonce,
    deadline,
  })
  const inFlight = postSponsorRequest(sponsorUrlOf(relay), {
    operation: 'addDevice',
    chainId: deployment.chainId,
    registry: deployment.keyRegistry,
    account: other.address,
    ...publicKeys,
    nonce,
    deadline,
    signature,
  }).catch((err: unknown) => err)
  // Let the relay simulate and send it.
  for (let i = 0; i < 50; i++) {
    const pending = (await publicClient.request({ method: 'txpool_status' as never })) as { pending: Hex }
    if (BigInt(pending.pending) > 0n) break
    await new Promise((r) => setTimeout(r, 100))
  }

  const children = descendants(child.pid as number)
  expect(children.length).toBeGreaterThan(0) // anvil at least
  const started = Date.now()
  child.kill('SIGINT')
  const code = await Promise.race([
    exited,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), EXIT_BOUND_MS)),
  ])
  const tookMs = Date.now() - started
  expect(code, `sealpost up did not exit within ${EXIT_BOUND_MS} ms:\n${upProcess.output()}`).not.toBe('hung')
  expect(code).toBe(0)
  expect(tookMs).toBeLessThan(EXIT_BOUND_MS)
  expect(upProcess.output()).toContain('✓ Stopping the dashboard, the relay and the chain')
  await eventsClosed
  expect(await inFlight).toBeInstanceOf(Error)
  await new Promise((r) => setTimeout(r, 500))
  expect(children.filter(alive)).toEqual([])
  await client.close()
}, 240_000)
