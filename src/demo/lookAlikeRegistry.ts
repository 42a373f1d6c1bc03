/** An attacker's contract for the demo's attack 3: a look-alike KeyRegistry that maps any key to any account. */
import type { Abi, Hex } from 'viem'

/**
 * ABI of KeyRegistryLookAlike (contracts/test/KeyRegistryLookAlike.sol): `set` registers a key to anyone, and the
 * views `deviceRecord` and `isValidAt` and the DeviceAdded event answer like KeyRegistry's.
 *
 * @example await wallet.writeContract({ address, abi: lookAlikeRegistryAbi, functionName: 'set', args })
 */
export const lookAlikeRegistryAbi = [
  {
    anonymous: false,
    inputs: [
      {
        indexed: true,
        internalType: 'address',
        name: 'account',
        type: 'address',
      },
      {
        indexed: true,
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
      {
        indexed: false,
        internalType: 'bytes32',
        name: 'p256X',
        type: 'bytes32',
      },
      {
        indexed: false,
        internalType: 'bytes32',
        name: 'p256Y',
        type: 'bytes32',
      },
      {
        indexed: false,
        internalType: 'bytes',
        name: 'mlsKey',
        type: 'bytes',
      },
      {
        indexed: false,
        internalType: 'bytes',
        name: 'mlsPop',
        type: 'bytes',
      },
    ],
    name: 'DeviceAdded',
    type: 'event',
  },
  {
    inputs: [
      {
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
    ],
    name: 'deviceRecord',
    outputs: [
      {
        internalType: 'uint32',
        name: 'account',
        type: 'uint32',
      },
      {
        internalType: 'uint40',
        name: 'addedAt',
        type: 'uint40',
      },
      {
        internalType: 'uint40',
        name: 'revokedAt',
        type: 'uint40',
      },
      {
        internalType: 'bytes18',
        name: 'mlsKeyHash',
        type: 'bytes18',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'account',
        type: 'address',
      },
      {
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
      {
        internalType: 'uint256',
        name: 'blockNumber',
        type: 'uint256',
      },
    ],
    name: 'isValidAt',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'bytes32',
        name: 'deviceId',
        type: 'bytes32',
      },
      {
        internalType: 'address',
        name: 'account',
        type: 'address',
      },
      {
        internalType: 'bytes32',
        name: 'p256X',
        type: 'bytes32',
      },
      {
        internalType: 'bytes32',
        name: 'p256Y',
        type: 'bytes32',
      },
    ],
    name: 'set',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
] as const satisfies Abi

/**
 * Creation bytecode of KeyRegistryLookAlike, compiled with the shipped contracts' solc settings (so the demo needs no
 * compiler at run time); lookAlikeRegistry.test.ts checks it against a fresh compile of the source.
 *
 * @example await wallet.deployContract({ abi: lookAlikeRegistryAbi, bytecode: lookAlikeRegistryBytecode })
 */
export const lookAlikeRegistryBytecode =
  ('0x6080604052348015600e575f5ffd5b506104568061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061' +
    '003f575f3560e01c8063837e29cc14610043578063e4006e93146100ff578063f0f86f7114610122575b5f5ffd5b6100be61' +
    '0051366004610356565b5f908152600160209081526040918290208251608081018452905463ffffffff8116808352640100' +
    '000000820464ffffffffff908116948401859052600160481b830416948301859052600160701b90910460701b6001600160' +
    '701b031916606090920182905293919291565b6040805163ffffffff95909516855264ffffffffff93841660208601529190' +
    '9216908301526001600160701b03191660608201526080015b60405180910390f35b61011261010d366004610388565b6101' +
    '37565b60405190151581526020016100f6565b6101356101303660046103b8565b6101aa565b005b6001600160a01b038316' +
    '5f9081526020819052604081205463ffffffff16801580159061017957505f8481526001602052604090205463ffffffff82' +
    '81169116145b80156101a157505f84815260016020526040902054640100000000900464ffffffffff168310155b95945050' +
    '505050565b6001600160a01b0383165f9081526020819052604081205463ffffffff16900361022557600280545f906101e3' +
    '9063ffffffff166103f0565b825463ffffffff9182166101009390930a83810292021916179091556001600160a01b038416' +
    '5f908152602081905260409020805463ffffffff191690911790555b604080516080810182526001600160a01b0385165f81' +
    '815260208181528482205463ffffffff9081168552600182860181815286880185815270c5d2460186f7233c927e7db2dcc7' +
    '03c0e560781b606089019081528d875292909452938790209551865494519351915160701c600160701b0264ffffffffff92' +
    '8316600160481b026dffffffffffffffffffffffffffff1668ffffffffffffffffff959093166401000000000268ffffffff' +
    'ffffffffff1990961691909316179390931791909116919091171790915590518591907f0aa1d39dc8219c336fb9db1d5283' +
    '5c6f348213058702f26995977d98bc2284ad90610348908690869091825260208201526080604082018190525f9082018190' +
    '5260a06060830181905282015260c00190565b60405180910390a350505050565b5f60208284031215610366575f5ffd5b50' +
    '35919050565b80356001600160a01b0381168114610383575f5ffd5b919050565b5f5f5f6060848603121561039a575f5ffd' +
    '5b6103a38461036d565b95602085013595506040909401359392505050565b5f5f5f5f608085870312156103cb575f5ffd5b' +
    '843593506103db6020860161036d565b93969395505050506040820135916060013590565b5f63ffffffff821663ffffffff' +
    '810361041757634e487b7160e01b5f52601160045260245ffd5b6001019291505056fea2646970667358221220a7852acc40' +
    '6644b60bf2201b6e3cb9e9158f3f80d890fbf75587ad938150391564736f6c63430008250033') as Hex
