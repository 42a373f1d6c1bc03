/** Entry point of the relay: the WebSocket server, its store, the anchorer, the sponsor, a composed node, and typed errors. */
export * from '../anchor/Anchorer.js'
export * from '../store/anchorStore.js'
export * from '../store/relayStore.js'
export * from './errors.js'
export * from './node.js'
export * from './RelayServer.js'
export {
  createSponsor,
  defaultSponsorPolicy,
  type Sponsor,
  type SponsorOptions,
  type SponsorPolicy,
} from './sponsor.js'
