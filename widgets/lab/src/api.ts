/**
 * The server extension's endpoints (widgets/server/handlers.py), typed. Requests go through
 * ServerConnection so they carry the server's token and XSRF cookie like JupyterLab's own.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export type Point = [number, number];

export interface IRunSummary {
  name: string;
  path: string;
  status: 'running' | 'completed' | 'stopped' | 'failed' | 'unreadable';
  error: string | null;
  stop_reason?: string | null;
  task: string | null;
  model: string | null;
  dataset: string | null;
  main_metric: string | null;
  main_value: number | null;
  started: number | null;
  updated: number | null;
  step: number | null;
  total_steps: number | null;
  loss: Point[];
}

export interface ICurves {
  train_loss: Point[];
  eval_loss: Point[];
  lr: Point[];
}

export interface IRunDetails {
  name: string;
  path: string;
  status: Record<string, any>;
  config: Record<string, unknown>;
  metrics: Record<string, any> | null;
  evaluation: Record<string, any> | null;
  curves: ICurves;
  last_log: Record<string, unknown> | null;
  model_path: string | null;
  usage: { label: string; code: string }[];
}

export interface IComparison {
  runs: { name: string; path: string; status: Record<string, any>; task: string | null; curves: ICurves }[];
  metrics: Record<string, any>[];
  differ: Record<string, unknown[]>;
  same: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  query?: URLSearchParams
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  let url = URLExt.join(settings.baseUrl, 'sftkit', endpoint);
  if (query) {
    url += `?${query.toString()}`;
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(`the Jupyter server did not answer (${String(error)})`, 0);
  }
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: text.slice(0, 300) };
  }
  if (!response.ok) {
    const message = data.error ?? data.message ?? response.statusText;
    throw new ApiError(String(message), response.status);
  }
  return data as T;
}

export function post<T>(endpoint: string, body: unknown): Promise<T> {
  return requestAPI<T>(endpoint, { method: 'POST', body: JSON.stringify(body) });
}

export function listRuns(): Promise<{ runs: IRunSummary[] }> {
  return requestAPI('runs');
}

export function getRun(path: string): Promise<IRunDetails> {
  return requestAPI('run', {}, new URLSearchParams({ path }));
}

export function compareRuns(paths: string[]): Promise<IComparison> {
  const query = new URLSearchParams();
  paths.forEach(p => query.append('path', p));
  return requestAPI('compare', {}, query);
}

export function exportReport(paths: string[]): Promise<{ notebook: string; html?: string }> {
  return post('report', { paths });
}
