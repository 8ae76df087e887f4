import { ApiError } from './api.js';
import { el, replaceChildren } from './dom.js';
import { lastSearchHref } from './routes.js';

/** A page whose record could not be loaded: not found, or the server unreachable. */
export const showLoadError = (view: HTMLElement, what: string, error: unknown): void => {
  const message =
    error instanceof ApiError
      ? error.status === 404
        ? `${what} not found. It may not exist, or the read models have not caught up with it yet.`
        : error.message
      : 'The server could not be reached. Try again in a moment.';
  document.title = `${what} unavailable · Folio`;
  replaceChildren(
    view,
    el('h1', { tabindex: '-1' }, `${what} unavailable`),
    el('p', { class: 'error', role: 'alert' }, message),
    el('p', {}, el('a', { href: lastSearchHref() }, '← Back to search')),
  );
};
