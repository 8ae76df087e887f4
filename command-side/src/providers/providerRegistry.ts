import type { PaymentProvider } from '@folio/shared';
import type { ProviderAdapter } from './providerAdapter.js';
import { ProviderNotConfiguredError } from './providerErrors.js';

/** The adapters Folio is configured with, and the secret each provider signs its callbacks with. */
export interface ProviderRegistry {
  adapterFor(provider: PaymentProvider): ProviderAdapter;
  secretOf(provider: PaymentProvider): string;
  has(provider: PaymentProvider): boolean;
}

export interface ConfiguredProvider {
  adapter: ProviderAdapter;
  secret: string;
}

export const createProviderRegistry = (providers: readonly ConfiguredProvider[]): ProviderRegistry => {
  const byName = new Map(providers.map((configured) => [configured.adapter.provider, configured]));
  const get = (provider: PaymentProvider): ConfiguredProvider => {
    const configured = byName.get(provider);
    if (configured === undefined) throw new ProviderNotConfiguredError(provider);
    return configured;
  };
  return {
    adapterFor: (provider) => get(provider).adapter,
    secretOf: (provider) => get(provider).secret,
    has: (provider) => byName.has(provider),
  };
};
