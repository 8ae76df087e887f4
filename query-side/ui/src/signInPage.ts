/** Signing in with an API key: checked against the server before it is kept for the session. */
import { api, ApiError } from './api.js';
import { el, replaceChildren } from './dom.js';
import { forgetKey, rememberKey } from './session.js';

export const renderSignInPage = (view: HTMLElement, onSignedIn: () => void, notice?: string): void => {
  document.title = 'Sign in · Folio';
  const error = el('p', { id: 'sign-in-error', class: 'error', role: 'alert' }, notice ?? '');
  const input = el('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'sign-in-error',
  });
  const form = el(
    'form',
    { class: 'sign-in' },
    el('label', { for: 'api-key' }, 'API key'),
    input,
    el('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    rememberKey(key);
    api.currencies().then(
      () => onSignedIn(),
      (failure: unknown) => {
        forgetKey();
        error.textContent =
          failure instanceof ApiError && failure.status === 401
            ? 'That key was not accepted.'
            : failure instanceof ApiError
              ? failure.message
              : 'The server could not be reached. Try again in a moment.';
        input.focus();
      },
    );
  });
  replaceChildren(view, el('h1', {}, 'Sign in'), el('p', {}, 'Folio needs an API key to show the ledger.'), form);
  input.focus();
};
