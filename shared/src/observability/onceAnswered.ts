import type { Response } from 'express';

/**
 * Calls `then` once, when the request has been answered: its answer complete, or its connection
 * closed after the answer began. A caller that hangs up before (a client timeout) does not end its
 * request: the handler goes on, and `then` waits until it answers, told that nobody heard it.
 */
export const onceAnswered = (response: Response, then: (answer: { callerHungUp: boolean }) => void): void => {
  response.once('close', () => {
    if (response.writableEnded || response.headersSent) then({ callerHungUp: !response.writableFinished });
    else response.once('prefinish', () => then({ callerHungUp: true }));
  });
};
