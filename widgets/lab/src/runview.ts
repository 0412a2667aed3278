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
      this.verdict(run),
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
    const base = metrics.baseline && typeof metrics.baseline === 'object' ? metrics.baseline : null;
    // Runs recorded before the baseline record keep the older single number.
    const other = ['steps', 'best_step', 'stop_reason', 'train_seconds', ...(base ? [] : ['baseline_tfidf_accuracy'])]
      .filter(k => metrics[k] !== undefined && metrics[k] !== null)
      .map(k => [k, fmt(metrics[k])]);
    const header = ['metric', 'test', 'validation (best)', ...(base ? [`baseline: ${base.method} (test)`] : [])];
    const rows = names.map(k => [
      k,
      fmt(test[k]),
      fmt(validation[k]),
      ...(base ? [fmt(base[`test_${k}`])] : [])
    ]);
    return section('Metrics', [
      base ? this.baselineLine(metrics, base) : null,
      table(header, rows, 'sftkit-lab-table sftkit-lab-metrics'),
      other.length ? table(['', ''], other, 'sftkit-lab-table sftkit-lab-kv') : null
    ]);
  }

  /** The main metric and the baseline's, side by side, in words. */
  private baselineLine(metrics: Record<string, any>, base: Record<string, any>): HTMLElement {
    const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '–');
    const seconds = typeof base.seconds === 'number' ? `, fitted in ${base.seconds.toFixed(1)} s` : '';
    return h('p', { class: 'sftkit-lab-baseline' }, [
      h('strong', { text: `test accuracy ${pct(metrics.test?.accuracy)}` }),
      ` against ${base.method} ${pct(base.test_accuracy)} on the same split (macro F1 ${fmt(base.test_macro_f1)}${seconds})`
    ]);
  }

  /** The verdict on the baseline: a callout with the reasons and the command when the fine-tune does not
   * beat it (a heading in words says so: never colour alone), one line when it does. */
  private verdict(run: IRunDetails): HTMLElement | null {
    const verdict = run.metrics?.baseline_verdict;
    if (!verdict || typeof verdict !== 'object') {
      return null;
    }
    if (verdict.beats) {
      return h('p', { class: 'sftkit-lab-verdict sftkit-lab-verdict-beaten' }, [
        h('strong', { text: 'Baseline beaten. ' }),
        String(verdict.summary ?? '')
      ]);
    }
    const reasons: string[] = Array.isArray(verdict.reasons) ? verdict.reasons.map(String) : [];
    const suggestions: string[] = Array.isArray(verdict.suggestions) ? verdict.suggestions.map(String) : [];
    const command = typeof verdict.command === 'string' ? verdict.command : '';
    return h('aside', { class: 'sftkit-lab-verdict sftkit-lab-verdict-lost', attrs: { 'aria-label': 'Baseline not beaten' } }, [
      h('h3', { class: 'sftkit-lab-verdict-title', text: '⚠ Baseline not beaten' }),
      h('p', { text: String(verdict.summary ?? '') }),
      reasons.length ? h('p', { class: 'sftkit-lab-verdict-why', text: "Why, from this run's numbers:" }) : null,
      reasons.length ? h('ul', {}, reasons.map(r => h('li', { text: r }))) : null,
      command
        ? h('div', { class: 'sftkit-lab-command sftkit-lab-verdict-command' }, [
            h('span', { class: 'sftkit-lab-command-label', text: 'Try' }),
            h('div', {}, [
              suggestions.length ? h('p', { class: 'sftkit-lab-verdict-try', text: suggestions.join('; ') }) : null,
              h('pre', { text: command })
            ]),
            h('button', {
              class: 'jp-mod-styled sftkit-lab-copy',
              text: 'Copy',
              attrs: { 'aria-label': 'Copy the command to try' },
              on: { click: () => Clipboard.copyToSystem(command) }
            })
          ])
        : null
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
