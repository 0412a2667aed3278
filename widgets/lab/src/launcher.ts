/**
 * Commands, their launcher cards ("Supervised fine-tuning") and palette entries: a new fine-tuning
 * notebook, the course, comparing runs, opening a run, exporting a report.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, MainAreaWidget, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { LabIcon, notebookIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { exportReport, post } from './api';
import { CompareView } from './compare';
import { h } from './dom';
import { RunView } from './runview';
import { RunsSidebar } from './sidebar';

export const CATEGORY = 'Supervised fine-tuning';

export namespace CommandIDs {
  export const newNotebook = 'sftkit:new-notebook';
  export const openCourse = 'sftkit:open-course';
  export const compareRuns = 'sftkit:compare-runs';
  export const openRun = 'sftkit:open-run';
  export const exportReport = 'sftkit:export-report';
  export const showRuns = 'sftkit:show-runs';
}

// Icons are our own static SVG (no user data): a rising-then-falling loss curve, a book, two curves.
export const runsIcon = new LabIcon({
  name: 'sftkit:runs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<path d="M3 3h2v16h16v2H3z"/><path d="M6.5 8.2l1.4-1.4 3.3 5 3-2.2 5.1 5.6-1.5 1.3-3.9-4.3-3.2 2.3z"/></g></svg>'
});
export const courseIcon = new LabIcon({
  name: 'sftkit:course',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<path d="M4 4.5C4 3.7 4.7 3 5.5 3H11v16H5.5c-.8 0-1.5.3-1.5 1zM13 3h5.5c.8 0 1.5.7 1.5 1.5V20c0-.7-.7-1-1.5-1H13z"/></g></svg>'
});
export const compareIcon = new LabIcon({
  name: 'sftkit:compare',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<path d="M3 3h2v16h16v2H3z"/><path d="M6 7l1.2-1.6 5 3.6 4.6-3.4L18 7.2l-5.8 4.3z"/>' +
    '<path d="M6 13.5l1-1.7 5 2.8 5.2-2.2.8 1.8-6.1 2.6z"/></g></svg>'
});

export interface IViews {
  sidebar: RunsSidebar;
  openRun(path: string): void;
  compare(paths: string[]): void;
  exportReport(paths: string[]): Promise<{ notebook: string; html?: string } | null>;
}

/** Open-or-focus main-area views, keyed by what they show. */
export function makeViews(app: JupyterFrontEnd): Omit<IViews, 'sidebar'> {
  const open = new Map<string, MainAreaWidget>();
  const show = (id: string, make: () => MainAreaWidget) => {
    const existing = open.get(id);
    if (existing && !existing.isDisposed) {
      app.shell.activateById(existing.id);
      return;
    }
    const widget = make();
    widget.id = `sftkit-view-${open.size}-${Date.now()}`;
    open.set(id, widget);
    widget.disposed.connect(() => open.delete(id));
    app.shell.add(widget, 'main');
    if (!widget.parent) {
      // Notebook 7 keeps one page in its main area (the file list or one document) and turns
      // other widgets away without a word: say where these views open instead.
      widget.dispose();
      Notification.warning('Run views and comparisons open in JupyterLab: this page has no room for them.', {
        autoClose: false,
        actions: [{ label: 'Open JupyterLab', callback: () => void window.open(URLExt.join(PageConfig.getBaseUrl(), 'lab'), '_blank') }]
      });
      return;
    }
    app.shell.activateById(widget.id);
  };
  const views = {
    openRun(path: string) {
      show(`run:${path}`, () => {
        const content = new RunView(path, paths => void views.exportReport(paths));
        const widget = new MainAreaWidget({ content });
        widget.title.label = path.split('/').pop() ?? path;
        widget.title.caption = `Fine-tuning run ${path}`;
        widget.title.icon = runsIcon;
        widget.title.closable = true;
        return widget;
      });
    },
    compare(paths: string[]) {
      show(`compare:${paths.join('\n')}`, () => {
        const content = new CompareView(paths, p => void views.exportReport(p));
        const widget = new MainAreaWidget({ content });
        widget.title.label = `Compare ${paths.length} runs`;
        widget.title.caption = paths.join('\n');
        widget.title.icon = compareIcon;
        widget.title.closable = true;
        return widget;
      });
    },
    async exportReport(paths: string[]) {
      if (!paths.length) {
        await showErrorMessage('Export report', 'Select one or more runs in the Fine-tuning runs sidebar first.');
        return null;
      }
      const job = exportReport(paths);
      const where = (r: { notebook: string; html?: string }) => [r.notebook, r.html].filter(Boolean).join(' and ');
      Notification.promise(job, {
        pending: { message: `Writing a report of ${paths.length} run${paths.length === 1 ? '' : 's'} (it runs the notebook)…`, options: { autoClose: false } },
        success: {
          message: (r: any) => `Report written: ${where(r)}`,
          options: {
            autoClose: false,
            actions: [
              { label: 'Open notebook', callback: () => void job.then(r => app.commands.execute('docmanager:open', { path: r.notebook })) },
              { label: 'Open HTML', callback: () => void job.then(r => r.html && app.commands.execute('docmanager:open', { path: r.html })) }
            ]
          }
        },
        error: { message: (e: any) => `Report not written: ${String(e?.message ?? e)}` }
      });
      try {
        const result = await job;
        document.body.dataset.sftkitLastReport = JSON.stringify(result);
        return result;
      } catch (error) {
        document.body.dataset.sftkitLastReport = JSON.stringify({ error: (error as Error).message });
        return null;
      }
    }
  };
  return views;
}

