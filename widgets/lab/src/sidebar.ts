/**
 * The "Fine-tuning runs" sidebar: every run folder under the server's root, newest first, kept
 * current by polling (a run started in a terminal, a notebook or under torchrun shows up and
 * changes status without a reload). Rows are keyed by their data, so a poll that changes one
 * running run rebuilds one row, not five hundred.
 */
import { Dialog, InputDialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IRunSummary, listRuns, post } from './api';
import { sparkline } from './charts';
import { breakable, fmt, h } from './dom';
import { statusBadge } from './status';

const POLL_MS = 2000;

export interface IRunActions {
  openRun(path: string): void;
  compare(paths: string[]): void;
  exportReport(paths: string[]): void;
}

export class RunsSidebar extends Widget {
  constructor(private actions: IRunActions) {
    super();
    this.id = 'sftkit-runs-sidebar';
    this.addClass('sftkit-lab-sidebar');
    this.title.caption = 'Fine-tuning runs';

    const button = (text: string, title: string, onClick: () => void, cls = '') =>
      h('button', { class: `jp-mod-styled sftkit-lab-btn ${cls}`.trim(), text, title, on: { click: onClick } });
    this._open = button('Open', 'Open the selected run', () => this.selected().forEach(p => this.actions.openRun(p)));
    this._compare = button('Compare', 'Compare the selected runs (two or more)', () => this.actions.compare(this.selected()));
    this._export = button('Report', 'Export a report (notebook and HTML) of the selected runs', () => this.actions.exportReport(this.selected()));
    this._rename = button('Rename', 'Rename the selected run', () => void this.rename());
    this._delete = button('Delete', 'Delete the selected runs', () => void this.remove(), 'sftkit-lab-danger');
    const refresh = button('Refresh', 'Read the run folders again now', () => void this.refresh());

    this._task = this.filter('task', 'All tasks');
    this._dataset = this.filter('dataset', 'All datasets');
    this.node.append(
      h('header', { class: 'sftkit-lab-sidebar-head' }, [h('h2', { text: 'Fine-tuning runs' }), refresh]),
      h('div', { class: 'sftkit-lab-toolbar', attrs: { role: 'toolbar', 'aria-label': 'Run actions' } },
        [this._open, this._compare, this._export, this._rename, this._delete]),
      h('div', { class: 'sftkit-lab-filters' }, [
        h('label', {}, ['Task ', this._task]),
        h('label', {}, ['Dataset ', this._dataset])
      ]),
      this._status,
      h('div', { class: 'sftkit-lab-select-all' }, [h('label', {}, [this._all, ' Select all shown'])]),
      h('div', { class: 'sftkit-lab-runs-scroll' }, [this._body])
    );
    this._all.type = 'checkbox';
    this._all.addEventListener('change', () => {
      const shown = this.shown().filter(r => r.status !== 'unreadable').map(r => r.path);
      shown.forEach(p => (this._all.checked ? this._selected.add(p) : this._selected.delete(p)));
      this.render();
    });
    this.updateButtons();
    this._timer = window.setInterval(() => {
      // Only while someone can see it: a hidden sidebar or a background tab costs the server nothing.
      if (this.isVisible && !document.hidden && !this._reading) {
        void this.refresh();
      }
    }, POLL_MS);
    void this.refresh();
  }

  /** The runs last read, newest first. */
  get runs(): IRunSummary[] {
    return this._runs;
  }

  /** Paths of the ticked runs, in list order. */
  selected(): string[] {
    return this._runs.filter(r => this._selected.has(r.path)).map(r => r.path);
  }

  select(paths: string[]): void {
    this._selected = new Set(paths);
    this.render();
  }

  /**
   * Read the runs again. Called while a read is under way (which may have started before a rename
   * or delete it must show), it reads once more after that one, and resolves when the list is fresh.
   */
  refresh(): Promise<void> {
    if (this._reading) {
      this._stale = true;
      return this._reading;
    }
    this._reading = (async () => {
      do {
        this._stale = false;
        await this.readOnce();
      } while (this._stale);
    })().finally(() => {
      this._reading = null;
    });
    return this._reading;
  }

