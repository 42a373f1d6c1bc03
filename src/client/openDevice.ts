/** Unlocking (or creating on first use) the device keys a client runs with, checked against the account. */
import { type Address, isAddressEqual } from 'viem'
import { resolvePassphrase } from '../store/keystore.js'
import { AccountMismatchError } from './errors.js'
import { createDevice, type DeviceKeys, deviceExists, loadDevice } from './identity.js'
import type { ClientParameters } from './types.js'

/**
 * Opens (creating on first use) the device `name` under `home`, unless its keys are given already unlocked.
 *
 * @example const keys = await openDeviceKeys({ home, account, passphrase })
 */
export async function openDeviceKeys(
  parameters: ClientParameters & { accountAddress: Address },
): Promise<DeviceKeys> {
  const device = parameters.keys ?? (await unlockOrCreate(parameters))
  if (!isAddressEqual(device.account, parameters.accountAddress))
    throw new AccountMismatchError({ deviceAccount: device.account, givenAccount: parameters.accountAddress })
  return device
}

async function unlockOrCreate(
  parameters: ClientParameters & { accountAddress: Address },
): Promise<DeviceKeys> {
  const passphrase = resolvePassphrase({ passphrase: parameters.passphrase })
  const name = parameters.device ?? 'default'
  return deviceExists(parameters.home, name)
    ? loadDevice({ home: parameters.home, name, passphrase })
    : createDevice({
        home: parameters.home,
        name,
        account: parameters.accountAddress,
        passphrase,
        ciphersuite: parameters.ciphersuite,
        kdf: parameters.kdf,
      })
}
