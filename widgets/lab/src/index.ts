/**
 * sftkit in JupyterLab (and Notebook 7 where it has the same extension points): the
 * "Fine-tuning runs" sidebar, run and comparison views, reports, launcher cards, and static
 * copies for widget outputs whose kernel is gone.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';

import { watchSavedWidgets } from './fallback';
import { addCommands, makeViews, runsIcon } from './launcher';
import { RunsSidebar } from './sidebar';

const runsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'sftkit-jupyterlab:runs',
  description: 'The Fine-tuning runs sidebar, run views, comparisons, reports and launcher cards.',
  autoStart: true,
  optional: [ILauncher, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const views = makeViews(app);
    const sidebar = new RunsSidebar({
      openRun: views.openRun,
      compare: views.compare,
      exportReport: paths => void views.exportReport(paths)
    });
    sidebar.title.icon = runsIcon;
    app.shell.add(sidebar, 'left', { rank: 450 });
    restorer?.add(sidebar, sidebar.id);
    addCommands(app, { sidebar, ...views }, launcher, palette);
  }
};

const savedWidgetsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'sftkit-jupyterlab:saved-widgets',
  description: 'Shows the static HTML copy of a widget output whose model is gone (a reopened notebook).',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    watchSavedWidgets(tracker);
  }
};

export default [runsPlugin, savedWidgetsPlugin];
