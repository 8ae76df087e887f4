/**
 * The API key the UI signs in with. It lives in sessionStorage: gone when the tab closes, never
 * in a cookie, so no other site can make the browser send it.
 */
const STORAGE_KEY = 'folio.apiKey';

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);
export const rememberKey = (key: string): void => sessionStorage.setItem(STORAGE_KEY, key);
export const forgetKey = (): void => sessionStorage.removeItem(STORAGE_KEY);
