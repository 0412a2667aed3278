/**
 * One run in the main area: settings, final metrics, curves, per-class report, confusion matrix,
 * worst mistakes or sample generations, and how to use its model. It reads the run folder through
 * the server extension and needs no kernel; while the run is going it refreshes itself.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { getRun, IRunDetails } from './api';
import { confusionMatrix, lineChart, PALETTE } from './charts';
import { fmt, h, section, table } from './dom';
import { statusBadge } from './status';

const POLL_MS = 2000;

export class RunView extends Widget {
  constructor(readonly path: string, private onExport: (paths: string[]) => void) {
    super();
    this.addClass('sftkit-lab-view');
    this.addClass('sftkit-lab-runview');
    this.node.setAttribute('data-run-path', path);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    try {
      const run = await getRun(this.path);
      const key = JSON.stringify(run);
      if (key !== this._last) {
        this._last = key;
        this.render(run);
      }
      if (run.status.status === 'running') {
        this._timer = window.setTimeout(() => void this.refresh(), POLL_MS);
      }
    } catch (error) {
      this.node.replaceChildren(
        h('div', { class: 'sftkit-lab-error', attrs: { role: 'alert' }, text: `${this.path}: ${(error as Error).message}` })
      );
    }
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    super.dispose();
  }

  private render(run: IRunDetails): void {
    const status = run.status ?? {};
    const evaluation = run.evaluation ?? {};
    const progress =
      status.status === 'running' && status.total_steps
        ? `step ${status.step ?? 0} of ${status.total_steps}`
        : '';
    const header = h('header', { class: 'sftkit-lab-head' }, [
      h('h2', { text: run.name }),
      statusBadge(status.status ?? 'unreadable'),
      progress && h('span', { class: 'sftkit-lab-muted', text: progress }),
      h('code', { class: 'sftkit-lab-path', text: run.path }),
      h('button', {
        class: 'jp-mod-styled jp-mod-accept sftkit-lab-export',
        text: 'Export report',
        title: 'Write an executed report notebook and its HTML export under reports/',
        on: { click: () => this.onExport([run.path]) }
      })
    ]);
    const problems: HTMLElement[] = [];
    if (status.error) {
      problems.push(h('p', { class: 'sftkit-lab-error', attrs: { role: 'alert' }, text: `error: ${status.error}` }));
    }
    if (status.stop_reason && status.status !== 'completed') {
      problems.push(h('p', { class: 'sftkit-lab-muted', text: `stopped: ${status.stop_reason}` }));
    }
    const curves = run.curves;
    const charts = h('div', { class: 'sftkit-lab-charts' }, [
      lineChart(
        [
          { name: 'train loss', points: curves.train_loss, color: PALETTE[0] },
          { name: 'eval loss', points: curves.eval_loss, color: PALETTE[1], dashed: true }
        ],
        { title: 'Loss' }
      ),
      lineChart([{ name: 'learning rate', points: curves.lr, color: PALETTE[2] }], { title: 'Learning rate' })
    ]);
    const parts: (HTMLElement | null)[] = [
      header,
      ...problems,
      section('Curves', [charts]),
      this.metricsSection(run),
      evaluation.per_class ? this.perClass(evaluation.per_class) : null,
      evaluation.confusion && evaluation.label_names
        ? section('Confusion matrix', [
            h('p', { class: 'sftkit-lab-muted', text: `${evaluation.split ?? 'test'} split; rows: true class, columns: predicted` }),
            confusionMatrix(evaluation.label_names, evaluation.confusion)
          ], 'sftkit-lab-confusion')
        : null,
      evaluation.most_confused?.length
        ? section('Most confused', [
            table(['true', 'predicted', 'count'], evaluation.most_confused.map((m: any) => [m.true, m.predicted, fmt(m.count)]))
          ])
        : null,
      evaluation.top_losses?.length ? this.topLosses(evaluation.top_losses) : null,
      evaluation.generations?.length ? this.generations(evaluation.generations) : null,
      run.metrics === null && status.status !== 'running'
        ? h('p', { class: 'sftkit-lab-muted', text: 'This run ended before its evaluation: no final metrics.' })
        : null,
      this.modelSection(run),
      section('Settings', [this.settings(run.config)], 'sftkit-lab-settings')
    ];
    this.node.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
  }

  private metricsSection(run: IRunDetails): HTMLElement {
    const metrics = run.metrics;
    if (!metrics) {
      const last = run.last_log ?? {};
      return section('Metrics', [
        h('p', { class: 'sftkit-lab-muted', text: 'Final metrics come when the run ends. Last log record:' }),
        table(Object.keys(last), [Object.values(last).map(fmt)])
      ]);
    }
    const test = metrics.test ?? {};
    const validation = metrics.validation ?? {};
    const names = Array.from(new Set([...Object.keys(test), ...Object.keys(validation)])).filter(
      k => typeof (test[k] ?? validation[k]) !== 'object'
    );
    const other = ['steps', 'best_step', 'stop_reason', 'train_seconds', 'baseline_tfidf_accuracy']
      .filter(k => metrics[k] !== undefined && metrics[k] !== null)
      .map(k => [k, fmt(metrics[k])]);
    return section('Metrics', [
      table(['metric', 'test', 'validation (best)'], names.map(k => [k, fmt(test[k]), fmt(validation[k])])),
      other.length ? table(['', ''], other, 'sftkit-lab-table sftkit-lab-kv') : null
    ]);
  }

  private perClass(rows: any[]): HTMLElement {
    return section('Per-class report', [
      table(
        ['class', 'precision', 'recall', 'F1', 'support'],
        rows.map(r => [r.class, fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.support)]),
        'sftkit-lab-table sftkit-lab-numeric'
      )
    ]);
  }

  private topLosses(rows: any[]): HTMLElement {
    return section('Top losses: the worst mistakes', [
      h('div', { class: 'sftkit-lab-scroll' }, [
        table(
          ['#', 'text', 'true', 'predicted', 'confidence', 'loss'],
          rows.map(r => [
            fmt(r.index),
            h('span', { class: 'sftkit-lab-text', text: String(r.text ?? '') }),
            String(r.label ?? ''),
            String(r.pred ?? ''),
            fmt(r.confidence),
            fmt(r.loss)
          ]),
          'sftkit-lab-table sftkit-lab-toplosses'
        )
      ])
    ]);
  }

  private generations(rows: any[]): HTMLElement {
    return section('Sample generations', [
      h('div', { class: 'sftkit-lab-scroll' }, [
        table(
          ['prompt', 'reference', 'reply'],
          rows.map(r => ['prompt', 'reference', 'reply'].map(k => h('span', { class: 'sftkit-lab-text', text: String(r[k] ?? '') }))),
          'sftkit-lab-table sftkit-lab-generations'
        )
      ])
    ]);
  }

  private modelSection(run: IRunDetails): HTMLElement {
    if (!run.model_path) {
      return section('Model', [h('p', { class: 'sftkit-lab-muted', text: 'No model folder in this run (save_model was off, or the run has not finished).' })]);
    }
    return section('Model', [
      h('p', {}, ['Saved in ', h('code', { text: run.model_path }), ' (a save_pretrained folder; paths are relative to the folder JupyterLab serves).']),
      ...run.usage.map(u =>
        h('div', { class: 'sftkit-lab-command' }, [
          h('span', { class: 'sftkit-lab-command-label', text: u.label }),
          h('pre', { text: u.code }),
          h('button', {
            class: 'jp-mod-styled sftkit-lab-copy',
            text: 'Copy',
            attrs: { 'aria-label': `Copy the ${u.label} command` },
            on: { click: () => Clipboard.copyToSystem(u.code) }
          })
        ])
      )
    ]);
  }

  private settings(config: Record<string, unknown>): HTMLElement {
    const keys = Object.keys(config).sort();
    return h('dl', { class: 'sftkit-lab-settings-list' },
      keys.flatMap(k => [h('dt', { text: k }), h('dd', { text: fmt(config[k]) })]));
  }

  private _last = '';
  private _timer = 0;
}
