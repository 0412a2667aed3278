/**
 * Several runs side by side: their curves on one chart, their metrics in one table, and the
 * settings that differ (the equal ones folded away, since they are most of them).
 */
import { Widget } from '@lumino/widgets';

import { compareRuns, IComparison } from './api';
import { lineChart, PALETTE } from './charts';
import { fmt, h, section, table } from './dom';
import { statusBadge } from './status';

export class CompareView extends Widget {
  constructor(readonly paths: string[], private onExport: (paths: string[]) => void) {
    super();
    this.addClass('sftkit-lab-view');
    this.addClass('sftkit-lab-compare');
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.render(await compareRuns(this.paths));
    } catch (error) {
      this.node.replaceChildren(h('div', { class: 'sftkit-lab-error', attrs: { role: 'alert' }, text: (error as Error).message }));
    }
  }

  private render(data: IComparison): void {
    const names = data.runs.map(r => r.name);
    const color = (i: number) => PALETTE[i % PALETTE.length];
    const header = h('header', { class: 'sftkit-lab-head' }, [
      h('h2', { text: `Comparing ${data.runs.length} runs` }),
      h('button', {
        class: 'jp-mod-styled jp-mod-accept sftkit-lab-export',
        text: 'Export report',
        title: 'Write an executed comparison report and its HTML export under reports/',
        on: { click: () => this.onExport(this.paths) }
      })
    ]);
    const runs = table(['', 'run', 'folder', 'status'], data.runs.map((r, i) => [
      h('span', { class: 'sftkit-lab-swatch', attrs: { style: `border-color:${color(i)}` } }),
      r.name,
      h('code', { text: r.path }),
      statusBadge(r.status?.status ?? 'unreadable', r.status?.error)
    ]));
    const charts = h('div', { class: 'sftkit-lab-charts' }, [
      lineChart(data.runs.map((r, i) => ({ name: r.name, points: r.curves.train_loss, color: color(i) })), { title: 'Train loss' }),
      lineChart(data.runs.map((r, i) => ({ name: r.name, points: r.curves.eval_loss, color: color(i), dashed: true })), { title: 'Eval loss' }),
      lineChart(data.runs.map((r, i) => ({ name: r.name, points: r.curves.lr, color: color(i) })), { title: 'Learning rate' })
    ]);
    // One row per metric, one column per run; the split is part of the metric's name.
    const metricRows: string[][] = [];
    const keys: string[] = [];
    for (const split of ['test', 'validation']) {
      for (const m of data.metrics) {
        for (const [k, v] of Object.entries(m[split] ?? {})) {
          const key = `${split} ${k}`;
          if (typeof v !== 'object' && !keys.includes(key)) {
            keys.push(key);
          }
        }
      }
    }
    for (const key of keys) {
      const [split, k] = key.split(/ (.*)/);
      metricRows.push([key, ...data.metrics.map(m => fmt(m[split]?.[k]))]);
    }
    for (const k of ['train_seconds', 'steps', 'stop_reason', 'baseline_tfidf_accuracy']) {
      if (data.metrics.some(m => m[k] !== null && m[k] !== undefined)) {
        metricRows.push([k, ...data.metrics.map(m => fmt(m[k]))]);
      }
    }
    const differ = Object.entries(data.differ).filter(([k]) => k !== 'run_name' && k !== 'output_dir');
    const same = Object.entries(data.same);
    this.node.replaceChildren(
      header,
      section('Runs', [runs]),
      section('Curves', [charts]),
      section('Metrics', [h('div', { class: 'sftkit-lab-scroll' }, [
        table(['metric', ...names], metricRows, 'sftkit-lab-table sftkit-lab-numeric')
      ])]),
      section('Settings that differ', [
        differ.length
          ? h('div', { class: 'sftkit-lab-scroll' }, [
              table(['setting', ...names], differ.map(([k, values]) => [k, ...values.map(fmt)]), 'sftkit-lab-table sftkit-lab-differ')
            ])
          : h('p', { class: 'sftkit-lab-muted', text: 'All settings are equal.' }),
        h('details', { class: 'sftkit-lab-same' }, [
          h('summary', { text: `${same.length} settings equal in every run` }),
          table(['setting', 'value'], same.map(([k, v]) => [k, fmt(v)]))
        ])
      ], 'sftkit-lab-differences')
    );
  }
}