  private async readOnce(): Promise<void> {
    try {
      const { runs } = await listRuns();
      const key = JSON.stringify(runs);
      // Cleared before rendering, so a server that answers again no longer shows its last error.
      const hadError = !!this._error;
      this._error = '';
      if (key !== this._key) {
        this._key = key;
        this._runs = runs;
        const paths = new Set(runs.map(r => r.path));
        this._selected = new Set([...this._selected].filter(p => paths.has(p)));
        this.render();
      } else if (hadError) {
        this.renderStatus();
      }
    } catch (error) {
      this._error = `Cannot read the runs: ${(error as Error).message}`;
      this.renderStatus();
    }
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  private filter(field: 'task' | 'dataset', all: string): HTMLSelectElement {
    const select = h('select', { class: 'sftkit-lab-select', attrs: { 'aria-label': `Filter by ${field}` } });
    select.append(h('option', { text: all, attrs: { value: '' } }));
    select.addEventListener('change', () => {
      select.title = select.value;
      this.render();
    });
    return select;
  }

  private fillFilter(select: HTMLSelectElement, values: string[], all: string): void {
    const current = select.value;
    const wanted = ['', ...values];
    const have = Array.from(select.options).map(o => o.value);
    if (wanted.join('\n') !== have.join('\n')) {
      // A dataset given as a file path is named by its file, as in the rows, unless two share that
      // name; the full value is the option's tooltip.
      const short = (v: string) => v.split('/').pop() || v;
      const counts = new Map<string, number>();
      values.forEach(v => counts.set(short(v), (counts.get(short(v)) ?? 0) + 1));
      const text = (v: string) => (!v ? all : counts.get(short(v)) === 1 ? short(v) : v);
      select.replaceChildren(...wanted.map(v => h('option', { text: text(v), attrs: { value: v, title: v } })));
      select.value = wanted.includes(current) ? current : '';
      select.title = select.value;
    }
  }

  private shown(): IRunSummary[] {
    const task = this._task.value;
    const dataset = this._dataset.value;
    return this._runs.filter(r => (!task || r.task === task) && (!dataset || r.dataset === dataset));
  }

  private render(): void {
    const started = performance.now();
    const distinct = (field: 'task' | 'dataset') =>
      Array.from(new Set(this._runs.map(r => r[field]).filter((v): v is string => !!v))).sort();
    this.fillFilter(this._task, distinct('task'), 'All tasks');
    this.fillFilter(this._dataset, distinct('dataset'), 'All datasets');
    const shown = this.shown();
    const rows: HTMLElement[] = [];
    const cache = new Map<string, { key: string; row: HTMLElement }>();
    for (const run of shown) {
      const key = JSON.stringify(run) + (this._selected.has(run.path) ? '+' : '-');
      const old = this._rows.get(run.path);
      const row = old && old.key === key ? old.row : this.row(run);
      cache.set(run.path, { key, row });
      rows.push(row);
    }
    this._rows = cache;
    this._body.replaceChildren(...rows);
    if (!shown.length) {
      this._body.append(h('li', {
        class: 'sftkit-lab-empty',
        text: this._runs.length
          ? 'No run matches the filters.'
          : 'No runs yet. Train one (New fine-tuning notebook in the launcher, or `sftkit train` in a terminal): it appears here while it runs.'
      }));
    }
    const selectable = shown.filter(r => r.status !== 'unreadable');
    this._all.checked = selectable.length > 0 && selectable.every(r => this._selected.has(r.path));
    this.renderStatus();
    this.updateButtons();
    this.node.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  private row(run: IRunSummary): HTMLElement {
    const unreadable = run.status === 'unreadable';
    const box = h('input', { attrs: { type: 'checkbox', 'aria-label': `Select ${run.name}` } });
    box.checked = this._selected.has(run.path);
    box.disabled = unreadable;
    box.addEventListener('change', () => {
      box.checked ? this._selected.add(run.path) : this._selected.delete(run.path);
      this.render();
    });
    // A dataset given as a file path is named by its file; the full path is in the tooltip.
    const dataset = run.dataset ? run.dataset.split('/').pop() : null;
    const details = [run.task, run.model, dataset].filter(Boolean).join(' · ');
    const full = [run.task, run.model, run.dataset].filter(Boolean).join(' · ');
    const started = run.started ? new Date(run.started * 1000).toLocaleString() : '';
    const name = unreadable
      ? h('span', { class: 'sftkit-lab-run-name', title: run.path }, breakable(run.name))
      : h('button', {
          class: 'sftkit-lab-run-name sftkit-lab-link',
          title: `Open ${run.path}${started ? `\nstarted ${started}` : ''}`,
          on: { click: () => this.actions.openRun(run.path) }
        }, breakable(run.name));
    const progress = run.status === 'running' && run.total_steps ? `step ${run.step ?? 0}/${run.total_steps}` : '';
    const metric = run.main_value !== null && run.main_value !== undefined
      ? h('span', { class: 'sftkit-lab-metric', title: `test ${run.main_metric}` }, [
          h('span', { class: 'sftkit-lab-metric-name', text: `${run.main_metric ?? ''} ` }),
          fmt(run.main_value)
        ])
      : h('span', { class: 'sftkit-lab-muted', text: progress });
    const row = h('li', {
      class: `sftkit-lab-run${this._selected.has(run.path) ? ' sftkit-lab-selected' : ''}`,
      attrs: { 'data-path': run.path, 'data-status': run.status }
    }, [
      h('span', { class: 'sftkit-lab-run-box' }, [box]),
      name,
      statusBadge(run.status, run.error),
      h('div', { class: 'sftkit-lab-run-details', title: unreadable ? run.path : full },
        unreadable ? [`unreadable: ${run.error ?? ''}`] : breakable(details)),
      unreadable ? h('span') : metric,
      h('div', { class: 'sftkit-lab-run-path', title: run.path }, breakable(run.path)),
      unreadable ? h('span') : sparkline(run.loss)
    ]);
    return row;
  }

  private renderStatus(): void {
    if (this._error) {
      this._status.className = 'sftkit-lab-sidebar-status sftkit-lab-error';
      this._status.textContent = this._error;
      return;
    }
    const running = this._runs.filter(r => r.status === 'running').length;
    const shown = this.shown().length;
    this._status.className = 'sftkit-lab-sidebar-status';
    this._status.textContent =
      `${this._runs.length} run${this._runs.length === 1 ? '' : 's'}` +
      (shown !== this._runs.length ? `, ${shown} shown` : '') +
      (running ? `, ${running} running` : '') +
      (this._selected.size ? `, ${this._selected.size} selected` : '');
  }

  private updateButtons(): void {
    const n = this.selected().length;
    this._open.disabled = n !== 1;
    this._compare.disabled = n < 2;
    this._export.disabled = n < 1;
    this._rename.disabled = n !== 1;
    this._delete.disabled = n < 1;
  }

  private async rename(): Promise<void> {
    const [path] = this.selected();
    const run = this._runs.find(r => r.path === path);
    if (!run) {
      return;
    }
    const answer = await InputDialog.getText({
      title: `Rename run ${run.name}`,
      label: 'New name (one folder name, beside the old one):',
      text: run.name,
      okLabel: 'Rename'
    });
    if (!answer.button.accept || !answer.value || answer.value === run.name) {
      return;
    }
    try {
      const result = await post<{ path: string }>('rename', { path, name: answer.value });
      this._selected = new Set([result.path]);
    } catch (error) {
      await showErrorMessage('Rename refused', (error as Error).message);
    }
    await this.refresh();
  }

  private async remove(): Promise<void> {
    const paths = this.selected();
    if (!paths.length) {
      return;
    }
    const body = h('div', { class: 'sftkit-lab-dialog' }, [
      h('p', { text: `Delete ${paths.length === 1 ? 'this run folder' : `these ${paths.length} run folders`} with everything in it (model, checkpoints, records)? This cannot be undone.` }),
      h('ul', {}, paths.map(p => h('li', {}, [h('code', { text: p })])))
    ]);
    const result = await showDialog({
      title: paths.length === 1 ? 'Delete run' : `Delete ${paths.length} runs`,
      body: new Widget({ node: body }),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!result.button.accept) {
      return;
    }
    const refused: string[] = [];
    for (const path of paths) {
      try {
        await post('delete', { path });
        this._selected.delete(path);
      } catch (error) {
        refused.push(`${path}: ${(error as Error).message}`);
      }
    }
    if (refused.length) {
      await showErrorMessage('Not deleted', refused.join('\n'));
    }
    await this.refresh();
  }

  private _runs: IRunSummary[] = [];
  private _key = '';
  private _error = '';
  private _reading: Promise<void> | null = null;
  private _stale = false;
  private _timer = 0;
  private _selected = new Set<string>();
  private _rows = new Map<string, { key: string; row: HTMLElement }>();
  private _body = h('ul', { class: 'sftkit-lab-runs', attrs: { 'aria-label': 'Fine-tuning runs, newest first' } });
  private _status = h('div', { class: 'sftkit-lab-sidebar-status', attrs: { 'aria-live': 'polite' } });
  private _all = h('input');
  private _task: HTMLSelectElement;
  private _dataset: HTMLSelectElement;
  private _open: HTMLButtonElement;
  private _compare: HTMLButtonElement;
  private _export: HTMLButtonElement;
  private _rename: HTMLButtonElement;
  private _delete: HTMLButtonElement;
}
