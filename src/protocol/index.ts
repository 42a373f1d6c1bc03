/** Public entry point of `sealpost/protocol`: the pure wire formats (envelope, statement, content, Merkle). */

export * from './canonicalJson.js'
export * from './content.js'
export * from './conversationContext.js'
export * from './credential.js'
export * from './envelope.js'
export * from './labels.js'
export * from './merkle.js'
export * from './messageState.js'
export * from './receipt.js'
export * from './relayFrames.js'
export * from './statement.js'
export * from './topics.js'
