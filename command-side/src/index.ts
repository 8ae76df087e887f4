export * from './writeApi.js';
export * from './writeApiComposition.js';
