/** A whole number of at least `min` from the environment variable `name`, or `fallback` when it is unset. */
export const numberFromEnv = (name: string, fallback: number, min = 1): number => {
  const value = Math.floor(Number(process.env[name] ?? fallback));
  if (!Number.isFinite(value) || value < min) throw new TypeError(`${name} must be a whole number of at least ${min}`);
  return value;
};
