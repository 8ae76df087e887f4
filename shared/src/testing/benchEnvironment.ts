/** A positive whole number from the environment variable `name`, or `fallback` when it is unset. */
export const numberFromEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return Math.floor(value);
};
