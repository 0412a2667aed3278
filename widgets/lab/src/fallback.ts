/**
 * Saved notebooks show their widgets. A widget output holds the live view's mime type and, from
 * sftkit's widgets, a static HTML copy of the widget's state. Reopened after its kernel is gone,
 * the view's model no longer exists and @jupyter-widgets/jupyterlab-manager writes
 * "Error displaying widget: model not found". Where (and only where) it has written that, this
 * renders the output's own text/html copy in its place.
 *
 * Why watch for the message instead of registering a renderer with a better rank: the widget
 * manager replaces the widget-view renderer factory of each notebook once its kernel is ready
 * (5.x: `removeMimeType` then `addFactory` on the panel's rendermime), so a factory of ours would
 * be dropped; and whether a model is missing is known only to the manager, after it has restored
 * its state from the kernel. The manager's own verdict is the trigger; nothing is saved into files.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { MimeModel } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';

export const WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json';
const MISSING = 'Error displaying widget: model not found';
export const FALLBACK_CLASS = 'sftkit-lab-static-copy';

/** Replace "model not found" widget outputs of one notebook by their static HTML copies. */
async function patchNotebook(panel: NotebookPanel): Promise<void> {
  const rendermime = panel.content.rendermime;
  for (const cell of panel.content.widgets) {
    const outputArea = (cell as any).outputArea;
    if (cell.model.type !== 'code' || !outputArea) {
      continue;
    }
    const children: Widget[] = outputArea.widgets;
    for (let i = 0; i < children.length; i++) {
      const renderer = findWidgetRenderer(children[i]);
      if (!renderer || renderer.node.dataset.sftkitFallback || renderer.node.textContent?.trim() !== MISSING) {
        continue;
      }
      const output = outputArea.model.get(i);
      const html = output?.data?.['text/html'];
      if (typeof html !== 'string' && !Array.isArray(html)) {
        continue; // no static copy in this output: the manager's message stays, it is the truth
      }
      renderer.node.dataset.sftkitFallback = 'pending';
      const htmlRenderer = rendermime.createRenderer('text/html');
      // The same trust as the output itself: an untrusted notebook's HTML is sanitized as usual.
      await htmlRenderer.renderModel(
        new MimeModel({ data: { 'text/html': html }, trusted: output.trusted, metadata: output.metadata })
      );
      renderer.node.textContent = '';
      renderer.removeClass('jupyter-widgets');
      htmlRenderer.addClass(FALLBACK_CLASS);
      htmlRenderer.node.title = 'A static copy saved with the notebook: the live widget needs the kernel that made it. Run the cell again for a live one.';
      (renderer as Panel).addWidget(htmlRenderer);
      renderer.node.dataset.sftkitFallback = 'shown';
    }
  }
}

/** The widget-view renderer inside one output-area child (a Panel of prompt + renderer). */
function findWidgetRenderer(child: Widget): Widget | null {
  const stack: Widget[] = [child];
  while (stack.length) {
    const w = stack.pop()!;
    if ((w as any).mimeType === WIDGET_VIEW && w instanceof Panel) {
      return w;
    }
    stack.push(...Array.from((w as any).children?.() ?? []) as Widget[]);
  }
  return null;
}

/** Watch every notebook (JupyterLab and Notebook 7 share the tracker) for the manager's verdict. */
export function watchSavedWidgets(tracker: INotebookTracker): void {
  const watch = (panel: NotebookPanel) => {
    let scheduled = false;
    const observer = new MutationObserver(() => {
      if (scheduled) {
        return;
      }
      scheduled = true;
      // One pass per animation frame, however many nodes changed: a notebook of widgets mutates a lot.
      requestAnimationFrame(() => {
        scheduled = false;
        // The manager marks its error node with .jupyter-widgets; a live view sits one level down.
        const errors = panel.node.querySelectorAll('.jupyter-widgets:not([data-sftkit-fallback])');
        if (Array.from(errors).some(node => node.textContent?.trim() === MISSING)) {
          void patchNotebook(panel);
        }
      });
    });
    observer.observe(panel.node, { childList: true, subtree: true, characterData: true });
    panel.disposed.connect(() => observer.disconnect());
  };
  tracker.forEach(watch);
  tracker.widgetAdded.connect((_, panel) => watch(panel));
}
