/** Inspector: the verification chain of one message, step by step, with the receipt re-checked in the browser. */
import type { ReceiptEvent, VerificationEvent } from '../../../src/dashboard/events.ts'
import type { App, View } from '../app.ts'
import { stateBadge } from '../badges.ts'
import { clear, fmtTime, h, mono, plural, shortHex, verdict } from '../dom.ts'
import { canVerify, verifyInclusion } from '../merkle.ts'
import type { DeliveryRec, MessageRec } from '../model.ts'

const ID = /^0x[0-9a-fA-F]{64}$/

function field(label: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)]
}

function fields(rows: [string, Node | string][]): HTMLDListElement {
  return h('dl', { class: 'fields' }, ...rows.flatMap(([k, v]) => field(k, v)))
}

function full(value: string | undefined): HTMLElement {
  return h('code', { class: 'mono wrap' }, value ?? '—')
}

/** Device key validity at block B: addedAt ≤ B and (no revocation or B < revokedAt). */
function keyValidAt(key: NonNullable<VerificationEvent['key']>, block: string): boolean {
  const b = BigInt(block)
  return BigInt(key.addedAt) <= b && (key.revokedAt === undefined || b < BigInt(key.revokedAt))
}

export function inspectorView(app: App): View {
  const { model } = app
  const input = h('input', {
    type: 'text',
    class: 'mono',
    placeholder: '0x… message id (64 hex digits)',
    'aria-label': 'Message id to inspect',
    spellcheck: 'false',
    autocomplete: 'off',
    'data-testid': 'inspector-input',
  })
  const form = h(
    'form',
    { class: 'toolbar', role: 'search', 'aria-label': 'Inspect a message' },
    input,
    h('button', { type: 'submit', class: 'btn' }, 'Inspect'),
  )
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const v = input.value.trim().toLowerCase()
    if (ID.test(v)) app.inspect(v)
    else input.setAttribute('aria-invalid', 'true')
  })
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'))
  const body = h('div', { class: 'inspector-body', 'aria-live': 'polite' })
  const el = h(
    'section',
    { class: 'view inspector' },
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Message inspector')), form),
    body,
  )
  let seen = ''
  let verifyToken = 0

  function summary(id: string, m: MessageRec | undefined): HTMLElement {
    if (!m)
      return h(
        'div',
        { class: 'card' },
        h('h3', {}, 'Message'),
        fields([['Id', full(id)]]),
        h(
          'p',
          { class: 'muted' },
          'No state events for this id in the current view (yet, or dropped from history).',
        ),
      )
    const plaintext =
      m.text !== undefined
        ? h('blockquote', { class: 'plaintext' }, m.text)
        : h(
            'span',
            { class: 'muted' },
            'not available: the dashboard never sees plaintext unless the demo client reports it',
          )
    const rejected = m.state === 'rejected'
    return h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-head' }, h('h3', {}, 'Message'), stateBadge(m.state)),
      rejected
        ? h(
            'p',
            { class: 'muted' },
            'Refused by its recipient: the sender is what the relay saw publishing it, not a verified identity.',
          )
        : null,
      fields([
        ['Id', full(m.id)],
        ['Conversation', mono(m.conversation)],
        [
          rejected ? 'Claimed sender' : 'From',
          h('span', {}, h('strong', {}, model.nameOf(m.from)), ' ', mono(m.from)),
        ],
        [rejected ? 'Published by device' : 'From device', mono(m.fromDevice)],
        [
          rejected ? 'Refused by' : 'To',
          h(
            'span',
            {},
            ...m.to.flatMap((t, i) => [i ? ', ' : '', h('strong', {}, model.nameOf(t)), ' ', mono(t)]),
          ),
        ],
        ['Relay seq', m.seq ?? '—'],
        ['Leaf', mono(m.leaf)],
        ['Size', m.bytes !== undefined ? `${m.bytes} bytes sealed` : '—'],
        ['Text (from event)', plaintext],
      ]),
      h('h4', {}, 'State history'),
      h(
        'ol',
        { class: 'history' },
        ...m.history.map((st) =>
          h(
            'li',
            {},
            h('span', { class: 'mono muted' }, fmtTime(st.at)),
            ' ',
            stateBadge(st.state),
            st.observer ? h('span', { class: 'muted' }, ` reported by ${st.observer}`) : null,
          ),
        ),
      ),
    )
  }

  function verificationCard(v: VerificationEvent): HTMLElement {
    const steps = h(
      'ol',
      { class: 'steps', 'aria-label': `Verification steps by ${model.nameOf(v.by)}` },
      ...v.steps.map((st) =>
        h(
          'li',
          {
            class: `step ${st.ok ? 'step-ok' : 'step-bad'}${v.failedStep === st.name ? ' step-failed' : ''}`,
            'data-testid': 'inspector-step',
            'data-source': 'verification',
            'data-name': st.name,
            'data-ok': String(st.ok),
          },
          h('span', { class: 'step-icon', 'aria-hidden': 'true' }, st.ok ? '✓' : '✗'),
          h(
            'span',
            { class: 'step-name' },
            st.name,
            h('span', { class: 'sr-only' }, st.ok ? ' passed' : ' failed'),
          ),
          h('span', { class: 'step-detail' }, st.detail),
        ),
      ),
    )
    const parts: (HTMLElement | null)[] = []
    if (!v.ok || v.failedStep) {
      parts.push(
        h(
          'div',
          { class: 'failure', role: 'alert' },
          h('span', { 'aria-hidden': 'true' }, '✗ '),
          'Rejected at step ',
          h(
            'strong',
            { 'data-testid': 'inspector-failed-step' },
            v.failedStep ?? v.steps.find((x) => !x.ok)?.name ?? '?',
          ),
          v.error
            ? h(
                'span',
                {},
                ' — ',
                h('code', { class: 'mono', 'data-testid': 'inspector-error-code' }, v.error.code),
                ` (${v.error.name}): ${v.error.message}`,
              )
            : null,
        ),
      )
    }
    const details: HTMLElement[] = []
    if (v.statement) {
      const st = v.statement
      details.push(
        h(
          'div',
          { class: 'detail' },
          h('h4', {}, 'Statement'),
          fields([
            ['From', h('span', {}, model.nameOf(st.from), ' ', mono(st.from))],
            ['Device', mono(st.device)],
            ['Conversation', mono(st.conversation)],
            ['Seq', st.seq],
            ['Sent at', `${fmtTime(st.sentAt)} (${new Date(st.sentAt).toISOString()})`],
            ['Block number', st.blockNumber],
            ['Block hash', mono(st.blockHash)],
            ['Body hash', mono(st.bodyHash)],
          ]),
        ),
      )
    }
    if (v.signature) {
      details.push(
        h(
          'div',
          { class: 'detail' },
          h('h4', {}, 'P-256 signature (r ‖ s)'),
          h('code', { class: 'mono wrap sig' }, v.signature),
        ),
      )
    }
    if (v.key) {
      const k = v.key
      const block = v.statement?.blockNumber
      details.push(
        h(
          'div',
          { class: 'detail' },
          h('h4', {}, block ? `Device key valid at block ${block}` : 'Device key'),
          fields([
            ['Device id', mono(k.deviceId)],
            ['P-256 X', mono(k.p256X)],
            ['P-256 Y', mono(k.p256Y)],
            ['Added at block', k.addedAt],
            ['Revoked at block', k.revokedAt ?? 'not revoked'],
            ['Added in tx', mono(k.addedTx)],
            [
              'Valid at B (checked here)',
              block ? verdict(keyValidAt(k, block), `valid at ${block}`, `not valid at ${block}`) : '—',
            ],
          ]),
        ),
      )
    }
    if (v.mls) {
      details.push(
        h(
          'div',
          { class: 'detail' },
          h('h4', {}, 'MLS'),
          fields([
            ['Epoch', v.mls.epoch],
            ['Ciphersuite', v.mls.ciphersuite],
            ['Sender leaf', String(v.mls.senderLeaf)],
          ]),
        ),
      )
    }
    return h(
      'article',
      { class: 'card verification', 'data-testid': 'inspector-verification', 'data-ok': String(v.ok) },
      h(
        'div',
        { class: 'card-head' },
        h('h3', {}, `${v.ok ? 'Verified by' : 'Refused by'} ${model.nameOf(v.by)}`),
        verdict(v.ok, 'accepted', 'rejected'),
        h('span', { class: 'muted mono' }, fmtTime(v.at)),
      ),
      ...parts,
      steps,
      details.length ? h('div', { class: 'details' }, ...details) : null,
    )
  }

  function receiptCard(r: ReceiptEvent, id: string, token: number): HTMLElement {
    const local = h('span', { class: 'muted' }, canVerify() ? 'checking…' : 'unavailable (no WebCrypto here)')
    if (canVerify()) {
      verifyInclusion({ leaf: r.leaf, index: r.index, treeSize: r.treeSize, path: r.path, root: r.root })
        .then((ok) => {
          if (token === verifyToken)
            local.replaceWith(verdict(ok, 'path recomputes the root', 'path does not match root'))
        })
        .catch(() => {
          local.textContent = 'could not check'
        })
    }
    const steps = r.steps?.length
      ? h(
          'ol',
          { class: 'steps' },
          ...r.steps.map((st) =>
            h(
              'li',
              {
                class: `step ${st.ok ? 'step-ok' : 'step-bad'}`,
                'data-testid': 'inspector-step',
                'data-source': 'receipt',
                'data-name': st.name,
                'data-ok': String(st.ok),
              },
              h('span', { class: 'step-icon', 'aria-hidden': 'true' }, st.ok ? '✓' : '✗'),
              h('span', { class: 'step-name' }, st.name),
              h('span', { class: 'step-detail' }, st.detail),
            ),
          ),
        )
      : null
    return h(
      'article',
      { class: 'card receipt', 'data-testid': 'inspector-receipt', 'data-verified': String(r.verified) },
      h(
        'div',
        { class: 'card-head' },
        h('h3', {}, 'Anchoring receipt'),
        verdict(r.verified, 'inclusion verified', 'inclusion NOT verified'),
      ),
      steps,
      fields([
        ['Root', mono(r.root)],
        ['Leaf', mono(r.leaf)],
        ['Index / tree size', `${r.index} of ${r.treeSize}`],
        ['Transaction', mono(r.txHash)],
        ['Block', `${r.blockNumber} (${new Date(Number(r.blockTimestamp) * 1000).toISOString()})`],
        ['Confirmations', r.confirmations],
        ['Covers', `${plural(r.ids.length, 'message')}${r.ids.includes(id) ? ', including this one' : ''}`],
        ['Inclusion (reported)', verdict(r.verified, 'verified by the client', 'failed')],
        ['Inclusion (re-checked here)', local],
      ]),
      h(
        'details',
        {},
        h('summary', {}, `Audit path (${plural(r.path.length, 'hash', 'hashes')})`),
        h('ol', { class: 'path mono' }, ...r.path.map((p) => h('li', {}, shortHex(p, 18, 8)))),
      ),
    )
  }

  /** Per-member signed delivery: "delivered to N of M members", each member ✓ (receipt verified) or … (not yet). */
  function deliveryCard(d: DeliveryRec): HTMLElement {
    const done = d.members.filter((a) => d.delivered.has(a)).length
    const group = model.groups.get(d.conversation.toLowerCase())
    return h(
      'div',
      { class: 'card', 'data-testid': 'inspector-delivery' },
      h(
        'div',
        { class: 'card-head' },
        h('h3', {}, 'Signed delivery'),
        group ? h('span', { class: 'chip' }, group.name) : null,
      ),
      h(
        'p',
        {
          'data-testid': 'delivery-line',
          'data-delivered': String(done),
          'data-members': String(d.memberCount),
        },
        `delivered to ${done} of ${plural(d.memberCount, 'member')}`,
      ),
      h(
        'ul',
        { class: 'delivery-members' },
        ...d.members.map((a) => {
          const ok = d.delivered.has(a)
          return h(
            'li',
            { 'data-testid': 'delivery-member', 'data-account': a, 'data-delivered': String(ok) },
            h(
              'span',
              {
                class: `badge ${ok ? 'key-added' : ''}`,
                title: ok ? 'signed delivery receipt verified' : 'no receipt yet',
              },
              h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, ok ? '✓' : '…'),
              model.nameOf(a),
              h('span', { class: 'sr-only' }, ok ? ' delivered' : ' not yet delivered'),
            ),
          )
        }),
      ),
    )
  }

  function render(): void {
    const id = app.selectedId
    verifyToken++
    clear(body)
    if (!id) {
      body.append(
        h(
          'div',
          { class: 'card empty' },
          h('p', {}, 'No message selected.'),
          h(
            'p',
            { class: 'muted' },
            'Pick a row in Message flow, an alert, or a log entry, or paste an id above.',
          ),
        ),
      )
      return
    }
    input.value = id
    const m = model.messages.get(id)
    const vs = model.verifications.get(id) ?? []
    const rs = model.receiptsById.get(id) ?? []
    const left = h('div', { class: 'col' }, summary(id, m))
    const delivery = model.deliveries.get(id)
    if (delivery) left.append(deliveryCard(delivery))
    const right = h('div', { class: 'col' })
    if (vs.length === 0)
      right.append(
        h(
          'div',
          { class: 'card empty' },
          h('p', { class: 'muted' }, 'No verification reported for this message yet.'),
        ),
      )
    for (const v of [...vs].reverse()) right.append(verificationCard(v))
    const token = verifyToken
    for (const r of [...rs].reverse())
      (rs.length && vs.length ? left : right).append(receiptCard(r, id, token))
    body.append(left, right)
  }

  /** What of a message's delivery the card shows (it re-renders only when that moved). */
  function deliverySeen(id: string): string {
    const d = model.deliveries.get(id)
    return d
      ? `${d.delivered.size}/${d.members.length}/${model.groups.get(d.conversation.toLowerCase())?.name ?? ''}`
      : ''
  }

  return {
    el,
    update() {
      const id = app.selectedId ?? ''
      const m = id ? model.messages.get(id) : undefined
      const key = `${id}|${model.generation}|${m?.history.length ?? 0}|${m?.state ?? ''}|${model.verifications.get(id)?.length ?? 0}|${model.receiptsById.get(id)?.length ?? 0}|${deliverySeen(id)}`
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
