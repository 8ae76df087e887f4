export * from './writeApi.js';
