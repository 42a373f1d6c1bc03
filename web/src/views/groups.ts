/** Groups: each group's name and epoch, its member accounts with admin marks, and their devices' status. */
import type { GroupEvent } from '../../../src/dashboard/events.ts'
import type { App, View } from '../app.ts'
import { fmtTime, h, mono, plural } from '../dom.ts'

type Member = GroupEvent['members'][number]
type Device = Member['devices'][number]

function deviceBadges(d: Device): HTMLElement[] {
  return [
    d.status === 'revoked'
      ? h(
          'span',
          { class: 'badge key-revoked' },
          h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '⊘'),
          d.revokedAt ? `revoked @ ${d.revokedAt}` : 'revoked',
        )
      : h(
          'span',
          { class: 'badge key-added' },
          h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '✓'),
          'active',
        ),
    d.inGroup
      ? h('span', { class: 'badge', 'data-testid': 'group-in-tree' }, 'in group')
      : h('span', { class: 'badge muted' }, 'not in group'),
  ]
}

export function groupsView(app: App): View {
  const { model } = app
  const list = h('div', { class: 'groups-list', 'data-testid': 'groups' })
  const el = h(
    'section',
    { class: 'view groups' },
    h(
      'div',
      { class: 'card' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', {}, 'Groups'),
        h('span', { class: 'muted' }, 'as their member devices report them'),
      ),
      list,
    ),
  )
  let seen = ''

  function member(m: Member): HTMLElement {
    return h(
      'article',
      {
        class: 'account',
        'data-testid': 'group-member',
        'data-account': m.account.toLowerCase(),
        'data-admin': String(m.admin),
      },
      h(
        'h4',
        {},
        model.nameOf(m.account),
        ' ',
        m.admin
          ? h(
              'span',
              { class: 'badge', title: 'Group admin' },
              h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, '★'),
              'admin',
            )
          : null,
      ),
      h('p', {}, mono(m.account, false)),
      h(
        'ul',
        { class: 'devices' },
        ...m.devices.map((d) =>
          h(
            'li',
            {
              class: d.status,
              'data-testid': 'group-device',
              'data-status': d.status,
              'data-in-group': String(d.inGroup),
            },
            mono(d.deviceId),
            ...deviceBadges(d),
          ),
        ),
      ),
    )
  }

  function card(g: GroupEvent): HTMLElement {
    const more = g.memberCount - g.members.length
    return h(
      'article',
      { class: 'group', 'data-testid': 'group', 'data-id': g.id.toLowerCase(), 'data-epoch': g.epoch },
      h(
        'div',
        { class: 'card-head' },
        h('h3', { 'data-testid': 'group-name' }, g.name),
        h('span', { class: 'chip', 'data-testid': 'group-epoch' }, `epoch ${g.epoch}`),
        h('span', { class: 'chip' }, plural(g.memberCount, 'member')),
      ),
      h(
        'p',
        { class: 'muted' },
        mono(g.id),
        ` · reported by ${g.observer ?? model.nameOf(g.by)}${g.active ? '' : ' (no longer a member)'}`,
        ` · registry block ${g.block} · ${fmtTime(g.at, false)}`,
      ),
      h('div', { class: 'accounts' }, ...g.members.map(member)),
      more > 0 ? h('p', { class: 'muted' }, `and ${plural(more, 'more member')}`) : null,
    )
  }

  function render(): void {
    const groups = [...model.groups.values()].sort((a, b) => a.name.localeCompare(b.name))
    list.replaceChildren(
      ...(groups.length ? groups.map(card) : [h('p', { class: 'muted' }, 'No groups seen yet.')]),
    )
  }

  return {
    el,
    update() {
      const key = `${model.revs.groups}|${model.revs.participants}|${model.generation}`
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
