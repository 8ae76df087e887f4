/** What `promise` rejects with; a test expecting a failure fails when it fulfils instead (`what` names the call). */
export const rejectionOf = async (promise: Promise<unknown>, what = 'the call'): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${what} to fail, but it succeeded`);
};
