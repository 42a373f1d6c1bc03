/** Relay → anchorer: the statement leaves clients submit (LEAF frames) go to the anchorer, as they are. */
import type { AnchorerSubmission } from '../anchor/Anchorer.js'

/**
 * The part of the anchorer the relay feeds.
 *
 * @example const target: LeafTarget = anchorer
 */
export type LeafTarget = { submit(submission: AnchorerSubmission): void }

/**
 * The relay's anchor sink for `anchorer`: each LEAF submission is handed to `anchorer.submit` (which persists it
 * before returning, so the relay's OK follows the anchorer's commit). Input errors (`AnchorerInputError`) are
 * thrown back to the relay, which answers the client with an error frame.
 *
 * @example new RelayServer({ ...options, anchorer: forwardLeaves(anchorer) })
 */
export function forwardLeaves(anchorer: LeafTarget): { submit(submission: AnchorerSubmission): void } {
  return {
    submit: ({ leaf, topic, submitter }) => {
      anchorer.submit({ leaf, topic, submitter })
    },
  }
}