/** Pick runs from the list in a dialog (for commands run without a selection). */
async function pickRuns(sidebar: RunsSidebar, title: string, min: number): Promise<string[]> {
  await sidebar.refresh();
  const runs = sidebar.runs.filter(r => r.status !== 'unreadable');
  if (runs.length < min) {
    await showErrorMessage(title, runs.length
      ? `There ${runs.length === 1 ? 'is one run' : `are ${runs.length} runs`}; ${min} are needed.`
      : 'There are no runs under this folder yet: train one first.');
    return [];
  }
  if (min === 1) {
    const labels = runs.map(r => r.path);
    const answer = await InputDialog.getItem({ title, label: 'Run folder:', items: labels, okLabel: 'Open' });
    return answer.button.accept && answer.value ? [answer.value] : [];
  }
  const boxes = runs.map(r => {
    const box = h('input', { attrs: { type: 'checkbox', value: r.path } });
    box.checked = sidebar.selected().includes(r.path);
    return h('label', { class: 'sftkit-lab-pick' }, [box, ` ${r.path}`]);
  });
  const body = h('div', { class: 'sftkit-lab-dialog sftkit-lab-pick-list' }, [h('p', { text: `Tick ${min} or more runs:` }), ...boxes]);
  const result = await showDialog({ title, body: new Widget({ node: body }), buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Compare' })] });
  if (!result.button.accept) {
    return [];
  }
  return Array.from(body.querySelectorAll('input:checked')).map(b => (b as HTMLInputElement).value);
}

export function addCommands(
  app: JupyterFrontEnd,
  views: IViews,
  launcher: ILauncher | null,
  palette: ICommandPalette | null
): void {
  const { commands } = app;
  const openFile = (path: string) => commands.execute('docmanager:open', { path });

  commands.addCommand(CommandIDs.newNotebook, {
    label: args => (args.isLauncher ? 'New fine-tuning notebook' : 'New Fine-Tuning Notebook'),
    caption: 'A notebook from the template: data, hyperparameter panel, live monitor, confusion matrix, saved model',
    icon: notebookIcon,
    execute: async args => {
      try {
        const result = await post<{ path: string }>('new-notebook', { dir: (args.cwd as string) ?? '' });
        return openFile(result.path);
      } catch (error) {
        return showErrorMessage('New fine-tuning notebook', (error as Error).message);
      }
    }
  });
  // One command, two editions: {language: 'zh'} opens the zh-CN twin of chapter 1, labelled in Chinese.
  const chinese = (args: { language?: unknown }) => args.language === 'zh';
  commands.addCommand(CommandIDs.openCourse, {
    label: args =>
      chinese(args) ? '打开中文课程' : args.isLauncher ? 'Open the course' : 'Open the Fine-Tuning Course',
    caption: args =>
      chinese(args)
        ? '把课程笔记本复制到 sftkit-course/（只复制一次，你的修改不会被覆盖），并打开中文版第 1 章'
        : 'Copy the chapter notebooks into sftkit-course/ (once; your edits stay yours) and open chapter 1',
    icon: courseIcon,
    execute: async args => {
      const language = chinese(args) ? 'zh' : 'en';
      try {
        const result = await post<{ path: string; copied: string[] }>('course', { language });
        if (result.copied.length) {
          const message = language === 'zh'
            ? `已把 ${result.copied.length} 个课程文件复制到 sftkit-course/`
            : `Copied ${result.copied.length} course files into sftkit-course/`;
          Notification.info(message, { autoClose: 4000 });
        }
        return openFile(result.path);
      } catch (error) {
        return showErrorMessage(language === 'zh' ? '打开中文课程' : 'Open the course', (error as Error).message);
      }
    }
  });
  commands.addCommand(CommandIDs.compareRuns, {
    label: args => (args.isLauncher ? 'Compare runs' : 'Compare Fine-Tuning Runs'),
    caption: 'Curves, metrics and differing settings of two or more runs',
    icon: compareIcon,
    execute: async args => {
      let paths = (args.paths as string[] | undefined) ?? views.sidebar.selected();
      if (paths.length < 2) {
        paths = await pickRuns(views.sidebar, 'Compare runs', 2);
      }
      if (paths.length >= 2) {
        views.compare(paths);
      } else if (paths.length === 1) {
        await showErrorMessage('Compare runs', 'Tick two or more runs to compare.');
      }
    }
  });
  commands.addCommand(CommandIDs.openRun, {
    label: args => (args.isLauncher ? 'Open run' : 'Open Fine-Tuning Run'),
    caption: 'A run folder: settings, metrics, curves, confusion matrix, worst mistakes, its model',
    icon: runsIcon,
    execute: async args => {
      let path = args.path as string | undefined;
      if (!path) {
        const selected = views.sidebar.selected();
        path = selected.length === 1 ? selected[0] : (await pickRuns(views.sidebar, 'Open run', 1))[0];
      }
      if (path) {
        views.openRun(path);
      }
    }
  });
  commands.addCommand(CommandIDs.exportReport, {
    label: 'Export Fine-Tuning Report',
    caption: 'An executed report notebook and its HTML export of the selected runs, under reports/',
    execute: async args => {
      const paths = (args.paths as string[] | undefined) ?? views.sidebar.selected();
      return views.exportReport(paths);
    }
  });
  commands.addCommand(CommandIDs.showRuns, {
    label: 'Show Fine-Tuning Runs',
    icon: runsIcon,
    execute: () => app.shell.activateById(views.sidebar.id)
  });

  const cards = [CommandIDs.newNotebook, CommandIDs.openCourse, CommandIDs.compareRuns, CommandIDs.openRun];
  cards.forEach((command, rank) => {
    launcher?.add({ command, category: CATEGORY, rank, args: { isLauncher: true } });
  });
  // The Chinese edition's card sits right after the English one.
  const zhCourse = { isLauncher: true, language: 'zh' };
  launcher?.add({ command: CommandIDs.openCourse, category: CATEGORY, rank: cards.indexOf(CommandIDs.openCourse) + 0.5, args: zhCourse });
  for (const command of [...cards, CommandIDs.exportReport, CommandIDs.showRuns]) {
    palette?.addItem({ command, category: CATEGORY });
  }
  palette?.addItem({ command: CommandIDs.openCourse, category: CATEGORY, args: { language: 'zh' } });
}
