/**
 * Keys: accounts with their devices, the key changes local clients saw and the current safety number, the
 * KeyRegistry add/revoke timeline, and approving a new device with a wallet.
 */
import type { DeviceEvent } from '../../../src/dashboard/events.ts'
import type { App, View } from '../app.ts'
import { roleBadge } from '../badges.ts'
import { fmtTime, h, mono } from '../dom.ts'
import type { KeyChangeRec, Party } from '../model.ts'
import { approveDeviceCard } from './approveDevice.ts'

export function keysView(app: App): View {
  const { model } = app
  const accounts = h('div', { class: 'accounts' })
  const timeline = h('tbody', {})
  const el = h(
    'section',
    { class: 'view keys' },
    approveDeviceCard(app),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Accounts and devices')),
      accounts,
    ),
    h(
      'div',
      { class: 'card' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', {}, 'KeyRegistry timeline'),
        h('span', { class: 'muted' }, 'newest first'),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'key-timeline' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Block'),
              h('th', { scope: 'col' }, 'Change'),
              h('th', { scope: 'col' }, 'Account'),
              h('th', { scope: 'col' }, 'Device'),
              h('th', { scope: 'col' }, 'Transaction'),
              h('th', { scope: 'col' }, 'Seen'),
            ),
          ),
          timeline,
        ),
      ),
    ),
  )
  let seen = ''

  function changeBadge(change: DeviceEvent['change']): HTMLElement {
    return change === 'added'
      ? h(
          'span',
          { class: 'badge key-added' },
          h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '+'),
          'added',
        )
      : h(
          'span',
          { class: 'badge key-revoked' },
          h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '⊘'),
          'revoked',
        )
  }

  function keyChangeBadge(kind: KeyChangeRec['kind']): HTMLElement {
    if (kind !== 'rotated') return changeBadge(kind)
    return h(
      'span',
      { class: 'badge sev-warning' },
      h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '↻'),
      'rotated',
    )
  }

  /** The account's safety number and the key changes its contacts' clients reported, newest first. */
  function keyChangesOf(p: Party): HTMLElement[] {
    const sn = p.safetyNumber
    return [
      h(
        'p',
        { class: 'safety-number', 'data-testid': 'key-safety-number' },
        'Safety number ',
        sn
          ? h('code', { class: 'mono', 'data-testid': 'key-safety-number-value' }, sn.value)
          : h('span', { class: 'muted' }, 'not reported (no local client has computed it)'),
        sn ? h('span', { class: 'muted' }, ` at block ${sn.block}, per ${sn.observer}`) : '',
      ),
      ...(p.keyChanges.length
        ? [
            h('h4', {}, 'Key changes seen by contacts'),
            h(
              'ul',
              { class: 'devices key-changes' },
              ...[...p.keyChanges]
                .reverse()
                .map((c) =>
                  h(
                    'li',
                    { 'data-testid': 'key-change', 'data-kind': c.kind },
                    keyChangeBadge(c.kind),
                    h('span', { class: 'muted' }, `block ${c.block}`),
                    ...c.revoked.map((d) => h('span', {}, '−', mono(d))),
                    ...c.added.map((d) => h('span', {}, '+', mono(d))),
                    h('span', { class: 'muted' }, `seen by ${c.observers.join(', ')}`),
                    h(
                      'span',
                      { class: 'muted', title: `${c.safetyNumberBefore} → ${c.safetyNumberAfter}` },
                      'safety number changed',
                    ),
                  ),
                ),
            ),
          ]
        : []),
    ]
  }

  function render(): void {
    const parties = [...model.parties.values()].sort((a, b) => a.firstAt - b.firstAt)
    accounts.replaceChildren(
      ...(parties.length
        ? parties.map((p) =>
            h(
              'article',
              { class: 'account', 'data-testid': 'key-account', 'data-account': p.account },
              h('h3', {}, p.name ?? 'Unnamed account', ' ', roleBadge(p.role)),
              h('p', {}, mono(p.account, false)),
              h(
                'ul',
                { class: 'devices' },
                ...[...p.devices.values()].map((d) =>
                  h(
                    'li',
                    { class: d.revokedBlock ? 'revoked' : 'active', 'data-testid': 'key-device' },
                    h('span', { class: 'device-name' }, d.deviceName ?? 'device'),
                    mono(d.deviceId),
                    d.revokedBlock
                      ? h(
                          'span',
                          { class: 'badge key-revoked' },
                          h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '⊘'),
                          `revoked @ ${d.revokedBlock}`,
                        )
                      : h(
                          'span',
                          { class: 'badge key-added' },
                          h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '✓'),
                          'active',
                        ),
                    h(
                      'span',
                      { class: 'muted' },
                      d.addedBlock ? `added @ block ${d.addedBlock}` : 'added: not seen',
                    ),
                  ),
                ),
              ),
              ...keyChangesOf(p),
            ),
          )
        : [h('p', { class: 'muted' }, 'No accounts yet.')]),
    )
    const rows: HTMLElement[] = []
    // Newest block first; arrival order breaks ties.
    const events = model.deviceEvents
      .toArray()
      .map((e, i) => ({ e, i, b: BigInt(e.block) }))
      .sort((x, y) => (x.b === y.b ? y.i - x.i : x.b < y.b ? 1 : -1))
      .slice(0, 500)
    for (const { e } of events) {
      rows.push(
        h(
          'tr',
          { 'data-testid': 'key-event', 'data-change': e.change },
          h('td', { class: 'mono num' }, e.block),
          h('td', {}, changeBadge(e.change)),
          h('td', {}, h('strong', {}, model.nameOf(e.account)), ' ', mono(e.account)),
          h('td', {}, mono(e.deviceId)),
          h('td', {}, mono(e.tx)),
          h('td', { class: 'mono muted' }, fmtTime(e.at, false)),
        ),
      )
    }
    timeline.replaceChildren(
      ...(rows.length
        ? rows
        : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No key changes seen yet.'))]),
    )
  }

  return {
    el,
    update() {
      const key = `${model.revs.participants}|${model.revs.devices}|${model.generation}`
      if (key !== seen) {
        seen = key
        render()
      }
      return false
    },
    onShow() {
      seen = ''
    },
  }
}
