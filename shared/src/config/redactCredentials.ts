/**
 * A URL's user information: from `scheme://` to the last `@` before the host ends (a password may
 * hold an unescaped `@`, which drivers tolerate).
 */
const URL_USER_INFORMATION = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>]*)@/gi;

/**
 * `text` with the password of every URL in it replaced by `[redacted]`; a user without a password
 * is replaced too, as it may be a token. What a driver says about a connection string can then be
 * logged or answered.
 */
export const redactCredentials = (text: string): string =>
  text.replace(URL_USER_INFORMATION, (_match, scheme: string, userInformation: string) => {
    const colon = userInformation.indexOf(':');
    return `${scheme}${colon === -1 ? '' : `${userInformation.slice(0, colon)}:`}[redacted]@`;
  });
