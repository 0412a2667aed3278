/** The status badge shared by the sidebar and the views: a coloured dot plus the word, so colour
 * is never the only signal and the text keeps the theme's contrast. */
import { h } from './dom';

export function statusBadge(status: string, error?: string | null): HTMLElement {
  const known = ['running', 'completed', 'stopped', 'failed'].includes(status) ? status : 'unreadable';
  return h('span', {
    class: `sftkit-lab-status sftkit-lab-status-${known}`,
    title: error ? `${status}: ${error}` : status,
    attrs: { 'data-status': known }
  }, [h('span', { class: 'sftkit-lab-dot', attrs: { 'aria-hidden': 'true' } }), status]);
}
