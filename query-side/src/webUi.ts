/**
 * The transaction history UI, served at `/`: a page, a stylesheet and browser modules compiled
 * from `query-side/ui`, all from this package, so nothing is fetched from elsewhere at run time.
 */
import { fileURLToPath } from 'node:url';
import express, { Router, type RequestHandler } from 'express';

/** Sources of the page and the stylesheet, beside the compiled modules. */
const PUBLIC_DIRECTORY = fileURLToPath(new URL('../../ui/public/', import.meta.url));
const MODULES_DIRECTORY = fileURLToPath(new URL('../ui/src/', import.meta.url));

/** Only this origin's scripts, styles and API; no framing, no plugins, no inline code. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders: RequestHandler = (_request, response, next) => {
  response.set({
    'Content-Security-Policy': UI_CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  next();
};

/** Assets are revalidated on every load, so a restarted server never serves yesterday's script. */
const staticOptions = { index: false, fallthrough: true, cacheControl: true, maxAge: 0, etag: true, lastModified: true } as const;

export const createWebUi = (): Router => {
  const router = Router();
  router.get('/', securityHeaders, (_request, response) => {
    response.set('Cache-Control', 'no-cache');
    response.sendFile('index.html', { root: PUBLIC_DIRECTORY });
  });
  router.use('/ui/js', securityHeaders, express.static(MODULES_DIRECTORY, { ...staticOptions, extensions: false }));
  router.use('/ui', securityHeaders, express.static(PUBLIC_DIRECTORY, staticOptions));
  return router;
};
