import type { Model } from './model.ts'
import type { Timeline } from './timeline.ts'

export const tabs = [
  { id: 'flow', label: 'Message flow', key: '1' },
  { id: 'inspector', label: 'Inspector', key: '2' },
  { id: 'logs', label: 'Logs', key: '3' },
  { id: 'metrics', label: 'Metrics', key: '4' },
  { id: 'keys', label: 'Keys', key: '5' },
  { id: 'alerts', label: 'Alerts', key: '6' },
  { id: 'groups', label: 'Groups', key: '7' },
] as const

export type TabId = (typeof tabs)[number]['id']

export interface App {
  model: Model
  timeline: Timeline
  /** Opens the inspector on a message. */
  inspect(id: string): void
  selectedId: string | undefined
  theme(): 'light' | 'dark'
}

export interface View {
  el: HTMLElement
  /** Called on animation frames while the view is shown and something changed; true asks for another frame. */
  update(): boolean
  onShow?(): void
  onHide?(): void
  /** Theme switched (charts re-read their colours). */
  onTheme?(): void
}
