/**
 * Building DOM without HTML strings. Everything shown here can come from a user's data (run
 * names, review texts, labels), so text always goes in through textContent: a `<script>` or
 * `<img onerror>` in a review is shown as those characters and runs nothing.
 */

export type Child = Node | string | number | null | undefined | false;

export interface IProps {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  on?: Record<string, (event: Event) => void>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: IProps = {},
  children: Child[] = []
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) {
    el.className = props.class;
  }
  if (props.text !== undefined) {
    el.textContent = props.text;
  }
  if (props.title) {
    el.title = props.title;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    el.setAttribute(name, value);
  }
  for (const [name, handler] of Object.entries(props.on ?? {})) {
    el.addEventListener(name, handler);
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.appendChild(
      child instanceof Node ? child : document.createTextNode(String(child))
    );
  }
}

/**
 * `text` with a line-break opportunity (<wbr>) after each _ / and - so that a narrow column wraps
 * rotten_tomatoes as rotten_ | tomatoes and a folder at its slashes, never in the middle of a word.
 */
export function breakable(text: string): Child[] {
  const parts: Child[] = [];
  for (const piece of text.split(/(?<=[_/-])/)) {
    if (parts.length) {
      parts.push(document.createElement('wbr'));
    }
    parts.push(piece);
  }
  return parts;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  text?: string
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    el.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    el.textContent = text;
  }
  return el;
}

/** A number as people read it in a table: 4 significant digits, no trailing noise. */
export function fmt(value: unknown): string {
  if (value === null || value === undefined) {
    return '–';
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return String(value);
    }
    if (Number.isInteger(value)) {
      return value.toLocaleString('en-US');
    }
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) {
      return value.toExponential(2);
    }
    return value.toFixed(abs >= 100 ? 1 : abs >= 1 ? 3 : 4).replace(/0+$/, '').replace(/\.$/, '');
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** "3 min ago", "2 h ago", or the date for anything older than a day. */
export function ago(unixSeconds: number | null | undefined): string {
  if (!unixSeconds) {
    return '';
  }
  const s = Date.now() / 1000 - unixSeconds;
  if (s < 60) {
    return 'just now';
  }
  if (s < 3600) {
    return `${Math.round(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.round(s / 3600)} h ago`;
  }
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** A table from a header row and body rows (cells are text or nodes). */
export function table(header: Child[], rows: Child[][], cls = 'sftkit-lab-table'): HTMLTableElement {
  return h('table', { class: cls }, [
    h('thead', {}, [h('tr', {}, header.map(c => h('th', { attrs: { scope: 'col' } }, [c])))]),
    h('tbody', {}, rows.map(row => h('tr', {}, row.map(c => h('td', {}, [c])))))
  ]);
}

export function section(title: string, children: Child[], cls = ''): HTMLElement {
  return h('section', { class: `sftkit-lab-section ${cls}`.trim() }, [
    h('h3', { text: title }),
    ...children
  ]);
}
